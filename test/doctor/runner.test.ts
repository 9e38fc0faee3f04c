/** The runner: checks run at once, each under its own limit; a hung or throwing check is reported, never waited on. */
import { describe, expect, it } from 'vitest';
import { doctorContext } from '../../src/doctor/context.js';
import { runChecks, summarize } from '../../src/doctor/runner.js';
import type { Check } from '../../src/doctor/types.js';

const ctx = await doctorContext({}, { env: { ANYCLAUDE_HOME: '/nonexistent/anyclaude-doctor-home', PATH: process.env.PATH ?? '' }, cwd: '/' });

function after(ms: number, status: 'pass' | 'warn'): Check {
  return { id: `after-${ms}`, title: 'waits', run: () => new Promise((resolve) => setTimeout(() => resolve({ status, detail: `waited ${ms} ms` }), ms)) };
}

describe('runChecks', () => {
  it('runs checks concurrently: three 300 ms checks take about 300 ms, not 900', async () => {
    const started = performance.now();
    const reports = await runChecks([after(300, 'pass'), after(301, 'pass'), after(302, 'warn')], ctx);
    expect(performance.now() - started).toBeLessThan(800);
    expect(reports.map((r) => [r.id, r.status])).toEqual([['after-300', 'pass'], ['after-301', 'pass'], ['after-302', 'warn']]);
  });

  it('reports a check that never finishes at its limit, with its own timeout verdict when it has one, and aborts its signal', async () => {
    let aborted = false;
    const hung: Check = {
      id: 'hung',
      title: 'Hung',
      timeoutMs: 200,
      run: (_ctx, signal) => new Promise(() => signal.addEventListener('abort', () => (aborted = true))),
    };
    const judged: Check = { ...hung, id: 'judged', onTimeout: (_ctx, ms) => ({ status: 'fail', detail: `no answer in ${ms} ms`, fix: 'restart it' }) };
    const started = performance.now();
    const reports = await runChecks([hung, judged], ctx);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(reports).toEqual([
      { id: 'hung', title: 'Hung', status: 'warn', detail: 'did not finish within 0.2 s', fix: 'run `anyclaude doctor` again; if it keeps timing out, the machine is overloaded' },
      { id: 'judged', title: 'Hung', status: 'fail', detail: 'no answer in 200 ms', fix: 'restart it' },
    ]);
    expect(aborted).toBe(true);
  });

  it('turns a check that throws into a failure that says so, and folds multi-line evidence into one line', async () => {
    const throws: Check = { id: 'throws', title: 'Throws', run: () => Promise.reject(new Error('boom')) };
    const lines: Check = { id: 'lines', title: 'Lines', run: () => Promise.resolve({ status: 'pass', detail: 'one\n  two\nsearched:\n  /a\n  /b' }) };
    const reports = await runChecks([throws, lines], ctx);
    expect(reports[0]).toMatchObject({ status: 'fail', detail: 'the check itself failed: boom' });
    expect(reports[1]).toMatchObject({ status: 'pass', detail: 'one; two; searched: /a; /b', fix: null });
    expect(summarize(reports)).toEqual({ pass: 1, warn: 0, fail: 1, skip: 0 });
  });
});
