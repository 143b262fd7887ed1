export * from './common.ts';
export * from './job-request.ts';
export * from './job-resource.ts';
export * from './problem.ts';
export * from './models.ts';
export * from './events.ts';
export * from './validation.ts';
export * from './http-problem.ts';
