// A real HTTP receiver on loopback that verifies Standard Webhooks signatures, as a customer would.
import { createServer, type Server } from 'node:http';
import { Webhook } from 'standardwebhooks';

export interface ReceivedWebhook {
  id: string;
  type: string;
  payload: { type: string; timestamp: string; data: Record<string, unknown> & { id: string; status: string } };
  headers: Record<string, string>;
}

export interface WebhookReceiver {
  url: string;
  /** Deliveries answered 2xx. */
  received: ReceivedWebhook[];
  /** Every verified delivery, whatever it was answered (see `respond`). */
  attempts: ReceivedWebhook[];
  /** Deliveries whose signature did not verify (should stay empty). */
  rejected: Array<{ error: string; headers: Record<string, string> }>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(secret: string, opts: {
  /** The status to answer a verified delivery with (default 204). */
  respond?: (hook: ReceivedWebhook) => number;
} = {}): Promise<WebhookReceiver> {
  const verifier = new Webhook(secret);
  const received: ReceivedWebhook[] = [];
  const attempts: ReceivedWebhook[] = [];
  const rejected: WebhookReceiver['rejected'] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      try {
        const payload = verifier.verify(body, headers) as ReceivedWebhook['payload'];
        const hook = { id: headers['webhook-id'] ?? '', type: payload.type, payload, headers };
        attempts.push(hook);
        const status = opts.respond?.(hook) ?? 204;
        if (status >= 200 && status < 300) received.push(hook);
        res.writeHead(status).end();
      } catch (err) {
        rejected.push({ error: (err as Error).message, headers });
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    attempts,
    rejected,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
