// Pictures to network inputs: ImageNet normalisation (torchvision's networks expect it), a crop of
// one RGB24 frame ([3, S, S]), and a clip's crop ([T, 3, S, S], the same crop and flip for every
// frame, optionally from the frames scaled down first: the clip networks' short-side jitter).

/** ImageNet's per-channel mean and standard deviation (RGB, values in [0, 1]). */
export const IMAGENET = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] } as const;
const MEAN = IMAGENET.mean;
const STD = IMAGENET.std;

/** [3, size, size] from an RGB24 image, cropped at (x, y), optionally mirrored. */
export function imageTensor(rgb: Uint8Array, width: number, x: number, y: number, size: number, flip: boolean, out: Float32Array, offset = 0): void {
  const plane = size * size;
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      const sx = x + (flip ? size - 1 - c : c);
      const i = ((y + r) * width + sx) * 3;
      for (let ch = 0; ch < 3; ch++) out[offset + ch * plane + r * size + c] = (rgb[i + ch]! / 255 - MEAN[ch]!) / STD[ch]!;
    }
  }
}

/** RGB frames [frames, height, width, 3]: a clip, or a key frame as a clip of one. */
export interface FrameImages {
  frames: number;
  width: number;
  height: number;
  data: Uint8Array;
}

/** Frame t of `images`, zero-copy. */
export function frameOf(images: FrameImages, t: number): Uint8Array {
  const bytes = images.width * images.height * 3;
  return images.data.subarray(t * bytes, (t + 1) * bytes);
}

/**
 * Where a clip's crop comes from: the frames scaled by `scale` (at most 1: only down) to
 * round(width * scale) x round(height * scale), then the size x size square at (x, y) of that,
 * mirrored when `flip`. Scale 1 copies pixels exactly.
 */
export interface ClipCrop {
  scale: number;
  x: number;
  y: number;
  flip: boolean;
}

/** The scaled frame size of a crop (what x and y are bounded by). */
export function scaledSize(width: number, height: number, scale: number): { width: number; height: number } {
  return { width: Math.round(width * scale), height: Math.round(height * scale) };
}

/**
 * [indices.length, 3, size, size] from the frames `indices` of `images` (repeats allowed), all
 * with the one crop: bilinear sampling of the scaled frames (pixel centres aligned, as
 * torch's interpolate with align_corners=false; no antialiasing: the scale stays near 1).
 */
export function clipTensor(images: FrameImages, indices: readonly number[], crop: ClipCrop, size: number, out: Float32Array, offset = 0): void {
  const per = 3 * size * size;
  if (crop.scale === 1) {
    indices.forEach((t, k) => imageTensor(frameOf(images, t), images.width, crop.x, crop.y, size, crop.flip, out, offset + k * per));
    return;
  }
  const { width: w, height: h } = images;
  const scaled = scaledSize(w, h, crop.scale);
  // Source coordinates per output column and row (the same for every frame).
  const sx = w / scaled.width;
  const sy = h / scaled.height;
  const x0 = new Int32Array(size), x1 = new Int32Array(size), fx = new Float32Array(size);
  const y0 = new Int32Array(size), y1 = new Int32Array(size), fy = new Float32Array(size);
  const axis = (p: number, s: number, n: number, a: Int32Array, b: Int32Array, f: Float32Array, i: number) => {
    const u = Math.min(n - 1, Math.max(0, (p + 0.5) * s - 0.5));
    a[i] = Math.floor(u);
    b[i] = Math.min(n - 1, a[i]! + 1);
    f[i] = u - a[i]!;
  };
  for (let c = 0; c < size; c++) axis(crop.x + (crop.flip ? size - 1 - c : c), sx, w, x0, x1, fx, c);
  for (let r = 0; r < size; r++) axis(crop.y + r, sy, h, y0, y1, fy, r);
  const plane = size * size;
  indices.forEach((t, k) => {
    const rgb = frameOf(images, t);
    const base = offset + k * per;
    for (let r = 0; r < size; r++) {
      const top = y0[r]! * w, bottom = y1[r]! * w, v = fy[r]!;
      for (let c = 0; c < size; c++) {
        const a = (top + x0[c]!) * 3, b = (top + x1[c]!) * 3, d = (bottom + x0[c]!) * 3, e = (bottom + x1[c]!) * 3, u = fx[c]!;
        for (let ch = 0; ch < 3; ch++) {
          const upper = rgb[a + ch]! + (rgb[b + ch]! - rgb[a + ch]!) * u;
          const lower = rgb[d + ch]! + (rgb[e + ch]! - rgb[d + ch]!) * u;
          out[base + ch * plane + r * size + c] = ((upper + (lower - upper) * v) / 255 - MEAN[ch]!) / STD[ch]!;
        }
      }
    }
  });
}
