/**
 * Typed LoRA errors. `code` is the API problem code each one becomes; `name` survives the engine
 * thread's error serialisation so the worker can map it too.
 */

/** The file is not a LoRA we can read: malformed safetensors, unknown dtype, wrong shapes, unknown tensor names. */
export class LoraFormatError extends Error {
  readonly code = 'lora_invalid';
  /** The tensor (or header part) at fault, when there is one. */
  readonly tensor: string | null;
  constructor(message: string, tensor: string | null = null) {
    super(message);
    this.name = 'LoraFormatError';
    this.tensor = tensor;
  }
}

/** The LoRA does not fit the model: no target for a module, or a shape mismatch. */
export class LoraIncompatibleError extends Error {
  readonly code = 'lora_incompatible';
  /** The first module (as the LoRA file names it) that does not fit. */
  readonly module: string;
  constructor(module: string, why: string, lora?: string) {
    super(`${lora ? `LoRA "${lora}": ` : ''}module ${module} ${why}`);
    this.name = 'LoraIncompatibleError';
    this.module = module;
  }
}

/** No file with that id below LORA_DIR. */
export class UnknownLoraError extends Error {
  readonly code = 'unknown_lora';
  readonly lora: string;
  constructor(lora: string, why = 'no such LoRA') {
    super(`unknown LoRA "${lora}": ${why}`);
    this.name = 'UnknownLoraError';
    this.lora = lora;
  }
}
