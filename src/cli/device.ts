// --device and --threads for every command that runs a network: the same words and defaults
// everywhere. The device is checked by parseDevice (src/nn/device.ts), and whether it exists by
// the addon; the thread count by threadsValue.

import { Option } from 'commander';
import { DEVICE_HELP, PRECISION_HELP } from '../nn/device.js';
import { integerInRange } from '../util/validate.js';

export function deviceOption(note = ''): Option {
  return new Option('--device <device>', `where the networks run: ${DEVICE_HELP}${note ? `; ${note}` : ''}`).default('cpu');
}

export function precisionOption(): Option {
  return new Option('--precision <type>', `the networks' number type on the device: ${PRECISION_HELP}`).default('auto');
}

export function threadsOption(note = ''): Option {
  return new Option('--threads <n>', `libtorch threads${note ? ` ${note}` : ''} (0: leave its default)`).default('0');
}

/** --threads' value, checked: 0 (libtorch's default) to 1024. */
export function threadsValue(value: unknown): number {
  return integerInRange(value, 'threads', 0, 1024);
}
