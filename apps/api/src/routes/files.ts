// GET /v1/files/*: objects of the local file store, behind signed expiring URLs.
import type { FastifyInstance } from 'fastify';
import type { ObjectStore } from '@sdsvc/storage';
import { FileObjectStore, isStorageError } from '@sdsvc/storage';
import { HttpProblem } from '../problem.ts';

export async function filesRoutes(app: FastifyInstance, opts: { objectStore: ObjectStore }): Promise<void> {
  const store = opts.objectStore;
  if (!(store instanceof FileObjectStore)) return; // S3 hands out its own presigned URLs

  // Public: the URL's own signature is the credential (plugins/auth.ts).
  app.get<{ Params: { '*': string }; Querystring: { expires?: string; sig?: string } }>('/v1/files/*', { config: { auth: 'public' } }, async (request, reply) => {
    const key = request.params['*'];
    const { expires, sig } = request.query;
    if (!expires || !sig) throw new HttpProblem(403, 'url_invalid', 'the URL is not signed');
    const check = store.checkSignedUrl(key, expires, sig);
    if (check === 'expired') throw new HttpProblem(403, 'url_expired', 'the URL has expired');
    if (check !== 'ok') throw new HttpProblem(403, 'url_invalid', 'the URL signature is not valid');
    try {
      const file = await store.openRead(key);
      return reply
        .type(file.contentType)
        .header('content-length', file.bytes)
        .header('cache-control', 'private, max-age=300')
        .send(file.stream);
    } catch (err) {
      if (isStorageError(err, 'object_not_found') || isStorageError(err, 'invalid_key')) throw new HttpProblem(404, 'not_found', 'no such object');
      throw err;
    }
  });
}
