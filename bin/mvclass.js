#!/usr/bin/env node
// Entry point of the mvclass command; the compiled CLI lives in dist/. This file is CommonJS
// (bin/package.json) so that threadpool.js sizes libuv's thread pool before the pool starts.
'use strict';
require('./threadpool.js');

import('../dist/src/cli/main.js').catch((error) => {
  if (error && error.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/src/cli/main.js')) {
    process.stderr.write('mvclass: not built yet. Run ./scripts/setup.sh (or npm run build) in the package folder.\n');
    process.exit(1);
  }
  throw error;
});
