// Classifying a stream with the Multi-CNN (the workflow behind `mvclass serve`): the model folder
// a sweep or the demo writes (mcnn.json and the three runs it names) is loaded once; for each
// stream, its R_motion is measured from its cropped P frames as a fit video would carry them,
// the thresholds for the budget pick one network (chooseNetwork), and only that network scores
// the stream's inputs (the spatial one too when fusion is asked for). The service adds HTTP,
// worker processes and limits around it.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { CroppedBits } from '../codec/crop.js';
import { PreparedCache } from '../cache/read.js';
import { chooseNetwork, fitVideosOf, meanFitVideo, streamMotionRate, type McnnFit, type McnnRuns } from '../rate/mcnn/fit.js';
import { solve } from '../rate/mcnn/optimise.js';
import type { SessionSettings } from '../nn/model.js';
import { MvclassError } from '../util/errors.js';
import { loadClassifier, scoreNetworkInputs, type ClassifyResult, type LoadedClassifier, type NetworkInputs } from './classify.js';

export type Network = keyof McnnRuns;
/** Where each network is in the loaded classifier (loaded in this order). */
const NETWORK_INDEX: Record<Network, number> = { mv3d: 0, mv2d: 1, spatial: 2 };

export interface StreamModel {
  dir: string;
  mcnn: McnnFit;
  /** The three networks, loaded once. */
  classifier: LoadedClassifier;
  /** How long the fit videos were (R_motion of a stream is measured as if it were one); null when neither mcnn.json nor its cache says. */
  fitVideo: { frames: number; seconds: number } | null;
}

/** The fit videos' mean length, from the cache an older mcnn.json names; null when it is gone. */
async function fitVideoFromCache(data: string | undefined): Promise<StreamModel['fitVideo']> {
  if (!data) return null;
  try {
    const cache = await PreparedCache.open(data);
    try {
      const videos = fitVideosOf(cache.videos);
      return videos.length > 0 ? meanFitVideo(videos) : null;
    } finally {
      await cache.close();
    }
  } catch {
    return null;
  }
}

/** Loads what `demo` or `sweep` wrote into `dir`: mcnn.json and the three networks it names. */
export async function loadStreamModel(dir: string, settings: SessionSettings = {}): Promise<StreamModel> {
  const file = path.join(dir, 'mcnn.json');
  const text = await fs.readFile(file, 'utf8').catch(() => {
    throw new MvclassError(`${dir}: no mcnn.json (serve takes the folder mvclass demo or sweep writes)`, dir);
  });
  let mcnn: McnnFit;
  try {
    mcnn = JSON.parse(text) as McnnFit;
  } catch (error) {
    throw new MvclassError(`${file}: not valid JSON (${(error as Error).message})`, file);
  }
  if (!mcnn.runs || typeof mcnn.runs.mv3d !== 'string' || typeof mcnn.runs.mv2d !== 'string' || typeof mcnn.runs.spatial !== 'string') {
    throw new MvclassError(`${file}: no runs (mv3d, mv2d, spatial): not a fit from mvclass mcnn fit`, file);
  }
  // All three are loaded: each stream may choose any of them.
  const classifier = await loadClassifier([mcnn.runs.mv3d, mcnn.runs.mv2d, mcnn.runs.spatial], settings);
  return { dir, mcnn, classifier, fitVideo: mcnn.fitVideo ?? (await fitVideoFromCache(mcnn.data)) };
}

export interface StreamChoice {
  chosen: Network;
  /** R_motion (kbps) the choice was made on. */
  rMotion: number;
  budget: number | null;
  feasible: boolean;
  rL: number | null;
  rH: number | null;
}

/** The Multi-CNN's choice for a stream of these cropped sizes and this duration, within `budget` kbps (none: unbounded). */
export function chooseForStream(model: StreamModel, cropped: CroppedBits, duration: number, budget?: number): StreamChoice {
  // R_motion from the stream's rewritten P frames, counted as a fit video would carry them
  // (streamMotionRate: not over this stream's own length, which read long streams as 0).
  const rMotion = streamMotionRate(model.mcnn, cropped, model.fitVideo ?? { frames: cropped.frameBits.length, seconds: duration });
  const selection = solve(model.mcnn, budget ?? 1e9);
  const chosen = chooseNetwork(rMotion, { rL: selection.rL ?? 0, rH: selection.rH ?? 0 });
  return { chosen, rMotion, budget: budget ?? null, feasible: selection.feasible, rL: selection.rL, rH: selection.rH };
}

/** The networks that score a stream: the chosen one, and the spatial one too for fusion. */
export function scoringNetworks(chosen: Network, fuse: boolean): Network[] {
  return fuse && chosen !== 'spatial' ? [chosen, 'spatial'] : [chosen];
}

/** Scores the stream's inputs with `networks` only (their mean scores when several). */
export function scoreStream(name: string, model: StreamModel, inputs: NetworkInputs, networks: Network[], views: { temporal: number; crops: 1 | 10 }): Promise<ClassifyResult> {
  const { classifier } = model;
  const pick = <T>(list: T[]) => networks.map((n) => list[NETWORK_INDEX[n]]!);
  const scoring: LoadedClassifier = { ...classifier, runs: pick(classifier.runs), models: pick(classifier.models), inputs: pick(classifier.inputs) };
  return scoreNetworkInputs(name, inputs, scoring, views);
}
