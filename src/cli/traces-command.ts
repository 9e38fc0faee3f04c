/** `anyclaude traces`: not built yet (issue 8). */
import type { Command } from 'commander';
import { AnyclaudeError } from '../core/errors.js';

export function registerTracesCommand(program: Command): void {
  program
    .command('traces')
    .description('(not built yet)')
    .action(() => {
      throw new AnyclaudeError('NOT_BUILT', 'anyclaude traces is not built yet');
    });
}
