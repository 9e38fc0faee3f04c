/** The one spinner of the dashboard: work under way (a server starting, a cache warming). */
import type { ReactNode } from 'react';
import { Text } from 'ink';
import Spinner from 'ink-spinner';
import { SPINNER } from './theme.js';

export function Busy(): ReactNode {
  return (
    <Text color="yellow">
      <Spinner type={SPINNER} />
    </Text>
  );
}
