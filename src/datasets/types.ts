// The shape every dataset reader returns, whatever layout the videos came in.

export type SplitName = 'train' | 'test' | 'val' | 'unused';

export type DatasetKind = 'ucf101' | 'hmdb51' | 'kinetics' | 'folder' | 'manifest';

export interface DatasetItem {
  /** Absolute path of the video. */
  path: string;
  /** 0-based index into VideoDataset.classes. */
  label: number;
  className: string;
  split: SplitName;
}

export interface MissingVideo {
  path: string;
  reason: string;
}

export interface VideoDataset {
  kind: DatasetKind;
  /** Absolute path of the dataset (the folder, or the CSV file). */
  root: string;
  classes: string[];
  items: DatasetItem[];
  /** Videos an annotation file lists that are not on disk: left out of items, not fatal. */
  missing: MissingVideo[];
}
