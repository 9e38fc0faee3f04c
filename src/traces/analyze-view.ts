/** The text form of `anyclaude traces analyze`: where the prompt's tokens go, largest parts first where it helps. */
import type { Breakdown, PartTokens } from './analyze.js';
import { formatInt, formatShare, formatTime, renderTable } from './table.js';

const TOP_TOOLS = 5;

export function renderAnalysis(b: Breakdown, options: { verbose?: boolean } = {}): string {
  const lines = [
    `trace ${b.id} · ${b.backend}${b.model === undefined ? '' : ` · ${b.model}`} · ${formatTime(b.startedAt)}`,
    `prompt ${b.source === 'upstream' ? 'as the backend received it' : 'as Claude Code sent it (it never reached the backend)'} (${b.protocol === 'openai' ? 'OpenAI chat' : 'Anthropic Messages'})`,
    countingNote(b),
  ];
  if (b.cachedTokens !== undefined && b.cachedTokens > 0) lines.push(`${formatInt(b.cachedTokens)} of its tokens came from the backend's prompt cache`);
  lines.push('');

  const row = (label: string, tokens: number, share: number): string[] => [label, formatInt(tokens), formatShare(share)];
  const rows: string[][] = [];
  if (b.system.count > 0) rows.push(row('system prompt', b.system.tokens, b.system.share));
  rows.push(row(`tools (${b.tools.count})`, b.tools.tokens, b.tools.share));
  rows.push(row(`messages (${b.messages.count})`, b.messages.tokens, b.messages.share));
  for (const role of b.messages.byRole) rows.push(row(`  ${role.role} (${role.count})`, role.tokens, role.share));
  rows.push(row('total', b.total, b.total === 0 ? 0 : 1));
  lines.push(renderTable([{ header: 'part' }, { header: 'tokens', align: 'right' }, { header: 'share', align: 'right' }], rows));

  if (b.tools.count > 0) {
    const shown = options.verbose === true ? b.toolsByCost : b.toolsByCost.slice(0, TOP_TOOLS);
    const title = options.verbose === true ? 'tools, most expensive first:' : `most expensive tools (top ${shown.length} of ${b.tools.count}; -v for all):`;
    lines.push('', title, indent(renderTable(partColumns('tool'), shown.map((t) => partRow(t.name, t)))));
  }
  if (options.verbose === true && b.messages.count > 0) {
    const messages = b.parts.filter((p) => p.kind === 'message');
    const table = renderTable(
      [...partColumns('message'), { header: 'content' }],
      messages.map((m) => [...partRow(`#${(m.index ?? 0) + 1} ${m.name}`, m), m.preview ?? '']),
    );
    lines.push('', 'messages, in order:', indent(table));
  }
  return lines.join('\n');
}

function countingNote(b: Breakdown): string {
  const c = b.calibration;
  if (c.kind === 'calibrated') {
    return `${formatInt(b.total)} tokens, as the backend counted them; parts counted with tiktoken (${formatInt(c.rawTokens)} raw) and calibrated by ×${c.ratio.toFixed(3)}`;
  }
  return `${formatInt(b.total)} tokens, a raw tiktoken (p50k_base) estimate, not calibrated: ${c.reason}`;
}

function partColumns(header: string): Array<{ header: string; align?: 'left' | 'right' }> {
  return [{ header }, { header: 'tokens', align: 'right' }, { header: 'share', align: 'right' }];
}

function partRow(label: string, part: PartTokens): string[] {
  return [label, formatInt(part.tokens), formatShare(part.share)];
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}
