import { describe, expect, it } from 'vitest';
import { modelLabel, shortModel } from '../../src/core/model-name.js';

describe('model names where space is short', () => {
  it.each([
    ['mlx-community/Qwen3-Coder-30B-A3B-4bit', 'Qwen3-Coder-30B-A3B-4bit'],
    ['/home/u/models/smollm2-135m-instruct/', 'smollm2-135m-instruct'],
    ['qwen3-coder:30b', 'qwen3-coder:30b'],
    ['/', '/'],
  ])('shortModel(%j) is %j', (model, short) => expect(shortModel(model)).toBe(short));

  it.each([
    ['/work/.cache/models/smollm2-135m-instruct', 'smollm2-135m-instruct'],
    ['~/models/qwen', 'qwen'],
    ['./models/qwen/', 'qwen'],
    ['mlx-community/Qwen3-Coder-30B-A3B-4bit', 'mlx-community/Qwen3-Coder-30B-A3B-4bit'],
    ['qwen/qwen3-4b', 'qwen/qwen3-4b'],
  ])('modelLabel(%j) is %j: a path by its folder, an id as served', (model, label) => expect(modelLabel(model)).toBe(label));
});
