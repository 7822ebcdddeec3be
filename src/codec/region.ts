// A region of interest: a fixed rectangle of the decoded picture that a re-encode keeps (seed
// 000's ROI condition: the same square of every frame, re-encoded). The pixels are cut after
// decoding and encoded afresh, so the result is an ordinary stream of the region's size. Not
// the bitstream crop of codec/crop.ts (`mvclass crop`), which keeps an H.264 stream's coded
// macroblocks and their vectors without decoding.

import { MvclassError } from '../util/errors.js';
import { invalid } from '../util/validate.js';

export interface PictureRegion {
  x: number;
  y: number;
  width: number;
  height: number;
}

const EXPECTED = 'a region x,y,w,h of even whole numbers, w and h at least 16';

/** "x,y,w,h" (or the object) checked: even whole numbers (YUV 4:2:0 chroma), w and h at least 16. */
export function pictureRegion(value: unknown, name = 'roi'): PictureRegion {
  let parts: unknown[];
  if (typeof value === 'string') parts = value.split(',').map((p) => (/^\s*\d+\s*$/.test(p) ? Number(p) : NaN));
  else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    parts = [o.x, o.y, o.width, o.height];
  } else throw invalid(EXPECTED, name, value);
  const ok = parts.length === 4 && parts.every((p) => typeof p === 'number' && Number.isSafeInteger(p) && p >= 0 && p % 2 === 0);
  const [x, y, width, height] = parts as number[];
  if (!ok || width! < 16 || height! < 16) throw invalid(EXPECTED, name, value);
  return { x: x!, y: y!, width: width!, height: height! };
}

/** "x,y,w,h", as pictureRegion reads it. */
export function regionText(r: PictureRegion): string {
  return `${r.x},${r.y},${r.width},${r.height}`;
}

/** Refuses, naming the video, a region that does not lie inside its width x height picture. */
export function assertRegionFits(region: PictureRegion, width: number, height: number, video: string): void {
  if (region.x + region.width > width || region.y + region.height > height) {
    throw new MvclassError(`${video}: the region ${regionText(region)} (x,y,w,h) does not fit its ${width}x${height} picture`, video);
  }
}

/** The native options of a region (none: the whole picture). */
export function nativeRegion(region: PictureRegion | undefined): { cropX?: number; cropY?: number; cropWidth?: number; cropHeight?: number } {
  return region ? { cropX: region.x, cropY: region.y, cropWidth: region.width, cropHeight: region.height } : {};
}
