/** The replay options change only what they name; the prefix warmed is the one up would remember. */
import { describe, expect, it } from 'vitest';
import { replayBody, stablePrefixOf } from '../../src/bench/replay-body.js';
import { messageRequests } from '../support/fixtures.js';
import type { MessagesBody } from '../../src/bench/replay-input.js';

const turns = messageRequests().map((r) => r.body as MessagesBody);
const withTools = turns.find((b) => Array.isArray(b.tools) && b.tools.length > 0)!;

describe('replayBody', () => {
  it('caps max_tokens and keeps a smaller one', () => {
    const sent = withTools.max_tokens as number;
    expect(replayBody(withTools, { maxTokens: 8 }).max_tokens).toBe(8);
    expect(replayBody(withTools, { maxTokens: sent + 1 }).max_tokens).toBe(sent);
  });

  it('--strip-tools drops tools and tool_choice and nothing else, in the same key order', () => {
    const stripped = replayBody({ ...withTools, tool_choice: { type: 'auto' } }, { stripTools: true });
    expect(stripped.tools).toBeUndefined();
    expect(stripped.tool_choice).toBeUndefined();
    const { tools: _t, ...rest } = withTools;
    expect(JSON.stringify(stripped)).toBe(JSON.stringify(rest));
  });

  it('without options, the body is byte-identical', () => {
    for (const body of turns) expect(JSON.stringify(replayBody(body, {}))).toBe(JSON.stringify(body));
  });

  it('drops a thinking budget the cap would make invalid', () => {
    const body = { ...withTools, thinking: { type: 'enabled', budget_tokens: 1024 } };
    expect(replayBody(body, { maxTokens: 64 }).thinking).toBeUndefined();
    expect(replayBody(body, { maxTokens: 4096 }).thinking).toEqual(body.thinking);
  });
});

describe('stablePrefixOf', () => {
  it('is the system prompt and tools without cache_control', () => {
    const prefix = stablePrefixOf(withTools)!;
    expect(JSON.stringify(prefix)).not.toContain('cache_control');
    expect(prefix.tools.map((t) => t.name)).toEqual((withTools.tools as Array<{ name: string }>).map((t) => t.name));
    expect(Array.isArray(prefix.system) ? prefix.system.map((b) => b.text) : prefix.system).toEqual(
      (withTools.system as Array<{ text: string }>).map((b) => b.text),
    );
  });

  it('has no tools after --strip-tools, and is undefined without a system prompt', () => {
    expect(stablePrefixOf(replayBody(withTools, { stripTools: true }))?.tools).toEqual([]);
    const { system: _s, ...noSystem } = withTools;
    expect(stablePrefixOf(noSystem as MessagesBody)).toBeUndefined();
  });
});
