/**
 * What an OpenAI-compatible server accepts. Translation asks the profile instead of
 * branching on server names, so a new backend is one table row.
 */
export interface UpstreamProfile {
  /** How `role: "system"` messages inside `messages` are sent: kept in place, or as a marked user turn
   * for chat templates that raise on a system role after the first message (Gemma, Mistral). */
  midConversationSystem: 'system' | 'user';
  /** mlx_lm.server ignores `tool_choice`; sending it is harmless but misleading in traces. */
  toolChoice: boolean;
  topK: boolean;
  /** `response_format: json_schema` (Claude Code's title request asks for JSON). */
  responseFormat: boolean;
  /** How the Anthropic `thinking` switch reaches the model. */
  thinkingSwitch: 'chat_template_kwargs' | 'none';
  /** Schema keywords the server rejects; removed from every tool's parameters. */
  schemaStripKeys: readonly string[];
  /** Content parts may carry images (mlx_lm.server takes text parts only). */
  images: boolean;
  /** Scan text for tool calls written as text (servers without a tool parser for the model). */
  textToolCalls: boolean;
}

export type UpstreamFlavor = 'mlx-lm' | 'mlx-omni' | 'llama-cpp' | 'lmstudio' | 'ollama' | 'openai';

const base: UpstreamProfile = {
  midConversationSystem: 'system',
  toolChoice: true,
  topK: false,
  responseFormat: true,
  thinkingSwitch: 'chat_template_kwargs',
  schemaStripKeys: [],
  images: true,
  textToolCalls: true,
};

export const UPSTREAM_PROFILES: Readonly<Record<UpstreamFlavor, UpstreamProfile>> = {
  'mlx-lm': { ...base, toolChoice: false, topK: true, responseFormat: false, images: false },
  'mlx-omni': { ...base, topK: true },
  'llama-cpp': { ...base, topK: true },
  lmstudio: { ...base, topK: true },
  ollama: { ...base, thinkingSwitch: 'none' },
  openai: base,
};
