// The encoding profile: how a video is re-encoded before its vectors are read. The paper's is
// one constant, PAPER_PROFILE; a prepared cache records its profile (CacheSettings), and every
// workflow that re-encodes (prepare, classify --encode, rates, the edge client, the demo) takes
// its encoder settings from here, so a video classified later is encoded exactly as the
// networks' training videos were.

import type { CacheSettings } from '../cache/format.js';
import type { EncodeOptions, EncoderSettings, VideoCodec } from '../codec/encode.js';
import { pictureRegion, type PictureRegion } from '../codec/region.js';

export interface EncodingProfile {
  codec: VideoCodec;
  /** Output picture "WxH". */
  size: string;
  fps: number;
  /** A fixed QP (no I/P offset, no adaptive quantisation), or a constant rate factor. */
  rate: { qp: number } | { crf: number };
  /** Frames between IDRs: 0, one IDR then P frames only. */
  gop: number;
  bframes: number;
  /** Motion search range, pixels. */
  meRange: number;
  /** 1: the encoder's output, and so the vectors, do not depend on the machine's core count. */
  threads: number;
  /** Only this region of each decoded picture is encoded (prepare --roi), scaled to `size`. */
  region?: PictureRegion;
}

/**
 * The paper's encoding: 320x240, 25 fps, H.264 at QP 30 with one IDR then P frames, search range
 * 16, one encoder thread. (The fixed QP sets AQ off and ipratio/pbratio 1: src/codec/encode.ts.)
 */
/** The paper's fixed QP (the rate of PAPER_PROFILE). */
export const PAPER_QP = 30;

export const PAPER_PROFILE: EncodingProfile = Object.freeze({
  codec: 'h264',
  size: '320x240',
  fps: 25,
  rate: Object.freeze({ qp: PAPER_QP }),
  gop: 0,
  bframes: 0,
  meRange: 16,
  threads: 1,
}) as EncodingProfile;

/** The profile at another rate (QP or CRF). */
export function withRate(profile: EncodingProfile, rate: { qp: number } | { crf: number }): EncodingProfile {
  return { ...profile, rate };
}

/** The encoder settings of a profile, without the output size and frame rate (encodeFrames takes them apart). */
export function encoderSettings(profile: EncodingProfile): EncoderSettings {
  return { codec: profile.codec, ...profile.rate, gop: profile.gop, bframes: profile.bframes, meRange: profile.meRange, threads: profile.threads };
}

/** The options of encode() for a profile. */
export function encodeOptions(profile: EncodingProfile): EncodeOptions {
  return { ...encoderSettings(profile), size: profile.size, fps: profile.fps, ...(profile.region ? { region: profile.region } : {}) };
}

/** The profile a cache was prepared with; null for a cache of videos kept as they were. */
export function profileOfCache(settings: CacheSettings): EncodingProfile | null {
  if (settings.asIs) return null;
  return {
    ...PAPER_PROFILE,
    codec: settings.codec,
    size: settings.size ?? PAPER_PROFILE.size,
    fps: settings.fps ?? PAPER_PROFILE.fps,
    rate: settings.qp !== null ? { qp: settings.qp } : { crf: settings.crf ?? 23 },
    ...(settings.roi !== undefined ? { region: pictureRegion(settings.roi, 'roi') } : {}),
  };
}

/**
 * The profile one more video is re-encoded with to meet a cache's networks (classify --encode):
 * the cache's, with `region` cut first in place of the cache's own (classify --roi: the region of
 * this video, as prepare --roi-file gave each training video its own).
 */
export function profileForVideo(settings: CacheSettings, region?: PictureRegion): EncodingProfile | null {
  const profile = profileOfCache(settings);
  if (!profile || region === undefined) return profile;
  return { ...profile, region };
}
