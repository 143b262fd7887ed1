// A real S3-protocol server for tests: MinIO through testcontainers when a Docker engine answers,
// else s3rver in-process on a loopback port it binds itself (port 0) with a temporary directory.
// The bucket exists on return; `env` holds the variables a service process needs to use it.
// TEST_S3=s3rver or TEST_S3=minio forces one (minio: fail rather than fall back); the backend a run
// uses is logged once per test process. s3rver does not verify request signatures: presigned-URL
// signing is only really checked where MinIO runs.
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { reportBackend } from './backend-log.ts';

/** Pinned so every run tests the same server. */
export const MINIO_IMAGE = 'minio/minio:RELEASE.2024-10-13T13-34-11Z';

export interface TestS3 {
  kind: 'minio' | 's3rver';
  endpoint: string;
  bucket: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** STORAGE_URL (s3://bucket/outputs), S3_ENDPOINT, S3_REGION, S3_FORCE_PATH_STYLE, AWS_* credentials. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export interface StartS3Options { bucket?: string; prefix?: string; /** Skip the Docker probe. */ forceS3rver?: boolean }

function dockerLikely(): boolean {
  return Boolean(process.env.DOCKER_HOST) || existsSync('/var/run/docker.sock');
}

function envFor(endpoint: string, bucket: string, prefix: string, creds: TestS3['credentials'], region: string) {
  return {
    STORAGE_URL: `s3://${bucket}/${prefix}`,
    S3_ENDPOINT: endpoint,
    S3_REGION: region,
    S3_FORCE_PATH_STYLE: 'true',
    AWS_ACCESS_KEY_ID: creds.accessKeyId,
    AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
  };
}

async function createBucket(endpoint: string, bucket: string, region: string, credentials: TestS3['credentials']) {
  const client = new S3Client({ endpoint, region, forcePathStyle: true, credentials });
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    client.destroy();
  }
}

async function startMinio(bucket: string, prefix: string): Promise<TestS3> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const credentials = { accessKeyId: 'minioadmin', secretAccessKey: 'minioadmin-secret' };
  const container = await new GenericContainer(MINIO_IMAGE)
    .withCommand(['server', '/data'])
    .withEnvironment({ MINIO_ROOT_USER: credentials.accessKeyId, MINIO_ROOT_PASSWORD: credentials.secretAccessKey })
    .withExposedPorts(9000)
    .withWaitStrategy(Wait.forHttp('/minio/health/ready', 9000))
    .start();
  const endpoint = `http://${container.getHost()}:${container.getMappedPort(9000)}`;
  const region = 'us-east-1';
  await createBucket(endpoint, bucket, region, credentials);
  return {
    kind: 'minio', endpoint, bucket, region, credentials,
    env: envFor(endpoint, bucket, prefix, credentials, region),
    stop: async () => { await container.stop(); },
  };
}

async function startS3rver(bucket: string, prefix: string): Promise<TestS3> {
  // s3rver ships no types; a computed specifier keeps the import untyped.
  const specifier: string = 's3rver';
  const { default: S3rver } = await import(specifier);
  const directory = await mkdtemp(join(tmpdir(), 'sdsvc-s3-'));
  // Port 0: the kernel picks a free port as s3rver binds it (no probe-then-bind race).
  const server = new S3rver({ port: 0, address: '127.0.0.1', directory, silent: true, configureBuckets: [{ name: bucket }] });
  const { port } = (await server.run()) as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
  const region = 'us-east-1';
  return {
    kind: 's3rver', endpoint, bucket, region, credentials,
    env: envFor(endpoint, bucket, prefix, credentials, region),
    stop: async () => {
      const http = server.httpServer as Server | undefined;
      // Clients keep connections alive; close them or close() waits for them.
      http?.closeAllConnections();
      await server.close().catch(() => {});
      await rm(directory, { recursive: true, force: true });
    },
  };
}

export async function startS3(opts: StartS3Options = {}): Promise<TestS3> {
  const bucket = opts.bucket ?? 'images';
  const prefix = opts.prefix ?? 'outputs';
  const wanted = process.env.TEST_S3;
  let reason = opts.forceS3rver ? 'forceS3rver' : wanted === 's3rver' ? 'TEST_S3=s3rver' : 'no Docker socket';
  if (!opts.forceS3rver && (wanted === 'minio' || (wanted !== 's3rver' && dockerLikely()))) {
    try {
      const { getContainerRuntimeClient } = await import('testcontainers');
      await getContainerRuntimeClient();
      const minio = await startMinio(bucket, prefix);
      reportBackend('s3', `MinIO container ${MINIO_IMAGE}`);
      return minio;
    } catch (err) {
      if (wanted === 'minio') throw new Error(`TEST_S3=minio but MinIO did not start: ${(err as Error).message}`);
      // No usable Docker engine after all: fall back to the in-process server, and say so.
      reason = `Docker did not start ${MINIO_IMAGE}: ${(err as Error).message.split('\n')[0]}`;
    }
  }
  const s3 = await startS3rver(bucket, prefix);
  reportBackend('s3', `s3rver in-process, signatures not verified (${reason})`);
  return s3;
}
