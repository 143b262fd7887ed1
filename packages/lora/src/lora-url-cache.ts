/**
 * LoRAs given by URL (ALLOW_LORA_URLS): fetched through an injected fetcher (the caller applies
 * the outbound address rules, timeout and MAX_LORA_BYTES), validated like any LoRA file, and kept
 * on disk as `<dir>/<sha256>.safetensors`. A later load with a known sha256 reads the disk copy;
 * content that no longer has the expected sha256 is refused.
 */
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LoraFormatError, UnknownLoraError } from './errors.ts';
import { loadLoraFile, sha256Hex, type LoadedLora } from './lora-dir.ts';
import { readLora } from './lora-file.ts';

/** Returns the body of `url` or throws (URL not allowed, too large, HTTP error, timeout). */
export type LoraFetcher = (url: string) => Promise<Uint8Array>;

const SHA256 = /^[0-9a-f]{64}$/;

export class LoraUrlCache {
  readonly dir: string;
  private readonly fetcher: LoraFetcher;

  constructor(dir: string, fetcher: LoraFetcher) {
    this.dir = dir;
    this.fetcher = fetcher;
  }

  /** Where the copy of the file with this sha256 lives. */
  fileFor(sha256: string): string {
    if (!SHA256.test(sha256)) throw new UnknownLoraError(sha256, 'not a sha256');
    return join(this.dir, `${sha256}.safetensors`);
  }

  /** The LoRA at `url`: from disk when `sha256` is known and cached, else fetched (and cached). */
  async load(url: string, sha256?: string): Promise<LoadedLora> {
    if (sha256) {
      const file = this.fileFor(sha256);
      const cached = await stat(file).then(() => true, () => false);
      if (cached) {
        const lora = await loadLoraFile(file, url);
        if (lora.sha256 === sha256) return lora;
      }
    }
    const bytes = await this.fetcher(url);
    const got = sha256Hex(bytes);
    if (sha256 && got !== sha256) throw new UnknownLoraError(url, `the content at the URL changed after the job was submitted (sha256 ${got.slice(0, 12)}…, expected ${sha256.slice(0, 12)}…)`);
    let adapter;
    try {
      adapter = readLora(bytes);
    } catch (err) {
      if (err instanceof LoraFormatError) throw new LoraFormatError(`LoRA "${url}": ${err.message}`, err.tensor);
      throw err;
    }
    const file = this.fileFor(got);
    await mkdir(this.dir, { recursive: true });
    const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(tmp, bytes);
    await rename(tmp, file); // atomic: readers see the whole file or none
    return { id: url, file, bytes: bytes.byteLength, sha256: got, adapter };
  }
}
