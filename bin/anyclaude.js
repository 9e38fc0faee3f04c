#!/usr/bin/env node
// Runs the compiled CLI (`npm install` builds it through `prepare`). This file is the composition
// root: the one place that knows both the core (dist/src) and the Ink dashboard (dist/ui).
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
  const main = new URL('../dist/src/cli/main.js', import.meta.url);
  if (!existsSync(fileURLToPath(main))) {
    process.stderr.write('anyclaude: not built yet\n  fix: run `npm run build` in the anyclaude folder\n');
    process.exit(1);
  }
  // React and Ink load only when a dashboard is shown, as their production builds (the development
  // ones cost several times the CPU and memory per render). NODE_ENV is set only while they load:
  // Claude Code and every command it runs inherit anyclaude's environment, and NODE_ENV=production
  // there would change what `npm install` does in the user's project.
  // CI and CONTINUOUS_INTEGRATION are cleared for the same moment: Ink reads them once, on import,
  // and in "CI" mode it draws nothing until unmount, which would leave a hosted dashboard blank
  // in a real terminal that merely inherited CI=true.
  const dashboard = async () => {
    const saved = { NODE_ENV: process.env.NODE_ENV, CI: process.env.CI, CONTINUOUS_INTEGRATION: process.env.CONTINUOUS_INTEGRATION };
    process.env.NODE_ENV = 'production';
    delete process.env.CI;
    delete process.env.CONTINUOUS_INTEGRATION;
    try {
      return (await import('../dist/ui/front-end.js')).dashboardFrontEnd;
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  };
  await (await import(main.href)).main(process.argv, { dashboard });
}
