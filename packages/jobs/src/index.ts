export * from './keys.ts';
export * from './record.ts';
export * from './job-store.ts';
export * from './idempotency.ts';
export * from './generate-queue.ts';
export * from './resource.ts';
export * from './redis-connection.ts';
export * from './worker-registry.ts';
