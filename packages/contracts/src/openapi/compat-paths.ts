// The compatibility surfaces in the OpenAPI document: the OpenAI Images API (/v1/images/*) and the
// AUTOMATIC1111 API (/sdapi/v1/*). Their errors are not problem documents but each protocol's own
// shape (OpenAIError, A1111Error).
import * as c from '../index.ts';
import { PROBLEM_CODES, type ProblemCode } from '../problem.ts';

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
const json = (id: string) => ({ 'application/json': { schema: ref(id) } });

/** Schemas of the compatibility surfaces, by component id. */
export const COMPAT_SCHEMAS = {
  OpenAIImageGenerationRequest: c.OpenAIImageGenerationRequest,
  OpenAIImageEditRequest: c.OpenAIImageEditRequest,
  OpenAIImagesResponse: c.OpenAIImagesResponse,
  OpenAIImageStreamEvent: c.OpenAIImageStreamEvent,
  OpenAIError: c.OpenAIError,
  A1111Txt2ImgRequest: c.A1111Txt2ImgRequest,
  A1111Img2ImgRequest: c.A1111Img2ImgRequest,
  A1111ImagesResponse: c.A1111ImagesResponse,
  A1111Options: c.A1111Options,
  A1111Progress: c.A1111Progress,
  A1111Error: c.A1111Error,
};
/** The ones clients send (described as input). */
export const COMPAT_REQUEST_SCHEMAS = ['OpenAIImageGenerationRequest', 'OpenAIImageEditRequest', 'A1111Txt2ImgRequest', 'A1111Img2ImgRequest'];

/** OpenAI-shaped error responses, one per status, listing the `error.code` values (problem codes). */
function openaiErrors(codes: readonly ProblemCode[]): Record<number, { description: string; content: ReturnType<typeof json> }> {
  const byStatus = new Map<number, ProblemCode[]>();
  for (const code of [...codes, 'internal_error' as const]) {
    const list = byStatus.get(PROBLEM_CODES[code]) ?? [];
    if (!list.includes(code)) list.push(code);
    byStatus.set(PROBLEM_CODES[code], list);
  }
  const out: Record<number, { description: string; content: ReturnType<typeof json> }> = {};
  for (const [status, list] of [...byStatus].sort((a, b) => a[0] - b[0])) out[status] = { description: `Problem codes: ${list.join(', ')}`, content: json('OpenAIError') };
  return out;
}
const imagesOk = (kind: string) => ({
  description: `ImagesResponse; with \`stream: true\` a text/event-stream of up to \`partial_images\` \`${kind}.partial_image\` events (live previews) and one \`${kind}.completed\` event per image`,
  content: { ...json('OpenAIImagesResponse'), 'text/event-stream': { schema: ref('OpenAIImageStreamEvent') } },
});

const a1111Errors = {
  400: { description: 'Refused ({error, detail, body, errors}): unknown sampler or model, bad size, bad image', content: json('A1111Error') },
  401: { description: '{detail} with WWW-Authenticate: Basic (A1111_API_AUTH) when credentials are missing or wrong', content: json('A1111Error') },
  422: { description: 'Validation ({detail: [{loc, msg, type}]})', content: json('A1111Error') },
};
const a1111Security = [{ bearer: [] }, { basic: [] }, {}];
const a1111Get = (operationId: string, summary: string, schema?: string) => ({
  get: {
    operationId, summary, tags: ['AUTOMATIC1111'], security: a1111Security,
    responses: { 200: { description: summary, ...(schema ? { content: json(schema) } : { content: { 'application/json': {} } }) }, 401: a1111Errors[401] },
  },
});

/** The compatibility routes; `openaiCodes`: the problem codes /v1/images/* answers with (as OpenAI's error.code). */
export const compatPaths = (openaiCodes: readonly ProblemCode[]) => ({
  '/v1/images/generations': {
    post: {
      operationId: 'openaiCreateImage', tags: ['OpenAI Images'], summary: 'OpenAI Images: generate (txt2img jobs, waited for)',
      description: 'Translated into one or more ordinary jobs of the caller (n > 8 is split, seeds stay consecutive); the request waits for them. '
        + 'A client that disconnects cancels its jobs.',
      security: [{ bearer: [] }, {}],
      requestBody: { required: true, content: json('OpenAIImageGenerationRequest') },
      responses: { 200: imagesOk('image_generation'), ...openaiErrors(openaiCodes) },
    },
  },
  '/v1/images/edits': {
    post: {
      operationId: 'openaiEditImage', tags: ['OpenAI Images'], summary: 'OpenAI Images: edit (img2img, or inpaint with a mask)',
      security: [{ bearer: [] }, {}],
      requestBody: {
        required: true,
        content: {
          'multipart/form-data': {
            schema: {
              allOf: [ref('OpenAIImageEditRequest'), {
                type: 'object',
                properties: {
                  image: { type: 'string', contentMediaType: 'application/octet-stream', description: 'The image (or image[]: the first is used)' },
                  mask: { type: 'string', contentMediaType: 'image/png', description: 'PNG with alpha: transparent = repaint' },
                },
                required: ['image'],
              }],
            },
          },
        },
      },
      responses: { 200: imagesOk('image_edit'), ...openaiErrors(openaiCodes) },
    },
  },
  '/sdapi/v1/txt2img': {
    post: {
      operationId: 'a1111Txt2Img', tags: ['AUTOMATIC1111'], summary: 'A1111 txt2img (one job per n_iter batch, waited for)', security: a1111Security,
      requestBody: { required: true, content: json('A1111Txt2ImgRequest') },
      responses: { 200: { description: 'Images and info', content: json('A1111ImagesResponse') }, ...a1111Errors },
    },
  },
  '/sdapi/v1/img2img': {
    post: {
      operationId: 'a1111Img2Img', tags: ['AUTOMATIC1111'], summary: 'A1111 img2img (inpaint when a mask is given)', security: a1111Security,
      requestBody: { required: true, content: json('A1111Img2ImgRequest') },
      responses: { 200: { description: 'Images and info', content: json('A1111ImagesResponse') }, ...a1111Errors },
    },
  },
  '/sdapi/v1/options': {
    ...a1111Get('a1111GetOptions', 'Options of this caller', 'A1111Options'),
    post: {
      operationId: 'a1111SetOptions', tags: ['AUTOMATIC1111'], summary: 'Set options (sd_model_checkpoint: this caller\'s model)', security: a1111Security,
      requestBody: { required: true, content: json('A1111Options') },
      responses: { 200: { description: 'null' }, ...a1111Errors },
    },
  },
  '/sdapi/v1/progress': a1111Get('a1111Progress', 'Progress of this caller\'s running request (skip_current_image is accepted)', 'A1111Progress'),
  '/sdapi/v1/interrupt': { post: { operationId: 'a1111Interrupt', tags: ['AUTOMATIC1111'], summary: 'Cancel this caller\'s running request', security: a1111Security, responses: { 200: { description: '{}' } } } },
  '/sdapi/v1/skip': { post: { operationId: 'a1111Skip', tags: ['AUTOMATIC1111'], summary: 'Same as interrupt', security: a1111Security, responses: { 200: { description: 'null' } } } },
  '/sdapi/v1/sd-models': a1111Get('a1111SdModels', 'Models as checkpoints: title, model_name, hash, sha256, filename, config'),
  '/sdapi/v1/samplers': a1111Get('a1111Samplers', 'Samplers we have: name, aliases, options'),
  '/sdapi/v1/schedulers': a1111Get('a1111Schedulers', 'Schedule types we have: Automatic, Karras'),
  '/sdapi/v1/upscalers': a1111Get('a1111Upscalers', 'Only None'),
  '/sdapi/v1/latent-upscale-modes': a1111Get('a1111LatentUpscaleModes', 'Empty'),
  '/sdapi/v1/sd-vae': a1111Get('a1111SdVae', 'Empty'),
  '/sdapi/v1/embeddings': a1111Get('a1111Embeddings', '{loaded: {}, skipped: {}}'),
  '/sdapi/v1/loras': a1111Get('a1111Loras', 'Empty'),
  '/sdapi/v1/prompt-styles': a1111Get('a1111PromptStyles', 'Empty'),
  '/sdapi/v1/hypernetworks': a1111Get('a1111Hypernetworks', 'Empty'),
  '/sdapi/v1/face-restorers': a1111Get('a1111FaceRestorers', 'Empty'),
  '/sdapi/v1/cmd-flags': a1111Get('a1111CmdFlags', 'A few flags'),
  '/sdapi/v1/memory': a1111Get('a1111Memory', 'The API process\'s memory (no CUDA here)'),
});
