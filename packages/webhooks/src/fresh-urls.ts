// Image URLs in a webhook payload are signed (presigned S3 / signed file URLs) and expire after
// SIGNED_URL_TTL_SECONDS, while deliveries are retried for days. So the delivery worker signs them
// again right before each attempt: the URLs a receiver gets are always fresh.
import type { WebhookJobData } from './types.ts';

interface Stored { key?: unknown; url?: unknown }
interface PayloadWithResult { data?: { result?: { images?: Stored[]; animation?: Stored } | null } }

/** The message with every `data.result.images[].url` (and `data.result.animation.url`) re-made from its `key`. */
export async function withFreshImageUrls(msg: WebhookJobData, urlFor: (key: string) => Promise<string>): Promise<WebhookJobData> {
  const payload = JSON.parse(msg.body) as PayloadWithResult;
  const result = payload.data?.result;
  if (!result) return msg;
  const files = [...(result.images ?? []), ...(result.animation ? [result.animation] : [])];
  let changed = false;
  for (const file of files) {
    if (typeof file.key === 'string' && typeof file.url === 'string') {
      file.url = await urlFor(file.key);
      changed = true;
    }
  }
  return changed ? { ...msg, body: JSON.stringify(payload) } : msg;
}
