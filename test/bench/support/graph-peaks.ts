/**
 * Peak RSS per graph (Linux): before each session.run the kernel's peak (VmHWM) is reset to the
 * current RSS (/proc/self/clear_refs 5), after it the peak is read, so each graph gets the highest
 * RSS seen while it ran and the most one run added over what the process held before it. Resetting also resets
 * getrusage's maxrss, so the process-wide peak is kept here (read before every reset).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { InferenceSession } from 'onnxruntime-node';

const hwmBytes = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) * 1024;

/** runs; the highest peak RSS during a run; the most a run added over the RSS before it. */
export interface GraphPeak { runs: number; peak: number; added: number }

export class GraphPeaks {
  readonly graphs: Record<string, GraphPeak> = {};
  private overall = 0;

  /** Wraps `session.run` (of this one session object) to record its peaks under `name`. */
  track(name: string, session: InferenceSession): void {
    const run = session.run.bind(session) as (...args: unknown[]) => Promise<InferenceSession.ReturnType>;
    (session as unknown as { run: typeof run }).run = async (...args) => {
      this.overall = Math.max(this.overall, hwmBytes());
      writeFileSync('/proc/self/clear_refs', '5');
      const g = (this.graphs[name] ??= { runs: 0, peak: 0, added: 0 });
      const before = process.memoryUsage().rss;
      try {
        return await run(...args);
      } finally {
        const peak = hwmBytes();
        g.runs++;
        g.peak = Math.max(g.peak, peak);
        g.added = Math.max(g.added, peak - before);
        this.overall = Math.max(this.overall, peak);
      }
    };
  }

  /** The process's peak RSS so far (what getrusage would say without the resets). */
  peak(): number {
    return Math.max(this.overall, hwmBytes());
  }
}
