// Frames → an animation file: animated WebP (default) or GIF with sharp (libvips), or MP4 (H.264)
// with ffmpeg when it is on the PATH.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Frame } from './frame.ts';

export type AnimationFormat = 'webp' | 'gif' | 'mp4';
export const ANIMATION_CONTENT_TYPES: Record<AnimationFormat, string> = { webp: 'image/webp', gif: 'image/gif', mp4: 'video/mp4' };

let ffmpegChecked: boolean | undefined;
/** Whether `ffmpeg` runs here (checked once per process). */
export function ffmpegAvailable(): boolean {
  ffmpegChecked ??= spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status === 0;
  return ffmpegChecked;
}

export async function encodeAnimation(frames: readonly Frame[], fps: number, format: AnimationFormat): Promise<Buffer> {
  if (frames.length === 0) throw new RangeError('no frames');
  const { width, height } = frames[0]!;
  if (frames.some((f) => f.width !== width || f.height !== height)) throw new RangeError('frames differ in size');
  if (format === 'mp4') return await encodeMp4(frames, fps);
  // One tall raw image; pageHeight makes each band a frame.
  const tall = Buffer.concat(frames.map((f) => Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength)));
  const input = sharp(tall, { raw: { width, height: height * frames.length, channels: 3, pageHeight: height } });
  const delay = new Array<number>(frames.length).fill(Math.round(1000 / fps));
  return format === 'gif'
    ? await input.gif({ loop: 0, delay }).toBuffer()
    : await input.webp({ loop: 0, delay, quality: 90 }).toBuffer();
}

async function encodeMp4(frames: readonly Frame[], fps: number): Promise<Buffer> {
  if (!ffmpegAvailable()) throw new Error('mp4 output needs ffmpeg on the PATH');
  const { width, height } = frames[0]!;
  const dir = await mkdtemp(join(tmpdir(), 'sdsvc-mp4-'));
  const file = join(dir, 'out.mp4');
  try {
    await new Promise<void>((resolve, reject) => {
      const ff = spawn('ffmpeg', [
        '-hide_banner', '-loglevel', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-r', String(fps),
        '-i', 'pipe:0', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-vf', 'pad=ceil(iw/2)*2:ceil(ih/2)*2', '-movflags', '+faststart', '-y', file,
      ], { stdio: ['pipe', 'ignore', 'pipe'] });
      let err = '';
      ff.stderr.on('data', (d: Buffer) => { err += d.toString(); });
      ff.on('error', reject);
      ff.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg exited ${code}: ${err.trim().slice(0, 500)}`))));
      ff.stdin.on('error', () => { /* reported by close */ });
      for (const f of frames) ff.stdin.write(f.data);
      ff.stdin.end();
    });
    return await readFile(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
