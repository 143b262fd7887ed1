// The production topology on one machine, for end-to-end tests: a private redis-server, a real
// S3-protocol server, a signed-webhook receiver on loopback, the API process and worker
// processes (each `scripts/node apps/api/src/main.ts` with its ROLE).
import { startTestRedis, type TestRedis } from './redis.ts';
import { startS3, type TestS3 } from './s3.ts';
import { startService, waitForHttp, type ServiceProcess } from './service-process.ts';
import { waitFor, WaitAborted } from './wait-for.ts';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.ts';

/** A valid Standard Webhooks secret (whsec_ + base64 of 32 bytes), for tests only. */
export const TEST_WEBHOOK_SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

export interface JobResourceLike {
  id: string;
  status: string;
  attempts: number;
  progress: { step: number; total: number };
  params: Record<string, unknown> & { seed: number; width: number; height: number };
  result: { images: Array<{ url: string; key: string; width: number; height: number; seed: number; content_type: string; bytes: number }> } | null;
  error: { code: string; message: string } | null;
  webhook: { attempts: Array<{ event: string; ok: boolean }> } | null;
}

export interface E2eStack {
  redis: TestRedis;
  s3: TestS3;
  hooks: WebhookReceiver;
  api: ServiceProcess;
  baseUrl: string;
  /** Environment shared by the API and the workers. */
  env: Record<string, string>;
  workers: ServiceProcess[];
  startWorker(extraEnv?: Record<string, string>): Promise<ServiceProcess>;
  postJob(body: Record<string, unknown>): Promise<JobResourceLike>;
  getJob(id: string): Promise<JobResourceLike>;
  waitForJob(id: string, pred: (job: JobResourceLike) => boolean, what: string, timeoutMs?: number): Promise<JobResourceLike>;
  stop(): Promise<void>;
}

export async function startE2eStack(extraEnv: Record<string, string> = {}): Promise<E2eStack> {
  const [redis, s3, hooks] = await Promise.all([startTestRedis(), startS3(), startWebhookReceiver(TEST_WEBHOOK_SECRET)]);
  const env: Record<string, string> = {
    ...s3.env,
    REDIS_URL: redis.url,
    // The API binds port 0 itself and logs the address it got (no probe-then-bind race).
    PORT: '0',
    HOST: '127.0.0.1',
    MODELS_DIR: './models',
    DEFAULT_MODEL: 'tiny-sd15',
    WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    WEBHOOK_RETRY_SCHEDULE: '0,200ms,500ms',
    ALLOW_PRIVATE_URLS: 'true',
    JOB_ATTEMPTS: '2',
    SHUTDOWN_GRACE_MS: '0',
    // The tiny models' native size is 64 px, so the default MAX_OUTPUT_PIXELS (4 × native) would
    // refuse the larger sizes some e2e tests use to make jobs slow; limits have their own tests.
    MAX_OUTPUT_PIXELS: String(1024 * 1024),
    // Many tests queue jobs before (or without) a worker; model-workers.e2e.test.ts turns it off.
    QUEUE_WITHOUT_WORKERS: 'true',
    ...extraEnv,
  };
  const api = startService('api', env);
  let baseUrl: string;
  try {
    const listening = await api.waitForLog((l) => l.msg === 'api listening', 'api listening', 90_000);
    baseUrl = String(listening.address).replace('://localhost:', '://127.0.0.1:');
  } catch (err) {
    await api.stop();
    await Promise.all([redis.stop(), s3.stop().catch(() => {}), hooks.close()]);
    throw err;
  }
  env.PUBLIC_BASE_URL = baseUrl;
  const apiGone = () => {
    const status = api.exitStatus();
    return status ? new WaitAborted(`the API process exited (${JSON.stringify(status)}):\n${api.tail(15)}`) : undefined;
  };
  const workers: ServiceProcess[] = [];
  const stack: E2eStack = {
    redis, s3, hooks, api, baseUrl, env, workers,
    async startWorker(more = {}) {
      const worker = startService('worker', { ...env, ...more });
      workers.push(worker);
      await worker.waitForLog((l) => l.msg === 'service started', 'worker ready', 90_000);
      return worker;
    },
    async postJob(body) {
      const res = await fetch(`${baseUrl}/v1/jobs`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
      });
      const json = (await res.json()) as JobResourceLike;
      if (res.status !== 202) throw new Error(`POST /v1/jobs → ${res.status}: ${JSON.stringify(json)}`);
      return json;
    },
    async getJob(id) {
      const res = await fetch(`${baseUrl}/v1/jobs/${id}`);
      if (!res.ok) throw new Error(`GET /v1/jobs/${id} → ${res.status}`);
      return (await res.json()) as JobResourceLike;
    },
    async waitForJob(id, pred, what, timeoutMs = 90_000) {
      let last: JobResourceLike | undefined;
      try {
        return await waitFor(async () => {
          last = await stack.getJob(id);
          return pred(last) ? last : undefined;
        }, { timeoutMs, intervalMs: 50, what: `job ${id} ${what}`, failFast: apiGone });
      } catch (err) {
        const logs = workers.map((w) => `--- worker ${w.child.pid} ---\n${w.tail(15)}`).join('\n');
        throw new Error(`${(err as Error).message}\nlast: ${JSON.stringify(last)}\n${logs}`);
      }
    },
    async stop() {
      await Promise.all([...workers.map((w) => w.stop()), api.stop()]);
      await Promise.all([redis.stop(), s3.stop().catch(() => {}), hooks.close()]);
    },
  };
  try {
    await waitForHttp(`${baseUrl}/healthz`, 90_000, api);
  } catch (err) {
    await stack.stop();
    throw new Error(`${(err as Error).message}\n--- api log ---\n${api.tail()}`);
  }
  return stack;
}
