/**
 * Doctor against real sockets: a process holding --backend-port, a server that accepts and never
 * answers, HTTP servers speaking Ollama's and LM Studio's APIs with small contexts, and model
 * folders and GGUF files on disk.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { check, doctorJson, jsonServer, sandbox } from './support.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0)) await fn();
});

/** A separate node process listening on a free port: the holder doctor must name. */
async function listenerProcess(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['-e', "const s = require('net').createServer().listen(0, '127.0.0.1', () => console.log(s.address().port))", 'anyclaude-doctor-holder'], { stdio: ['ignore', 'pipe', 'ignore'] });
  cleanups.push(() => child.kill('SIGKILL'));
  const port = await new Promise<number>((resolve) => child.stdout?.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim()))));
  return { child, port };
}

describe('ports', () => {
  it('fails when another process holds the --backend-port a started server needs, naming it and its pid', async () => {
    const box = await sandbox();
    const { child, port } = await listenerProcess();
    const { run, json } = await doctorJson(box, ['--backend', 'mlx-lm', '--backend-port', String(port)]);
    const ports = check(json, 'ports');
    expect(ports.status).toBe('fail');
    expect(ports.detail).toContain(`${port} (--backend-port, where up starts mlx-lm): held by ${process.execPath} -e `);
    expect(ports.detail).toMatch(new RegExp(`\\(pid ${child.pid}\\)$`));
    expect(ports.fix).toBe(`stop it (kill ${child.pid}), or pass another --backend-port`);
    expect(run.code).toBe(1);
  });

  it('passes when the port is where up looks for a running server', async () => {
    const box = await sandbox();
    const { port } = await listenerProcess();
    const held = await doctorJson(box, ['--backend', 'ollama', '--backend-port', String(port)]);
    expect(check(held.json, 'ports')).toMatchObject({ status: 'pass', fix: null });
    expect(check(held.json, 'ports').detail).toContain(`${port} (--backend-port, where up looks for the backend): held by`);
  });
});

describe('a server that accepts and never answers', () => {
  it('costs its check the time limit, not the whole run', async () => {
    const box = await sandbox();
    const sockets: Socket[] = [];
    const hung = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => {
      for (const s of sockets) s.destroy();
      hung.close();
    });
    const { port } = hung.address() as AddressInfo;
    const { run, json } = await doctorJson(box, ['--backend', 'lmstudio', '--backend-port', String(port)]);
    expect(check(json, 'backend:lmstudio')).toEqual({
      id: 'backend:lmstudio',
      title: 'LM Studio',
      status: 'fail',
      detail: `http://127.0.0.1:${port} accepted the connection but did not answer within 2.5 s`,
      fix: `find what listens there (lsof -nP -iTCP:${port} -sTCP:LISTEN) and restart or stop it`,
    });
    expect(sockets.length).toBeGreaterThan(0);
    // 2.5 s for the check plus Node's start on a loaded 2-core machine; a hang would be 60 s.
    expect(run.ms).toBeLessThan(8_000);
    expect(run.code).toBe(1);
  });
});

describe('backend:ollama', () => {
  it('fails under 24K, warns under 32K and passes at 64K for the loaded model', async () => {
    const box = await sandbox();
    const ps = { models: [{ name: 'qwen3-coder:30b', model: 'qwen3-coder:30b', context_length: 8192 }] };
    const ollama = await jsonServer({ '/': 'Ollama is running', '/api/ps': ps, '/api/version': { version: '0.14.2' } });
    cleanups.push(() => ollama.close());
    const args = ['--backend', 'ollama', '--url', ollama.url];

    const small = check((await doctorJson(box, args)).json, 'backend:ollama');
    expect(small).toMatchObject({ status: 'fail', detail: `Ollama at ${ollama.url}, qwen3-coder:30b loaded, 8192-token context: too small for Claude Code's ~20K-token first request` });
    expect(small.fix).toContain('OLLAMA_CONTEXT_LENGTH=65536 ollama serve');

    ps.models[0] = { ...ps.models[0], context_length: 28_000 } as (typeof ps.models)[number];
    expect(check((await doctorJson(box, args)).json, 'backend:ollama')).toMatchObject({ status: 'warn', detail: `Ollama at ${ollama.url}, qwen3-coder:30b loaded, 28000-token context: Claude Code's ~20K-token prompt leaves little room` });

    ps.models[0] = { ...ps.models[0], context_length: 65_536 } as (typeof ps.models)[number];
    expect(check((await doctorJson(box, args)).json, 'backend:ollama')).toEqual({ id: 'backend:ollama', title: 'Ollama', status: 'pass', detail: `Ollama at ${ollama.url}, qwen3-coder:30b loaded, 65536-token context`, fix: null });
  });

  it("warns about Ollama's small default context when nothing is loaded and OLLAMA_CONTEXT_LENGTH is not set", async () => {
    const box = await sandbox();
    const ollama = await jsonServer({ '/': 'Ollama is running', '/api/ps': { models: [] } });
    cleanups.push(() => ollama.close());
    const args = ['--backend', 'ollama', '--url', ollama.url];
    const trap = check((await doctorJson(box, args)).json, 'backend:ollama');
    expect(trap.status).toBe('warn');
    expect(trap.detail).toContain('no model loaded; OLLAMA_CONTEXT_LENGTH is not set here');
    expect(trap.detail).toContain('Ollama loads models with 4K–32K tokens');
    const set = check((await doctorJson(box, args, { OLLAMA_CONTEXT_LENGTH: '65536' })).json, 'backend:ollama');
    expect(set).toMatchObject({ status: 'pass', detail: `Ollama at ${ollama.url}, no model loaded` });
  });

  it('fails when the named backend is not there, and skips it when it is not named', async () => {
    const box = await sandbox();
    const gone = await jsonServer({});
    await gone.close();
    const named = await doctorJson(box, ['--backend', 'ollama', '--url', gone.url]);
    expect(check(named.json, 'backend:ollama')).toMatchObject({ status: 'fail', detail: `no Ollama at ${gone.url}` });
    expect(named.run.code).toBe(1);
    const auto = await doctorJson(box, ['--backend-port', String(gone.port)]);
    expect(check(auto.json, 'backend:ollama')).toMatchObject({ status: 'skip', detail: `no Ollama at ${gone.url}`, fix: null });
  });
});

describe('backend', () => {
  it('names the server auto-detection would pick, looking where --backend-port says', async () => {
    const box = await sandbox();
    const ollama = await jsonServer({ '/': 'Ollama is running', '/api/ps': { models: [{ name: 'qwen3:4b', context_length: 40_960 }] } });
    cleanups.push(() => ollama.close());
    const { json } = await doctorJson(box, ['--backend-port', String(ollama.port)]);
    expect(check(json, 'backend')).toEqual({ id: 'backend', title: 'Backend', status: 'pass', detail: `up would auto-detect ollama: Ollama at ${ollama.url}, qwen3:4b loaded, 40960-token context`, fix: null });
    expect(check(json, 'backend:ollama').status).toBe('pass');
  });

  it('says which backends are named, and where that came from', async () => {
    const box = await sandbox();
    const { json } = await doctorJson(box, [], { ANYCLAUDE_MODE: 'ollama' });
    expect(check(json, 'backend')).toMatchObject({ status: 'pass', detail: 'up uses ollama (env ANYCLAUDE_MODE)' });
  });

  it('fails the Anthropic pass-through without a key, and passes it with one', async () => {
    const box = await sandbox();
    const without = await doctorJson(box, ['--backend', 'claude']);
    expect(check(without.json, 'backend')).toMatchObject({ status: 'fail', detail: 'up uses claude (flag --backend), but the claude backend needs an Anthropic API key and ANTHROPIC_API_KEY is not set' });
    const withKey = await doctorJson(box, ['--backend', 'claude'], { ANTHROPIC_API_KEY: 'sk-ant-api03-doctor-test' });
    expect(check(withKey.json, 'backend')).toMatchObject({ status: 'pass', detail: 'up uses claude (flag --backend)' });
    expect(withKey.json.checks.filter((c) => c.id.startsWith('backend:')).map((c) => c.status)).toEqual(['skip', 'skip', 'skip', 'skip']);
  });
});

describe('backend:lmstudio', () => {
  it("looks where `lms server status` says LM Studio listens, as up does, when no URL or port is given", async () => {
    const box = await sandbox();
    const models = { models: [{ key: 'qwen3-coder-30b', type: 'llm', capabilities: { trained_for_tool_use: true }, loaded_instances: [{ id: 'qwen3-coder-30b', config: { context_length: 65_536 } }] }] };
    const lmstudio = await jsonServer({ '/api/v1/models': models });
    cleanups.push(() => lmstudio.close());
    const bin = join(box.dir, 'bin');
    await mkdir(bin);
    await writeFile(join(bin, 'lms'), `#!/bin/sh\necho '{"running":true,"port":${lmstudio.port}}'\n`, { mode: 0o755 });
    const { json } = await doctorJson(box, [], { PATH: `${bin}:${box.env.PATH ?? ''}` });
    expect(check(json, 'backend:lmstudio')).toEqual({ id: 'backend:lmstudio', title: 'LM Studio', status: 'pass', detail: `LM Studio 0.4+ at ${lmstudio.url}, qwen3-coder-30b loaded, 65536-token context`, fix: null });
    expect(check(json, 'backend').detail).toBe(`up would auto-detect lmstudio: LM Studio 0.4+ at ${lmstudio.url}, qwen3-coder-30b loaded, 65536-token context`);
  });

  it("reads the loaded instance's context from LM Studio's API and fails under 24K with the lms command that fixes it", async () => {
    const box = await sandbox();
    const models = { models: [{ key: 'qwen3-coder-30b', type: 'llm', max_context_length: 262_144, capabilities: { trained_for_tool_use: true }, loaded_instances: [{ id: 'qwen3-coder-30b', config: { context_length: 16_384 } }] }] };
    const lmstudio = await jsonServer({ '/api/v1/models': models });
    cleanups.push(() => lmstudio.close());
    const { json } = await doctorJson(box, ['--backend', 'lmstudio', '--url', lmstudio.url]);
    expect(check(json, 'backend:lmstudio')).toEqual({
      id: 'backend:lmstudio',
      title: 'LM Studio',
      status: 'fail',
      detail: `LM Studio 0.4+ at ${lmstudio.url}, qwen3-coder-30b loaded, 16384-token context: too small for Claude Code's ~20K-token first request`,
      fix: 'lms unload qwen3-coder-30b && lms load qwen3-coder-30b --context-length 65536',
    });
  });
});

/** A model folder as mlx_lm expects one, with tiny stand-in files. */
async function modelFolder(dir: string, options: { template?: string; tokenizer?: boolean; context?: number }): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'config.json'), JSON.stringify({ model_type: 'llama', max_position_embeddings: options.context ?? 131_072 }));
  await writeFile(join(dir, 'model.safetensors'), Buffer.alloc(4096));
  if (options.tokenizer !== false) await writeFile(join(dir, 'tokenizer.json'), '{}');
  await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify(options.template === undefined ? {} : { chat_template: options.template }));
  return dir;
}

const TOOL_TEMPLATE = "{% if tools %}{{ '<tools>' }}{% for t in tools %}{{ t | tojson }}{% endfor %}{% endif %}{% for m in messages %}{{ m.content }}{% endfor %}";
const PLAIN_TEMPLATE = '{% for m in messages %}{{ m.role }}: {{ m.content }}{% endfor %}';

describe('model', () => {
  it('passes a complete folder whose chat template takes tools, and reads its context for backend:mlx-lm', async () => {
    const box = await sandbox();
    const dir = await modelFolder(join(box.dir, 'models', 'coder'), { template: TOOL_TEMPLATE });
    const { json } = await doctorJson(box, ['--backend', 'mlx-lm', '--model', dir]);
    expect(check(json, 'model')).toEqual({ id: 'model', title: 'Model', status: 'pass', detail: `${dir} (folder, 0.0 GiB): config, tokenizer, 1 weight file, a chat template with tools`, fix: null });
    expect(check(json, 'backend:mlx-lm')).toMatchObject({ status: 'pass', detail: `up starts mlx_lm.server with ${dir}, 131072-token context` });
    expect(check(json, 'memory').status).toBe('pass');
    expect(check(json, 'memory').detail).toMatch(/^the model takes 0\.0 GiB on disk/);
  });

  it('warns that Claude Code runs without tools when the template never mentions them, and fails a small context', async () => {
    const box = await sandbox();
    const dir = await modelFolder(join(box.dir, 'models', 'chat'), { template: PLAIN_TEMPLATE, context: 8192 });
    const { run, json } = await doctorJson(box, ['--backend', 'mlx-lm', '--model', dir]);
    expect(check(json, 'model')).toMatchObject({ status: 'warn', detail: `${dir} (folder, 0.0 GiB): its chat template has no tools: Claude Code will run without tools on this model` });
    expect(check(json, 'backend:mlx-lm')).toMatchObject({ status: 'fail', detail: `up starts mlx_lm.server with ${dir}, 8192-token context: too small for Claude Code's ~20K-token first request` });
    expect(run.code).toBe(1);
  });

  it('fails a folder without a tokenizer, and a model that is not there', async () => {
    const box = await sandbox();
    const dir = await modelFolder(join(box.dir, 'models', 'half'), { template: TOOL_TEMPLATE, tokenizer: false });
    const half = await doctorJson(box, ['--backend', 'mlx-lm', '--model', dir]);
    expect(check(half.json, 'model')).toMatchObject({ status: 'fail', detail: `${dir} (folder, 0.0 GiB) lacks a tokenizer (tokenizer.json or tokenizer.model)` });
    const missing = await doctorJson(box, ['--backend', 'mlx-lm', '--model', join(box.dir, 'nowhere')]);
    expect(check(missing.json, 'model')).toMatchObject({ status: 'fail', detail: `no model at ${join(box.dir, 'nowhere')}: no such file or directory` });
    expect(missing.run.code).toBe(1);
  });

  it("leaves a server's model name to the backend without --backend, and fails it when mlx-lm must load it from disk", async () => {
    const box = await sandbox();
    const auto = await doctorJson(box, ['--model', 'qwen3-coder:30b']);
    expect(check(auto.json, 'model')).toMatchObject({ status: 'skip', detail: 'qwen3-coder:30b is no model on this machine; the server up detects may serve it by that name (see backend)' });
    const mlx = await doctorJson(box, ['--backend', 'mlx-lm', '--model', 'qwen3-coder:30b']);
    expect(check(mlx.json, 'model').status).toBe('fail');
    expect(check(mlx.json, 'model').detail).toMatch(/^no local model matches "qwen3-coder:30b"; searched: /);
  });

  it('reads the chat template inside a GGUF file', async () => {
    const box = await sandbox();
    const file = join(box.dir, 'coder.gguf');
    await writeFile(file, gguf({ 'general.architecture': 'qwen3', 'tokenizer.chat_template': TOOL_TEMPLATE }));
    const { json } = await doctorJson(box, ['--backend', 'llama-cpp', '--model', file], { PATH: '/usr/bin:/bin' });
    expect(check(json, 'model')).toMatchObject({ status: 'pass', detail: `${file} (GGUF, 0.0 GiB): config, tokenizer, 1 weight file, a chat template with tools` });
    // No llama-server on this PATH: up could not start it.
    expect(check(json, 'backend:llama-cpp')).toMatchObject({ status: 'fail', detail: 'llama-server is not on PATH' });
  });
});

/** A GGUF v3 header with string metadata only (type 8), as llama.cpp writes it. */
function gguf(meta: Record<string, string>): Buffer {
  const u32 = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    return b;
  };
  const u64 = (n: number): Buffer => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(n));
    return b;
  };
  const str = (s: string): Buffer => Buffer.concat([u64(Buffer.byteLength(s)), Buffer.from(s)]);
  const kvs = Object.entries(meta).map(([k, v]) => Buffer.concat([str(k), u32(8), str(v)]));
  return Buffer.concat([Buffer.from('GGUF'), u32(3), u64(0), u64(kvs.length), ...kvs]);
}
