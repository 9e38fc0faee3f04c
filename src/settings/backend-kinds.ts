/** The built-in backend kinds and the other names people write for them (the predecessor's included). */
import { BACKEND_NAMES, type BackendName } from '../backends/backend.js';

/** Names people use for backends, including the predecessor's. */
export const BACKEND_SPELLINGS: Readonly<Record<string, BackendName>> = {
  mlx: 'mlx-lm',
  mlx_lm: 'mlx-lm',
  'lm-studio': 'lmstudio',
  llamacpp: 'llama-cpp',
  'llama.cpp': 'llama-cpp',
  'llama-server': 'llama-cpp',
  anthropic: 'claude',
};

/** The kind a built-in name or spelling means (any case); undefined for anything else, aliases included. */
export function backendKind(name: string): BackendName | undefined {
  const text = name.trim().toLowerCase();
  return BACKEND_NAMES.includes(text as BackendName) ? (text as BackendName) : BACKEND_SPELLINGS[text];
}
