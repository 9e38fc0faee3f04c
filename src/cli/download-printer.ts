/**
 * A model download on a terminal without the dashboard (`--no-tui`, pipes, CI): on a TTY one line
 * that redraws in place (bar, bytes, rate, ETA) at most a few times a second; elsewhere a line
 * at the start, every 10 % and at the end, so a log file gets a dozen lines for 17 GB, not
 * thousands. Other lines written meanwhile go above the redrawn one.
 */
import { formatProgress, type DownloadProgress } from '../models/download.js';

/** How often the TTY line is redrawn at most (ms). */
export const REDRAW_MS = 250;
/** Without a TTY: a line each time the download passes another tenth. */
const STEP_PERCENT = 10;

export interface DownloadPrinterStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface DownloadPrinter {
  progress(label: string, progress: DownloadProgress): void;
  /** Writes `text` (ending in a newline) above the download line, which stays. */
  line(text: string): void;
  /** Ends an open download line (the run goes on without it). */
  close(): void;
}

export function downloadPrinter(stream: DownloadPrinterStream, now: () => number = Date.now): DownloadPrinter {
  return stream.isTTY === true ? ttyPrinter(stream, now) : logPrinter(stream);
}

const CLEAR_LINE = '\r\x1b[K';

function ttyPrinter(stream: DownloadPrinterStream, now: () => number): DownloadPrinter {
  /** The line on screen now, without a newline after it. */
  let open: string | undefined;
  let drawnAt = 0;
  let phase: DownloadProgress['phase'] | undefined;
  /** The line in the terminal's width: a shorter bar first, then cut. */
  const fit = (p: DownloadProgress, label: string): string => {
    const width = Math.max(20, (stream.columns ?? 80) - 1);
    for (const bar of [20, 10]) {
      const text = formatProgress(p, label, bar);
      if (text.length <= width) return text;
    }
    const text = formatProgress(p, label, 10);
    return `${text.slice(0, width - 1)}…`;
  };
  return {
    progress(label, p) {
      const ended = p.phase === 'done' || p.phase === 'failed' || p.phase === 'cancelled';
      const at = now();
      if (!ended && p.phase === phase && at - drawnAt < REDRAW_MS) return;
      phase = p.phase;
      drawnAt = at;
      const text = fit(p, label);
      if (ended) {
        stream.write(`${CLEAR_LINE}${text}\n`);
        open = undefined;
      } else {
        stream.write(`${CLEAR_LINE}${text}`);
        open = text;
      }
    },
    line(text) {
      if (open === undefined) stream.write(text);
      else stream.write(`${CLEAR_LINE}${text}${open}`);
    },
    close() {
      if (open !== undefined) stream.write('\n');
      open = undefined;
    },
  };
}

function logPrinter(stream: DownloadPrinterStream): DownloadPrinter {
  let phase: DownloadProgress['phase'] | undefined;
  let tenth = -1;
  return {
    progress(label, p) {
      const total = p.totalBytes ?? 0;
      const step = total > 0 ? Math.floor((Math.min(1, p.doneBytes / total) * 100) / STEP_PERCENT) : 0;
      if (p.phase === phase && (p.phase !== 'downloading' || step <= tenth)) return;
      phase = p.phase;
      tenth = step;
      stream.write(`${formatProgress(p, label)}\n`);
    },
    line(text) {
      stream.write(text);
    },
    close() {},
  };
}
