/** Wire types of the OpenAI Chat Completions API, as far as anyclaude writes or reads them. */

export type ChatContentPart =
  | { type: 'text'; text: string }
  | { type: 'image_url'; image_url: { url: string } };

export interface ChatToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export type ChatMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string | ChatContentPart[] }
  | { role: 'assistant'; content: string | null; tool_calls?: ChatToolCall[]; reasoning_content?: string }
  | { role: 'tool'; tool_call_id: string; content: string };

export interface ChatTool {
  type: 'function';
  function: { name: string; description?: string; parameters: Record<string, unknown> };
}

export type ChatToolChoice = 'auto' | 'required' | 'none' | { type: 'function'; function: { name: string } };

export interface ChatCompletionRequest {
  model: string;
  messages: ChatMessage[];
  max_tokens: number;
  stream: boolean;
  stream_options?: { include_usage: boolean };
  tools?: ChatTool[];
  tool_choice?: ChatToolChoice;
  parallel_tool_calls?: boolean;
  stop?: string[];
  temperature?: number;
  top_p?: number;
  top_k?: number;
  chat_template_kwargs?: Record<string, unknown>;
  response_format?: { type: 'json_schema'; json_schema: { name: string; schema: Record<string, unknown> } };
}

export interface ChatUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
}

/** llama-server attaches these to every chunk/response. */
export interface LlamaTimings {
  cache_n?: number;
  prompt_n?: number;
  prompt_ms?: number;
  predicted_n?: number;
  predicted_ms?: number;
}

export interface ChatToolCallDelta {
  index?: number;
  id?: string;
  type?: 'function';
  function?: { name?: string; arguments?: string };
}

export interface ChatChunkChoice {
  index: number;
  delta: {
    role?: string;
    content?: string | null;
    /** LM Studio, llama-server, DeepSeek style. */
    reasoning_content?: string | null;
    /** mlx_lm.server, Ollama, vLLM style. */
    reasoning?: string | null;
    tool_calls?: ChatToolCallDelta[];
  };
  finish_reason?: 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call' | null;
}

export interface ChatCompletionChunk {
  id?: string;
  object?: string;
  model?: string;
  choices: ChatChunkChoice[];
  usage?: ChatUsage | null;
  timings?: LlamaTimings;
}

export interface ChatCompletion {
  id?: string;
  model?: string;
  choices: Array<{
    index: number;
    message: {
      role: 'assistant';
      content: string | null;
      reasoning_content?: string | null;
      reasoning?: string | null;
      tool_calls?: ChatToolCall[];
    };
    finish_reason: ChatChunkChoice['finish_reason'];
  }>;
  usage?: ChatUsage;
  timings?: LlamaTimings;
}
