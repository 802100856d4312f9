import type { ProbeSink } from './kernels.js';

/** One kernel call seen by an active probe: which layer, stack depth and direction. */
export interface ProbeEntry extends ProbeSink {
  layer: string;
  depth: number;
  direction: 'forward' | 'backward';
}

let active: ProbeEntry[] | null = null;

/** Starts recording every recurrent kernel call; returns the list the calls append to. */
export function startProbe(): ProbeEntry[] {
  active = [];
  return active;
}

export function stopProbe(): void {
  active = null;
}

/** The sink for a kernel call, or null when no probe is recording. */
export function probeSink(
  layer: string,
  depth: number,
  direction: 'forward' | 'backward',
): ProbeEntry | null {
  if (!active) return null;
  const entry: ProbeEntry = { layer, depth, direction, hidden: [], grads: [] };
  active.push(entry);
  return entry;
}
