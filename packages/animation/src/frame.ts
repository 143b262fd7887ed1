/** One frame: interleaved 8-bit RGB, row-major. */
export interface Frame { data: Uint8Array; width: number; height: number }
