// The API keys the service accepts: API_KEYS (plain), ADMIN_API_KEYS (plain, admin) and
// API_KEYS_FILE (`name:sha256-hex-of-key[:admin]` lines, hashed at rest, re-read on SIGHUP).
// Only sha256 digests are kept in memory; a key's name (never the key) is what logs show.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';

export interface ApiKey {
  /** Shown in logs and metrics: the file's name, or `key-<8 hex of the digest>` for plain keys. */
  name: string;
  /** Short digest of the key: the job owner and idempotency scope. Same key ⇒ same id, whatever the source. */
  callerId: string;
  admin: boolean;
  digest: Buffer;
}

export const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();

const NAME = /^[A-Za-z0-9._@-]{1,64}$/;
const HEX = /^[0-9a-f]{64}$/i;

function entry(name: string, digest: Buffer, admin: boolean): ApiKey {
  return { name, digest, admin, callerId: digest.toString('hex').slice(0, 16) };
}

/** Parses an API_KEYS_FILE body; errors name line numbers only (lines hold key digests). */
export function parseKeysFile(text: string): ApiKey[] {
  const out: ApiKey[] = [];
  const bad: number[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const [name, hex, flag, ...rest] = line.split(':').map((s) => s.trim());
    if (!name || !NAME.test(name) || !hex || !HEX.test(hex) || rest.length > 0 || (flag !== undefined && flag !== 'admin')) {
      bad.push(i + 1);
      return;
    }
    out.push(entry(name, Buffer.from(hex, 'hex'), flag === 'admin'));
  });
  if (bad.length > 0) throw new Error(`API_KEYS_FILE: lines ${bad.join(', ')} are not name:sha256-hex[:admin]`);
  return out;
}

export interface KeyRingOptions {
  apiKeys?: string[];
  adminApiKeys?: string[];
  apiKeysFile?: string;
}

export class KeyRing {
  readonly #plain: ApiKey[];
  readonly #file: string | undefined;
  #fromFile: ApiKey[] = [];

  private constructor(opts: KeyRingOptions) {
    this.#file = opts.apiKeysFile;
    const plain = (opts.apiKeys ?? []).map((k) => { const d = sha256(k); return entry(`key-${d.toString('hex').slice(0, 8)}`, d, false); });
    const admin = (opts.adminApiKeys ?? []).map((k) => { const d = sha256(k); return entry(`admin-${d.toString('hex').slice(0, 8)}`, d, true); });
    this.#plain = [...admin, ...plain];
  }

  /** Reads the keys file once (a missing or malformed file fails the start). */
  static async open(opts: KeyRingOptions): Promise<KeyRing> {
    const ring = new KeyRing(opts);
    await ring.reload();
    return ring;
  }

  /** Authentication is on when any key source is configured (an empty keys file still counts). */
  get enabled(): boolean {
    return this.#plain.length > 0 || this.#file !== undefined;
  }

  get size(): number {
    return this.#plain.length + this.#fromFile.length;
  }

  get file(): string | undefined {
    return this.#file;
  }

  /** Re-reads API_KEYS_FILE; on error the previous keys stay (a typo must not lock everyone out). */
  async reload(): Promise<number> {
    if (this.#file === undefined) return this.size;
    this.#fromFile = parseKeysFile(await readFile(this.#file, 'utf8'));
    return this.size;
  }

  /**
   * The key a presented secret belongs to, or null. Every digest is compared in constant time and
   * the loop never stops early, so timing says nothing about which (or whether a) key matched.
   */
  lookup(secret: string): ApiKey | null {
    const d = sha256(secret);
    let found: ApiKey | null = null;
    for (const k of [...this.#plain, ...this.#fromFile]) {
      if (timingSafeEqual(k.digest, d) && found === null) found = k;
    }
    return found;
  }
}
