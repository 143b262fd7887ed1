// The store STORAGE_URL names, configured from the loaded Config.
import type { Config } from '@sdsvc/config';
import { FileObjectStore } from './file-object-store.ts';
import type { ObjectStore } from './object-store.ts';
import { S3ObjectStore } from './s3-object-store.ts';

export type StoreConfig = Pick<Config, 'storage' | 's3' | 'storagePublicBaseUrl' | 'signedUrlTtlSeconds' | 'publicBaseUrl' | 'fileUrlSecret'>;

export async function createObjectStore(config: StoreConfig): Promise<ObjectStore> {
  if (config.storage.kind === 's3') {
    return new S3ObjectStore({
      bucket: config.storage.bucket,
      prefix: config.storage.prefix,
      endpoint: config.s3.endpoint,
      publicEndpoint: config.s3.publicEndpoint,
      region: config.s3.region,
      forcePathStyle: config.s3.forcePathStyle,
      publicBaseUrl: config.storagePublicBaseUrl,
      signedUrlTtlSeconds: config.signedUrlTtlSeconds,
    });
  }
  return await FileObjectStore.open({
    root: config.storage.root,
    publicBaseUrl: config.publicBaseUrl,
    secret: config.fileUrlSecret,
    ttlSeconds: config.signedUrlTtlSeconds,
  });
}
