// The record the HGETALL baseline reads (baseline-server.ts writes it at start; api-ratios.bench.ts
// writes it again after clearing Redis between rounds).
export const BASELINE_RECORD_KEY = 'bench-baseline:record';
export const BASELINE_RECORD = { id: 'x', status: 'queued', params: JSON.stringify({ prompt: 'a lighthouse', steps: 4 }) };
