// probe against ffprobe on the same files.

import { describe, expect, it } from 'vitest';
import { probe } from '../../src/index.js';
import { fixtures, runTool } from '../setup/helpers.js';

const f = fixtures();

function ffprobe(file: string): Record<string, string> {
  const text = runTool('ffprobe', ['-v', 'error', '-count_packets', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height,avg_frame_rate,nb_read_packets', '-of', 'default=nw=1', file]).toString();
  return Object.fromEntries(text.trim().split('\n').map((line) => line.split('=') as [string, string]));
}

describe('probe', () => {
  it.each([
    ['h264-p-cavlc', f.clips['h264-p-cavlc']!, false, 3],
    ['h264-b-cabac', f.clips['h264-b-cabac']!, true, 3],
    ['h264-annexb', f.clips['h264-annexb']!, true, 2],
    ['mpeg4-b', f.clips['mpeg4-b']!, true, 3],
    ['hevc (probe works for any codec; libx265 uses B-frames by default)', f.clips['hevc']!, true, 1],
  ])('%s matches ffprobe', async (_name, file, bframes, seconds) => {
    const info = await probe(file);
    const ref = ffprobe(file);
    expect(info.codec).toBe(ref.codec_name);
    expect(info.width).toBe(Number(ref.width));
    expect(info.height).toBe(Number(ref.height));
    expect(info.frameCount).toBe(Number(ref.nb_read_packets));
    expect(info.fps).toBe(25);
    expect(info.hasBFrames).toBe(bframes);
    expect(info.duration).toBeCloseTo(seconds, 1);
    expect(info.bitrate).toBeCloseTo((info.videoBytes * 8) / info.duration, 6);
    expect(info.motionVectors).toBe(true); // HEVC's through libde265
  });

  it('real footage: cockatoo.mp4 is 280 frames of 1280x720 H.264 with B-frames', async () => {
    const info = await probe(f.real['cockatoo']!);
    expect(info).toMatchObject({ codec: 'h264', width: 1280, height: 720, frameCount: 280, fps: 20, hasBFrames: true });
  });
});
