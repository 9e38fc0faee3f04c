/**
 * Base URLs as people write them reach the same endpoints: `anyclaude proxy --upstream FORM`
 * (the real CLI) in front of an OpenAI-compatible server and in front of a native Messages server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/proxy-harness.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../support/scripted-upstream.js';
import { startProxyProcess } from '../support/cli.js';

const FORMS: ReadonlyArray<readonly [string, (base: string) => string]> = [
  ['http://host:port', (b) => b],
  ['http://host:port/', (b) => `${b}/`],
  ['http://host:port/v1', (b) => `${b}/v1`],
  ['http://host:port/v1/', (b) => `${b}/v1/`],
  ['…/v1/chat/completions', (b) => `${b}/v1/chat/completions`],
  ['…/v1/messages', (b) => `${b}/v1/messages`],
  ['host:port/v1 (no scheme)', (b) => `${b.replace(/^http:\/\//, '')}/v1`],
];

async function ask(env: { ANTHROPIC_BASE_URL: string; ANTHROPIC_API_KEY: string }): Promise<{ status: number; text: string }> {
  const response = await fetch(`${env.ANTHROPIC_BASE_URL}/v1/messages`, {
    method: 'POST',
    headers: { 'x-api-key': env.ANTHROPIC_API_KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'claude-x', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] }),
  });
  return { status: response.status, text: await response.text() };
}

describe('--upstream in every form people write', () => {
  let openai: ScriptedUpstream;
  let native: Harness;
  beforeAll(async () => {
    openai = await startScriptedUpstream({ flavor: 'mlx-lm', modelId: 'served' });
    openai.setDefault({ kind: 'text', text: 'from openai' });
    // A second anyclaude proxy plays the native Messages server (as llama-server or LM Studio would).
    native = await startHarness({ flavor: 'llama-server' });
    native.upstream.setDefault({ kind: 'text', text: 'from native' });
  });
  afterAll(async () => {
    await openai.close();
    await native.close();
  });

  it.each(FORMS)('openai protocol: %s', async (_label, form) => {
    const before = openai.chatRequests.length;
    const proxy = await startProxyProcess(['proxy', '--upstream', form(openai.url), '--flavor', 'mlx-lm']);
    try {
      const reply = await ask(proxy.env);
      expect(reply.status).toBe(200);
      expect(reply.text).toContain('from openai');
      expect(openai.chatRequests.length).toBe(before + 1);
      expect(openai.chatRequests.at(-1)?.url).toBe('/v1/chat/completions');
      // The model was discovered through the same normalised URL.
      expect((openai.chatRequests.at(-1)?.body as { model: string }).model).toBe('served');
    } finally {
      proxy.child.kill('SIGTERM');
      await proxy.child;
    }
  });

  it.each(FORMS)('anthropic protocol: %s', async (_label, form) => {
    const before = native.upstream.chatRequests.length;
    const proxy = await startProxyProcess(['proxy', '--upstream', form(native.proxy.url), '--protocol', 'anthropic', '--model', 'native-model', '--api-key', native.proxy.key]);
    try {
      const reply = await ask(proxy.env);
      expect(reply.status).toBe(200);
      expect(reply.text).toContain('from native');
      expect(native.upstream.chatRequests.length).toBe(before + 1);
    } finally {
      proxy.child.kill('SIGTERM');
      await proxy.child;
    }
  });

  it('a 404 for the chat path says which URL was tried and how to fix the flag', async () => {
    // A base URL with a path the server does not have: every POST there is a 404.
    const proxy = await startProxyProcess(['proxy', '--upstream', `${openai.url}/wrong/v1`, '--flavor', 'mlx-lm', '--model', 'served']);
    try {
      const reply = await ask(proxy.env);
      expect(reply.status).toBe(404);
      const error = JSON.parse(reply.text) as { type: string; error: { type: string; message: string } };
      expect(error.type).toBe('error');
      expect(error.error.type).toBe('not_found_error');
      expect(error.error.message).toContain(`POST ${openai.url}/wrong/v1/chat/completions`);
      expect(error.error.message).toMatch(/--upstream/);
      expect(error.error.message).toMatch(/http:\/\/127\.0\.0\.1:1234\/v1/);
    } finally {
      proxy.child.kill('SIGTERM');
      await proxy.child;
    }
  });
});
