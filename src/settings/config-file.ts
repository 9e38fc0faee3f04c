/**
 * `~/.anyclaude/config.json`: defaults for `anyclaude up`, below flags and ANYCLAUDE_MODE.
 * Example: { "backend": "mlx-lm", "model": "Qwen3-Coder-30B", "context": 65536 }
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { AnyclaudeError } from '../core/errors.js';

const configSchema = z.strictObject({
  backend: z.string().min(1).optional(),
  model: z.string().min(1).optional(),
  context: z.number().int().positive().optional(),
  protocol: z.enum(['openai', 'anthropic']).optional(),
  url: z.url().optional(),
  python: z.string().min(1).optional(),
  trace: z.boolean().optional(),
  /** The key that flips between Claude Code and the dashboard, e.g. "ctrl-]". */
  hotkey: z.string().min(1).optional(),
});

export type AnyclaudeConfig = z.infer<typeof configSchema>;

export async function readConfig(home: string): Promise<AnyclaudeConfig> {
  const file = join(home, 'config.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return {};
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new AnyclaudeError('CONFIG_INVALID', `${file} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`, { fix: `fix or remove ${file}` });
  }
  const result = configSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? 'the file' : issue.path.join('.');
    throw new AnyclaudeError('CONFIG_INVALID', `${file}: ${where}: ${issue?.message ?? 'invalid'}`, {
      fix: `allowed keys: ${Object.keys(configSchema.shape).join(', ')}`,
    });
  }
  return result.data;
}
