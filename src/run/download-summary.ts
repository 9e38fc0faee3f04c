/** A model download in a few words, for the status line and `anyclaude status`: "45% of 17.2 GB, ETA 1m37s". */
import { formatBytes } from '../core/bytes.js';
import type { DownloadView } from './run-state.js';

export function downloadSummary(d: DownloadView): string {
  if (d.phase === 'planning' || d.totalBytes === undefined || d.totalBytes <= 0) return 'asking the Hub';
  const pct = Math.floor(Math.min(1, Math.max(0, d.doneBytes / d.totalBytes)) * 100);
  const eta = d.etaSeconds === undefined || d.phase !== 'downloading' ? '' : `, ETA ${formatEta(d.etaSeconds)}`;
  return `${pct}% of ${formatBytes(d.totalBytes)}${eta}`;
}

function formatEta(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
