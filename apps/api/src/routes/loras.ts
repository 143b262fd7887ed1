// GET /v1/loras: the adapters in LORA_DIR, read on each call (files are re-read only when their
// size or mtime changed), so files copied in while the API runs are listed at once.
import type { FastifyInstance } from 'fastify';
import type { LoraList } from '@sdsvc/contracts';
import type { LoraLibrary } from '@sdsvc/lora';

export async function lorasRoutes(app: FastifyInstance, opts: { library: LoraLibrary }): Promise<void> {
  app.get('/v1/loras', { config: { auth: 'key' } }, async (): Promise<LoraList> => ({
    data: (await opts.library.list()).map((l) => ({
      id: l.id, bytes: l.bytes, sha256: l.sha256, naming: l.naming, ranks: l.ranks, components: l.components, error: l.error,
    })),
  }));
}
