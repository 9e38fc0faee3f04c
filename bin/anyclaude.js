#!/usr/bin/env node
// Runs the compiled CLI (`npm install` builds it through `prepare`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/src/cli/entry.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('anyclaude: not built yet\n  fix: run `npm run build` in the anyclaude folder\n');
  process.exit(1);
}
await import(entry.href);
