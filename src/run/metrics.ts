// A run folder's metrics.jsonl, as src/app/train.ts writes it: one JSON object a line,
// `{ iteration, lr, loss, accuracy, … }` per logged window of training steps,
// `{ iteration, split: "val", top1, … }` per validation, and `{ iteration, loss: "NaN",
// diverged: true }` where a step diverged. Fields it does not know are ignored.

import { MvclassError } from '../util/errors.js';

export interface TrainingHistory {
  /** One point per logged window of training steps; `loss` may be NaN or ±Infinity (diverged). */
  train: Array<{ iteration: number; loss: number | null; accuracy: number | null }>;
  /** Top-1 on the validation split (a fraction from 0 to 1), when it was scored. */
  val: Array<{ iteration: number; accuracy: number; loss?: number | null }>;
}

export interface ParsedTrainingMetrics extends TrainingHistory {
  /** Lines that were skipped, each saying why (e.g. a last line cut short by a kill). */
  warnings: string[];
}

const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity, inf: Infinity, '-inf': -Infinity, nan: NaN };

/**
 * The training history in the text of a metrics.jsonl. `file` names it in errors: a line that is
 * not JSON (except a last line without its newline: a write cut short, skipped with a warning),
 * not an object, without an iteration, or with an accuracy outside 0–1.
 */
export function parseTrainingMetrics(text: string, file: string): ParsedTrainingMetrics {
  const out: ParsedTrainingMetrics = { train: [], val: [], warnings: [] };
  const lines = text.split('\n');
  const complete = text.endsWith('\n');
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    const where = `${file} line ${index + 1}`;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (error) {
      if (index === lines.length - 1 && !complete) {
        out.warnings.push(`${where}: skipped: cut short (${(error as Error).message})`);
        return;
      }
      throw new MvclassError(`${where}: damaged: not JSON (${(error as Error).message})`, file);
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new MvclassError(`${where}: damaged: expected a JSON object`, file);
    const o = json as Record<string, unknown>;
    const iteration = o.iteration;
    if (typeof iteration !== 'number' || !Number.isFinite(iteration) || iteration < 0) {
      throw new MvclassError(`${where}: damaged: expected a non-negative "iteration", got ${JSON.stringify(iteration)}`, file);
    }
    const number = (key: string): number | null => {
      const v = o[key];
      if (v === undefined || v === null) return null;
      if (typeof v === 'number') return v;
      if (typeof v === 'string' && v in NON_FINITE) return NON_FINITE[v]!;
      throw new MvclassError(`${where}: damaged: expected a number for "${key}", got ${JSON.stringify(v)}`, file);
    };
    const fraction = (key: string): number | null => {
      const v = number(key);
      if (v === null || !Number.isFinite(v)) return null;
      if (v < 0 || v > 1) throw new MvclassError(`${where}: damaged: "${key}" ${v} is not a fraction from 0 to 1`, file);
      return v;
    };
    const split = o.split;
    if (split === 'val' || split === 'validation') {
      const accuracy = fraction('top1') ?? fraction('accuracy');
      if (accuracy !== null) out.val.push({ iteration, accuracy, ...(o.loss !== undefined ? { loss: number('loss') } : {}) });
      return;
    }
    if (split !== undefined && split !== 'train') return; // another split (e.g. test): not a training curve
    out.train.push({ iteration, loss: number('loss'), accuracy: fraction('accuracy') });
    // Validation logged on the training line, as other tools write it.
    const val = fraction('valAccuracy') ?? fraction('val_accuracy') ?? fraction('valTop1');
    if (val !== null) out.val.push({ iteration, accuracy: val });
  });
  return out;
}

