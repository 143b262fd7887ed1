// Deforum's keyframe schedules: "0:(1.0), 24:(1.04)". A keyframe holding a number is linearly
// interpolated to the next numeric keyframe; a keyframe holding an expression of `t` is evaluated
// at every frame from there until the next keyframe; before the first and after the last keyframe
// the nearest value is held (Deforum's get_inbetweens with linear interpolation).
import { ExpressionError, parseExpression, type Expression } from './expression.ts';

export class ScheduleError extends Error {
  override name = 'ScheduleError';
}

export interface Keyframe { frame: number; value: Expression; text: string }

/** Splits on top-level commas (commas inside parentheses belong to min/max calls). */
function splitEntries(src: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of src) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) { out.push(cur); cur = ''; continue; }
    cur += ch;
  }
  out.push(cur);
  return out.map((s) => s.trim()).filter((s) => s.length > 0);
}

export function parseSchedule(src: string): Keyframe[] {
  if (src.length > 10_000) throw new ScheduleError('schedule longer than 10000 characters');
  const entries = splitEntries(src);
  if (entries.length === 0) throw new ScheduleError('empty schedule: write keyframes as "0:(1.0), 24:(1.04)"');
  const frames = new Set<number>();
  const keyframes: Keyframe[] = [];
  for (const entry of entries) {
    const m = /^(\d+)\s*:\s*\((.*)\)$/s.exec(entry);
    if (!m) throw new ScheduleError(`"${entry}" is not a keyframe: write FRAME:(VALUE), e.g. 0:(1.0)`);
    const frame = Number(m[1]);
    if (frames.has(frame)) throw new ScheduleError(`frame ${frame} appears twice`);
    frames.add(frame);
    let value: Expression;
    try {
      value = parseExpression(m[2]!);
    } catch (err) {
      if (err instanceof ExpressionError) throw new ScheduleError(`frame ${frame}: ${err.message}`);
      throw err;
    }
    keyframes.push({ frame, value, text: m[2]!.trim() });
  }
  return keyframes.sort((a, b) => a.frame - b.frame);
}

/** The value at every frame 0 … frames − 1. Keyframes at or past `frames` are ignored. */
export function scheduleValues(keyframes: readonly Keyframe[], frames: number): number[] {
  const maxF = frames - 1;
  const series: Array<number | null> = new Array(frames).fill(null);
  const byFrame = new Map(keyframes.filter((k) => k.frame < frames).map((k) => [k.frame, k]));
  let active: Keyframe | null = null;
  for (let i = 0; i < frames; i++) {
    const k = byFrame.get(i);
    if (k) active = k;
    if (!active) continue;
    try {
      if (active.value.dependsOnFrame) series[i] = active.value.evaluate({ t: i, max_f: maxF });
      else if (k) series[i] = active.value.evaluate({ t: i, max_f: maxF });
    } catch (err) {
      if (err instanceof ExpressionError) throw new ScheduleError(`frame ${active.frame}: ${err.message}`);
      throw err;
    }
  }
  const known = series.flatMap((v, i) => (v === null ? [] : [i]));
  if (known.length === 0) throw new ScheduleError(`no keyframe before frame ${frames} (the last frame is ${maxF})`);
  const out = new Array<number>(frames);
  for (let i = 0; i < frames; i++) {
    if (series[i] !== null) { out[i] = series[i]!; continue; }
    const next = known.find((f) => f > i);
    const prev = known.findLast((f) => f < i);
    if (prev === undefined) out[i] = series[next!]!;
    else if (next === undefined) out[i] = series[prev]!;
    else out[i] = series[prev]! + ((series[next]! - series[prev]!) * (i - prev)) / (next - prev);
  }
  return out;
}

/** Parse and evaluate in one go. */
export function evaluateSchedule(src: string, frames: number): number[] {
  return scheduleValues(parseSchedule(src), frames);
}
