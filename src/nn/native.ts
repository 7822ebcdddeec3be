// Loads native/nn lazily: libtorch costs ~0.5 s and ~170 MB to load, and motion-vector users
// never need it.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { packageRoot } from '../util/package.js';
import { MvclassError } from '../util/errors.js';

export interface NativeSession {
  inputShape: number[];
  parameters: number;
  /** The resolved settings. */
  precision: 'fp32' | 'bf16' | 'fp16';
  channelsLast: boolean;
  trainStep(data: Float32Array, labels: Int32Array, learningRate: number, backboneLearningRate?: number): Promise<{ loss: number; correct: number; count: number; gradNorm: number; stepped: boolean; overflow: boolean }>;
  predict(data: Float32Array): Promise<Float32Array>;
  save(path: string): Promise<void>;
  load(path: string): Promise<void>;
  importWeights(path: string): Promise<{ loaded: number; skipped: number }>;
  exportWeights(path: string): Promise<void>;
  inputGradient(data: Float32Array, labels: Int32Array): Promise<{ loss: number; gradient: Float32Array }>;
  state(): Promise<StateTensor[]>;
}

/** One tensor of a network's state dict, named as torch.save(dict(model.state_dict())) names it. */
export interface StateTensor {
  name: string;
  shape: number[];
  /** A buffer (batch norm's running_mean, running_var, num_batches_tracked), not a parameter. */
  buffer: boolean;
  /** The values, exactly (float32 and int64 as doubles). */
  values: Float64Array;
}

export interface LayerCall {
  op: 'conv3d' | 'conv2d' | 'maxpool3d' | 'maxpool2x2x2' | 'maxpool3d_grad' | 'maxpool2x2x2_grad' | 'maxpool2d' | 'linear' | 'softmax' | 'prelu' | 'prelu_grad' | 'shared_prelu_grad' | 'lstm' | 'swish' | 'squeeze_excitation'
    // x3d-s's depthwise kernel, and with gradients against libtorch's conv3d (groups = channels):
    // the output, the input's and the weight's gradients for the output's gradient in weight2.
    | 'depthwise3d' | 'depthwise3d_grad' | 'conv3d_grad';
  input: Float32Array;
  inputShape: number[];
  weight?: Float32Array;
  weightShape?: number[];
  bias?: Float32Array;
  /** squeeze_excitation: the expanding 1x1x1 convolution (weight/bias: the reducing one); *_grad: the output's gradient. */
  weight2?: Float32Array;
  weight2Shape?: number[];
  bias2?: Float32Array;
  stride?: number[];
  padding?: number[];
  kernel?: number[];
  /** conv3d: channel groups (the channel count: depthwise). */
  groups?: number;
}

export interface NnAddon {
  torchVersion: string;
  createSession(options: Record<string, unknown>): Promise<NativeSession>;
  /** Makes OpenBLAS run each call on its caller's thread, for a process that forks (see addon.cc);
   * returns the thread count OpenBLAS then reports (1), or null when libtorch's BLAS is not OpenBLAS. */
  singleThreadBlas(): number | null;
  /** OpenBLAS's thread count: 1 from the addon's load unless OPENBLAS_NUM_THREADS was set (see
   * addon.cc); null when libtorch's BLAS is not OpenBLAS. */
  blasThreads(): number | null;
  /** One layer on small tensors (synchronous), to check the layers against a reference. */
  applyLayer(call: LayerCall): { data: Float32Array; shape: number[] };
}

let addon: NnAddon | undefined;

export function nnAddon(): NnAddon {
  if (addon) return addon;
  const file = path.join(packageRoot(), 'build-nn', 'Release', 'mvclass_nn.node');
  if (!existsSync(file)) {
    throw new MvclassError(
      `the CNN addon (native/nn, on libtorch) is not built: ${file} is missing. Run ./scripts/setup.sh, ` +
        'which installs Debian\'s libtorch-dev and builds it (npm run build:nn). Motion-vector features do not need it.',
    );
  }
  try {
    addon = createRequire(import.meta.url)(file) as NnAddon;
  } catch (error) {
    throw new MvclassError(`the CNN addon ${file} cannot load: ${(error as Error).message}`);
  }
  return addon;
}
