// S3-protocol store (AWS, MinIO, R2…): bounded SDK retries and timeouts so a dead endpoint fails
// fast with storage_unavailable; URLs are presigned GETs, or <public base>/<key> when configured.
import {
  DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, HeadBucketCommand, HeadObjectCommand, PutObjectCommand, S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { StorageError } from './errors.ts';
import { assertValidKey, encodeKey, type ObjectInfo, type ObjectStore } from './object-store.ts';

export interface S3ObjectStoreOptions {
  bucket: string;
  prefix?: string;
  endpoint?: string;
  /** Endpoint for presigned URLs when clients reach the store elsewhere than this service does
   * (signing is offline, so a second client with that endpoint signs URLs clients can use). */
  publicEndpoint?: string;
  region?: string;
  forcePathStyle?: boolean;
  /** Absent: the AWS SDK's default chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, profile, role…). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Public base URL of the bucket: url() returns <base>/<key> instead of a presigned URL. */
  publicBaseUrl?: string;
  signedUrlTtlSeconds?: number;
  /** SDK attempts per call (first try included). */
  maxAttempts?: number;
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number }; Code?: string };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.Code === 'NoSuchKey'
    || (e?.$metadata?.httpStatusCode === 404 && e?.name !== 'NoSuchBucket');
}

export class S3ObjectStore implements ObjectStore {
  readonly kind = 's3' as const;
  readonly keyPrefix: string;
  readonly bucket: string;
  readonly client: S3Client;
  private readonly presignClient: S3Client;
  private readonly publicBaseUrl: string | undefined;
  private readonly ttlSeconds: number;

  constructor(opts: S3ObjectStoreOptions) {
    this.bucket = opts.bucket;
    this.keyPrefix = (opts.prefix ?? '').replace(/^\/+|\/+$/g, '');
    this.publicBaseUrl = opts.publicBaseUrl?.replace(/\/+$/, '');
    this.ttlSeconds = opts.signedUrlTtlSeconds ?? 3600;
    const config: S3ClientConfig = {
      region: opts.region ?? 'us-east-1',
      forcePathStyle: opts.forcePathStyle ?? false,
      maxAttempts: opts.maxAttempts ?? 3,
      requestHandler: {
        connectionTimeout: opts.connectionTimeoutMs ?? 3000,
        requestTimeout: opts.requestTimeoutMs ?? 30000,
      },
    };
    if (opts.endpoint) config.endpoint = opts.endpoint;
    if (opts.credentials) config.credentials = opts.credentials;
    this.client = new S3Client(config);
    this.presignClient = opts.publicEndpoint ? new S3Client({ ...config, endpoint: opts.publicEndpoint }) : this.client;
  }

  private fail(op: string, key: string, err: unknown): StorageError {
    if (err instanceof StorageError) return err;
    if (isNotFound(err)) return new StorageError('object_not_found', `no object "${key}" in bucket "${this.bucket}"`, { cause: err });
    const e = err as { name?: string; message?: string; code?: string };
    const why = [e?.name, e?.code, e?.message].filter(Boolean).join(': ');
    return new StorageError('storage_unavailable', `S3 ${op} "${key}" in bucket "${this.bucket}" failed: ${why}`, { cause: err });
  }

  async put(key: string, body: Buffer, contentType: string): Promise<void> {
    assertValidKey(key);
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType, ContentLength: body.length }));
    } catch (err) {
      throw this.fail('put', key, err);
    }
  }

  async get(key: string): Promise<Buffer> {
    assertValidKey(key);
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return Buffer.from(await out.Body!.transformToByteArray());
    } catch (err) {
      throw this.fail('get', key, err);
    }
  }

  async head(key: string): Promise<ObjectInfo | null> {
    assertValidKey(key);
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { contentType: out.ContentType ?? 'application/octet-stream', bytes: out.ContentLength ?? 0 };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw this.fail('head', key, err);
    }
  }

  async url(key: string): Promise<string> {
    assertValidKey(key);
    if (this.publicBaseUrl) return `${this.publicBaseUrl}/${encodeKey(key)}`;
    try {
      return await getSignedUrl(this.presignClient, new GetObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn: this.ttlSeconds });
    } catch (err) {
      throw this.fail('presign', key, err);
    }
  }

  async ping(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      // A 404 here means the bucket is missing: the store is unusable, not an absent object.
      const e = err as { name?: string; message?: string };
      throw new StorageError('storage_unavailable', `S3 bucket "${this.bucket}" not reachable: ${e?.name ?? ''} ${e?.message ?? ''}`.trim(), { cause: err });
    }
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      if (isNotFound(err)) return;
      throw this.fail('delete', key, err);
    }
  }

  async list(prefix: string): Promise<string[]> {
    assertValidKey(prefix);
    const keys: string[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: `${prefix}/`, ContinuationToken: token }));
        for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (err) {
      throw this.fail('list', prefix, err);
    }
    return keys;
  }

  async close(): Promise<void> {
    this.client.destroy();
    if (this.presignClient !== this.client) this.presignClient.destroy();
  }
}
