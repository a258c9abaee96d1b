#!/usr/bin/env node
// `npm run build` also bundles the command line into dist/src/cli/main.bundle.js (and its lazily
// loaded chunks): node 20's ES module loader spends ~1 ms on each of the ~50 files a run would
// load, a sixth of a `-r -w EXPR` run on a million packets. After a tsc-only rebuild the bundle
// is older than main.js; the modules themselves run then, so nothing stale ever does.
import module, { createRequire } from 'node:module';

// Node 22.1+ keeps V8's compiled code of these files in $TMPDIR/node-compile-cache: 10-15 ms less
// start-up on Node 24. Without a writable directory it quietly does nothing; node 20 has no cache.
module.enableCompileCache?.();

const { statSync } = createRequire(import.meta.url)('node:fs');
const cli = new URL('../dist/src/cli/', import.meta.url);
const modified = (file) => statSync(new URL(file, cli), { throwIfNoEntry: false })?.mtimeMs ?? -1;
await import(modified('main.bundle.js') >= modified('main.js') ? '../dist/src/cli/main.bundle.js' : '../dist/src/cli/main.js');
