// Live previews of a running job (params.preview): each image the engine hands over is encoded
// small (WebP or JPEG, low quality) and published on the job's event channel, and kept as the job's
// latest preview for a short while (JobStore.publishPreview) — never written into the record.
// Encoding (libvips, off the engine thread) and publishing run in step order; previews are tiny next
// to a step's compute, and a job stops publishing them once it is canceled or superseded.
import type { JobStore } from '@sdsvc/jobs';
import type { HostGenerateOptions, PreviewImage } from '@sdsvc/engine';
import type { JobParams } from '@sdsvc/contracts';
import { CONTENT_TYPES, encodeImage } from '@sdsvc/images';
import type { Logger } from '@sdsvc/logging';

/** Preview encoder quality: previews are glimpses, not results. */
export const PREVIEW_QUALITY = { webp: 50, jpeg: 60 } as const;

export interface JobPreviewPublisher {
  /** For EngineHost.generate (undefined when the job asked for no previews). */
  options: HostGenerateOptions['preview'];
  /** Resolves once every preview handed over so far is published (or dropped). */
  flush(): Promise<void>;
}

export function jobPreviewPublisher(store: JobStore, id: string, spec: JobParams['preview'], log: Pick<Logger, 'warn'>,
  stopped: () => boolean): JobPreviewPublisher {
  if (!spec) return { options: undefined, flush: async () => {} };
  let chain: Promise<void> = Promise.resolve();
  const publish = async (p: PreviewImage) => {
    if (stopped()) return;
    const bytes = await encodeImage(p, { format: spec.format, quality: PREVIEW_QUALITY[spec.format], provenance: false });
    if (stopped()) return;
    await store.publishPreview(id, {
      type: 'preview', step: p.step, total: p.total, width: p.width, height: p.height,
      image: `data:${CONTENT_TYPES[spec.format]};base64,${bytes.toString('base64')}`,
    });
  };
  return {
    options: {
      everySteps: spec.every_steps,
      onPreview: (p) => {
        chain = chain.then(() => publish(p)).catch((err: unknown) => log.warn({ err, job_id: id, step: p.step }, 'preview not published'));
      },
    },
    flush: async () => { await chain; },
  };
}
