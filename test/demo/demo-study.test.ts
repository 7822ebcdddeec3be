// `mvclass demo --study`: the argument checked before anything is made. The studies themselves
// take minutes (bench/demo-study.ts times them); their parts are tested in test/study/.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDemoStudy, type DemoStudyName } from '../../src/app/demo-study.js';
import { demoActionSet } from '../../src/app/demo.js';
import { cli, tempDir } from '../setup/helpers.js';

describe('mvclass demo --study', () => {
  it('refuses an unknown study, naming it, before writing anything', async () => {
    const out = path.join(tempDir(), 'demo');
    const r = await cli(['demo', '--study', 'transcodes', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Expected one of "transcode", "repeats" for study but received "transcodes"');
    await expect(runDemoStudy({ study: 'sweep' as DemoStudyName, out })).rejects.toThrow('Expected one of transcode, repeats for study but received "sweep"');
    expect(existsSync(out)).toBe(false);
  });

  // --out was not made by the studies (only by the plain demo): a new folder failed with "cannot write here".
  it('makes the --out folder the built-in set goes into, nested and new', { timeout: 120_000 }, async () => {
    const out = path.join(tempDir(), 'a', 'b');
    const stages: string[] = [];
    const { set, params } = await demoActionSet(out, true, (name, state) => stages.push(`${name} ${state}`));
    expect(set).toBe(path.join(out, 'actions-quick'));
    expect(existsSync(path.join(set, 'synth.json'))).toBe(true);
    expect(stages).toEqual(['synthesize the action set start', 'synthesize the action set done']);
    expect(params.classes).toBeGreaterThan(1);
  });
});
