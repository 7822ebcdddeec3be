// The public API of mvclass. MV-only users need nothing beyond the codec addon.

export { probe, type VideoInfo } from './codec/probe.js';
export {
  decodeVideo,
  type DecodeOptions,
  type DecodedBatch,
  type FrameMeta,
  type GridUnits,
  type KeyFrame,
  type MotionVectors,
  type PictureType,
  type PredictionList,
  type VideoStream,
} from './codec/decode.js';
export { readMotion, type MotionFrame, type ReadMotionOptions } from './codec/motion.js';
export { GridMask, MotionGrid, readMotionGrids, type MotionGridFrame, type ReadMotionGridsOptions } from './codec/grid.js';
export { readKeyFrames, type ReadKeyFramesOptions } from './codec/keyframes.js';
export {
  encode,
  encodeFrames,
  encodeJpeg,
  jpegQuality,
  type EncodeJpegOptions,
  type EncodeJpegResult,
  type EncodeFramesOptions,
  type EncodeOptions,
  type EncodeResult,
  type EncoderSettings,
  type FrameStats,
  type VideoCodec,
} from './codec/encode.js';
export { crop, type CropResult } from './codec/crop.js';
export { compareVideos, type CompareVideosOptions, type VideoQuality } from './codec/quality.js';
export { extractMotion, type ExtractFormat, type ExtractOptions, type ExtractResult } from './export/extract.js';
export { MotionStats, type MotionSummary } from './export/stats.js';
export { renderMovingPattern, type PatternOptions } from './synth/pattern.js';
export { renderActionClip, synthesizeActionSet, type SynthOptions, type SynthResult } from './synth/actionset.js';
export { ACTIONS, type ActionName } from './synth/actions.js';
export { NpyStreamWriter, readNpy } from './util/npy.js';
export { MvclassError } from './util/errors.js';
export { measureRates, listVideos, type MeasureOptions, type MeasureResult, type VideoRatesRow } from './app/rates.js';
export { meanRates, PAPER_RATES, ratesOfEncoding, ratesOfStream, type Rates } from './rate/rates.js';
export * from './datasets/index.js';
export { prepareDataset, type PrepareOptions, type PrepareResult } from './app/prepare.js';
export { extractFolder, type ExtractFolderOptions, type ExtractFolderResult } from './app/extract.js';
export { JOB_HANDLERS, runWorker } from './app/worker.js';
export { queueStatus, queueUrl, type QueueStatus, type QueueWorker, type RunStatus, type WorkerOptions } from './queue/queue.js';
export { PreparedCache, type CachedClip, type CachedFrames } from './cache/read.js';
export { clipIndices, MAX_CLIP_FRAMES, MAX_CLIP_SHORT_SIDE } from './codec/clips.js';
export type { CacheManifest, CachedVideo, CacheSettings } from './cache/format.js';
export * from './volumes/index.js';
export { BACKBONES, checkDevice, CLIP_MODELS, CnnModel, FRAME_MODELS, isClipModel, isFrameModel, MODELS, PAPER_INPUT, type ModelConfig, type ModelName, type SessionSettings } from './nn/model.js';
export { DEVICE_PATTERN, parseDevice, parsePrecision, PRECISIONS, type Device, type Precision } from './nn/device.js';
export { trainModel, type TrainOptions, type TrainResult } from './app/train.js';
export { evaluateRun, fuseScores, type EvaluateOptions, type EvaluateResult, type VideoScores } from './app/evaluate.js';
export { classificationReport, meanScores, type ClassificationReport } from './metrics/classification.js';
export * from './rate/mcnn/index.js';
export {
  classifyLoaded,
  classifyVideo,
  loadClassifier,
  readNetworkInputs,
  scoreNetworkInputs,
  type ClassifyOptions,
  type ClassifyResult,
  type LoadedClassifier,
  type NetworkInputs,
} from './app/classify.js';
export { classifyRolling, ROLLING_DEFAULT_POINTS, type RollingOptions, type RollingPoint, type RollingResult, type RollingSegment } from './app/rolling.js';
export * from './report/index.js';
export { allTo3dRate, budgetsFor, checkMcnn, chooseNetwork, fitMcnnToVideos, temporalBits, type McnnCheck, type McnnFit, type McnnRuns } from './rate/mcnn/fit.js';
export { fitMcnn, readMcnnParams, validateMcnn, writeMcnn } from './app/mcnn.js';
export { chooseForStream, loadStreamModel, scoreStream, scoringNetworks, type Network, type StreamChoice, type StreamModel } from './app/stream.js';
export { ingestVideo, type IngestOptions, type IngestResult, type MotionGrids } from './ingest/ingest.js';
export { encodeOptions, encoderSettings, PAPER_PROFILE, PAPER_QP, profileOfCache, withRate, type EncodingProfile } from './ingest/profile.js';
export { readRun, RUN_FILES, runPaths, type TrainingRun } from './run/format.js';
export { CPU_SCHEDULE, PAPER_SCHEDULE, runSweep, type SweepOptions, type SweepResult, type SweepSchedule } from './app/sweep.js';
export { transcodeStudy, type JpegCell, type TranscodeCell, type TranscodeStudyOptions, type TranscodeStudyResult } from './app/transcode-study.js';
export type { TranscodeAccuracyOptions } from './app/transcode-accuracy.js';
export { conditionCache, runRepeats, type RepeatsOptions } from './app/repeats.js';
export { checkRepeatsSpec, DEFAULT_REPEATS, loadRepeatsSpec, type RepeatsCondition, type RepeatsSpec } from './config/study.js';
export { spread, summariseRepeats, type RepeatsSummary, type Spread } from './metrics/repeats.js';
export { PRESETS } from './config/presets.js';
export { checkConfig, loadConfigFile, parseConfig } from './config/file.js';
export { mergeSection, settingLayers, sweepSchedule, type Settings } from './config/merge.js';
export { readSavedRun, resumedSettings, type SavedRun } from './config/run.js';
export { SECTIONS, type ConfigDocument, type PresetName, type SectionName, type SettingValue } from './config/schema.js';
export { plotRuns, readScores, readTrainingMetrics, scoresReport, type PlotOptions, type PlottedRun, type ScoresFile } from './app/plot.js';
export { DEMO_SET, runDemo, type DemoOptions, type DemoResult } from './app/demo.js';
export { sendFromEdge, type EdgeOptions, type EdgeResult } from './serve/edge.js';
export type { ServeOptions } from './serve/server.js';

/** The classification service (Fastify). Loaded on first call, so that importing mvclass for
 * motion vectors does not load the HTTP stack. */
export async function createServer(options: import('./serve/server.js').ServeOptions): ReturnType<typeof import('./serve/server.js').createServer> {
  return (await import('./serve/server.js')).createServer(options);
}
