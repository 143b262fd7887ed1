export * from './deps.ts';
export * from './fingerprint.ts';
export * from './model-catalog.ts';
export * from './submit-job.ts';
export * from './cancel-job.ts';
export { DEFAULTS, randomSeed } from './normalise.ts';
export { inputKey } from './image-inputs.ts';
export * from './job-service.ts';
