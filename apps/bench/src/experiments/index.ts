import { Registry } from '@gradflow/core';
import type { Experiment } from '../types.js';
import { activationsExperiment } from './activations.js';
import { depthExperiment } from './depth.js';
import { initializationExperiment } from './initialization.js';
import { recurrentExperiment } from './recurrent.js';
import { residualInitExperiment } from './residual-init.js';
import { shortcutScalingExperiment } from './shortcut-scaling.js';

/** Every experiment, in report order, by id; `speed` is the speed suite. */
export const EXPERIMENTS = new Registry<Experiment>(
  'experiment',
  Object.fromEntries(
    [
      activationsExperiment,
      initializationExperiment,
      depthExperiment,
      residualInitExperiment,
      shortcutScalingExperiment,
      recurrentExperiment,
    ].map((e) => [e.id, e]),
  ),
  { hint: `run \`pnpm bench --help\`` },
);

const SPEED = 'speed';

/** The experiments `--only` names (all when undefined), validated with suggestions. */
export function selectExperiments(only: string[] | undefined): { experiments: Experiment[]; speed: boolean } {
  if (!only) return { experiments: EXPERIMENTS.list().map((id) => EXPERIMENTS.get(id)), speed: true };
  const known = new Registry<true>(
    'experiment',
    Object.fromEntries([...EXPERIMENTS.list(), SPEED].map((id) => [id, true as const])),
    { hint: 'run `pnpm bench --help`' },
  );
  only.forEach((id) => known.get(id));
  return {
    experiments: only.filter((id) => id !== SPEED).map((id) => EXPERIMENTS.get(id)),
    speed: only.includes(SPEED),
  };
}
