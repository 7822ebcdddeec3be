// The edge side: encode with the paper's profile if the video is not already an IDR-then-P H.264
// stream, crop it (texture only in the IDR frame), send the few-kbps stream to the service.

import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { probe } from '../codec/probe.js';
import { ingestVideo } from '../ingest/ingest.js';
import { PAPER_PROFILE, withRate } from '../ingest/profile.js';
import { MvclassError } from '../util/errors.js';

export interface EdgeOptions {
  server: string;
  qp?: number;
  budget?: number;
  /** Send the input as it is when it is already H.264 without B-frames. */
  asIs?: boolean;
}

export interface EdgeResult {
  video: string;
  originalKbps: number;
  sentKbps: number;
  sentBytes: number;
  answer: Record<string, unknown>;
}

/**
 * Why a fetch failed, in words: undici says only "fetch failed" and keeps the reason (connect
 * ECONNREFUSED 127.0.0.1:8080, getaddrinfo ENOTFOUND, a reset, a timeout) in `cause`, or in the
 * errors of an AggregateError when every address of a name was refused.
 */
export function fetchFailure(error: unknown): string {
  const reasons: string[] = [];
  const walk = (e: unknown, depth: number): void => {
    if (depth > 4 || !(e instanceof Error)) return;
    if (e instanceof AggregateError && e.errors.length > 0) {
      for (const inner of e.errors) walk(inner, depth + 1);
      return;
    }
    if (e.cause !== undefined) return walk(e.cause, depth + 1);
    const code = (e as NodeJS.ErrnoException).code;
    reasons.push(e.message || code || e.name);
  };
  walk(error, 0);
  const unique = [...new Set(reasons)];
  return unique.length > 0 ? unique.join('; ') : error instanceof Error ? error.message : String(error);
}

export async function sendFromEdge(video: string, options: EdgeOptions): Promise<EdgeResult> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'mvclass-edge-'));
  try {
    const info = await probe(video);
    // Encoded with the paper's profile (at the edge's QP) unless asked to send an H.264 stream without B-frames as it is.
    const keep = options.asIs && info.codec === 'h264' && !info.hasBFrames;
    const ingested = await ingestVideo(video, {
      ...(keep ? { probed: info } : { profile: withRate(PAPER_PROFILE, { qp: options.qp ?? 40 }) }),
      crop: true,
      onCropWarning: () => {},
      decode: false,
      workDir: work,
    });
    const body = await fs.readFile(ingested.croppedFile!);
    const duration = ingested.croppedDuration!;
    const url = new URL('/v1/classify', options.server);
    if (options.budget !== undefined) url.searchParams.set('budget', String(options.budget));
    let response: Response;
    try {
      response = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'video/h264' } });
    } catch (error) {
      throw new MvclassError(`${url.origin}: cannot reach the service (${fetchFailure(error)})`);
    }
    const answer = (await response.json()) as Record<string, unknown>;
    if (!response.ok) throw new MvclassError(`${url.origin} answered ${response.status}: ${String(answer.error ?? '')}`);
    return { video, originalKbps: info.bitrate / 1000, sentKbps: (body.length * 8) / duration / 1000, sentBytes: body.length, answer };
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}
