/** `anyclaude config`: not built yet (issue 8). */
import type { Command } from 'commander';
import { AnyclaudeError } from '../core/errors.js';

export function registerConfigCommand(program: Command): void {
  program
    .command('config')
    .description('(not built yet)')
    .action(() => {
      throw new AnyclaudeError('NOT_BUILT', 'anyclaude config is not built yet');
    });
}
