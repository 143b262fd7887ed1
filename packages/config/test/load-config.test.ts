import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ConfigError, loadConfig, VARIABLES, VARIABLE_NAMES } from '../src/index.ts';

const secret = () => `whsec_${randomBytes(32).toString('base64')}`;

function problemsOf(env: Record<string, string>): Map<string, string> {
  try {
    loadConfig(env, { cwd: '/srv/app' });
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return new Map(err.problems.map((p) => [p.variable, p.message]));
  }
  assert.fail('expected a ConfigError');
}

test('defaults', () => {
  const c = loadConfig({}, { cwd: '/srv/app' });
  assert.equal(c.port, 8080);
  assert.equal(c.host, '0.0.0.0');
  assert.equal(c.redisUrl, undefined);
  assert.deepEqual(c.storage, { kind: 'file', root: '/srv/app/.data/storage' });
  assert.deepEqual(c.s3, { endpoint: undefined, publicEndpoint: undefined, region: 'us-east-1', forcePathStyle: false });
  assert.equal(c.storagePublicBaseUrl, undefined);
  assert.equal(c.signedUrlTtlSeconds, 3600);
  assert.equal(c.publicBaseUrl, 'http://localhost:8080');
  assert.equal(c.fileUrlSecret, undefined);
  assert.equal(c.modelsDir, '/srv/app/models');
  assert.equal(c.defaultModel, 'tiny-sd15');
  assert.equal(c.webhookSecret, undefined);
  assert.deepEqual(c.webhookRetrySchedule,
    [0, 5e3, 300e3, 1800e3, 7200e3, 18000e3, 36000e3, 50400e3, 72000e3, 86400e3]);
  assert.equal(c.webhookTimeoutMs, 15000);
  assert.equal(c.allowPrivateUrls, false);
  assert.deepEqual(c.apiKeys, []);
  assert.equal(c.role, 'all');
  assert.equal(c.logLevel, 'info');
  assert.equal(c.queuePrefix, 'sdsvc');
  assert.equal(c.workerConcurrency, 1);
  assert.equal(c.workerLockDurationMs, 60000);
  assert.equal(c.workerStalledIntervalMs, 30000);
  assert.equal(c.jobAttempts, 3);
  assert.deepEqual(c.executionProviders, ['cpu']);
  assert.equal(c.ortCpuMemArena, false); // the UNet returns its activations after each call (README: Memory)
  assert.equal(c.maxBodyBytes, 32 * 1024 * 1024);
  assert.equal(c.maxImageBytes, 10 * 1024 * 1024);
  assert.equal(c.maxImagePixels, 4096 * 4096);
  assert.equal(c.imageFetchTimeoutMs, 10000);
  assert.equal(c.shutdownGraceMs, 25000);
  assert.ok(c.warnings.some((w) => w.includes('WEBHOOK_SECRET')));
  assert.ok(c.warnings.some((w) => w.includes('FILE_URL_SECRET')));
});

test('explicit values are parsed', () => {
  const ws = secret();
  const c = loadConfig({
    PORT: '9000', STORAGE_URL: 's3://images/outputs/', S3_ENDPOINT: 'http://minio:9000', S3_PUBLIC_ENDPOINT: 'http://localhost:9000', S3_FORCE_PATH_STYLE: 'yes',
    STORAGE_PUBLIC_BASE_URL: 'https://cdn.example.com/', WEBHOOK_SECRET: ws, WEBHOOK_RETRY_SCHEDULE: '0, 100ms,1.5s',
    ALLOW_PRIVATE_URLS: '1', API_KEYS: 'a, b,,', ROLE: 'worker', EXECUTION_PROVIDERS: 'cuda,cpu',
    ORT_CPU_MEM_ARENA: 'yes', MAX_BODY_BYTES: '1048576', MAX_IMAGE_BYTES: '2MB', FILE_URL_SECRET: 'x'.repeat(16),
    REDIS_URL: 'redis://r:6379/0', HOST: '', // empty counts as unset
    WORKER_LOCK_DURATION_MS: '1500', WORKER_STALLED_INTERVAL_MS: '1000',
  }, { cwd: '/srv/app' });
  assert.equal(c.port, 9000);
  assert.equal(c.host, '0.0.0.0');
  assert.equal(c.publicBaseUrl, 'http://localhost:9000');
  assert.deepEqual(c.storage, { kind: 's3', bucket: 'images', prefix: 'outputs' });
  assert.deepEqual(c.s3, { endpoint: 'http://minio:9000', publicEndpoint: 'http://localhost:9000', region: 'us-east-1', forcePathStyle: true });
  assert.equal(c.storagePublicBaseUrl, 'https://cdn.example.com');
  assert.equal(c.webhookSecret, ws);
  assert.deepEqual(c.webhookRetrySchedule, [0, 100, 1500]);
  assert.equal(c.allowPrivateUrls, true);
  assert.deepEqual(c.apiKeys, ['a', 'b']);
  assert.equal(c.role, 'worker');
  assert.deepEqual(c.executionProviders, ['cuda', 'cpu']);
  assert.equal(c.ortCpuMemArena, true);
  assert.equal(c.maxBodyBytes, 1048576);
  assert.equal(c.maxImageBytes, 2_000_000);
  assert.equal(c.redisUrl, 'redis://r:6379/0');
  assert.equal(c.workerLockDurationMs, 1500);
  assert.equal(c.workerStalledIntervalMs, 1000);
  assert.ok(!c.warnings.some((w) => w.includes('WEBHOOK_SECRET')));
});

test('each kind of bad value is reported on its variable', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['PORT', 'eighty', /integer/],
    ['PORT', '70000', /0…65535/],
    ['REDIS_URL', 'http://x', /redis: or rediss:/],
    ['STORAGE_URL', 'ftp://x', /s3:\/\/bucket/],
    ['STORAGE_URL', 's3://A_B/x', /bucket name/],
    ['S3_FORCE_PATH_STYLE', 'maybe', /boolean/],
    ['SIGNED_URL_TTL_SECONDS', '0', /1…604800/],
    ['PUBLIC_BASE_URL', 'not a url', /URL/],
    ['FILE_URL_SECRET', 'short', /16 characters/],
    ['WEBHOOK_SECRET', 'plain', /whsec_/],
    ['WEBHOOK_SECRET', 'whsec_@@@@', /base64/],
    ['WEBHOOK_SECRET', `whsec_${randomBytes(8).toString('base64')}`, /24 to 64/],
    ['WEBHOOK_RETRY_SCHEDULE', '0,5', /"5" is not a duration/],
    ['ALLOW_PRIVATE_URLS', '2', /boolean/],
    ['ROLE', 'both', /api, worker, all/],
    ['LOG_LEVEL', 'loud', /one of/],
    ['QUEUE_PREFIX', 'a:b', /letters/],
    ['WORKER_CONCURRENCY', '0', /1…64/],
    ['WORKER_LOCK_DURATION_MS', '500', /1000…/],
    ['WORKER_STALLED_INTERVAL_MS', '1s', /integer/],
    ['EXECUTION_PROVIDERS', 'cuda,tpu', /"tpu"/],
    ['MAX_BODY_BYTES', '10 bananas', /size in bytes/],
    ['IMAGE_FETCH_TIMEOUT_MS', '1.5', /integer/],
  ];
  for (const [name, value, pattern] of cases) {
    const problems = problemsOf({ [name]: value });
    assert.deepEqual([...problems.keys()], [name], `${name}=${value}`);
    assert.match(problems.get(name)!, pattern, `${name}=${value}`);
  }
});

test('every problem is listed in one message', () => {
  try {
    loadConfig({ PORT: 'x', ROLE: 'y', WEBHOOK_SECRET: 'z', S3_FORCE_PATH_STYLE: 'w', STORAGE_URL: 'q' });
    assert.fail('expected a ConfigError');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.code, 'invalid_config');
    assert.equal(err.problems.length, 5);
    for (const name of ['PORT', 'ROLE', 'WEBHOOK_SECRET', 'S3_FORCE_PATH_STYLE', 'STORAGE_URL']) {
      assert.match(err.message, new RegExp(`- ${name}: `));
    }
    assert.match(err.message, /5 problems/);
  }
});

test('the VARIABLES table documents every variable once', () => {
  assert.equal(VARIABLE_NAMES.size, VARIABLES.length);
  for (const v of VARIABLES) assert.ok(v.description.length > 10, v.name);
  for (const name of ['PORT', 'HOST', 'REDIS_URL', 'STORAGE_URL', 'S3_ENDPOINT', 'S3_REGION', 'S3_FORCE_PATH_STYLE',
    'MODELS_DIR', 'DEFAULT_MODEL', 'WEBHOOK_SECRET', 'ALLOW_PRIVATE_URLS', 'API_KEYS', 'ROLE']) {
    assert.ok(VARIABLE_NAMES.has(name), name);
  }
});
