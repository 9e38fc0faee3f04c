/**
 * The models people ask for by name, and what each backend needs to get them. Data only: it is
 * validated by catalog.ts (a .ts file rather than JSON, so `tsc` ships it in dist/).
 *
 * - `mlx.repo`: the 4-bit MLX repository mlx-lm downloads (gpt-oss: MXFP4 experts with 8-bit
 *   rest, its native format). `mlx.sizeBytes`: that repository's size on disk, APPROXIMATE for
 *   every entry (parameters × ~4.5 bits for MLX 4-bit with group size 64, checked against the
 *   sizes the Hub shows where known: 17.2 GB for Qwen3-Coder-30B, 12.1 GB for gpt-oss-20b); the
 *   download itself uses the exact sizes the Hub reports.
 * - `gguf`: a llama.cpp repository and file (Q4_K_M unless the model ships another 4-bit format);
 *   for split files, the first part.
 * - `lmstudio`: the key for `lms get`; `ollama`: the tag for `ollama pull`. Left out where no
 *   official one is known.
 * - `smaller`: the entry to suggest when this one does not fit the machine.
 * - `aliases`: other names it answers to. Not Ollama tags (`qwen3-coder:30b`): those name what an
 *   Ollama server serves, and stay the server's.
 */
export const CATALOG_DATA = [
  {
    name: 'Qwen3-Coder-30B',
    aliases: ['Qwen3-Coder-30B-A3B', 'Qwen3-Coder-30B-A3B-Instruct'],
    description: 'Qwen3 Coder 30B-A3B Instruct (MoE, 3B active): fast and strong at agentic coding',
    mlx: { repo: 'mlx-community/Qwen3-Coder-30B-A3B-Instruct-4bit', sizeBytes: 17_200_000_000 },
    gguf: { repo: 'unsloth/Qwen3-Coder-30B-A3B-Instruct-GGUF', file: 'Qwen3-Coder-30B-A3B-Instruct-Q4_K_M.gguf' },
    lmstudio: 'qwen/qwen3-coder-30b',
    ollama: 'qwen3-coder:30b',
    contextWindow: 262_144,
    tools: true,
    smaller: 'Qwen2.5-Coder-14B',
  },
  {
    name: 'Qwen3-Coder-480B',
    aliases: ['Qwen3-Coder-480B-A35B', 'Qwen3-Coder-480B-A35B-Instruct'],
    description: 'Qwen3 Coder 480B-A35B Instruct (MoE, 35B active): the largest Qwen coder, for 512 GB machines',
    mlx: { repo: 'mlx-community/Qwen3-Coder-480B-A35B-Instruct-4bit', sizeBytes: 270_000_000_000 },
    // Split in a Q4_K_M/ folder; the part count is approximate.
    gguf: { repo: 'unsloth/Qwen3-Coder-480B-A35B-Instruct-GGUF', file: 'Q4_K_M/Qwen3-Coder-480B-A35B-Instruct-Q4_K_M-00001-of-00006.gguf' },
    lmstudio: 'qwen/qwen3-coder-480b',
    ollama: 'qwen3-coder:480b',
    contextWindow: 262_144,
    tools: true,
    smaller: 'Qwen3-Coder-30B',
  },
  {
    name: 'Qwen2.5-Coder-32B',
    aliases: ['Qwen2.5-Coder-32B-Instruct'],
    description: 'Qwen2.5 Coder 32B Instruct (dense)',
    mlx: { repo: 'mlx-community/Qwen2.5-Coder-32B-Instruct-4bit', sizeBytes: 18_400_000_000 },
    gguf: { repo: 'bartowski/Qwen2.5-Coder-32B-Instruct-GGUF', file: 'Qwen2.5-Coder-32B-Instruct-Q4_K_M.gguf' },
    lmstudio: 'qwen/qwen2.5-coder-32b',
    ollama: 'qwen2.5-coder:32b',
    contextWindow: 32_768,
    tools: true,
    smaller: 'Qwen2.5-Coder-14B',
  },
  {
    name: 'Qwen2.5-Coder-14B',
    aliases: ['Qwen2.5-Coder-14B-Instruct'],
    description: 'Qwen2.5 Coder 14B Instruct (dense)',
    mlx: { repo: 'mlx-community/Qwen2.5-Coder-14B-Instruct-4bit', sizeBytes: 8_300_000_000 },
    gguf: { repo: 'bartowski/Qwen2.5-Coder-14B-Instruct-GGUF', file: 'Qwen2.5-Coder-14B-Instruct-Q4_K_M.gguf' },
    lmstudio: 'qwen/qwen2.5-coder-14b',
    ollama: 'qwen2.5-coder:14b',
    contextWindow: 32_768,
    tools: true,
    smaller: 'Qwen2.5-Coder-7B',
  },
  {
    name: 'Qwen2.5-Coder-7B',
    aliases: ['Qwen2.5-Coder-7B-Instruct'],
    description: 'Qwen2.5 Coder 7B Instruct (dense): the smallest that still calls tools',
    mlx: { repo: 'mlx-community/Qwen2.5-Coder-7B-Instruct-4bit', sizeBytes: 4_300_000_000 },
    gguf: { repo: 'bartowski/Qwen2.5-Coder-7B-Instruct-GGUF', file: 'Qwen2.5-Coder-7B-Instruct-Q4_K_M.gguf' },
    lmstudio: 'qwen/qwen2.5-coder-7b',
    ollama: 'qwen2.5-coder:7b',
    contextWindow: 32_768,
    tools: true,
  },
  {
    name: 'GLM-4.5-Air',
    aliases: ['GLM-4.5-Air-4bit'],
    description: 'GLM 4.5 Air (MoE, 106B, 12B active)',
    mlx: { repo: 'mlx-community/GLM-4.5-Air-4bit', sizeBytes: 60_000_000_000 },
    // Split in a Q4_K_M/ folder; the part count is approximate.
    gguf: { repo: 'unsloth/GLM-4.5-Air-GGUF', file: 'Q4_K_M/GLM-4.5-Air-Q4_K_M-00001-of-00002.gguf' },
    lmstudio: 'zai-org/glm-4.5-air',
    contextWindow: 131_072,
    tools: true,
    smaller: 'Qwen3-Coder-30B',
  },
  {
    name: 'gpt-oss-120b',
    aliases: [],
    description: "OpenAI's gpt-oss 120B (MoE, 5.1B active, MXFP4)",
    mlx: { repo: 'mlx-community/gpt-oss-120b-MXFP4-Q8', sizeBytes: 65_000_000_000 },
    gguf: { repo: 'ggml-org/gpt-oss-120b-GGUF', file: 'gpt-oss-120b-mxfp4-00001-of-00003.gguf' },
    lmstudio: 'openai/gpt-oss-120b',
    ollama: 'gpt-oss:120b',
    contextWindow: 131_072,
    tools: true,
    smaller: 'gpt-oss-20b',
  },
  {
    name: 'gpt-oss-20b',
    aliases: [],
    description: "OpenAI's gpt-oss 20B (MoE, 3.6B active, MXFP4)",
    mlx: { repo: 'mlx-community/gpt-oss-20b-MXFP4-Q8', sizeBytes: 12_100_000_000 },
    gguf: { repo: 'ggml-org/gpt-oss-20b-GGUF', file: 'gpt-oss-20b-mxfp4.gguf' },
    lmstudio: 'openai/gpt-oss-20b',
    ollama: 'gpt-oss:20b',
    contextWindow: 131_072,
    tools: true,
    smaller: 'Qwen2.5-Coder-7B',
  },
  {
    name: 'Devstral',
    aliases: ['Devstral-Small', 'Devstral-Small-2507'],
    description: "Mistral's Devstral Small 1.1 (24B, July 2025), made for coding agents",
    mlx: { repo: 'mlx-community/Devstral-Small-2507-4bit', sizeBytes: 13_300_000_000 },
    gguf: { repo: 'unsloth/Devstral-Small-2507-GGUF', file: 'Devstral-Small-2507-Q4_K_M.gguf' },
    lmstudio: 'mistralai/devstral-small-2507',
    ollama: 'devstral:24b',
    contextWindow: 131_072,
    tools: true,
    smaller: 'Qwen2.5-Coder-14B',
  },
  {
    name: 'DeepSeek-Coder-V2-Lite',
    aliases: ['DeepSeek-Coder-V2-Lite-Instruct'],
    description: 'DeepSeek Coder V2 Lite Instruct (MoE, 16B, 2.4B active); no tool calls',
    mlx: { repo: 'mlx-community/DeepSeek-Coder-V2-Lite-Instruct-4bit-mlx', sizeBytes: 8_800_000_000 },
    gguf: { repo: 'bartowski/DeepSeek-Coder-V2-Lite-Instruct-GGUF', file: 'DeepSeek-Coder-V2-Lite-Instruct-Q4_K_M.gguf' },
    ollama: 'deepseek-coder-v2:16b',
    contextWindow: 163_840,
    tools: false,
    smaller: 'Qwen2.5-Coder-7B',
  },
] as const;
