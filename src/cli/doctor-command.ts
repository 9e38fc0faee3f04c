/** `anyclaude doctor`: not built yet (issue 8). */
import type { Command } from 'commander';
import { AnyclaudeError } from '../core/errors.js';

export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description('(not built yet)')
    .action(() => {
      throw new AnyclaudeError('NOT_BUILT', 'anyclaude doctor is not built yet');
    });
}
