// bench/nn: the CNNs against PyTorch (Debian's python3-torch 1.13, which runs the same
// libtorch_cpu kernels), same network, batch and threads, measured in one run:
//   training step time and inference time, mvclass / PyTorch (goal <= 1.0x).
// Then classify of one 4 s 320x240 clip from motion vectors (mv3d, 1 view, model loaded)
// against decoding the clip's pixels (ffmpeg -threads 1 -f null; goal <= 2x its time) and
// against the pixel-domain route it replaces, decoding plus OpenCV's Farneback flow (goal >= 20x).
// The ResNet frame CNNs against torchvision's (python3-torchvision) at 224x224, the same way; cnn-lstm
// against the same network in PyTorch (torchvision's resnet18 without fc, FC, nn.LSTM, FC); X3D-S
// at width 1 on 8 frames of 112x112 (its paper input is 13 of 160x160) against the same architecture
// in PyTorch (peer_torch.py).
// MODELS=x3d-s,resnet18 runs only those networks (and the classify comparison only with mv3d).
// Run: npm run bench:nn   (installs python3-torch, python3-torchvision and python3-opencv as the peers if needed)

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CnnModel, encodeFrames, renderActionClip } from '../src/index.js';
import { volumeViews } from '../src/nn/inputs.js';
import { decodeVideo } from '../src/codec/decode.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const PYTHON = '/usr/bin/python3';
const THREADS = Number(process.env.THREADS ?? os.cpus().length);

function ensurePeer(): void {
  const ok = spawnSync(PYTHON, ['-c', 'import torch, torchvision, cv2, numpy'], { stdio: 'ignore' }).status === 0;
  if (ok) return;
  console.log('installing the peers: python3-torch python3-torchvision python3-opencv (Debian) ...');
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'python3-torch', 'python3-torchvision', 'python3-opencv', 'python3-numpy'], { stdio: 'inherit' });
}

// Inference passes timed per network, both sides: one batch's inference is sub-second, and with 3
// passes (the training steps' count) x3d-s's ratio moved between 0.83x and 1.52x over three runs
// on the idle machine.
const INFER_STEPS = 10;

async function ours(spec: { model: 'mv3d' | 'mv2d' | 'resnet18' | 'resnet50' | 'cnn-lstm' | 'x3d-s'; classes: number; frames: number; size: number; width: number; fc: number; batch: number; steps: number; warmup: number; inferSteps: number }) {
  const model = await CnnModel.create(
    { model: spec.model, classes: Array.from({ length: spec.classes }, (_, i) => `c${i}`), frames: spec.frames, size: spec.size, width: spec.width, fc: spec.fc },
    { threads: THREADS },
  );
  const per = model.inputShape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(spec.batch * per).map(() => Math.random() - 0.5);
  const y = new Int32Array(spec.batch).map((_, i) => i % spec.classes);
  let usage = { cpu: 0, faults: 0 };
  const time = async (fn: () => Promise<unknown>, steps: number) => {
    for (let i = 0; i < spec.warmup; i++) await fn();
    const r0 = process.resourceUsage();
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) await fn();
    const seconds = (performance.now() - t0) / 1000 / steps;
    const r1 = process.resourceUsage();
    usage = { cpu: (r1.userCPUTime + r1.systemCPUTime - r0.userCPUTime - r0.systemCPUTime) / 1e6 / steps, faults: (r1.minorPageFault - r0.minorPageFault) / steps };
    return seconds;
  };
  const train = await time(() => model.trainStep(x, y, 0.01), spec.steps);
  const trainUsage = usage;
  return { train, trainCpu: trainUsage.cpu, trainFaults: trainUsage.faults, infer: await time(() => model.predict(x), spec.inferSteps) };
}

async function main(): Promise<void> {
  ensurePeer();
  console.log(`mvclass bench/nn — ${os.cpus().length} cores, ${THREADS} threads each side\n`);
  console.log('| network, batch | mvclass train step | PyTorch train step | ratio | mvclass inference | PyTorch inference | ratio |');
  console.log('|---|---|---|---|---|---|---|');
  const specs = [
    { model: 'mv3d' as const, classes: 101, frames: 160, size: 24, width: 1, fc: 2048, batch: 16, steps: 3, warmup: 1 },
    { model: 'mv2d' as const, classes: 101, frames: 60, size: 48, width: 1, fc: 4096, batch: 16, steps: 3, warmup: 1 },
    { model: 'resnet18' as const, classes: 101, frames: 1, size: 224, width: 1, fc: 512, batch: 16, steps: 3, warmup: 1 },
    { model: 'resnet50' as const, classes: 101, frames: 1, size: 224, width: 1, fc: 2048, batch: 16, steps: 2, warmup: 1 },
    // Seeds 000/001's head (fc 1024) on resnet18, 8 frames of 112x112 per clip.
    { model: 'cnn-lstm' as const, classes: 101, frames: 8, size: 112, width: 1, fc: 1024, batch: 4, steps: 3, warmup: 1 },
    { model: 'x3d-s' as const, classes: 101, frames: 8, size: 112, width: 1, fc: 2048, batch: 4, steps: 3, warmup: 1 },
  ];
  const only = process.env.MODELS?.split(',');
  // CPU time and minor page faults per train step, both sides: counts that a loaded machine
  // disturbs far less than wall time (the faults not at all).
  const usage: string[] = [];
  for (const spec of specs.filter((s) => !only || only.includes(s.model)).map((s) => ({ ...s, inferSteps: INFER_STEPS }))) {
    const a = await ours(spec);
    const peer = JSON.parse(execFileSync(PYTHON, [path.join(ROOT, 'bench', 'peer_torch.py'), JSON.stringify({ ...spec, threads: THREADS })], { encoding: 'utf8' })) as { train: number; trainCpu: number; trainFaults: number; infer: number };
    console.log(`| ${spec.model} [${spec.frames}x${spec.size}], ${spec.batch} | ${a.train.toFixed(3)} s | ${peer.train.toFixed(3)} s | ${(a.train / peer.train).toFixed(2)}x | ${a.infer.toFixed(3)} s | ${peer.infer.toFixed(3)} s | ${(a.infer / peer.infer).toFixed(2)}x |`);
    usage.push(`| ${spec.model} [${spec.frames}x${spec.size}], ${spec.batch} | ${a.trainCpu.toFixed(3)} s | ${peer.trainCpu.toFixed(3)} s | ${(a.trainCpu / peer.trainCpu).toFixed(2)}x | ${Math.round(a.trainFaults)} | ${Math.round(peer.trainFaults)} |`);
  }
  console.log('\n| network, batch | mvclass train step CPU (user + sys) | PyTorch train step CPU | ratio | mvclass minor faults / step | PyTorch minor faults / step |');
  console.log('|---|---|---|---|---|---|');
  for (const row of usage) console.log(row);

  if (only && !only.includes('mv3d')) return;
  // classify one clip from its vectors vs the pixel route.
  const scratch = path.join(os.tmpdir(), `mvclass-bench-nn-${process.pid}`);
  mkdirSync(scratch, { recursive: true });
  const clip = path.join(scratch, 'clip.mp4');
  await encodeFrames(clip, renderActionClip('run', { frames: 100, seed: 7 }), { width: 320, height: 240, qp: 30, gop: 0, threads: 1 });
  const model = await CnnModel.create({ model: 'mv3d', classes: ['a', 'b', 'c', 'd'], frames: 160, size: 24, width: 1, fc: 2048 }, { threads: THREADS });
  const classify = async () => {
    const chunks: Int16Array[] = [];
    let rows = 0;
    let cols = 0;
    for await (const b of decodeVideo(clip, { vectors: false, grid: 8, units: 'quarter-pel' })) {
      rows = b.grid!.rows;
      cols = b.grid!.cols;
      chunks.push(b.grid!.data as Int16Array);
    }
    const data = new Int16Array(chunks.reduce((n, c) => n + c.length, 0));
    let o = 0;
    for (const c of chunks) {
      data.set(c, o);
      o += c.length;
    }
    return model.predict(volumeViews({ frames: data.length / (2 * rows * cols), rows, cols, data }, model.config, 1, 1));
  };
  await classify();
  let t0 = performance.now();
  for (let i = 0; i < 5; i++) await classify();
  const tClassify = (performance.now() - t0) / 5000;
  t0 = performance.now();
  for (let i = 0; i < 5; i++) execFileSync('ffmpeg', ['-v', 'error', '-threads', '1', '-i', clip, '-f', 'null', '-']);
  const tDecode = (performance.now() - t0) / 5000;
  const farneback = `import cv2,time,sys
cap=cv2.VideoCapture(sys.argv[1]); ok,prev=cap.read(); prev=cv2.cvtColor(prev,cv2.COLOR_BGR2GRAY); t=time.perf_counter(); n=0
while True:
  ok,f=cap.read()
  if not ok: break
  g=cv2.cvtColor(f,cv2.COLOR_BGR2GRAY); cv2.calcOpticalFlowFarneback(prev,g,None,0.5,3,15,3,5,1.2,0); prev=g; n+=1
print(time.perf_counter()-t)`;
  t0 = performance.now();
  execFileSync(PYTHON, ['-c', farneback, clip], { encoding: 'utf8' });
  const tFlow = (performance.now() - t0) / 1000;
  console.log(`\nclassify a 4 s 320x240 clip from its vectors (mv3d, 1 view, model loaded): ${tClassify.toFixed(3)} s`);
  console.log(`decoding its pixels, ffmpeg -threads 1 -f null: ${tDecode.toFixed(3)} s -> classify / decode = ${(tClassify / tDecode).toFixed(2)}x (goal <= 2x)`);
  console.log(`decode + OpenCV Farneback flow (the pixel-domain route): ${tFlow.toFixed(3)} s -> ${(tFlow / tClassify).toFixed(1)}x slower than classify (goal >= 20x)`);
  rmSync(scratch, { recursive: true, force: true });
}

await main();
