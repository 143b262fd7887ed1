// compose.yaml and the Dockerfiles cannot be built here (no Docker engine): check their structure,
// and that every variable they set is one the config package knows and accepts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadConfig, VARIABLE_NAMES } from '@sdsvc/config';

const root = join(import.meta.dirname, '..');
const read = (p: string) => readFileSync(join(root, p), 'utf8');
// Compose supports YAML merge keys (<<: *anchor); the yaml package needs them switched on.
const compose = parse(read('compose.yaml'), { merge: true }) as {
  services: Record<string, { environment?: Record<string, string>; command?: string[]; volumes?: string[];
    deploy?: any; healthcheck?: { test: string[] }; depends_on?: Record<string, { condition: string }>; build?: { dockerfile: string } }>;
  volumes: Record<string, unknown>;
};
const services = compose.services;

/** Resolves ${VAR:-default}, ${VAR:?message} and ${VAR} the way compose would with an empty shell. */
function interpolate(value: string): string {
  return String(value).replace(/\$\{([A-Z0-9_]+)(?::?([-?])([^}]*))?\}/g, (_m, _name, op, arg) => {
    if (op === '-') return arg;
    if (op === '?') return 'placeholder-secret';
    return '';
  });
}

test('services: redis, minio, createbuckets, api, worker', () => {
  assert.deepEqual(Object.keys(services).sort(), ['api', 'createbuckets', 'minio', 'redis', 'worker']);
  assert.equal(services.api.build?.dockerfile, 'docker/api.Dockerfile');
  assert.equal(services.worker.build?.dockerfile, 'docker/worker.Dockerfile');
  assert.match(services.createbuckets.command!.join(' '), /mc mb --ignore-existing local\/images/);
  assert.equal(services.api.depends_on?.createbuckets.condition, 'service_completed_successfully');
});

test('redis persists with AOF on a volume', () => {
  const cmd = services.redis.command!;
  assert.equal(cmd[cmd.indexOf('--appendonly') + 1], 'yes');
  assert.ok(services.redis.volumes!.some((v) => v.endsWith(':/data') && 'redis-data' in compose.volumes));
});

test('the worker reserves one NVIDIA GPU and both mount the models read-only', () => {
  assert.deepEqual(services.worker.deploy.resources.reservations.devices, [{ driver: 'nvidia', count: 1, capabilities: ['gpu'] }]);
  for (const s of ['api', 'worker']) assert.ok(services[s].volumes!.some((v) => v.endsWith(':/models:ro')), s);
});

test('api and worker roles, S3 on MinIO, API healthcheck on /readyz', () => {
  const api = services.api.environment!;
  const worker = services.worker.environment!;
  assert.equal(api.ROLE, 'api');
  assert.equal(worker.ROLE, 'worker');
  for (const env of [api, worker]) {
    assert.equal(env.STORAGE_URL, 's3://images/outputs');
    assert.equal(env.S3_ENDPOINT, 'http://minio:9000');
    assert.equal(env.S3_FORCE_PATH_STYLE, 'true');
    assert.equal(env.MODELS_DIR, '/models');
  }
  assert.match(services.api.healthcheck!.test.join(' '), /\/readyz/);
  assert.equal(worker.EXECUTION_PROVIDERS, 'cuda,cpu');
});

test('every variable compose sets for the services is known to the config and valid', () => {
  for (const name of ['api', 'worker']) {
    const env = services[name].environment!;
    const unknown = Object.keys(env).filter((k) => !VARIABLE_NAMES.has(k));
    assert.deepEqual(unknown, [], `${name} sets variables the config does not know`);
    const resolved = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, interpolate(v)]));
    const config = loadConfig(resolved, { cwd: '/app' });
    assert.equal(config.role, name);
    assert.deepEqual(config.storage, { kind: 's3', bucket: 'images', prefix: 'outputs' });
    assert.equal(config.modelsDir, '/models');
  }
});

test('Dockerfiles: Node 24 API image, CUDA 12 + cuDNN worker with ORT cuda12, known variables', () => {
  const api = read('docker/api.Dockerfile');
  const worker = read('docker/worker.Dockerfile');
  assert.match(api, /^FROM node:24-slim$/m);
  assert.match(api, /npm ci --omit=dev --onnxruntime-node-install=skip/);
  assert.match(worker, /^FROM nvidia\/cuda:12\.[\d.]+-cudnn-runtime-\S+$/m);
  assert.match(worker, /COPY --from=node \/usr\/local\/bin\/node/);
  assert.match(worker, /npm ci --omit=dev --onnxruntime-node-install=cuda12/);
  for (const file of [api, worker]) {
    const envBlock = [...file.matchAll(/^ENV ((?:.*\\\n)*.*)$/gm)].map((m) => m[1]).join(' ');
    const names = [...envBlock.matchAll(/([A-Z][A-Z0-9_]*)=/g)].map((m) => m[1]).filter((n) => n !== 'NODE_ENV');
    assert.ok(names.length > 0);
    for (const n of names) assert.ok(VARIABLE_NAMES.has(n), n);
  }
  assert.match(worker, /EXECUTION_PROVIDERS=cuda,cpu/);
});

test('worker: health port from the image and compose, healthcheck on its /readyz, stop grace above its own deadline', () => {
  const worker = services.worker as typeof services.worker & { stop_grace_period?: string };
  const port = Number(worker.environment!.WORKER_HEALTH_PORT);
  assert.equal(port, 8081);
  const check = worker.healthcheck!.test.join(' ');
  assert.match(check, new RegExp(`127\\.0\\.0\\.1:${port}/readyz`));
  const env = Object.fromEntries(Object.entries(worker.environment!).map(([k, v]) => [k, interpolate(v)]));
  assert.equal(loadConfig(env, { cwd: '/app' }).workerHealthPort, port);
  const dockerfile = read('docker/worker.Dockerfile');
  assert.match(dockerfile, /WORKER_HEALTH_PORT=8081/);
  assert.match(dockerfile, /^EXPOSE 8081$/m);
  assert.match(dockerfile, /^HEALTHCHECK .*\\\n\s+CMD node -e .*WORKER_HEALTH_PORT.*\/readyz/m);
  // SIGTERM → grace for the running job, then at most 5 s more (SHUTDOWN_MARGIN_MS) before the
  // worker exits by itself: compose must wait longer than that before it kills.
  const graceMs = Number(worker.environment!.SHUTDOWN_GRACE_MS);
  const stopMs = Number(/^(\d+)s$/.exec(worker.stop_grace_period ?? '')?.[1]) * 1000;
  assert.ok(stopMs > graceMs + 5000, `stop_grace_period ${worker.stop_grace_period} vs SHUTDOWN_GRACE_MS ${graceMs} + 5 s`);
});
