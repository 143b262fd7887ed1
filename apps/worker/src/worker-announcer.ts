// The worker's entry in the registry: the models it holds (with what the API needs to validate jobs
// for them without their folders) and its capabilities, renewed every WORKER_HEARTBEAT_MS. It
// lapses after three missed beats (a crash, a partition) and is withdrawn at once on shutdown.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { exportIdentity, type ModelInfo } from '@sdsvc/engine/model-info';
import type { ModelAnnouncement, WorkerCapabilities, WorkerRegistration, WorkerRegistry } from '@sdsvc/jobs';
import type { Logger } from '@sdsvc/logging';

/** Beats a registration outlives. */
const LIVE_BEATS = 3;

export async function announceModel(m: ModelInfo): Promise<ModelAnnouncement> {
  const { dir: _dir, ...info } = m; // the folder is this host's business
  return { id: m.id, ...(await exportIdentity(m.dir)), info: info as unknown as Record<string, unknown> };
}

/** Job types a worker holding `models` runs (an animation needs txt2img and img2img of one model). */
export function jobTypes(models: ModelInfo[]): string[] {
  const types = new Set<string>();
  for (const m of models) {
    for (const c of m.capabilities) types.add(c);
    if (m.capabilities.includes('txt2img') && m.capabilities.includes('img2img')) types.add('animation');
  }
  return [...types].sort();
}

export interface RunningAnnouncer {
  readonly id: string;
  /** Stops the heartbeat and removes the registration (bounded by the connection's timeouts). */
  withdraw(): Promise<void>;
}

export async function startAnnouncer(opts: {
  registry: WorkerRegistry;
  models: ModelInfo[];
  capabilities: WorkerCapabilities;
  heartbeatMs: number;
  logger: Logger;
  /** The providers a model's graphs run on, once loaded (re-read at every beat). */
  providersOf?: (model: string) => Record<string, string> | undefined;
}): Promise<RunningAnnouncer> {
  const { registry, heartbeatMs, logger } = opts;
  const registration: WorkerRegistration = {
    id: `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`,
    host: hostname(),
    pid: process.pid,
    started_at: new Date().toISOString(),
    models: await Promise.all(opts.models.map(announceModel)),
    capabilities: opts.capabilities,
  };
  let failing = false; // one log line per outage
  const beat = async (): Promise<void> => {
    for (const m of registration.models) {
      const providers = opts.providersOf?.(m.id);
      if (providers) m.execution_providers = providers;
    }
    try {
      await registry.announce(registration, heartbeatMs * LIVE_BEATS);
      if (failing) logger.info('worker registration renewed');
      failing = false;
    } catch (err) {
      if (!failing) logger.warn({ err }, 'worker registration could not be renewed (Redis?); retrying every heartbeat');
      failing = true;
    }
  };
  await beat();
  const timer = setInterval(() => { void beat(); }, heartbeatMs);
  timer.unref();
  logger.info({ worker_id: registration.id, models: registration.models.map((m) => m.id), heartbeatMs }, 'worker registered');
  return {
    id: registration.id,
    async withdraw() {
      clearInterval(timer);
      await registry.withdraw(registration.id).catch((err: unknown) => logger.warn({ err }, 'worker registration not withdrawn (it lapses by itself)'));
    },
  };
}
