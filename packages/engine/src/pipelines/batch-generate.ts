/**
 * Cross-request batching: several compatible jobs denoised together, one UNet call per step for
 * all of them. Compatible = same mode, size, scheduler, steps, strength and CFG on/off (batchKey);
 * prompts, negative prompts, seeds, guidance scales, input images and masks may differ.
 *
 * Each job keeps everything it has alone: its own text conditioning, its own generators (one per
 * image, seeded as alone), its own scheduler instance (ancestral/SDE draws come from its own
 * generators), its own guidance scale, its own VAE encode and decode. Only the UNet call is
 * shared: the jobs' rows are laid side by side ([uncond × n, cond × n] per job), and a UNet row
 * depends on its own input only. So a job's latents match its solo run within float tolerance
 * (ORT may sum in another order for another batch size; see test/batch-parity.test.ts).
 *
 * Per job: progress (onStep), cancel (its signal/poll, read before every step: a canceled job
 * leaves the batch at the next step, the others go on), and failures of its own input (validation,
 * VAE encode, decode) settle that job alone. A failure of the shared UNet call fails the jobs
 * still in the batch.
 */
import { TorchGenerator } from '../random/torch-generator.ts';
import type { Scheduler } from '../schedulers/types.ts';
import type { HiddenStates } from '../models/unet-model.ts';
import type { Latents } from '../tensor.ts';
import { checkpoint } from './abort.ts';
import { tensorToImages } from './image-tensors.ts';
import { applyGuidance, divide, writeLeadingChannels } from './latent-ops.ts';
import { prepareLatents, type InitialState } from './prepare-latents.ts';
import { unetTextRows, type TextConditioning } from './text-conditioning.ts';
import { validateRequest } from './validate-request.ts';
import type { StableDiffusionPipeline } from './stable-diffusion-pipeline.ts';
import type { GenerateOptions, GenerateRequest, GenerateResult } from './types.ts';
import { batchKey } from './batch-key.ts';
import { blendKnown, fillInpaintCondition } from './denoise-loop.ts';

export { batchKey };

/** One job of a batch, with its own progress and cancellation. */
export interface BatchEntry {
  request: GenerateRequest;
  opts?: Pick<GenerateOptions, 'onStep' | 'signal' | 'poll'>;
}

interface Part {
  index: number;
  req: GenerateRequest;
  opts: NonNullable<BatchEntry['opts']>;
  n: number;
  rows: number;
  text: TextConditioning;
  scheduler: Scheduler;
  generators: TorchGenerator[];
  state: InitialState;
  latents: Latents;
}

export async function generateBatch(pipe: StableDiffusionPipeline, entries: readonly BatchEntry[]): Promise<Array<PromiseSettledResult<GenerateResult>>> {
  const results: Array<PromiseSettledResult<GenerateResult>> = entries.map(() => ({ status: 'rejected', reason: new Error('not run') }));
  const failed = new Set<number>();
  const fail = (i: number, reason: unknown) => { failed.add(i); results[i] = { status: 'rejected', reason }; };
  const info = pipe.info;
  let key: string | null = null;
  let timesteps: Float64Array | null = null;
  const parts: Part[] = [];
  const solo: number[] = [];

  // Each job's own start: validation, text, schedule, starting latents (its VAE encode).
  for (const [index, entry] of entries.entries()) {
    const opts = entry.opts ?? {};
    try {
      validateRequest(info, entry.request);
      checkpoint(opts);
      const req = entry.request.mode === 'txt2img' || entry.request.strength !== undefined
        ? entry.request
        : { ...entry.request, strength: pipe.defaultStrength(entry.request.mode) };
      const k = batchKey(req);
      if (key !== null && k !== key) throw new Error(`job ${index} cannot join this batch (${k} ≠ ${key})`);
      key = k;
      const cfg = req.guidanceScale > 1;
      const n = req.numImages;
      const f = info.vaeScaleFactor;
      if (n > 1 && (cfg ? 2 : 1) * n * info.unetInChannels * (req.height / f) * (req.width / f) > pipe.maxUnetBatchElements) {
        // Its images alone exceed one UNet call: generate() splits them into groups (same images).
        solo.push(index);
        continue;
      }
      const generators = Array.from({ length: n }, (_, i) => new TorchGenerator(req.seed + i, { kernel: pipe.rngKernel }));
      const text = await pipe.encodeText(req, cfg);
      const { scheduler, timesteps: ts } = schedule(pipe, req);
      timesteps ??= ts;
      const state = await prepareLatents({ models: pipe.models, scheduler, timesteps: ts, generator: generators, batch: n, checkpoint: () => checkpoint(opts) }, req);
      parts.push({ index, req, opts, n, rows: cfg ? 2 * n : n, text, scheduler, generators, state, latents: state.latents });
    } catch (err) {
      fail(index, err);
    }
  }
  const runSolo = async () => {
    for (const index of solo) {
      try {
        results[index] = { status: 'fulfilled', value: await pipe.generate(entries[index]!.request, entries[index]!.opts ?? {}) };
      } catch (err) {
        fail(index, err);
      }
    }
  };
  if (parts.length === 0 || !timesteps) {
    await runSolo();
    return results;
  }

  // Rows share a UNet call only with the same text length (A1111 prompts past 77 tokens are longer).
  const byShape = new Map<string, Part[]>();
  for (const p of parts) {
    const shape = `${p.text.tokens}x${p.text.hidden}`;
    byShape.set(shape, [...(byShape.get(shape) ?? []), p]);
  }
  for (const group of byShape.values()) {
    try {
      await denoiseTogether(pipe, group, timesteps, fail);
    } catch (err) {
      for (const p of group) if (!failed.has(p.index)) fail(p.index, err); // the shared UNet call failed
    }
  }

  // Each job's own decode, one image at a time (as generate does).
  for (const p of parts) {
    if (failed.has(p.index)) continue;
    try {
      const [, c, h, w] = p.latents.dims as [number, number, number, number];
      const per = c * h * w;
      const images: GenerateResult['images'] = [];
      for (let b = 0; b < p.n; b++) {
        checkpoint(p.opts);
        const z = divide(p.latents.data.subarray(b * per, (b + 1) * per), info.scalingFactor);
        const decoded = await pipe.models.vaeDecoder.run(z, [1, c, h, w]);
        images.push({ ...tensorToImages(decoded.data, 1, p.req.width, p.req.height)[0]!, seed: p.req.seed + b });
      }
      results[p.index] = { status: 'fulfilled', value: { images } };
    } catch (err) {
      fail(p.index, err);
    }
  }
  await runSolo();
  return results;
}

/** diffusers' get_timesteps: img2img/inpaint keep the last ⌊steps·strength⌋ steps. */
function schedule(pipe: StableDiffusionPipeline, req: GenerateRequest): { scheduler: Scheduler; timesteps: Float64Array } {
  const scheduler = pipe.createScheduler(req.scheduler);
  scheduler.setTimesteps(req.steps);
  let timesteps = scheduler.timesteps;
  if (req.mode !== 'txt2img') {
    const strength = req.strength ?? 1;
    const tStart = Math.max(req.steps - Math.min(Math.floor(req.steps * strength), req.steps), 0);
    if (req.steps - tStart < 1) throw new RangeError(`strength ${strength} with ${req.steps} steps leaves no denoising step`);
    timesteps = timesteps.subarray(tStart * scheduler.order);
    scheduler.setBeginIndex?.(tStart * scheduler.order);
  }
  return { scheduler, timesteps };
}

/** The denoising loop over the jobs still in the batch: one UNet call per step (or per chunk of
 *  at most maxUnetBatchElements latent elements), the rest per job. */
async function denoiseTogether(pipe: StableDiffusionPipeline, parts: Part[], timesteps: Float64Array, fail: (i: number, e: unknown) => void): Promise<void> {
  const unet = pipe.models.unet;
  const inC = pipe.info.unetInChannels;
  const [, c, h, w] = parts[0]!.latents.dims as [number, number, number, number];
  const hw = h * w;
  const cfg = parts[0]!.rows !== parts[0]!.n;
  const total = timesteps.length;
  let live = parts;
  // Feeds and input buffers per chunk of jobs, rebuilt only when the jobs in it change.
  const chunks = new Map<string, { hidden: HiddenStates; input: Float32Array; offsets: number[]; rows: number }>();

  for (let i = 0; i < total; i++) {
    const before = live.length;
    live = live.filter((p) => {
      try { checkpoint(p.opts); return true; } catch (err) { fail(p.index, err); return false; }
    });
    if (live.length === 0) return;
    if (live.length !== before) chunks.clear();
    const t = timesteps[i]!;
    for (const group of chunkParts(live, inC * hw, pipe.maxUnetBatchElements)) {
      const id = group.map((p) => p.index).join(',');
      let chunk = chunks.get(id);
      if (!chunk) chunks.set(id, (chunk = buildChunk(pipe, group, inC, c, hw)));
      for (const [k, p] of group.entries()) {
        const scaled = p.scheduler.scaleModelInput(p.latents, t);
        const off = chunk.offsets[k]! * inC * hw;
        writeLeadingChannels(scaled.data, p.n, p.rows, c, inC, hw, chunk.input.subarray(off, off + p.rows * inC * hw));
      }
      const pred = await unet.run(chunk.input, [chunk.rows, inC, h, w], t, chunk.hidden);
      for (const [k, p] of group.entries()) {
        const off = chunk.offsets[k]! * c * hw;
        const block = pred.subarray(off, off + p.rows * c * hw);
        const noisePred = cfg ? applyGuidance(block, p.req.guidanceScale, new Float32Array(p.n * c * hw)) : block;
        p.latents = p.scheduler.step({ data: noisePred, dims: p.latents.dims }, t, p.latents, { generator: p.generators }).prevSample;
        if (p.state.blend) p.latents = blendKnown(p.scheduler, p.state.blend, timesteps, i, p.latents, p.n, c);
        p.opts.onStep?.(i + 1, total, p.latents);
      }
    }
  }
}

/** Consecutive jobs whose rows fit one UNet call (a job alone always runs whole). */
function chunkParts(parts: Part[], perRow: number, maxElements: number): Part[][] {
  const out: Part[][] = [];
  let cur: Part[] = [];
  let size = 0;
  for (const p of parts) {
    const add = p.rows * perRow;
    if (cur.length > 0 && size + add > maxElements) { out.push(cur); cur = []; size = 0; }
    cur.push(p);
    size += add;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

function buildChunk(pipe: StableDiffusionPipeline, group: Part[], inC: number, c: number, hw: number) {
  const rows = group.reduce((n, p) => n + p.rows, 0);
  const offsets: number[] = [];
  const texts = group.map((p) => unetTextRows(p.text, 0, p.n, p.n, p.rows !== p.n));
  const { tokens, hidden: width } = group[0]!.text;
  const data = new Float32Array(rows * tokens * width);
  const first = texts[0]!.added;
  const textEmbeds = first ? new Float32Array(rows * first.textEmbedsWidth) : null;
  const timeIds = first ? new Float32Array(rows * first.timeIdsWidth) : null;
  const input = new Float32Array(rows * inC * hw);
  let r = 0;
  for (const [k, p] of group.entries()) {
    offsets.push(r);
    const t = texts[k]!;
    data.set(t.data, r * tokens * width);
    if (t.added && textEmbeds && timeIds) {
      textEmbeds.set(t.added.textEmbeds, r * t.added.textEmbedsWidth);
      timeIds.set(t.added.timeIds, r * t.added.timeIdsWidth);
    }
    const cond = p.state.inpaintCondition;
    if (cond) fillInpaintCondition(input.subarray(r * inC * hw, (r + p.rows) * inC * hw), cond, p.n, p.rows, c, inC, hw);
    r += p.rows;
  }
  const hidden = pipe.models.unet.prepareHidden(data, rows, tokens, width, first && textEmbeds && timeIds
    ? { textEmbeds, textEmbedsWidth: first.textEmbedsWidth, timeIds, timeIdsWidth: first.timeIdsWidth }
    : undefined);
  return { hidden, input, offsets, rows };
}
