// Extracts one file to an .npy bundle and prints the process's peak RSS in KiB.
import { extractMotion } from '../src/index.js';

const [file, out] = process.argv.slice(2);
await extractMotion(file!, { format: 'npy', out: out!, keyFrames: true });
console.log(process.resourceUsage().maxRSS);
