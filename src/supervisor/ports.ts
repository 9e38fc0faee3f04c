/** Choosing the port a server will listen on, before it is started. */
import { createConnection, createServer } from 'node:net';
import getPort from 'get-port';
import { AnyclaudeError } from '../core/errors.js';

const HOST = '127.0.0.1';

/**
 * The preferred port when it is free, else (unless `strict`) any free port on 127.0.0.1.
 * With `strict`, a taken preferred port is an error naming the port and the fix.
 */
export async function pickPort(preferred?: number, options: { strict?: boolean } = {}): Promise<number> {
  if (preferred !== undefined) {
    // Checked here rather than by get-port, which also skips ports it handed out in the last
    // 15–30 s: a server restarted on its own port would otherwise be moved.
    if (await isFree(preferred)) return preferred;
    if (options.strict === true) {
      throw new AnyclaudeError('PORT_IN_USE', `port ${preferred} on ${HOST} is already in use`, {
        fix: `stop whatever listens there (lsof -nP -iTCP:${preferred} -sTCP:LISTEN shows it), or choose another port`,
      });
    }
  }
  return getPort({ host: HOST, ...(preferred === undefined ? {} : { exclude: [preferred] }) });
}

/**
 * Free means nothing answers on it and we can bind it. The connect check matters on macOS, where
 * binding 127.0.0.1 succeeds even while another program listens on 0.0.0.0 at the same port.
 */
async function isFree(port: number): Promise<boolean> {
  if (await answers(port)) return false;
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host: HOST, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: HOST });
    const done = (result: boolean): void => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
