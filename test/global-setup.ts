import { execFileSync } from 'node:child_process';

/** Tests run the real `bin/anyclaude.js`, which runs the compiled CLI: build it once, fresh. */
export default function setup(): void {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}
