// Readers for the video dataset layouts people already have, all returning a VideoDataset.

export type { DatasetItem, DatasetKind, MissingVideo, SplitName, VideoDataset } from './types.js';
export { readUcf101, type Ucf101Options } from './ucf101.js';
export { readHmdb51, type Hmdb51Options } from './hmdb51.js';
export { kineticsClipName, readKinetics } from './kinetics.js';
export { readFolderDataset, VIDEO_EXTENSIONS, type FolderOptions } from './folder.js';
export { readManifest } from './manifest.js';
export { holdOutValidation, stratifiedSplit, type StratifiedSplitOptions } from './split.js';
export { detectLayout, openDataset, type OpenDatasetOptions } from './open.js';
export { parseCsv, type CsvRecord } from './csv.js';
