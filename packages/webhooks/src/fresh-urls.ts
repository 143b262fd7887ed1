// Image URLs in a webhook payload are signed (presigned S3 / signed file URLs) and expire after
// SIGNED_URL_TTL_SECONDS, while deliveries are retried for days. So the delivery worker signs them
// again right before each attempt: the URLs a receiver gets are always fresh.
import type { WebhookJobData } from './types.ts';

interface PayloadWithImages { data?: { result?: { images?: Array<{ key?: string; url?: string }> } | null } }

/** The message with every `data.result.images[].url` re-made from its `key`. */
export async function withFreshImageUrls(msg: WebhookJobData, urlFor: (key: string) => Promise<string>): Promise<WebhookJobData> {
  const payload = JSON.parse(msg.body) as PayloadWithImages;
  const images = payload.data?.result?.images;
  if (!images || images.length === 0) return msg;
  for (const img of images) if (img.key) img.url = await urlFor(img.key);
  return { ...msg, body: JSON.stringify(payload) };
}
