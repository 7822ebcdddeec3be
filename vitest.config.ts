import path from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

// The longest files start first whatever vitest remembers of earlier runs (with no record it
// starts the largest files first, which put these last): the demo, the file that makes the
// suite's trained fixture (test/support/trained.ts) while the demo runs, and real-footage
// training, then the ResNets' learning test (it goes to the demo's worker when the demo ends) and
// the clip networks' learning tests, the longest file of all. The files that use the fixture
// after it come later, when it is made.
const FIRST = ['test/demo/demo.test.ts', 'test/nn/train.test.ts', 'test/nn/real-footage.test.ts', 'test/nn/resnet.test.ts', 'test/nn/cnn-lstm-train.test.ts'];

class HeavyFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (file: TestSpecification): number => {
      const at = FIRST.indexOf(path.relative(file.project.config.root, file.moduleId));
      return at < 0 ? FIRST.length : at;
    };
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/global.ts'],
    setupFiles: ['test/setup/cleanup.ts'],
    testTimeout: 60_000,
    hookTimeout: 300_000,
    // Two cores on CI: two workers, each decoding single-threaded, and each training with
    // libtorch's own threads only (the nn addon makes OpenBLAS single-threaded when it loads).
    maxWorkers: 2,
    sequence: { sequencer: HeavyFirst },
  },
});
