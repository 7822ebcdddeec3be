// A fresh Node process that forks (spawnSync /bin/true) again and again while an mv2d network
// scores, 20 scorings in all: with OpenBLAS's own threads busy, its pthread_atfork handler could
// hang the fork for good. `before` and `after` are module code run around the loop (a server,
// say; `process.argv[1]` onwards are `args`). The child reports each scoring done; one that
// reports nothing for 30 s is killed, which the caller reads as a hang (a hung fork never comes
// back, while a slow machine only stretches the loop: under load the 20 scorings took 29 s).

import { spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT } from '../setup/helpers.js';

export async function forkWhileScoring(options: { env: NodeJS.ProcessEnv; before?: string; after?: string; args?: string[] }): Promise<{ code: number | null; forks: number; out: string }> {
  const script = `
    import { spawnSync } from 'node:child_process';
    import { CnnModel } from ${JSON.stringify(path.join(ROOT, 'dist', 'src', 'index.js'))};
    ${options.before ?? ''}
    const model = await CnnModel.create({ model: 'mv2d', classes: ['a', 'b'], frames: 20, size: 48, width: 1, fc: 4096 }, { threads: 1 });
    const x = new Float32Array(model.inputShape.reduce((a, b) => a * b, 1)).fill(0.5);
    let forks = 0;
    for (let i = 0; i < 20; i++) {
      let done = false;
      const scoring = model.predict(x).then(() => (done = true));
      while (!done) { spawnSync('/bin/true'); forks++; await new Promise((r) => setImmediate(r)); }
      await scoring;
      console.log('scored ' + (i + 1));
    }
    ${options.after ?? ''}
    console.log('forks ' + forks);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, ...(options.args ?? [])], { env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const heard = (d: string) => {
    out += d;
    timer.refresh();
  };
  child.stdout.setEncoding('utf8').on('data', heard);
  child.stderr.setEncoding('utf8').on('data', heard);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, forks: Number(/forks (\d+)/.exec(out)?.[1]), out };
}
