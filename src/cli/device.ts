// --device for every command that runs a network: the same words and default everywhere; the
// value is checked by parseDevice (src/nn/device.ts), and whether the device exists by the addon.

import { Option } from 'commander';
import { DEVICE_HELP } from '../nn/device.js';

export function deviceOption(note = ''): Option {
  return new Option('--device <device>', `where the networks run: ${DEVICE_HELP}${note ? `; ${note}` : ''}`).default('cpu');
}
