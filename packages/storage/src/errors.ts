// Typed storage errors: callers branch on `code` (the worker maps storage_unavailable to a failed
// job with that code, the API maps object_not_found to 404).
export type StorageErrorCode = 'storage_unavailable' | 'object_not_found' | 'invalid_key';

export class StorageError extends Error {
  readonly code: StorageErrorCode;
  constructor(code: StorageErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StorageError';
    this.code = code;
  }
}

export function isStorageError(err: unknown, code?: StorageErrorCode): err is StorageError {
  return err instanceof StorageError && (code === undefined || err.code === code);
}
