export * from './pil-bicubic.ts';
export * from './clip-preprocess.ts';
export * from './safety-checker.ts';
export * from './prompt-policy.ts';
