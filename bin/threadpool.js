// libuv's thread pool runs every native job of mvclass (decoding, encoding, cropping, the CNN
// steps) and Node's file I/O. Its default of 4 threads caps what `prepare` (cores + 1 videos at
// once) and `serve` (a request per core) can run in parallel, so the command sets it to the cores
// plus 4 (cores + 1 native jobs and room for file I/O; at least 4, at most libuv's 1024) unless
// UV_THREADPOOL_SIZE is already set. libuv reads the variable once, when the pool starts, and
// Node's ES-module loader starts it to read the entry module: so the entry (bin/mvclass.js) is
// CommonJS (bin/package.json), read synchronously, and requires this file before anything else.
// Programs using mvclass as a library set UV_THREADPOOL_SIZE in their environment (README).
'use strict';
const os = require('node:os');

/** The pool size for a machine with `cores` cores. */
function threadPoolSize(cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length) {
  return Math.min(1024, Math.max(4, cores + 4));
}

if (!process.env.UV_THREADPOOL_SIZE) process.env.UV_THREADPOOL_SIZE = String(threadPoolSize());

module.exports = { threadPoolSize };
