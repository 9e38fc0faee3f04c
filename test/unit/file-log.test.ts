/** anyclaude's log file at exit: lines logged after close() (servers stopping beside it) are kept, not reported as a failure. */
import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileLog } from '../../src/cli/file-log.js';
import { CoreEvents } from '../../src/core/events.js';

describe('FileLog', () => {
  it('keeps the lines that come after close(), in order, and says nothing about them', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'anyclaude-filelog-')), 'anyclaude.log');
    const events = new CoreEvents();
    const warnings: string[] = [];
    events.on('log', (e) => {
      if (e.level === 'warn') warnings.push(e.message);
    });
    const log = new FileLog(path);
    log.attach(events, () => '');
    events.log('info', 'up', 'first');
    // Exit handlers run side by side: a server stops while the log is closing.
    const closing = log.close();
    events.emit('backend:state', { backend: 'mlx-lm', state: 'stopped', reason: 'mlx-lm is stopped' });
    await closing;
    await new Promise((resolve) => setTimeout(resolve, 50));
    const lines = (await readFile(path, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/info {2}up: first$/);
    expect(lines[1]).toMatch(/state mlx-lm: stopped \(mlx-lm is stopped\)$/);
    expect(warnings).toEqual([]);
  });
});
