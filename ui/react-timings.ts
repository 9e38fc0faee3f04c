/**
 * React's development build (what loads unless NODE_ENV is "production" at that moment: tests,
 * `tsx`) records each component render as a performance.measure, for a browser's profiler. Node
 * keeps every one in its performance timeline until someone clears it, and nothing here reads
 * them: a dashboard redrawing a few times a second grew by megabytes a minute. While the
 * dashboard is mounted, React's measures are cleared as they arrive; others are left alone. The
 * production build records none, and the observer then has nothing to do. (NODE_ENV is no guide
 * here: bin/anyclaude.js sets it only while React loads.)
 */
import { useEffect } from 'react';
import { PerformanceObserver, performance, type PerformanceEntry } from 'node:perf_hooks';

/** React marks its own: `detail.devtools` says where in the profiler the entry goes. */
function fromReact(entry: PerformanceEntry): boolean {
  const detail = (entry as PerformanceEntry & { detail?: unknown }).detail;
  return typeof detail === 'object' && detail !== null && 'devtools' in detail;
}

export function useForgetReactTimings(): void {
  useEffect(() => {
    const observer = new PerformanceObserver((list) => {
      const names = new Set(list.getEntries().filter(fromReact).map((entry) => entry.name));
      for (const name of names) performance.clearMeasures(name);
    });
    observer.observe({ entryTypes: ['measure'] });
    return () => observer.disconnect();
  }, []);
}
