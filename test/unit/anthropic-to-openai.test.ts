import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { MessagesRequest, ContentBlock, MessageParam } from '../../src/anthropic/types.js';
import { anthropicToOpenAI, joinTexts, systemPrompt, upstreamBody } from '../../src/translate/anthropic-to-openai.js';
import { UPSTREAM_PROFILES, type UpstreamProfile } from '../../src/translate/upstream-profile.js';
import { capture } from '../support/fixtures.js';

const profile = UPSTREAM_PROFILES.openai;
const translate = (request: Partial<MessagesRequest>, p: UpstreamProfile = profile) =>
  anthropicToOpenAI({ model: 'claude', max_tokens: 100, messages: [], ...request }, { model: 'served', profile: p });

describe('system prompt', () => {
  it('drops the billing block (first block only, anchored) and joins the rest', () => {
    expect(
      systemPrompt([
        { type: 'text', text: 'x-anthropic-billing-header: cc_version=2.1.197.8a5; cc_entrypoint=sdk-cli;' },
        { type: 'text', text: 'You are a Claude agent.', cache_control: { type: 'ephemeral' } },
        { type: 'text', text: '\nMore rules.' },
      ]),
    ).toBe('You are a Claude agent.\nMore rules.');
    expect(systemPrompt([{ type: 'text', text: 'Intro' }, { type: 'text', text: 'x-anthropic-billing-header: kept when not first' }])).toBe(
      'Intro\nx-anthropic-billing-header: kept when not first',
    );
    expect(systemPrompt([{ type: 'text', text: 'see x-anthropic-billing-header: inside' }])).toBe('see x-anthropic-billing-header: inside');
  });

  it('joins adjacent texts without merging words', () => {
    expect(joinTexts(['a', 'b'])).toBe('a\nb');
    expect(joinTexts(['a\n\n', 'b'])).toBe('a\n\nb');
    expect(joinTexts(['', 'b'])).toBe('b');
  });
});

describe('messages', () => {
  it('keeps mid-conversation system messages in place', () => {
    const { request } = translate({
      system: 'S',
      messages: [
        { role: 'user', content: 'u1' },
        { role: 'system', content: 'agents list' },
        { role: 'assistant', content: 'a1' },
      ],
    });
    expect(request.messages).toEqual([
      { role: 'system', content: 'S' },
      { role: 'user', content: 'u1' },
      { role: 'system', content: 'agents list' },
      { role: 'assistant', content: 'a1' },
    ]);
  });

  it('marks them as a user turn for templates that reject a late system role', () => {
    const { request } = translate(
      { messages: [{ role: 'user', content: 'u1' }, { role: 'system', content: 'agents list' }] },
      { ...profile, midConversationSystem: 'user' },
    );
    expect(request.messages[1]).toEqual({ role: 'user', content: '<system-reminder>\nagents list\n</system-reminder>' });
  });

  it('maps tool_use and tool_result with ids preserved, errors marked, order kept', () => {
    const { request } = translate({
      messages: [
        { role: 'user', content: 'go' },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'hmm', signature: 's' },
            { type: 'text', text: 'Running.' },
            { type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'ls' } },
            { type: 'tool_use', id: 'toolu_2', name: 'Read', input: { path: 'a' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: 'a\nb' },
            { type: 'tool_result', tool_use_id: 'toolu_2', content: [{ type: 'text', text: 'no such file' }], is_error: true },
            { type: 'text', text: 'and now?' },
          ],
        },
      ],
    });
    expect(request.messages).toEqual([
      { role: 'user', content: 'go' },
      {
        role: 'assistant',
        content: 'Running.',
        tool_calls: [
          { id: 'toolu_1', type: 'function', function: { name: 'Bash', arguments: '{"command":"ls"}' } },
          { id: 'toolu_2', type: 'function', function: { name: 'Read', arguments: '{"path":"a"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'toolu_1', content: 'a\nb' },
      { role: 'tool', tool_call_id: 'toolu_2', content: '[tool error]\nno such file' },
      { role: 'user', content: 'and now?' },
    ]);
  });

  it('sends images as image_url parts, also from tool results, and text instead where the backend takes none', () => {
    const image: ContentBlock = { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } };
    const messages: MessageParam[] = [
      { role: 'user', content: [{ type: 'text', text: 'look' }, image, { type: 'image', source: { type: 'url', url: 'https://x/y.png' } }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'Shot', input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: 'shot taken' }, image as never] }] },
    ];
    const { request } = translate({ messages });
    expect(request.messages[0]).toEqual({
      role: 'user',
      content: [
        { type: 'text', text: 'look' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
        { type: 'image_url', image_url: { url: 'https://x/y.png' } },
      ],
    });
    expect(request.messages[2]).toEqual({ role: 'tool', tool_call_id: 't1', content: 'shot taken' });
    expect(request.messages[3]).toEqual({
      role: 'user',
      content: [{ type: 'text', text: 'Image(s) from tool result t1:' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }],
    });
    const textOnly = translate({ messages }, UPSTREAM_PROFILES['mlx-lm']).request;
    expect(textOnly.messages[0]).toEqual({ role: 'user', content: 'look\n[image omitted: this backend accepts text only]\n[image omitted: this backend accepts text only]' });
  });
});

describe('tools and options', () => {
  it('maps tools in order, keeping schemas unless the backend rejects a keyword', () => {
    const tools = [
      { name: 'B', description: 'b', input_schema: { $schema: 'x', type: 'object', properties: {} } },
      { name: 'A', input_schema: { type: 'object' } },
      { name: 'web_search', type: 'web_search_20250305' } as never,
    ];
    expect(translate({ tools }).request.tools).toEqual([
      { type: 'function', function: { name: 'B', description: 'b', parameters: { $schema: 'x', type: 'object', properties: {} } } },
      { type: 'function', function: { name: 'A', parameters: { type: 'object' } } },
    ]);
    const stripped = translate({ tools }, { ...profile, schemaStripKeys: ['$schema'] }).request.tools;
    expect(stripped?.[0]?.function.parameters).toEqual({ type: 'object', properties: {} });
  });

  it.each([
    [{ type: 'auto' }, 'auto'],
    [{ type: 'any' }, 'required'],
    [{ type: 'none' }, 'none'],
    [{ type: 'tool', name: 'Bash' }, { type: 'function', function: { name: 'Bash' } }],
  ] as const)('maps tool_choice %j', (choice, expected) => {
    const tools = [{ name: 'Bash', input_schema: { type: 'object' } }];
    expect(translate({ tools, tool_choice: choice }).request.tool_choice).toEqual(expected);
  });

  it('maps sampling, stops, thinking and the JSON output format; always streams with usage', () => {
    const { request } = translate({
      stop_sequences: ['END'],
      temperature: 0.2,
      top_p: 0.9,
      top_k: 40,
      thinking: { type: 'disabled' },
      output_config: { format: { type: 'json_schema', schema: { type: 'object' } } },
    });
    expect(request).toMatchObject({
      model: 'served',
      stream: true,
      stream_options: { include_usage: true },
      stop: ['END'],
      temperature: 0.2,
      top_p: 0.9,
      chat_template_kwargs: { enable_thinking: false },
      response_format: { type: 'json_schema', json_schema: { name: 'output', schema: { type: 'object' } } },
    });
    expect(request).not.toHaveProperty('top_k');
    expect(translate({ top_k: 40 }, UPSTREAM_PROFILES['mlx-lm']).request.top_k).toBe(40);
    expect(translate({ thinking: { type: 'adaptive' } }).request.chat_template_kwargs).toEqual({ enable_thinking: true });
  });

  it('puts the prompt first in the body and max_tokens after it', () => {
    const translated = translate({ system: 'S', messages: [{ role: 'user', content: 'hi' }], tools: [{ name: 'A', input_schema: {} }] });
    const body = upstreamBody(translated, 77);
    expect(body.indexOf('"messages"')).toBe(1);
    expect(JSON.parse(body)).toMatchObject({ max_tokens: 77, model: 'served', messages: [{ role: 'system' }, { role: 'user' }] });
  });

  it('translates the captured 76 KB request without touching what the model reads', () => {
    const captured = capture('print-tool-turn', 2).body as unknown as MessagesRequest;
    const { request } = anthropicToOpenAI(captured, { model: 'served', profile });
    expect(request.tools).toHaveLength(captured.tools!.length);
    const raw = JSON.stringify(request);
    expect(raw).not.toContain('cache_control');
    expect(raw).not.toContain('billing-header');
    expect(request.tools!.map((t) => t.function.name)).toEqual(captured.tools!.map((t) => t.name));
  });
});

describe('properties', () => {
  const text = fc.string({ maxLength: 30 });
  const block: fc.Arbitrary<ContentBlock> = fc.oneof(
    text.map((t) => ({ type: 'text' as const, text: t })),
    fc.record({ type: fc.constant('tool_use' as const), id: fc.string({ minLength: 1, maxLength: 8 }), name: fc.string({ minLength: 1, maxLength: 8 }), input: fc.jsonValue() }),
    fc.record({
      type: fc.constant('tool_result' as const),
      tool_use_id: fc.string({ minLength: 1, maxLength: 8 }),
      content: fc.oneof(text, fc.array(text.map((t) => ({ type: 'text' as const, text: t })), { maxLength: 3 })),
      is_error: fc.boolean(),
    }),
    fc.record({ type: fc.constant('thinking' as const), thinking: text, signature: text }),
    fc.constant({ type: 'image' as const, source: { type: 'base64' as const, media_type: 'image/png', data: 'AA' } }),
  );
  const message: fc.Arbitrary<MessageParam> = fc.record({
    role: fc.constantFrom('user' as const, 'assistant' as const, 'system' as const),
    content: fc.oneof(text, fc.array(block, { maxLength: 5 })),
  });
  const request = fc.record({
    messages: fc.array(message, { maxLength: 8 }),
    system: fc.option(fc.oneof(text, fc.array(text.map((t) => ({ type: 'text' as const, text: t })), { maxLength: 3 })), { nil: undefined }),
  });

  it('translates any valid request without throwing, into JSON that parses', () => {
    fc.assert(
      fc.property(request, fc.constantFrom(...Object.values(UPSTREAM_PROFILES)), (req, p) => {
        const translated = translate(req, p);
        const parsed = JSON.parse(upstreamBody(translated, 10)) as { messages: unknown[] };
        expect(parsed.messages).toEqual(JSON.parse(JSON.stringify(translated.request.messages)));
      }),
      { numRuns: 300 },
    );
  });

  it('appending messages never changes the bytes of earlier ones', () => {
    fc.assert(
      fc.property(request, fc.array(message, { minLength: 1, maxLength: 4 }), (req, more) => {
        const before = translate(req).segments;
        const after = translate({ ...req, messages: [...req.messages, ...more] }).segments;
        // A trailing user turn may absorb nothing from earlier turns: every earlier segment is unchanged.
        expect(after.slice(0, before.length)).toEqual(before);
      }),
      { numRuns: 300 },
    );
  });
});
