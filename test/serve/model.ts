// The service tests' model: the suite's trained fixture (test/support/trained.ts), a small
// synthetic action set swept at QP 30 and 40 on a CPU schedule, whose sweep folder (mcnn.json and
// the runs it names) is what `mvclass serve` takes; one clip of the set and its cropped stream.
// Trained once per code version and shared with the other test files that need trained networks.

import { trained } from '../support/trained.js';

export interface ServeModel {
  /** What createServer takes: holds mcnn.json. */
  modelDir: string;
  /** A clip of the set (H.264 without B-frames). */
  clip: string;
  /** The clip cropped: what an edge device sends. */
  cropped: Buffer;
}

export async function serveModel(): Promise<ServeModel> {
  const t = await trained();
  return { modelDir: t.sweep, clip: t.clip, cropped: t.cropped };
}
