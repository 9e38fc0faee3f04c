/**
 * What happens to a prompt longer than the model's real window, a word the settings, the CLI and
 * the proxy share: `compact` (the default) refuses it with "prompt is too long" so Claude Code
 * summarizes the conversation; `window` leaves its oldest turns out (src/proxy/context-window.ts).
 */
export const CONTEXT_STRATEGIES = ['compact', 'window'] as const;
export type ContextStrategy = (typeof CONTEXT_STRATEGIES)[number];

/** "1 earlier message", "14 earlier messages": how the log, the note and the dashboard say what `window` left out. */
export function earlierMessages(count: number): string {
  return `${count} earlier message${count === 1 ? '' : 's'}`;
}
