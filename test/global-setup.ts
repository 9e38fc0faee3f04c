import { execFileSync } from 'node:child_process';

/**
 * Tests run the real `bin/anyclaude.js`, which runs the compiled CLI: build it once, fresh.
 * ANYCLAUDE_TEST_NO_BUILD=1 skips that, for running unit tests while other files are mid-edit.
 */
export default function setup(): void {
  if (process.env.ANYCLAUDE_TEST_NO_BUILD === '1') return;
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}
