// Inputs beyond local files, through libavformat: standard input ("-"), HTTP (a local server
// with byte ranges, so an MP4 whose index is at the end still opens), and RTSP (FFmpeg's own
// RTSP server mode on our side, the ffmpeg tool publishing to it). Each gives the vectors of the
// same file read from disk, byte for byte in extract_mvs's CSV.

import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probe, readMotion } from '../../src/index.js';
import { cli, fixtures, freePort, ROOT } from '../setup/helpers.js';

const f = fixtures();
const mp4 = f.clips['h264-p-cavlc']!; // moov after mdat: reading it needs seeks (Range requests)
const annexB = f.clips['crop-cavlc-slices']!;
let server: http.Server;
let base: string;
const ranges: string[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const file = path.join(path.dirname(mp4), path.basename(req.url ?? ''));
    let size: number;
    try {
      size = statSync(file).size;
    } catch {
      res.writeHead(404).end();
      return;
    }
    const range = /bytes=(\d+)-(\d*)/.exec(req.headers.range ?? '');
    if (!range) {
      res.writeHead(200, { 'content-length': size, 'accept-ranges': 'bytes' });
      createReadStream(file).pipe(res);
      return;
    }
    ranges.push(req.headers.range!);
    const start = Number(range[1]);
    const end = range[2] ? Number(range[2]) : size - 1;
    res.writeHead(206, { 'content-length': end - start + 1, 'content-range': `bytes ${start}-${end}/${size}`, 'accept-ranges': 'bytes' });
    createReadStream(file, { start, end }).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function vectorRows(source: string, inputOptions?: Record<string, string>): Promise<number[]> {
  const rows: number[] = [];
  for await (const frame of readMotion(source, inputOptions ? { inputOptions } : {})) {
    const v = frame.vectors;
    for (let i = 0; i < v.length; i++) rows.push(frame.index, v.dstX[i]!, v.dstY[i]!, v.motionX[i]!, v.motionY[i]!);
  }
  return rows;
}

describe('video sources beyond local files', () => {
  it('reads standard input: extract - gives the file\'s CSV, probe - says its counts come from the headers', async () => {
    const fromFile = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'mvclass.js'), 'extract', annexB], { encoding: 'utf8', maxBuffer: 1 << 28 });
    const fromStdin = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'mvclass.js'), 'extract', '-'], { input: readFileSync(annexB), encoding: 'utf8', maxBuffer: 1 << 28 });
    expect(fromStdin.status, fromStdin.stderr).toBe(0);
    expect(fromStdin.stdout.length).toBeGreaterThan(10_000);
    expect(fromStdin.stdout).toBe(fromFile.stdout);
    const info = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'mvclass.js'), 'probe', '-', '--json'], { input: readFileSync(annexB), encoding: 'utf8' });
    const parsed = JSON.parse(info.stdout) as { codec: string; width: number; counted: boolean };
    expect(parsed).toMatchObject({ codec: 'h264', width: 320, counted: false });
  });

  it('reads an MP4 over HTTP with byte ranges: the same vectors as from disk, and probe takes the header counts', async () => {
    const url = `${base}/${path.basename(mp4)}`;
    const [remote, local] = await Promise.all([vectorRows(url), vectorRows(mp4)]);
    expect(remote.length).toBeGreaterThan(1000);
    expect(remote).toEqual(local);
    expect(ranges.length).toBeGreaterThan(0); // the index at the end was reached by seeking
    const [remoteInfo, localInfo] = await Promise.all([probe(url), probe(mp4)]);
    expect(remoteInfo.counted).toBe(false);
    expect(localInfo.counted).toBe(true);
    expect(remoteInfo.frameCount).toBe(localInfo.frameCount); // MP4 states its sample count
    expect(remoteInfo.codec).toBe('h264');
  });

  it('reads an RTSP stream published by the ffmpeg tool (RTP over TCP): the file\'s vectors, frame for frame', async () => {
    const url = `rtsp://127.0.0.1:${await freePort()}/live`;
    // Our side is the RTSP server (FFmpeg's listen mode); the publisher connects once we listen.
    // On a loaded machine our listener may take longer than the first wait to open its port: a
    // publisher that found nobody listening (it exits non-zero at once) is started again.
    let read = false;
    const reading = vectorRows(url, { rtsp_flags: 'listen' }).finally(() => (read = true));
    const publish = async () => {
      for (let attempt = 0; attempt < 30 && !read; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        const publisher = spawn('ffmpeg', ['-v', 'error', '-re', '-i', mp4, '-c', 'copy', '-f', 'rtsp', '-rtsp_transport', 'tcp', url], { stdio: 'ignore' });
        if ((await new Promise((resolve) => publisher.once('exit', resolve))) === 0) return;
      }
    };
    const [remote, local] = await Promise.all([reading, vectorRows(mp4), publish()]);
    expect(remote.length).toBeGreaterThan(1000);
    expect(remote).toEqual(local);
  }, 60_000);

  it('says what is wrong with a source it cannot read', async () => {
    await expect(probe('ftp://127.0.0.1/x.mp4')).rejects.toThrow('ftp://127.0.0.1/x.mp4: unsupported URL scheme');
    await expect(probe('http://127.0.0.1:9/none.mp4')).rejects.toThrow(/http:\/\/127\.0\.0\.1:9\/none\.mp4: cannot open the stream: Connection refused/);
    await expect(probe(`${base}/missing.mp4`)).rejects.toThrow(/missing\.mp4: cannot open the stream: .*404/);
    await expect(probe(mp4, { inputOptions: { no_such_option: '1' } })).rejects.toThrow(`${mp4}: input option no_such_option is not an option of this demuxer or protocol`);
    await expect(probe(mp4, { inputOptions: { 'bad key': '1' } as Record<string, string> })).rejects.toThrow('Expected an option name of letters, digits and _ in inputOptions but received "bad key"');
    const r = await cli(['probe', mp4, '--input-option', 'novalue']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Expected key=value for input-option but received "novalue"');
  });
});
