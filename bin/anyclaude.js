#!/usr/bin/env node
// Runs the compiled CLI (`npm install` builds it through `prepare`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
if (args.length === 2 && args[0] === 'status' && args[1] === '--line') {
  // Claude Code's status line: started after every change and due in ~150 ms, so it skips the CLI
  // (commander, zod, …) and loads only what it needs. It must never fail: one line, exit 0.
  const statusLine = new URL('../dist/src/cli/status-line-main.js', import.meta.url);
  if (!existsSync(fileURLToPath(statusLine))) {
    process.stdout.write('⚡ anyclaude: not built (npm run build)\n');
    process.exit(0);
  }
  const { runStatusLine } = await import(statusLine.href);
  await runStatusLine();
} else {
  const entry = new URL('../dist/src/cli/entry.js', import.meta.url);
  if (!existsSync(fileURLToPath(entry))) {
    process.stderr.write('anyclaude: not built yet\n  fix: run `npm run build` in the anyclaude folder\n');
    process.exit(1);
  }
  await import(entry.href);
}
