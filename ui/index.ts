/** The terminal dashboard of `anyclaude up`: give it a RunStore and the terminal's size. */
export { Dashboard, type DashboardProps } from './dashboard.js';
export { KEY_BINDINGS, matchKey, helpLine, type ActionId, type KeyBinding, type KeyMatch, type KeyPress, type KeyScope } from './keybindings.js';
export { useRunState } from './use-run-state.js';
