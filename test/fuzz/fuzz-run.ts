/**
 * How the fuzz suites run: 10,000 cases per property with a fixed seed in CI, more behind a flag.
 *
 *   npx vitest run test/fuzz                                  CI size, fixed seed
 *   FUZZ_RUNS=1000000 FUZZ_SEED=random npm run fuzz           nightly size, fresh seed (printed)
 *   FUZZ_SEED=<seed> FUZZ_PATH=<path> npx vitest run <file> -t <name>   replays one failure
 *
 * A failure's message ends with the exact replay command.
 */
import fc from 'fast-check';

const CI_RUNS = 10_000;
const CI_SEED = 20_261_202;

function readRuns(): number {
  const raw = process.env.FUZZ_RUNS;
  if (raw === undefined || raw === '') return CI_RUNS;
  const runs = Number(raw);
  if (!Number.isSafeInteger(runs) || runs < 1) throw new Error(`FUZZ_RUNS must be a positive integer, got "${raw}"`);
  return runs;
}

function readSeed(): number {
  const raw = process.env.FUZZ_SEED;
  if (raw === undefined || raw === '') return CI_SEED;
  if (raw === 'random') return (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) | 0;
  const seed = Number(raw);
  if (!Number.isSafeInteger(seed)) throw new Error(`FUZZ_SEED must be an integer or "random", got "${raw}"`);
  return seed | 0;
}

export const FUZZ_RUNS = readRuns();
export const FUZZ_SEED = readSeed();
const FUZZ_PATH = process.env.FUZZ_PATH === '' ? undefined : process.env.FUZZ_PATH;

if (process.env.FUZZ_SEED === 'random' || FUZZ_RUNS !== CI_RUNS) {
  console.log(`fuzz: ${FUZZ_RUNS} runs per property, seed ${FUZZ_SEED}`);
}

/** Per-test time limit: the CI size stays far below it; a nightly size scales it. */
export const FUZZ_TIMEOUT_MS = Math.max(120_000, FUZZ_RUNS * 10);

/**
 * Runs one property at the configured size. On failure it throws fast-check's report (the
 * shrunk counterexample, seed and path) plus the command that replays exactly that case.
 */
export function checkProperty<Ts>(file: string, name: string, property: fc.IProperty<Ts>): void {
  report(file, name, fc.check(property, parameters<Ts>()));
}

/** The same for a property whose predicate is async. */
export async function checkAsyncProperty<Ts>(file: string, name: string, property: fc.IAsyncProperty<Ts>): Promise<void> {
  report(file, name, await fc.check(property, parameters<Ts>()));
}

function parameters<Ts>(): fc.Parameters<Ts> {
  const params: fc.Parameters<Ts> = { numRuns: FUZZ_RUNS, seed: FUZZ_SEED };
  if (FUZZ_PATH !== undefined) params.path = FUZZ_PATH;
  return params;
}

function report<Ts>(file: string, name: string, details: fc.RunDetails<Ts>): void {
  if (!details.failed) return;
  const replay =
    `FUZZ_SEED=${details.seed} FUZZ_PATH=${details.counterexamplePath ?? ''} ` +
    `ANYCLAUDE_TEST_NO_BUILD=1 npx vitest run ${file} -t ${JSON.stringify(name)}`;
  const cause = details.errorInstance;
  const why = cause instanceof Error ? (cause.stack ?? cause.message) : String(cause);
  throw new Error(`${fc.defaultReportMessage(details) ?? 'property failed'}\n\nGot: ${why}\n\nReplay this case with:\n  ${replay}\n`, {
    cause,
  });
}
