/**
 * The dashboard: one frame of panels sized to the terminal, and the keys that switch backends
 * and models. It reads the run only through the store and acts only through store.switchTo;
 * what "leaving" means (back to Claude Code, quit) is the host's business.
 */
import { useCallback, useLayoutEffect, useRef, useState, type ReactNode } from 'react';
import { Box, useInput, type Key } from 'ink';
import type { BackendView, RunStore } from '../src/run/run-state.js';
import { matchKey, type KeyMatch } from './keybindings.js';
import { columnWidths, GUTTER, planLayout, type Demands } from './layout.js';
import { BackendsPanel, backendsDemand, type Message } from './panels/backends-panel.js';
import { CachePanel, cacheDemand } from './panels/cache-panel.js';
import { ContextPanel, contextDemand } from './panels/context-panel.js';
import { Header } from './panels/header.js';
import { HelpLine } from './panels/help-line.js';
import { LogsPanel, logsDemand, type LogSource } from './panels/logs-panel.js';
import { initialModelCursor, ModelPicker, modelPickerDemand } from './panels/model-picker.js';
import { ProgressPanel, progressDemand } from './panels/progress-panel.js';
import { RequestsPanel, requestsDemand } from './panels/requests-panel.js';
import { ThroughputPanel, throughputDemand } from './panels/throughput-panel.js';
import { useForgetReactTimings } from './react-timings.js';
import { useRunState } from './use-run-state.js';

export interface DashboardProps {
  store: RunStore;
  /** Terminal size; the frame is at most rows − 1 lines and `columns` wide. */
  columns: number;
  rows: number;
  /** q or esc: the host decides (show Claude Code again, quit). */
  onLeave?: () => void;
  /** False while something else owns the keyboard (Claude Code is shown): no key is read. Default true. */
  inputActive?: boolean;
}

/** The model list of one backend, open after `m`. */
interface Picker {
  backend: string;
  cursor: number;
}

const ERROR = { color: 'red' } as const;

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function Dashboard({ store, columns, rows, onLeave, inputActive = true }: DashboardProps): ReactNode {
  // A streaming reply's output count is drawn with the clock, up to four times a second, not at
  // each of the store's ten notifications: every redraw is the whole screen (ui/use-run-state.ts).
  const state = useRunState(store, true);
  useForgetReactTimings();
  const [selectedId, setSelectedId] = useState<string | undefined>(undefined);
  const [picker, setPicker] = useState<Picker | undefined>(undefined);
  const [logSource, setLogSource] = useState<LogSource>('anyclaude');
  const [message, setMessage] = useState<Message | undefined>(undefined);
  // Only the latest switch may report its failure: an older one failing late is old news.
  const switchCount = useRef(0);

  const { backends } = state;
  const selected = Math.max(0, backends.findIndex((b) => b.id === (selectedId ?? state.active)));
  const pickerBackend = picker === undefined ? undefined : backends.find((b) => b.id === picker.backend);

  function switchTo(backend: BackendView, model?: string): void {
    const id = ++switchCount.current;
    setMessage(undefined);
    // Async, so a store that throws instead of rejecting is reported the same way.
    void (async () => {
      try {
        await store.switchTo(backend.id, model);
      } catch (error) {
        if (id !== switchCount.current) return;
        setMessage({ text: `switch to ${backend.id}${model ? ` · ${model}` : ''} failed: ${reason(error)}`, tone: ERROR });
      }
    })();
  }

  function act(match: KeyMatch): void {
    const current = backends[selected];
    switch (match.action) {
      case 'switch-number': {
        const target = backends[match.index];
        if (target === undefined) return;
        setSelectedId(target.id);
        switchTo(target);
        return;
      }
      case 'select-up':
      case 'select-down': {
        const step = match.action === 'select-up' ? -1 : 1;
        // Functional updates: key repeat can deliver several arrows before the next render.
        if (picker && pickerBackend) {
          const count = pickerBackend.models.length;
          if (count > 0) setPicker((p) => p && { ...p, cursor: (p.cursor + step + count) % count });
        } else if (backends.length > 0) {
          setSelectedId((id) => {
            const from = Math.max(0, backends.findIndex((b) => b.id === (id ?? state.active)));
            return backends[(from + step + backends.length) % backends.length]!.id;
          });
        }
        return;
      }
      case 'switch-selected':
        if (current) switchTo(current);
        return;
      case 'choose-model':
        if (current === undefined) return;
        if (current.models.length === 0) {
          setMessage({ text: `${current.id} names no models to choose from`, tone: { color: 'yellow' } });
          return;
        }
        setMessage(undefined);
        setPicker({ backend: current.id, cursor: initialModelCursor(current) });
        return;
      case 'pick-model': {
        const model = pickerBackend?.models[picker?.cursor ?? 0];
        setPicker(undefined);
        if (pickerBackend && model !== undefined) switchTo(pickerBackend, model);
        return;
      }
      case 'cancel':
        setPicker(undefined);
        return;
      case 'toggle-logs':
        setLogSource((source) => (source === 'anyclaude' ? 'backend' : 'anyclaude'));
        return;
      case 'leave':
        onLeave?.();
        return;
    }
  }

  // Ink re-subscribes a new handler only after React's passive effects run, which can be after
  // the next key arrives: keys go through a ref that every commit points at this render's `act`.
  const onKey = useRef<(input: string, key: Key) => void>(() => undefined);
  useLayoutEffect(() => {
    onKey.current = (input, key) => {
      // A backend that vanished while its model list was open closes the list.
      const match = matchKey(input, key, picker && pickerBackend ? 'models' : 'dashboard');
      if (match) act(match);
    };
  });
  const handleInput = useCallback((input: string, key: Key) => onKey.current(input, key), []);
  useInput(handleInput, { isActive: inputActive });

  const { wide, rightWidth } = columnWidths(columns);
  const demands: Demands = {
    backends: pickerBackend ? modelPickerDemand(pickerBackend) : backendsDemand(state, message),
    context: contextDemand(state),
    throughput: throughputDemand(state),
    cache: cacheDemand(state, rightWidth),
    progress: progressDemand(state),
    requests: requestsDemand(state),
    logs: logsDemand(state, logSource),
  };
  const layout = planLayout(columns, rows, demands);
  if (layout.height === 0) return null;
  const { lines, leftWidth } = layout;

  const backendsPanel = pickerBackend ? (
    <ModelPicker backend={pickerBackend} cursor={picker?.cursor ?? 0} width={leftWidth} height={lines.backends} />
  ) : (
    <BackendsPanel state={state} width={leftWidth} height={lines.backends} selected={selected} message={message} />
  );
  const metrics = (
    <>
      <ThroughputPanel state={state} width={rightWidth} height={lines.throughput} />
      <CachePanel state={state} width={rightWidth} height={lines.cache} />
      <ContextPanel state={state} width={rightWidth} height={lines.context} />
    </>
  );

  return (
    // Clipped only vertically: every line cuts itself to its width (ui/cells.tsx).
    <Box flexDirection="column" width={columns} height={layout.height} overflowY="hidden">
      {layout.header ? <Header state={state} width={columns} /> : null}
      {wide ? (
        <Box flexDirection="row" width={columns} flexShrink={0}>
          <Box flexDirection="column" width={leftWidth} flexShrink={0}>
            {backendsPanel}
          </Box>
          <Box width={GUTTER} flexShrink={0} />
          <Box flexDirection="column" width={rightWidth} flexShrink={0}>
            {metrics}
          </Box>
        </Box>
      ) : (
        <>
          {backendsPanel}
          {metrics}
        </>
      )}
      <ProgressPanel state={state} width={columns} height={lines.progress} />
      <RequestsPanel state={state} width={columns} height={lines.requests} />
      <LogsPanel state={state} width={columns} height={lines.logs} source={logSource} />
      <Box flexGrow={1} />
      {layout.help ? <HelpLine state={state} scope={pickerBackend ? 'models' : 'dashboard'} width={columns} /> : null}
    </Box>
  );
}
