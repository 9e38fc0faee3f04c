/**
 * React.memo over what a panel reads. The store makes a new RunState on every change, but keeps
 * every slice that did not change (src/run/fold-events.ts): a panel that names the slices it reads
 * re-renders only when one of them changes, so a streaming reply re-renders the streaming line,
 * not the request table and the log.
 */
import { memo, type FunctionComponent, type NamedExoticComponent } from 'react';

/** `deps(props)` lists everything the component reads from its props (compared with Object.is). */
export function memoOn<P extends object>(component: FunctionComponent<P>, deps: (props: P) => readonly unknown[]): NamedExoticComponent<P> {
  return memo(component, (before, after) => {
    const a = deps(before);
    const b = deps(after);
    return a.length === b.length && a.every((value, i) => Object.is(value, b[i]));
  });
}
