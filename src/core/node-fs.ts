/**
 * node:fs and node:util through require. An ES import of a built-in module builds its whole
 * namespace, which reads every lazy export (fs.promises, ReadStream, util.types...) and so loads
 * Node's stream modules: about 10 ms of a short run such as `-r FILE -w OUT EXPR`. require hands
 * back the module object and loads nothing more.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const fs = require('node:fs') as typeof import('node:fs');
export const util = require('node:util') as typeof import('node:util');
