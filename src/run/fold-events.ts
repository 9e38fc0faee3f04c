/**
 * Folds the core's typed events (proxy requests, backend states, warm-ups, log lines) into the
 * run's state. Pure functions of (state, event), so the dashboard shows exactly what happened.
 */
import type { CoreEventMap, CoreEvents } from '../core/events.js';
import type { RequestMetrics } from '../proxy/metrics.js';
import { LOG_LINES, RECENT_REQUESTS, type BackendPhase, type BackendView, type RunState, type SessionView, type WarmupView } from './run-state.js';
import type { StateStore } from './state-store.js';

/** Sessions a status line may ask about (Claude Code's main agent, subagents, other windows). */
const SESSIONS = 20;

type Patch = Partial<RunState> | undefined;

export function onRequestStart(state: RunState, e: CoreEventMap['request:start']): Patch {
  const entry = { id: e.id, sessionId: e.sessionId, upstream: e.upstream, model: e.model, startedAt: e.at, ttftMs: undefined, outputTokens: 0 };
  return { inFlight: [...state.inFlight, entry] };
}

export function onFirstToken(state: RunState, e: CoreEventMap['request:first-token']): Patch {
  if (!state.inFlight.some((r) => r.id === e.id)) return undefined;
  return { inFlight: state.inFlight.map((r) => (r.id === e.id ? { ...r, ttftMs: e.ttftMs } : r)) };
}

export function onProgress(state: RunState, e: CoreEventMap['request:progress']): Patch {
  if (!state.inFlight.some((r) => r.id === e.id)) return undefined;
  return { inFlight: state.inFlight.map((r) => (r.id === e.id ? { ...r, outputTokens: e.outputTokens } : r)) };
}

export function onRequestEnd(state: RunState, m: RequestMetrics): Patch {
  const requests = [...state.requests, m].slice(-RECENT_REQUESTS);
  return { inFlight: state.inFlight.filter((r) => r.id !== m.id), requests, sessions: withSession(state.sessions, m) };
}

function withSession(sessions: readonly SessionView[], m: RequestMetrics): SessionView[] {
  if (m.sessionId === undefined || m.error !== undefined) return [...sessions];
  const before = sessions.find((s) => s.sessionId === m.sessionId);
  const next: SessionView = { sessionId: m.sessionId, last: m, requests: (before?.requests ?? 0) + 1 };
  return [next, ...sessions.filter((s) => s.sessionId !== m.sessionId)].slice(0, SESSIONS);
}

export function onBackendState(state: RunState, e: CoreEventMap['backend:state']): Patch {
  const phase = toPhase(e.state);
  if (!state.backends.some((b) => b.id === e.backend)) return undefined;
  return { backends: state.backends.map((b) => (b.id === e.backend ? { ...b, phase, detail: e.reason ?? (phase === b.phase ? b.detail : undefined) } : b)) };
}

/** The supervisor's states, as the dashboard names them ('stopping' shows as stopped). */
export function toPhase(state: string): BackendPhase {
  const known: readonly BackendPhase[] = ['available', 'starting', 'warming', 'ready', 'degraded', 'crashed', 'stopped', 'external'];
  if (state === 'stopping') return 'stopped';
  return (known as readonly string[]).includes(state) ? (state as BackendPhase) : 'degraded';
}

export function onCacheWarm(state: RunState, e: CoreEventMap['cache:warm']): Patch {
  const warmup: WarmupView = { backend: e.backend, phase: e.phase, ms: e.ms, detail: e.detail };
  const warmups = [...state.warmups.filter((w) => w.backend !== e.backend), warmup];
  const backends = state.backends.map((b) => (b.id === e.backend ? withWarmPhase(b, e.phase) : b));
  const progress =
    e.phase === 'warming'
      ? [...state.progress.filter((p) => !(p.backend === e.backend && p.step === 'warm')), { backend: e.backend, step: 'warm' as const, detail: 'prefilling the remembered prompt prefix', startedAt: Date.now(), lines: [] }]
      : state.progress.filter((p) => !(p.backend === e.backend && p.step === 'warm'));
  return { warmups, backends, progress };
}

/** While warming, a ready or external backend shows `warming`; after, it shows what it was. */
function withWarmPhase(b: BackendView, phase: WarmupView['phase']): BackendView {
  if (phase === 'warming') return b.phase === 'ready' || b.phase === 'external' ? { ...b, phase: 'warming', detail: b.managed ? 'ready' : 'external' } : b;
  if (b.phase !== 'warming') return b;
  return { ...b, phase: b.detail === 'external' ? 'external' : 'ready', detail: undefined };
}

export function onSwitch(state: RunState, e: CoreEventMap['upstream:switch']): Patch {
  return { active: e.to, backends: state.backends.map((b) => ({ ...b, active: b.id === e.to })) };
}

export function onPhase(_state: RunState, e: CoreEventMap['up:phase']): Patch {
  return { phase: e.phase, phaseDetail: e.detail };
}

export function onLog(state: RunState, e: CoreEventMap['log']): Patch {
  if (e.level === 'debug') return undefined;
  return { logs: [...state.logs, { at: e.at, level: e.level, source: e.source, message: e.message }].slice(-LOG_LINES) };
}

/** Keeps `store` in step with `events` until the returned function is called. */
export function foldEvents(events: CoreEvents, store: StateStore): () => void {
  const offs = [
    events.on('request:start', (e) => store.update((s) => onRequestStart(s, e))),
    events.on('request:first-token', (e) => store.update((s) => onFirstToken(s, e))),
    events.on('request:progress', (e) => store.update((s) => onProgress(s, e))),
    events.on('request:end', (e) => store.update((s) => onRequestEnd(s, e))),
    events.on('backend:state', (e) => store.update((s) => onBackendState(s, e))),
    events.on('cache:warm', (e) => store.update((s) => onCacheWarm(s, e))),
    events.on('upstream:switch', (e) => store.update((s) => onSwitch(s, e))),
    events.on('up:phase', (e) => store.update((s) => onPhase(s, e))),
    events.on('log', (e) => store.update((s) => onLog(s, e))),
  ];
  return () => offs.forEach((off) => off());
}
