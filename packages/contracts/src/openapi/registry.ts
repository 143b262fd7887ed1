// Named schemas of the API: each becomes `#/components/schemas/<id>` in openapi.yaml.
// A private registry (not zod's global one) so schemas registered elsewhere never leak in.
import { z } from 'zod';
import * as c from '../index.ts';
import { COMPAT_REQUEST_SCHEMAS, COMPAT_SCHEMAS } from './compat-paths.ts';

export function buildRegistry() {
  const registry = z.registry<{ id: string }>();
  const named: Record<string, z.ZodType> = {
    JsonValue: c.JsonValue,
    JobType: c.JobType,
    JobStatus: c.JobStatus,
    OutputFormat: c.OutputFormat,
    ResizeMode: c.ResizeMode,
    WebhookEventType: c.WebhookEventType,
    WebhookSpec: c.WebhookSpec,
    CreateJobRequest: c.CreateJobRequest,
    CreateAnimationRequest: c.CreateAnimationRequest,
    AnimationParams: c.AnimationParams,
    AnimationResult: c.AnimationResult,
    PromptWeight: c.PromptWeight,
    InputImageRef: c.InputImageRef,
    JobParams: c.JobParams,
    ResultImage: c.ResultImage,
    JobError: c.JobError,
    WebhookAttempt: c.WebhookAttempt,
    JobResource: c.JobResource,
    FieldError: c.FieldError,
    Problem: c.Problem,
    ModelSummary: c.ModelSummary,
    ModelList: c.ModelList,
    WorkerSummary: c.WorkerSummary,
    WorkerList: c.WorkerList,
    LoraRef: c.LoraRef,
    AppliedLora: c.AppliedLora,
    LoraSummary: c.LoraSummary,
    LoraList: c.LoraList,
    JobEventType: c.JobEventType,
    JobEventPayload: c.JobEventPayload,
    JobPreviewPayload: c.JobPreviewPayload,
    WebhookPayload: c.WebhookPayload,
    ...COMPAT_SCHEMAS,
  };
  for (const [id, schema] of Object.entries(named)) registry.add(schema, { id });
  return registry;
}

/** Schemas a client sends: described as input (fields with defaults are optional). */
const REQUEST_SCHEMAS = ['CreateJobRequest', 'CreateAnimationRequest', 'WebhookSpec', 'LoraRef', ...COMPAT_REQUEST_SCHEMAS];

export function componentSchemas(): Record<string, Record<string, unknown>> {
  const registry = buildRegistry();
  const opts = { target: 'draft-2020-12' as const, uri: (id: string) => `#/components/schemas/${id}` };
  const output = z.toJSONSchema(registry, { ...opts, io: 'output' }).schemas;
  const input = z.toJSONSchema(registry, { ...opts, io: 'input' }).schemas;
  const out: Record<string, Record<string, unknown>> = {};
  for (const id of Object.keys(output).sort()) {
    const { $schema: _s, $id: _i, ...schema } = (REQUEST_SCHEMAS.includes(id) ? input[id] : output[id]) as Record<string, unknown>;
    out[id] = schema;
  }
  return out;
}
