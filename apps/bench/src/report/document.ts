import type { ExperimentRecord, Mode } from '../types.js';
import type { SpeedResult } from '../speed/types.js';
import type { Chart } from './charts.js';

/** Everything one run produced; `results.json` is this object. */
export interface RunDocument {
  schemaVersion: 1;
  startedAt: string;
  finishedAt: string;
  mode: Mode;
  seed: number;
  command: string;
  environment: { node: string; platform: string; cpu: string; cores: number };
  experiments: ExperimentRecord[];
  speed?: SpeedResult;
  /** Charts not owned by an experiment (the speed suite's). */
  charts: Chart[];
}
