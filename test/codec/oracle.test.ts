// The CSV of `mvclass extract` must equal FFmpeg's own extract_mvs, row for row, on generated
// clips of every codec and partition layout we claim, and on real footage from Debian packages.

import { describe, expect, it } from 'vitest';
import { decodeVideo, readMotion } from '../../src/index.js';
import { cli, firstDifference, fixtures, runTool } from '../setup/helpers.js';

const f = fixtures();
const cases: Array<[string, string]> = [
  ['H.264 P-only CAVLC, all partitions', f.clips['h264-p-cavlc']!],
  ['H.264 B-frames CABAC pyramid', f.clips['h264-b-cabac']!],
  ['H.264 raw Annex-B with B-frames', f.clips['h264-annexb']!],
  ['MPEG-4 Part 2 with B-frames', f.clips['mpeg4-b']!],
  ['MPEG-2 with B-frames', f.clips['mpeg2']!],
  ['MPEG-1', f.clips['mpeg1']!],
  ['H.263 (352x288)', f.clips['h263']!],
  ['real: cockatoo.mp4 (python3-imageio, 720p H.264, B-frames)', f.real['cockatoo']!],
  ['real: realshort.mp4 (python3-imageio, H.264)', f.real['realshort']!],
  ['real: balle-jbart.mp4 (python3-mecavideo, 720x576 H.264, B-frames)', f.real['balle']!],
  ['real: Principe_inertie.avi (python3-mecavideo, MPEG-4 Part 2)', f.real['inertie']!],
];

describe('extract --format csv equals extract_mvs', () => {
  it.each(cases)('%s', async (_name, file) => {
    const expected = runTool(f.oracle, [file]).toString('utf8');
    expect(expected.split('\n').length).toBeGreaterThan(100); // the oracle saw vectors at all
    const result = await cli(['extract', file]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(firstDifference(expected, result.stdout)).toBeNull();
  });
});

describe('vectors do not depend on how the decoder runs', () => {
  it('B-frame streams give identical vectors on every run (no frame-threading corruption)', async () => {
    const file = f.real['cockatoo']!;
    const runs: number[][] = [];
    for (let r = 0; r < 2; r++) {
      const sums: number[] = [];
      for await (const frame of readMotion(file)) {
        let s = frame.vectors.length;
        for (let i = 0; i < frame.vectors.length; i++) s = (s * 31 + frame.vectors.motionX[i]! * 7 + frame.vectors.dstY[i]!) % 1_000_003;
        sums.push(s);
      }
      runs.push(sums);
    }
    expect(runs[0]!.length).toBe(280);
    expect(runs[1]).toEqual(runs[0]);
  });

  it('skipping the deblocking filter (vectors only) leaves the vectors byte-identical', async () => {
    const file = f.clips['h264-b-cabac']!;
    const collect = async (keyFrames: boolean) => {
      const parts: number[] = [];
      for await (const batch of decodeVideo(file, { keyFrames, batchSize: 7 })) {
        const v = batch.vectors!;
        for (let i = 0; i < v.length; i++) parts.push(v.motionX[i]!, v.motionY[i]!, v.dstX[i]!, v.dstY[i]!, v.source[i]!);
      }
      return parts;
    };
    const withFilter = await collect(true);
    const withoutFilter = await collect(false);
    expect(withFilter.length).toBeGreaterThan(10_000);
    expect(withoutFilter).toEqual(withFilter);
  });

  it('frame metadata: display order, types and packet sizes match ffprobe', async () => {
    const file = f.clips['h264-b-cabac']!;
    const probeOut = runTool('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'frame=pict_type,pkt_size,key_frame', '-of', 'csv=p=0', file])
      .toString()
      .trim()
      .split('\n')
      .filter((line) => line.length > 0) // ffprobe prints a blank line after frames with side data
      .map((line) => line.split(','));
    const frames = [];
    for await (const frame of readMotion(file, { batchSize: 5 })) frames.push(frame);
    expect(frames.length).toBe(probeOut.length);
    frames.forEach((frame, i) => {
      const [key, size, type] = probeOut[i]!;
      expect(frame.index).toBe(i);
      expect(frame.type).toBe(type);
      expect(frame.key).toBe(key === '1');
      expect(frame.bits).toBe(Number(size) * 8);
      expect(frame.pts).toBeCloseTo(i / 25, 6);
    });
    expect(new Set(frames.map((fr) => fr.type))).toEqual(new Set(['I', 'P', 'B']));
  });
});
