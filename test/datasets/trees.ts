// Small dataset trees in the real layouts, built in a temp dir; "videos" are empty files because
// the readers only check that they exist.

import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../setup/helpers.js';

/** Writes `files` (relative path -> content) under a fresh temp dir and returns the dir. */
export function makeTree(files: Record<string, string>): string {
  const root = tempDir('mvclass-ds-');
  for (const [relative, content] of Object.entries(files)) {
    const file = path.join(root, relative);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  }
  return root;
}

/** Placeholder videos: each path maps to an empty file. */
export function videos(...paths: string[]): Record<string, string> {
  return Object.fromEntries(paths.map((p) => [p, '']));
}

export const crlf = (...rows: string[]): string => rows.map((r) => `${r}\r\n`).join('');
export const lf = (...rows: string[]): string => rows.map((r) => `${r}\n`).join('');

/**
 * UCF101 with its quirks: CRLF lists, the HandstandPushups folder holding v_HandStandPushups_* files
 * (listed with either spelling), and one listed video that is not on disk.
 */
export function ucf101Files(listDir = 'ucfTrainTestlist/'): Record<string, string> {
  return {
    ...videos(
      'ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi',
      'ApplyEyeMakeup/v_ApplyEyeMakeup_g09_c01.avi',
      'ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi',
      'Basketball/v_Basketball_g08_c01.avi',
      'Basketball/v_Basketball_g01_c01.avi',
      'HandstandPushups/v_HandStandPushups_g08_c01.avi',
      'HandstandPushups/v_HandStandPushups_g01_c01.avi',
    ),
    [`${listDir}classInd.txt`]: crlf('1 ApplyEyeMakeup', '2 Basketball', '3 HandstandPushups'),
    [`${listDir}trainlist01.txt`]: crlf(
      'ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1',
      'ApplyEyeMakeup/v_ApplyEyeMakeup_g09_c01.avi 1',
      'Basketball/v_Basketball_g08_c01.avi 2',
      'Basketball/v_Basketball_g09_c01.avi 2',
      'HandstandPushups/v_HandstandPushups_g08_c01.avi 3',
    ),
    [`${listDir}testlist01.txt`]: crlf(
      'ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi',
      'Basketball/v_Basketball_g01_c01.avi',
      'HandStandPushups/v_HandStandPushups_g01_c01.avi',
    ),
    // Split 2 swaps the groups around.
    [`${listDir}trainlist02.txt`]: crlf(
      'ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi 1',
      'Basketball/v_Basketball_g01_c01.avi 2',
      'HandstandPushups/v_HandStandPushups_g01_c01.avi 3',
    ),
    [`${listDir}testlist02.txt`]: crlf(
      'ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi',
      'Basketball/v_Basketball_g08_c01.avi',
      'HandstandPushups/v_HandStandPushups_g08_c01.avi',
    ),
  };
}

/** HMDB51 with tags 0/1/2, CRLF endings in one file and one listed video that is not on disk. */
export function hmdb51Files(splitDir = 'testTrainMulti_7030_splits/'): Record<string, string> {
  return {
    ...videos(
      'wave/wave_a.avi',
      'wave/wave_b.avi',
      'wave/wave_c.avi',
      'brush_hair/brush_a.avi',
      'brush_hair/brush_b.avi',
      'cartwheel/cart_a.avi',
      'cartwheel/cart_b.avi',
    ),
    [`${splitDir}wave_test_split1.txt`]: lf('wave_a.avi 1 ', 'wave_b.avi 2 ', 'wave_c.avi 0 '),
    [`${splitDir}brush_hair_test_split1.txt`]: crlf('brush_a.avi 1', 'brush_b.avi 2', 'brush_gone.avi 1'),
    [`${splitDir}cartwheel_test_split1.txt`]: lf('cart_a.avi 2', 'cart_b.avi 1'),
    [`${splitDir}wave_test_split2.txt`]: lf('wave_a.avi 2', 'wave_b.avi 1', 'wave_c.avi 1'),
    [`${splitDir}brush_hair_test_split2.txt`]: lf('brush_a.avi 2', 'brush_b.avi 1'),
    [`${splitDir}cartwheel_test_split2.txt`]: lf('cart_a.avi 1', 'cart_b.avi 0'),
  };
}
