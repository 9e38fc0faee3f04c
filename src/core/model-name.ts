/** How a model is named where space is short: the status line, bench reports, `traces list`. */

/** `mlx-community/Qwen3-Coder-30B-A3B-4bit` → `Qwen3-Coder-30B-A3B-4bit`; a path → its last part. */
export function shortModel(model: string): string {
  const trimmed = model.replace(/\/+$/, '');
  const last = trimmed.slice(trimmed.lastIndexOf('/') + 1);
  return last === '' ? model : last;
}

/** A local path by its folder name (the rest is the user's file system); a served or Hugging Face id as is. */
export function modelLabel(model: string): string {
  return /^[/~.]/.test(model) ? shortModel(model) : model;
}
