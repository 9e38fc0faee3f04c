/** `anyclaude bench`: not built yet (issue 8). */
import type { Command } from 'commander';
import { AnyclaudeError } from '../core/errors.js';

export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .description('(not built yet)')
    .action(() => {
      throw new AnyclaudeError('NOT_BUILT', 'anyclaude bench is not built yet');
    });
}
