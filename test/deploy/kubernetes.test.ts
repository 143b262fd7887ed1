// deploy/kubernetes, rendered as `kubectl apply -k` would (test/support/kustomize.ts), checked
// against the official Kubernetes schemas (kubernetes-models) and for what the service needs:
// GPU workers with probes on WORKER_HEALTH_PORT and a grace period above SHUTDOWN_GRACE_MS, Redis
// with AOF on a volume, S3 settings from a Secret, KEDA scaling on the generate queue's wait list,
// and every container's environment accepted by the service's own config loader.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { loadConfig, VARIABLE_NAMES } from '@sdsvc/config';
import { bullmqPrefix, generateQueueName } from '@sdsvc/jobs';
import { renderKustomization, type Manifest } from '../support/kustomize.ts';

const DIR = fileURLToPath(new URL('../../deploy/kubernetes/', import.meta.url));

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': Namespace, 'v1/ConfigMap': ConfigMap, 'v1/Secret': Secret, 'v1/Service': Service,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim, 'apps/v1/Deployment': Deployment, 'apps/v1/StatefulSet': StatefulSet,
};

/** KEDA's ScaledObject (keda.sh/v1alpha1) as far as this deployment uses it, strict. */
const ScaledObject = z.object({
  apiVersion: z.literal('keda.sh/v1alpha1'),
  kind: z.literal('ScaledObject'),
  metadata: z.object({ name: z.string(), namespace: z.string(), labels: z.record(z.string(), z.string()).optional() }).strict(),
  spec: z.object({
    scaleTargetRef: z.object({ name: z.string(), kind: z.string().optional(), apiVersion: z.string().optional() }).strict(),
    minReplicaCount: z.int().min(0),
    maxReplicaCount: z.int().min(1),
    pollingInterval: z.int().min(1).optional(),
    cooldownPeriod: z.int().min(0).optional(),
    triggers: z.array(z.object({
      type: z.literal('redis'),
      metadata: z.object({
        address: z.string().regex(/^[a-z0-9.-]+:\d+$/),
        listName: z.string().min(1),
        listLength: z.string().regex(/^\d+$/),
        activationListLength: z.string().regex(/^\d+$/).optional(),
        databaseIndex: z.string().regex(/^\d+$/).optional(),
      }).strict(),
    }).strict()).min(1),
  }).strict().refine((s) => s.maxReplicaCount >= s.minReplicaCount, 'maxReplicaCount < minReplicaCount'),
}).strict();

describe('deploy/kubernetes', () => {
  let manifests: Manifest[];
  const one = (kind: string, name: string): Manifest => {
    const m = manifests.find((x) => x.kind === kind && x.metadata.name === name);
    assert.ok(m, `${kind}/${name} is rendered`);
    return m;
  };
  const container = (workload: Manifest, name: string) => {
    const c = workload.spec.template.spec.containers.find((x: { name: string }) => x.name === name);
    assert.ok(c, `container ${name} in ${workload.metadata.name}`);
    return c;
  };
  /** The environment a container gets: envFrom ConfigMaps and Secrets, then env (which wins). */
  const environment = (c: Manifest): Record<string, string> => {
    const env: Record<string, string> = {};
    for (const from of c.envFrom ?? []) {
      if (from.configMapRef) Object.assign(env, one('ConfigMap', from.configMapRef.name).data);
      if (from.secretRef) Object.assign(env, one('Secret', from.secretRef.name).stringData);
    }
    for (const e of c.env ?? []) env[e.name] = e.value;
    return env;
  };

  before(async () => { manifests = await renderKustomization(DIR); });

  test('every Kubernetes object validates against the official schema; everything is namespaced and labelled', () => {
    for (const m of manifests) {
      if (m.kind === 'ScaledObject') continue;
      const Model = MODELS[`${m.apiVersion}/${m.kind}`];
      assert.ok(Model, `no schema for ${m.apiVersion}/${m.kind}`);
      assert.doesNotThrow(() => new Model(m as never).validate(), `${m.kind}/${m.metadata.name}`);
      assert.equal(m.metadata.labels?.['app.kubernetes.io/part-of'], 'sdsvc');
      if (m.kind !== 'Namespace') assert.equal(m.metadata.namespace, 'sdsvc', `${m.kind}/${m.metadata.name}`);
    }
    assert.deepEqual(manifests.map((m) => m.kind).sort(),
      ['ConfigMap', 'Deployment', 'Deployment', 'Namespace', 'PersistentVolumeClaim', 'ScaledObject', 'Secret', 'Secret', 'Service', 'Service', 'StatefulSet']);
  });

  test('a broken manifest is refused by the schema check (the check can fail)', () => {
    const api = structuredClone(one('Deployment', 'sdsvc-api'));
    api.spec.replicas = 'two';
    assert.throws(() => new Deployment(api as never).validate(), /replicas/);
    delete api.spec.replicas;
    delete api.spec.template.spec.containers[0].name;
    assert.throws(() => new Deployment(api as never).validate(), /name/);
  });

  test('services select their pods and target named container ports', () => {
    for (const svc of manifests.filter((m) => m.kind === 'Service')) {
      const workload = manifests.find((m) => ['Deployment', 'StatefulSet'].includes(m.kind)
        && Object.entries(svc.spec.selector).every(([k, v]) => m.spec.template.metadata.labels[k] === v));
      assert.ok(workload, `a workload matches Service/${svc.metadata.name}`);
      assert.deepEqual(workload.spec.selector.matchLabels, workload.spec.template.metadata.labels);
      const ports = workload.spec.template.spec.containers.flatMap((c: Manifest) => c.ports ?? []).map((p: { name: string }) => p.name);
      for (const p of svc.spec.ports) assert.ok(ports.includes(p.targetPort), `port ${p.targetPort} of Service/${svc.metadata.name}`);
    }
  });

  test('GPU worker: nvidia.com/gpu, probes on WORKER_HEALTH_PORT, grace period above SHUTDOWN_GRACE_MS', () => {
    const worker = one('Deployment', 'sdsvc-worker');
    const c = container(worker, 'worker');
    const env = environment(c);
    assert.equal(env.ROLE, 'worker');
    assert.equal(c.image, 'registry.example.com/sdsvc-worker:0.1.0', 'kustomization images applied');
    assert.equal(c.resources.limits['nvidia.com/gpu'], 1);
    assert.match(env.EXECUTION_PROVIDERS, /^cuda\b/);
    const healthPort = c.ports.find((p: { name: string }) => p.name === 'health');
    assert.equal(String(healthPort.containerPort), env.WORKER_HEALTH_PORT);
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
      assert.equal(c[probe].httpGet.port, 'health', probe);
    }
    assert.equal(c.readinessProbe.httpGet.path, '/readyz');
    assert.equal(worker.spec.template.metadata.annotations['prometheus.io/port'], env.WORKER_HEALTH_PORT, '/metrics is on the health port');
    assert.equal(c.livenessProbe.httpGet.path, '/healthz');
    const graceMs = worker.spec.template.spec.terminationGracePeriodSeconds * 1000;
    assert.ok(graceMs > Number(env.SHUTDOWN_GRACE_MS), `${graceMs} ms > SHUTDOWN_GRACE_MS ${env.SHUTDOWN_GRACE_MS}`);
    assert.ok(graceMs - Number(env.SHUTDOWN_GRACE_MS) >= 10_000, 'room to hand the job back after the grace period');
  });

  test('every container\'s environment is accepted by the service\'s config loader, names included', () => {
    for (const workload of manifests.filter((m) => m.kind === 'Deployment')) {
      for (const c of workload.spec.template.spec.containers) {
        const env = environment(c);
        for (const name of Object.keys(env)) assert.ok(VARIABLE_NAMES.has(name), `${workload.metadata.name}: unknown variable ${name}`);
        assert.doesNotThrow(() => loadConfig(env, { cwd: '/app' }), `${workload.metadata.name}/${c.name}`);
      }
    }
  });

  test('S3 settings and credentials come from a Secret, in both API and worker', () => {
    const s3 = one('Secret', 'sdsvc-s3');
    for (const key of ['STORAGE_URL', 'S3_ENDPOINT', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) assert.ok(s3.stringData[key], key);
    assert.match(s3.stringData.STORAGE_URL, /^s3:\/\//);
    for (const [name, cname] of [['sdsvc-api', 'api'], ['sdsvc-worker', 'worker']]) {
      const c = container(one('Deployment', name), cname);
      assert.ok(c.envFrom.some((f: Manifest) => f.secretRef?.name === 'sdsvc-s3'), name);
      assert.equal(one('ConfigMap', 'sdsvc-config').data.AWS_SECRET_ACCESS_KEY, undefined, 'no credentials in the ConfigMap');
    }
  });

  test('Redis keeps an append-only file on a persistent volume', () => {
    const redis = one('StatefulSet', 'redis');
    const c = container(redis, 'redis');
    const args: string[] = c.args;
    assert.equal(args[args.indexOf('--appendonly') + 1], 'yes');
    const dir = args[args.indexOf('--dir') + 1];
    const mount = c.volumeMounts.find((v: { mountPath: string }) => v.mountPath === dir);
    assert.ok(mount, 'the data dir is a volume');
    assert.ok(redis.spec.volumeClaimTemplates.some((t: Manifest) => t.metadata.name === mount.name), 'backed by a PersistentVolumeClaim');
    const url = new URL(environment(container(one('Deployment', 'sdsvc-api'), 'api')).REDIS_URL);
    assert.equal(url.hostname, one('Service', 'redis').metadata.name);
  });

  test('KEDA ScaledObject: scales the worker Deployment on the wait lists of its WORKER_MODELS (<QUEUE_PREFIX>:bull:generate.<model>:wait) in that Redis', () => {
    const so = ScaledObject.parse(one('ScaledObject', 'sdsvc-worker'));
    assert.equal(so.spec.scaleTargetRef.name, one('Deployment', 'sdsvc-worker').metadata.name);
    assert.ok(so.spec.minReplicaCount >= 1, 'one worker stays up: workers deliver webhooks too');
    const env = environment(container(one('Deployment', 'sdsvc-worker'), 'worker'));
    const trigger = so.spec.triggers[0];
    // The keys BullMQ really uses for the wait lists, from the service's own naming: one trigger per held model.
    const models = env.WORKER_MODELS.split(',').map((m: string) => m.trim());
    assert.deepEqual(so.spec.triggers.map((t: { metadata: { listName: string } }) => t.metadata.listName).sort(),
      models.map((m: string) => `${bullmqPrefix(env.QUEUE_PREFIX)}:${generateQueueName(m)}:wait`).sort());
    assert.ok(models.includes(env.DEFAULT_MODEL), 'the workers hold the default model');
    const redisService = one('Service', 'redis');
    assert.equal(trigger.metadata.address, `${redisService.metadata.name}.${redisService.metadata.namespace}.svc.cluster.local:${redisService.spec.ports[0].port}`);
    assert.throws(() => ScaledObject.parse({ ...so, spec: { ...so.spec, triggers: [{ type: 'redis', metadata: { address: 'x:1', listname: 'typo', listLength: '2' } }] } }));
  });
});
