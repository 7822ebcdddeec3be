// The named presets (`--preset paper|cpu`): config documents like a user's file, one home for the
// paper's settings and for the small CPU schedule the sweep and the demo use. The sweep's
// PAPER_SCHEDULE and CPU_SCHEDULE are derived from these (src/config/merge.ts, sweepSchedule).

import type { ConfigDocument, PresetName } from './schema.js';

export const PRESETS: Record<PresetName, ConfigDocument> = {
  /** The paper's settings: 90k SGD iterations of batch 64, the full networks, 10x10 test views. Days on a CPU; for a GPU. */
  paper: {
    prepare: { size: '320x240', fps: 25, 'key-size': '256x256' },
    train: {
      iterations: 90_000,
      batch: 64,
      lr: 0.01,
      'lr-step': 30_000,
      mv3d: { frames: 160, size: 24, width: 1, fc: 2048 },
      mv2d: { frames: 60, size: 48, width: 1, fc: 4096 },
      vgg16: { size: 224, width: 1, fc: 4096 },
      // Not the paper's: torchvision's ResNets at their ImageNet input (frame networks like vgg16).
      resnet18: { size: 224, width: 1 },
      resnet34: { size: 224, width: 1 },
      resnet50: { size: 224, width: 1 },
      resnet101: { size: 224, width: 1 },
      resnet152: { size: 224, width: 1 },
      // Seeds 000/001's CNN-LSTM at their 224 input (they used resnet152; resnet18 by default here).
      'cnn-lstm': { size: 224, width: 1, fc: 1024 },
      // X3D-S's own input, 13 frames of 160x160, and its head.
      'x3d-s': { frames: 13, size: 160, width: 1, fc: 2048 },
    },
    sweep: { views: '10x10' },
  },
  /** Small networks and a short schedule that run on a 2-core CPU in minutes. */
  cpu: {
    prepare: { size: '320x240', fps: 25, 'key-size': '112x112' },
    train: {
      iterations: 300,
      batch: 16,
      lr: 0.01,
      'lr-step': 250,
      mv3d: { frames: 64, size: 24, width: 0.25, fc: 128 },
      mv2d: { frames: 24, size: 32, width: 0.25, fc: 128 },
      vgg16: { size: 96, width: 0.125, fc: 128 },
      // Step times on 2 cores in docs/training.md ("ResNet frame CNNs").
      resnet18: { size: 96, width: 0.25 },
      resnet34: { size: 96, width: 0.25 },
      resnet50: { size: 96, width: 0.125 },
      resnet101: { size: 96, width: 0.125 },
      resnet152: { size: 96, width: 0.125 },
      'cnn-lstm': { size: 112, width: 0.25, fc: 256 },
      // Its real-footage recipe's width and head (docs/training.md, "X3D-S from scratch") on 8
      // frames of 112x112.
      'x3d-s': { frames: 8, size: 112, width: 0.125, fc: 128 },
    },
    sweep: { views: '3x10' },
  },
};
