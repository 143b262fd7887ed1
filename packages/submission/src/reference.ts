// The prompt language's reference image ({image} / {image:https://…}) against the job's fields.
import type { CreateJobRequest } from '@sdsvc/contracts';
import type { ProcessedPrompt } from '@sdsvc/prompt';
import { validationProblem } from '@sdsvc/contracts';

/** Where the reference image comes from: the reference_image field, a URL in the prompt, or none. */
export function referenceSource(req: CreateJobRequest, prompt: ProcessedPrompt): { value: string; fromPrompt: boolean } | null {
  const tag = prompt.referenceImage;
  if (tag && req.type !== 'txt2img') {
    throw validationProblem([{ path: 'prompt', code: 'not_allowed_for_type', message: `an {image} tag cannot be used in an ${req.type} job (it already has an init image)` }]);
  }
  if (tag?.source === 'job' && req.reference_image === undefined) {
    throw validationProblem([{ path: 'reference_image', code: 'required', message: 'the prompt has an {image} tag but the job has no reference_image' }]);
  }
  if (tag?.source === 'url' && req.reference_image !== undefined) {
    throw validationProblem([{ path: 'reference_image', code: 'conflict', message: 'the prompt names its image with {image:URL}; do not send reference_image too' }]);
  }
  const source = tag?.source === 'url' ? { value: tag.url, fromPrompt: true }
    : req.reference_image !== undefined ? { value: req.reference_image, fromPrompt: false } : null;
  if (!source && req.reference_strength !== undefined) {
    throw validationProblem([{ path: 'reference_strength', code: 'requires_reference_image', message: 'reference_strength needs a reference image' }]);
  }
  return source;
}
