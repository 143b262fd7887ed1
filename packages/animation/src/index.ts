export * from './expression.ts';
export * from './schedule.ts';
export * from './frame.ts';
export * from './motion.ts';
export * from './noise.ts';
export * from './color-coherence.ts';
export * from './encode.ts';
export * from './plan.ts';
