/**
 * `anyclaude dashboard`: the live dashboard of a running `anyclaude up`, from another terminal,
 * backend switching included. It reads the instance's state over its proxy (key from the run file).
 */
import { AnyclaudeError } from '../core/errors.js';
import type { DashboardLoader } from '../run/front-end.js';
import { connectRemoteStore } from '../run/remote-store.js';
import { chooseInstance, findRunningInstances, homeFromEnv } from '../run/run-file.js';

export const DASHBOARD_DESCRIPTION = 'show the live dashboard of the running anyclaude (from another terminal)';

export async function runDashboardCommand(load: DashboardLoader | undefined): Promise<number> {
  if (load === undefined) throw new AnyclaudeError('NO_DASHBOARD', 'this build of anyclaude has no dashboard', { fix: 'run `anyclaude status` for the same information as text' });
  if (process.stdin.isTTY !== true || process.stdout.isTTY !== true) {
    throw new AnyclaudeError('NOT_A_TERMINAL', 'the dashboard needs an interactive terminal', { fix: 'run `anyclaude status` (or `anyclaude status --json`) when output goes to a pipe or file' });
  }
  const home = homeFromEnv();
  const instance = chooseInstance(await findRunningInstances(home));
  if (instance === undefined) {
    throw new AnyclaudeError('NOT_RUNNING', `no anyclaude is running (no live instance in ${home}/run/)`, { fix: 'start one with `anyclaude up`' });
  }
  const store = connectRemoteStore({ url: instance.url, key: instance.key });
  await store.ready;
  const problem = store.error();
  if (problem !== undefined) {
    store.close();
    throw new AnyclaudeError('NOT_ANSWERING', `the anyclaude at ${instance.url} (pid ${instance.pid}) does not answer: ${problem}`, { fix: 'check it is still running (`anyclaude status`), or start a new one with `anyclaude up`' });
  }
  try {
    await (await load()).attach(store);
  } finally {
    store.close();
  }
  return 0;
}
