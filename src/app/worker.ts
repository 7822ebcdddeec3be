// A queue worker: takes the jobs coordinators hand out (app/prepare.ts with `queue`, app/extract.ts
// on a folder with `queue`, app/transcode-study.ts with `queue`) and runs each with the same code the single-process path runs, the
// native addon in this process. `mvclass worker` is a thin shell over this.

import { startWorker, type QueueWorker, type WorkerOptions } from '../queue/queue.js';
import { EXTRACT_JOB, runExtractJob } from './extract.js';
import { PREPARE_JOB, runPrepareJob } from './prepare.js';
import { TRANSCODE_JOB, runTranscodeJob } from './transcode-study.js';

/** Every job kind a worker runs, and what runs it. */
export const JOB_HANDLERS = {
  [PREPARE_JOB]: runPrepareJob,
  [EXTRACT_JOB]: runExtractJob,
  [TRANSCODE_JOB]: runTranscodeJob,
} as const;

export async function runWorker(url: string, options: WorkerOptions = {}): Promise<QueueWorker> {
  return startWorker(url, JOB_HANDLERS, options);
}
