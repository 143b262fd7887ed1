// Deforum's 2D motion: translate by (x, y) pixels, then rotate by `angle` degrees
// (counter-clockwise) and zoom by `zoom` about the image centre — OpenCV's
// getRotationMatrix2D(centre, angle, zoom) · translation, applied with warpPerspective's bilinear
// sampling. Pixels the motion exposes come from the border rule: replicate the edge, or wrap around.
import type { Frame } from './frame.ts';

export interface Motion { zoom: number; angle: number; translationX: number; translationY: number }
export type Border = 'replicate' | 'wrap';

/** 2×3 forward matrix (source → destination), as Deforum builds it. */
export function motionMatrix(m: Motion, width: number, height: number): number[] {
  const cx = Math.floor(width / 2);
  const cy = Math.floor(height / 2);
  const rad = (m.angle * Math.PI) / 180;
  const a = m.zoom * Math.cos(rad);
  const b = m.zoom * Math.sin(rad);
  // rot = [[a, b, (1-a)cx - b cy], [-b, a, b cx + (1-a) cy]]; xform = rot · [[1,0,tx],[0,1,ty]]
  const r02 = (1 - a) * cx - b * cy;
  const r12 = b * cx + (1 - a) * cy;
  return [a, b, a * m.translationX + b * m.translationY + r02, -b, a, -b * m.translationX + a * m.translationY + r12];
}

function borderIndex(i: number, n: number, border: Border): number {
  if (border === 'wrap') return ((i % n) + n) % n;
  return i < 0 ? 0 : i >= n ? n - 1 : i;
}

export function isIdentity(m: Motion): boolean {
  return m.zoom === 1 && m.angle === 0 && m.translationX === 0 && m.translationY === 0;
}

/** The warped frame (a copy; the input is untouched). */
export function warpFrame(src: Frame, m: Motion, border: Border): Frame {
  const { width: w, height: h, data } = src;
  if (isIdentity(m)) return { width: w, height: h, data: data.slice() };
  const [a, b, c, d, e, f] = motionMatrix(m, w, h) as [number, number, number, number, number, number];
  const det = a * e - b * d;
  if (Math.abs(det) < 1e-12) throw new RangeError('motion collapses the image (zoom 0)');
  // Inverse: destination → source.
  const ia = e / det, ib = -b / det, id = -d / det, ie = a / det;
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const dx = x - c;
      const dy = y - f;
      const sx = ia * dx + ib * dy;
      const sy = id * dx + ie * dy;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const xa = borderIndex(x0, w, border), xb = borderIndex(x0 + 1, w, border);
      const ya = borderIndex(y0, h, border), yb = borderIndex(y0 + 1, h, border);
      const p00 = (ya * w + xa) * 3, p01 = (ya * w + xb) * 3, p10 = (yb * w + xa) * 3, p11 = (yb * w + xb) * 3;
      const o = (y * w + x) * 3;
      for (let ch = 0; ch < 3; ch++) {
        const top = data[p00 + ch]! * (1 - fx) + data[p01 + ch]! * fx;
        const bottom = data[p10 + ch]! * (1 - fx) + data[p11 + ch]! * fx;
        out[o + ch] = Math.round(top * (1 - fy) + bottom * fy);
      }
    }
  }
  return { width: w, height: h, data: out };
}
