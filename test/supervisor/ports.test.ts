import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AnyclaudeError } from '../../src/core/errors.js';
import { pickPort } from '../../src/supervisor/ports.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function occupy(port: number, host: string): Promise<void> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
}

describe('pickPort', () => {
  it('returns a free port on 127.0.0.1 and honours a free preferred port, even one it just handed out', async () => {
    const port = await pickPort();
    expect(port).toBeGreaterThan(0);
    expect(await pickPort(port)).toBe(port);
    expect(await pickPort(port, { strict: true })).toBe(port);
    await occupy(port, '127.0.0.1');
  });

  it('skips an occupied preferred port, or names it and the fix when strict', async () => {
    const port = await pickPort();
    await occupy(port, '127.0.0.1');
    const other = await pickPort(port);
    expect(other).not.toBe(port);
    await occupy(other, '127.0.0.1');
    const error = await pickPort(port, { strict: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AnyclaudeError);
    expect((error as AnyclaudeError).code).toBe('PORT_IN_USE');
    expect((error as AnyclaudeError).message).toContain(String(port));
    expect((error as AnyclaudeError).fix).toContain(String(port));
  });

  it('sees a server listening on all interfaces as occupying the port', async () => {
    const port = await pickPort();
    await occupy(port, '0.0.0.0');
    expect(await pickPort(port)).not.toBe(port);
  });
});
