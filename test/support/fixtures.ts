/** The captured Claude Code requests in test/fixtures (see its README), as conformance inputs. */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/claude-code-2.1.197/', import.meta.url));

export interface CapturedRequest {
  run: string;
  file: string;
  seq: number;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: Record<string, unknown> & { messages?: unknown[]; tools?: unknown[] };
}

export function capturedRequests(): CapturedRequest[] {
  const out: CapturedRequest[] = [];
  for (const run of readdirSync(FIXTURES_DIR).sort()) {
    for (const file of readdirSync(join(FIXTURES_DIR, run)).sort()) {
      if (!file.endsWith('.json')) continue;
      const parsed = JSON.parse(readFileSync(join(FIXTURES_DIR, run, file), 'utf8')) as Omit<CapturedRequest, 'run' | 'file'>;
      out.push({ run, file, ...parsed });
    }
  }
  return out;
}

export function messageRequests(): CapturedRequest[] {
  return capturedRequests().filter((r) => r.method === 'POST' && r.url.split('?')[0] === '/v1/messages');
}

export function capture(run: string, seq: number): CapturedRequest {
  const found = capturedRequests().find((r) => r.run === run && r.seq === seq);
  if (found === undefined) throw new Error(`no fixture ${run}/${seq}`);
  return found;
}
