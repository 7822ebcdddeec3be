// What one QP of a sweep produced: the report reads it, the sweep writes it.

import type { SweepNetwork } from '../config/schema.js';
import type { ClassificationReport } from '../metrics/classification.js';
import type { meanRates } from '../rate/rates.js';

export interface QpResult {
  qp: number;
  cache: string;
  /** The run folder of each network (metrics.jsonl: the report's training curves). */
  runs: Record<SweepNetwork, string>;
  rates: ReturnType<typeof meanRates>;
  /** Mean kbps each classifier is sent. */
  sent: { mv3d: number; mv2d: number; spatial: number };
  accuracy: Record<'mv3d' | 'mv2d' | 'vgg16' | 'mv3d-F' | 'mv2d-F', ClassificationReport>;
}
