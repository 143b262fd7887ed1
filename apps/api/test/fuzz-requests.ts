// Hostile requests for the property-based fuzz (fast-check): random and mutated JSON job bodies,
// wrong types, huge numbers, deep nesting, odd headers, broken multipart, and truncated, corrupt,
// oversized and foreign-format images in every image field. Shared by the test (10,000 runs) and
// the bench (longer). Everything is offline: URLs use IP literals that the outbound rules refuse
// before any connection, so no run waits on DNS or a network.
import { deflateSync } from 'node:zlib';
import fc from 'fast-check';
import sharp from 'sharp';
import type { InjectOptions } from 'fastify';
import { IMAGE_FIELDS } from '@sdsvc/contracts';

export interface FuzzImages {
  png: Buffer;
  jpeg: Buffer;
  gif: Buffer;
  webp: Buffer;
  animatedGif: Buffer;
  jpegWithExif: Buffer;
  /** A PNG whose header declares 100000 × 100000 pixels (a decompression bomb). */
  bomb: Buffer;
  svg: Buffer;
  tiff: Buffer;
  /** Larger than MAX_IMAGE_BYTES of the fuzz app. */
  oversized: Buffer;
}

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const t = Buffer.from(type, 'latin1');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([t, data])));
  return Buffer.concat([len, t, data, crc]);
}

/** A tiny PNG file whose IHDR claims width × height. */
export function pngDeclaring(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(Buffer.alloc(1024))), pngChunk('IEND', Buffer.alloc(0))]);
}

export async function fuzzImages(maxImageBytes: number): Promise<FuzzImages> {
  const base = sharp({ create: { width: 16, height: 16, channels: 3, background: { r: 200, g: 40, b: 90 } } });
  const frame = (c: number) => sharp({ create: { width: 16, height: 16, channels: 4, background: { r: c, g: 0, b: 0, alpha: 1 } } }).png().toBuffer();
  const frames = await Promise.all([frame(10), frame(240)]);
  const animatedGif = await sharp(frames, { join: { animated: true } }).gif().toBuffer();
  return {
    png: await base.clone().png().toBuffer(),
    jpeg: await base.clone().jpeg().toBuffer(),
    gif: await base.clone().gif().toBuffer(),
    webp: await base.clone().webp().toBuffer(),
    animatedGif,
    jpegWithExif: await base.clone().withMetadata({ orientation: 6 }).jpeg().toBuffer(),
    bomb: pngDeclaring(100_000, 100_000),
    svg: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16"><rect width="16" height="16"/></svg>'),
    tiff: await base.clone().tiff().toBuffer(),
    oversized: Buffer.concat([await base.clone().png().toBuffer(), Buffer.alloc(maxImageBytes + 1024, 1)]),
  };
}

/** An image value: good, cut short, bytes flipped, foreign, oversized, as base64 / data URL / URL / file part. */
function imageArb(img: FuzzImages): fc.Arbitrary<{ bytes: Buffer | null; text: string | null }> {
  const good = fc.constantFrom(img.png, img.jpeg, img.gif, img.webp, img.animatedGif, img.jpegWithExif);
  const bytes = fc.oneof(
    { weight: 3, arbitrary: good },
    { weight: 3, arbitrary: fc.tuple(good, fc.double({ min: 0, max: 1, noNaN: true })).map(([b, f]) => b.subarray(0, Math.floor(b.length * f))) },
    { weight: 3, arbitrary: fc.tuple(good, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }))
      .map(([b, flips]) => { const c = Buffer.from(b); for (const [i, v] of flips) c[i % c.length] = v; return c; }) },
    { weight: 2, arbitrary: fc.constantFrom(img.bomb, img.svg, img.tiff, img.oversized, pngDeclaring(0, 0), pngDeclaring(3000, 1)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)) },
  );
  return fc.oneof(
    bytes.map((b) => ({ bytes: null, text: b.toString('base64') })),
    bytes.map((b) => ({ bytes: null, text: `data:image/png;base64,${b.toString('base64')}` })),
    bytes.map((b) => ({ bytes: b, text: null })), // a multipart file part (JSON bodies send base64)
    fc.constantFrom('https://10.0.0.1/a.png', 'https://[::ffff:127.0.0.1]/x', 'http://169.254.169.254/latest', 'https://[64:ff9b:1::a00:1]/',
      'ftp://1.2.3.4/x', 'https://[fe80::1%25eth0]/', 'not base64 !!', '', 'data:,', 'data:image/png;base64,').map((t) => ({ bytes: null, text: t })),
  );
}

const hugeNumber = fc.constantFrom(1e308, -1e308, 2 ** 53, 2 ** 53 + 2, -1, 0, 0.5, 1e-320, 4096, 2048, 150, 151, 9, 1e21);
const wrongType = fc.oneof(fc.string({ maxLength: 20 }), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }), fc.object({ maxDepth: 1 }), hugeNumber);

/** A job body: mostly the real fields, with values right, wrong-typed or extreme, plus unknown keys. */
function jobArb(img: FuzzImages): fc.Arbitrary<{ body: Record<string, unknown>; files: Record<string, Buffer> }> {
  const field = <T>(right: fc.Arbitrary<T>) => fc.option(fc.oneof({ weight: 12, arbitrary: right }, { weight: 1, arbitrary: wrongType }), { nil: undefined, freq: 2 });
  return fc.record({
    type: field(fc.constantFrom('txt2img', 'img2img', 'inpaint', 'animation', 'TXT2IMG')),
    model: field(fc.constantFrom('tiny-sd15', 'tiny-sd15-inpaint', 'tiny-sd2-v', 'sdxl-base', '../../etc/passwd', 'nope')),
    prompt: fc.oneof({ weight: 6, arbitrary: fc.string({ minLength: 1, maxLength: 80 }) },
      { weight: 2, arbitrary: fc.constantFrom('a (red:1.5) fox {image}', '(((((', 'x BREAK y', '{image:https://10.0.0.1/a.png}', 'a'.repeat(9000), '') }, { weight: 1, arbitrary: wrongType }),
    negative_prompt: field(fc.string({ maxLength: 40 })),
    width: field(fc.oneof(fc.constantFrom(64, 128, 8, 16, 2048, 4096), fc.integer({ min: -10, max: 3000 }))),
    height: field(fc.oneof(fc.constantFrom(64, 128, 8, 16, 2048), fc.integer({ min: -10, max: 3000 }))),
    steps: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 1, max: 4 }) }, { weight: 1, arbitrary: hugeNumber }),
    guidance_scale: field(fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), hugeNumber)),
    scheduler: field(fc.constantFrom('euler', 'default', 'DDIM', 'lcm', 'nope')),
    seed: field(hugeNumber),
    num_images: field(fc.oneof(fc.integer({ min: 1, max: 2 }), hugeNumber)),
    strength: field(fc.double({ min: -1, max: 2, noNaN: true })),
    mask_blur: field(fc.integer({ min: -1, max: 300 })),
    resize_mode: field(fc.constantFrom('resize', 'crop', 'fill', 'x')),
    output_format: field(fc.constantFrom('png', 'webp', 'jpeg', 'gif')),
    webhook: field(fc.record({ url: fc.constantFrom('https://10.1.2.3/h?token=t', 'https://[::1]/', 'http://x', 'https://[::ffff:0:a00:1]/'), events: fc.option(fc.array(fc.string({ maxLength: 12 }), { maxLength: 3 }), { nil: undefined }) })),
    metadata: field(fc.object({ maxDepth: 3 })),
    init_image: fc.option(imageArb(img), { nil: undefined, freq: 2 }),
    mask_image: fc.option(imageArb(img), { nil: undefined, freq: 3 }),
    reference_image: fc.option(imageArb(img), { nil: undefined, freq: 4 }),
    extra: fc.option(fc.dictionary(fc.string({ maxLength: 10 }), wrongType, { maxKeys: 3 }), { nil: undefined, freq: 4 }),
  }).map((r) => {
    const body: Record<string, unknown> = {};
    const files: Record<string, Buffer> = {};
    for (const [k, v] of Object.entries(r)) {
      if (v === undefined || k === 'extra') continue;
      if ((IMAGE_FIELDS as readonly string[]).includes(k)) {
        const iv = v as { bytes: Buffer | null; text: string | null };
        if (iv.bytes) files[k] = iv.bytes;
        else body[k] = iv.text;
      } else body[k] = v;
    }
    return { body: { ...body, ...(r.extra ?? {}) }, files };
  });
}

/** A job valid in every field but its images (kept hostile), so decoding and storing are reached. */
function imageJobArb(img: FuzzImages): fc.Arbitrary<{ body: Record<string, unknown>; files: Record<string, Buffer> }> {
  return fc.tuple(fc.constantFrom('img2img', 'inpaint', 'reference'), imageArb(img), imageArb(img), fc.constantFrom('resize', 'crop', 'fill'))
    .map(([type, a, b]) => {
      const body: Record<string, unknown> = { prompt: 'a fox', steps: 1, width: 64, height: 64 };
      const files: Record<string, Buffer> = {};
      const put = (field: string, v: { bytes: Buffer | null; text: string | null }) => { if (v.bytes) files[field] = v.bytes; else body[field] = v.text; };
      if (type === 'reference') { body.prompt = 'a fox {image}'; put('reference_image', a); }
      else { body.type = type; put('init_image', a); if (type === 'inpaint') { body.model = 'tiny-sd15-inpaint'; put('mask_image', b); } }
      return { body, files };
    });
}

const deepNesting = fc.integer({ min: 50, max: 20_000 }).map((n) => `{"prompt":"a","metadata":${'['.repeat(n)}${']'.repeat(n)}}`);

function multipart(boundary: string, body: Record<string, unknown>, files: Record<string, Buffer>): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(body)) {
    parts.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${k}"\r\n\r\n${typeof v === 'string' ? v : JSON.stringify(v)}\r\n`));
  }
  for (const [k, v] of Object.entries(files)) {
    parts.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${k}"; filename="x.png"\r\ncontent-type: image/png\r\n\r\n`), v, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(parts);
}

const oddHeaders = fc.record({
  prefer: fc.option(fc.constantFrom('wait=0', 'respond-async', 'wait=abc', 'wait=-1', 'wait', ',,,', 'return=minimal'), { nil: undefined }),
  'idempotency-key': fc.option(fc.oneof({ weight: 6, arbitrary: fc.string({ minLength: 1, maxLength: 20 }) }, { weight: 1, arbitrary: fc.constantFrom('k'.repeat(300), '') }), { nil: undefined, freq: 8 }),
  'x-request-id': fc.option(fc.oneof(fc.string({ maxLength: 40 }), fc.constant('x'.repeat(500))), { nil: undefined, freq: 4 }),
  accept: fc.option(fc.constantFrom('*/*', 'text/event-stream', 'application/xml', ';;;'), { nil: undefined, freq: 3 }),
  'accept-encoding': fc.option(fc.constantFrom('gzip', 'br', 'identity;q=0', 'x'), { nil: undefined, freq: 4 }),
}, { requiredKeys: [] }).map((h) => Object.fromEntries(Object.entries(h).filter(([, v]) => v !== undefined)) as Record<string, string>);

export type FuzzCase = InjectOptions & { kind: string };

/** One hostile request. `routes`: the app's route table, probed with odd methods, paths and headers. */
export function requestArb(img: FuzzImages, opts: { key: string; routes: Array<{ method: string; url: string }> }): fc.Arbitrary<FuzzCase> {
  const auth = fc.oneof({ weight: 12, arbitrary: fc.constant({ authorization: `Bearer ${opts.key}` }) },
    { weight: 1, arbitrary: fc.constantFrom({}, { authorization: 'Bearer' }, { authorization: `Basic ${'%%%'}` }, { authorization: 'x'.repeat(5000) }) });
  const job = fc.oneof(jobArb(img), imageJobArb(img));
  const json = fc.tuple(job, auth, oddHeaders).map(([j, a, h]): FuzzCase => ({
    kind: 'json', method: 'POST', url: '/v1/jobs', headers: { ...a, ...h, 'content-type': 'application/json' }, payload: JSON.stringify(j.body),
  }));
  const mp = fc.tuple(job, auth, oddHeaders, fc.constantFrom('ok', 'cut', 'no-boundary', 'wrong-boundary', 'garbage-head', 'json-part'), fc.double({ min: 0, max: 1, noNaN: true }))
    .map(([j, a, h, how, f]): FuzzCase => {
      const boundary = '----fuzz7d3';
      let payload = how === 'json-part'
        ? multipart(boundary, { json: JSON.stringify(j.body) }, j.files)
        : multipart(boundary, j.body, j.files);
      if (how === 'cut') payload = payload.subarray(0, Math.floor(payload.length * f));
      if (how === 'garbage-head') payload = Buffer.concat([Buffer.from(`--${boundary}\r\nbad header line\r\n\r\n`), payload]);
      const type = how === 'no-boundary' ? 'multipart/form-data' : how === 'wrong-boundary' ? 'multipart/form-data; boundary=other' : `multipart/form-data; boundary=${boundary}`;
      return { kind: `multipart-${how}`, method: 'POST', url: '/v1/jobs', headers: { ...a, ...h, 'content-type': type }, payload };
    });
  const raw = fc.tuple(auth, fc.oneof(
    deepNesting,
    fc.json({ maxDepth: 4 }),
    fc.string({ maxLength: 200 }),
    fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a).toString('latin1')),
    fc.constantFrom('{"prompt":"a"', '{"prompt":1e999999}', '{"__proto__":{"x":1},"prompt":"a"}', '{"constructor":{"prototype":{}},"prompt":"a"}', '[]', 'null', '"x"', '{"prompt":"\\ud800"}'),
  ), fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/problem+json', 'application/json; charset=latin1', 'image/png', '', 'multipart/mixed; boundary=x'))
    .map(([a, payload, type]): FuzzCase => ({ kind: 'raw', method: 'POST', url: '/v1/jobs', headers: { ...a, ...(type ? { 'content-type': type } : {}) }, payload }));
  const route = fc.tuple(fc.constantFrom(...opts.routes), auth, oddHeaders, fc.constantFrom('', '?x=1', '/../x', '%00', '/%2e%2e/', '?'.repeat(3)),
    fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'OPTIONS', 'PATCH'), fc.boolean())
    .map(([r, a, h, tail, m, own]): FuzzCase => {
      const url = r.url.replace(/:[A-Za-z0-9_]+/g, 'f00').replace(/\*/g, 'a/b.png') + tail;
      return { kind: 'route', method: (own ? r.method : m) as 'GET', url, headers: { ...a, ...h } };
    });
  return fc.oneof({ weight: 6, arbitrary: json }, { weight: 3, arbitrary: mp }, { weight: 2, arbitrary: raw }, { weight: 1, arbitrary: route });
}
