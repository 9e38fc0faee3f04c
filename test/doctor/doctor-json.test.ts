/** `anyclaude doctor --json` through the real bin: its shape field by field, exit codes, config and environment checks. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { check, doctor, doctorJson, sandbox, type DoctorJson, type Sandbox } from './support.js';

const ALWAYS = ['node', 'claude-code', 'platform', 'python', 'disk', 'memory', 'backend', 'backend:lmstudio', 'backend:ollama', 'backend:llama-cpp', 'backend:mlx-lm', 'model', 'ports', 'orphans', 'traces', 'config', 'env'];

describe('doctor --json on a clean setup', () => {
  let box: Sandbox;
  let json: DoctorJson;
  let code: number;

  beforeAll(async () => {
    box = await sandbox();
    const result = await doctorJson(box);
    json = result.json;
    code = result.run.code;
  });

  it('lists every stable check id once, each with exactly id, title, status, detail and fix', () => {
    expect(json.checks.map((c) => c.id)).toEqual(ALWAYS);
    for (const c of json.checks) {
      expect(Object.keys(c).sort()).toEqual(['detail', 'fix', 'id', 'status', 'title']);
      expect(['pass', 'warn', 'fail', 'skip']).toContain(c.status);
      expect(c.title).not.toBe('');
      expect(c.detail).not.toMatch(/\n/);
      expect(c.detail).not.toBe('');
      // Every warning and failure says what to do; a fix is a string or null, never missing.
      if (c.status === 'warn' || c.status === 'fail') expect(typeof c.fix).toBe('string');
      else expect(c.fix === null || typeof c.fix === 'string').toBe(true);
    }
  });

  it('counts the statuses in the summary, and exits 0 only when nothing fails', () => {
    const tally = { pass: 0, warn: 0, fail: 0, skip: 0 };
    for (const c of json.checks) tally[c.status] += 1;
    expect(json.summary).toEqual(tally);
    expect(code).toBe(tally.fail > 0 ? 1 : 0);
  });

  it('reports the evidence of each machine-level check', () => {
    expect(check(json, 'node')).toMatchObject({ title: 'Node.js', status: 'pass', fix: null });
    expect(check(json, 'node').detail).toContain(process.versions.node);
    expect(check(json, 'node').detail).toContain('>=20.19');
    expect(check(json, 'claude-code')).toMatchObject({ status: 'pass', fix: null });
    expect(check(json, 'claude-code').detail).toMatch(/^2\.1\.197 \(bundled: .*claude.*\), the version this anyclaude is tested with$/);
    expect(check(json, 'python').detail).toMatch(/^python3 is Python 3\.\d+\.\d+, with venv and ensurepip$/);
    expect(check(json, 'platform').detail).toContain(process.platform === 'linux' ? 'Linux' : 'Apple');
    expect(check(json, 'disk').detail).toContain(join(box.home, 'venvs'));
  });

  it("reports anyclaude's own files as clean, and no model, no backend and no config as what they are", () => {
    expect(check(json, 'orphans')).toEqual({ id: 'orphans', title: 'Leftovers', status: 'pass', detail: `nothing left behind in ${join(box.home, 'run')}`, fix: null });
    expect(check(json, 'traces')).toEqual({ id: 'traces', title: 'Trace permissions', status: 'pass', detail: `no traces yet (${join(box.home, 'traces')})`, fix: null });
    expect(check(json, 'config').status).toBe('pass');
    expect(check(json, 'config').detail).toContain(join(box.home, 'config.json'));
    expect(check(json, 'env')).toMatchObject({ status: 'pass', detail: 'no variable here changes how Claude Code reaches anyclaude' });
    expect(check(json, 'model')).toMatchObject({ status: 'skip', fix: null });
    expect(check(json, 'memory').status).toBe('skip');
  });

  it('says whether up would find a backend: with no server running, only Apple Silicon can start one', () => {
    const backend = check(json, 'backend');
    if (process.platform === 'darwin' && process.arch === 'arm64') {
      expect(backend).toMatchObject({ status: 'pass', detail: 'no server running; up would start mlx_lm.server (Apple Silicon)' });
    } else {
      expect(backend.status).toBe('fail');
      expect(backend.detail).toBe('no model server found (no LM Studio server at http://127.0.0.1:1234; no Ollama at http://127.0.0.1:11434; no llama-server at http://127.0.0.1:8080): `anyclaude up` would stop here');
      expect(backend.fix).toContain('anyclaude up --backend mlx-lm --model <model>');
    }
  });
});

describe('doctor text output', () => {
  it('prints one line per check with its status, the fix under warnings and failures, and a summary', async () => {
    const box = await sandbox({ HTTP_PROXY: 'http://proxy.example:3128' });
    const run = await doctor(box, []);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^✓ pass {2}node +\d+\.\d+\.\d+ at /m);
    expect(run.stdout).toMatch(/^✗ fail {2}env +HTTP_PROXY=http:\/\/proxy\.example:3128 and NO_PROXY does not name 127\.0\.0\.1/m);
    expect(run.stdout).toMatch(/^ +fix: export NO_PROXY=127\.0\.0\.1,localhost/m);
    expect(run.stdout).toMatch(/^\d+ pass, \d+ warn, [1-9]\d* fail, \d+ skip \(\d+\.\d s\): fix the failures above$/m);
  });
});

describe('env', () => {
  it('fails on an HTTP proxy that would catch 127.0.0.1, passes once NO_PROXY names it', async () => {
    const box = await sandbox();
    const caught = await doctorJson(box, [], { HTTPS_PROXY: 'http://corp:8080' });
    expect(check(caught.json, 'env')).toMatchObject({ status: 'fail', fix: 'export NO_PROXY=127.0.0.1,localhost (and no_proxy likewise)' });
    expect(caught.run.code).toBe(1);
    const exempt = await doctorJson(box, [], { HTTPS_PROXY: 'http://corp:8080', NO_PROXY: 'localhost,127.0.0.1' });
    expect(check(exempt.json, 'env').status).toBe('pass');
  });

  it('warns about ANTHROPIC_BASE_URL pointing at no running anyclaude and an attribution header, and notes a real API key', async () => {
    const box = await sandbox();
    const { json } = await doctorJson(box, [], { ANTHROPIC_BASE_URL: 'http://127.0.0.1:9', CLAUDE_CODE_ATTRIBUTION_HEADER: '1', ANTHROPIC_API_KEY: 'sk-ant-api03-notarealkey' });
    const env = check(json, 'env');
    expect(env.status).toBe('warn');
    expect(env.detail).toContain('ANTHROPIC_BASE_URL=http://127.0.0.1:9 is set');
    expect(env.detail).toContain('CLAUDE_CODE_ATTRIBUTION_HEADER=1');
    expect(env.detail).toContain('a real ANTHROPIC_API_KEY is set');
    expect(env.fix).toBe('unset ANTHROPIC_BASE_URL; export CLAUDE_CODE_ATTRIBUTION_HEADER=0');
  });
});

describe('claude-code and python', () => {
  it('fails a Claude Code named by ANYCLAUDE_CLAUDE_BIN that does not exist, and says to point it elsewhere or unset it', async () => {
    const box = await sandbox();
    const { json } = await doctorJson(box, [], { ANYCLAUDE_CLAUDE_BIN: join(box.dir, 'no-claude') });
    expect(check(json, 'claude-code')).toMatchObject({ status: 'fail', fix: 'point ANYCLAUDE_CLAUDE_BIN at a claude binary, or leave it unset to use the bundled Claude Code 2.1.197' });
    expect(check(json, 'claude-code').detail).toBe(`ANYCLAUDE_CLAUDE_BIN ${join(box.dir, 'no-claude')} does not exist`);
  });

  it('fails a Python that cannot run when the backend needs a venv, and only warns when it does not', async () => {
    const box = await sandbox();
    await writeFile(join(box.home, 'config.json'), JSON.stringify({ python: join(box.dir, 'no-python') }));
    const needed = await doctorJson(box, ['--backend', 'mlx-lm']);
    expect(check(needed.json, 'python')).toMatchObject({ status: 'fail', detail: `cannot run ${join(box.dir, 'no-python')}` });
    const unneeded = await doctorJson(box, ['--backend', 'ollama']);
    expect(check(unneeded.json, 'python')).toMatchObject({ status: 'warn', detail: `cannot run ${join(box.dir, 'no-python')} (needed only for mlx-lm and mlx-omni, which this setup does not use)` });
  });
});

describe('config', () => {
  it('names the file and the key of an invalid config file, and fails', async () => {
    const box = await sandbox();
    await writeFile(join(box.home, 'config.json'), JSON.stringify({ context: 'big' }));
    const { run, json } = await doctorJson(box);
    const config = check(json, 'config');
    expect(config.status).toBe('fail');
    expect(config.detail).toContain(join(box.home, 'config.json'));
    expect(config.detail).toContain('context');
    expect(config.fix).not.toBeNull();
    expect(run.code).toBe(1);
  });

  it('names a project file that is not JSON', async () => {
    const box = await sandbox();
    await writeFile(join(box.dir, '.anyclaude.json'), '{ "model": ');
    const { json } = await doctorJson(box);
    expect(check(json, 'config')).toMatchObject({ status: 'fail' });
    expect(check(json, 'config').detail).toContain(join(box.dir, '.anyclaude.json'));
  });
});
