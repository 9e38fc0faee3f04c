/**
 * Files shipped beside the code (package.json, python/, scripts/): found from anyclaude's own
 * package root, so the same call works from src/ (tests, tsx) and from dist/src/ (installed).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

export function packageRoot(): string {
  if (root !== undefined) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'anyclaude') return (root = dir);
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`anyclaude's package.json is not above ${fileURLToPath(import.meta.url)}: the install is incomplete; reinstall anyclaude`);
    dir = parent;
  }
}

/** A path under the package root, e.g. packageFile('python/mlx-lm/'). */
export function packageFile(relative: string): string {
  return join(packageRoot(), relative);
}
