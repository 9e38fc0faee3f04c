/**
 * The one spinner of the dashboard: work under way (a server starting, a cache warming). Every
 * spinner on screen reads one shared frame (ui/clock.ts), so several turn in one redraw.
 */
import type { ReactNode } from 'react';
import { Text } from 'ink';
import { useSpinnerFrame } from './clock.js';

export function Busy(): ReactNode {
  return <Text color="yellow">{useSpinnerFrame()}</Text>;
}
