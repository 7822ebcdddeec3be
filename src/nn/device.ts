// Where the networks run: one rule for every command, the config file, the library and the service.
//   cpu, cuda (the current CUDA device), cuda:N (the CUDA device of index N)
// Whether the device exists is the addon's to say (native/nn/session.cc, DeviceOf): libtorch
// without CUDA refuses cuda and cuda:N, and N must be below the number of devices.

import { invalid } from '../util/validate.js';

export type Device = 'cpu' | 'cuda' | `cuda:${number}`;

/** The devices' text as a regular expression (the service's OpenAPI schema says it too). */
export const DEVICE_PATTERN = '^(cpu|cuda(:(0|[1-9][0-9]*))?)$';

const DEVICE = new RegExp(DEVICE_PATTERN);

/** What the option's help says. */
export const DEVICE_HELP = 'cpu, cuda or cuda:N (the CUDA device of index N)';

/**
 * The forward pass's number type: auto is bf16 autocast on a GPU and fp32 on the CPU; fp16 scales
 * the loss (dynamic loss scaling). The weights stay fp32 whichever is chosen.
 */
export const PRECISIONS = ['auto', 'fp32', 'bf16', 'fp16'] as const;
export type Precision = (typeof PRECISIONS)[number];

/** What the option's help says. */
export const PRECISION_HELP = 'auto (bf16 autocast on a GPU, fp32 on the CPU), fp32, bf16 or fp16 (with loss scaling); the weights stay fp32';

/** Checks a precision from a flag, a file or a caller. */
export function parsePrecision(value: unknown, name: string): Precision {
  if (typeof value !== 'string' || !(PRECISIONS as readonly string[]).includes(value)) throw invalid('auto, fp32, bf16 or fp16', name, value);
  return value as Precision;
}

/** Checks a device from a flag, a file or a caller: cpu, cuda or cuda:N (N a non-negative integer). */
export function parseDevice(value: unknown, name: string): Device {
  if (typeof value !== 'string' || !DEVICE.test(value) || !Number.isSafeInteger(Number(value.slice(5) || 0))) {
    throw invalid('cpu, cuda or cuda:N', name, value);
  }
  return value as Device;
}
