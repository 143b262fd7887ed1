// `npm run generate -- --detect-watermark FILE [--watermark-payload P]`: reads the invisible
// watermark back. The payload's kind and length come from --watermark-payload (default
// WATERMARK_PAYLOAD, else "sdsvc"); it prints what it read and whether that is the payload.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { detectWatermark, formatWatermarkBits, parseWatermarkPayload } from '@sdsvc/images';

/** Exit code 0 when the payload is found, 1 when something else (or nothing) is read. */
export async function detectWatermarkCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { 'detect-watermark': { type: 'string' }, 'watermark-payload': { type: 'string' } }, strict: false });
  const file = resolve(env.INIT_CWD ?? process.cwd(), String(values['detect-watermark']));
  const payload = parseWatermarkPayload(String(values['watermark-payload'] ?? env.WATERMARK_PAYLOAD ?? 'sdsvc'));
  const { data, info } = await sharp(await readFile(file)).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  const bits = detectWatermark({ data: new Uint8Array(data), width: info.width, height: info.height }, payload.bits.length);
  const read = formatWatermarkBits(bits, payload.kind);
  const found = read === payload.value;
  process.stdout.write(`${JSON.stringify({ file, watermark: found, read, expected: payload.value })}\n`);
  return found ? 0 : 1;
}
