import type { Progress } from './progress.js';
import type { Chart } from './report/charts.js';

export type Mode = 'quick' | 'full';

export interface RunContext {
  mode: Mode;
  seed: number;
  progress: Progress;
}

/** Decided by the experiment's rule, which is fixed before the run. */
export type Verdict = 'held' | 'did not hold' | 'inconclusive';

export interface Table {
  caption: string;
  columns: string[];
  rows: (string | number)[][];
}

export interface ExperimentResult {
  /** What this run actually did (sizes, steps, data). */
  setup: string;
  /** How it departs from the paper's setup. */
  deviations: string[];
  verdict: Verdict;
  /** The result in a sentence or two, with the numbers that decided the verdict. */
  finding: string;
  tables: Table[];
  charts: Chart[];
  /** Raw numbers for results.json. */
  data: unknown;
}

export interface Experiment {
  id: string;
  title: string;
  citation: string;
  /** The paper's claim, with its number where it gives one. */
  claim: string;
  /** The decision rule, written before running. */
  rule: string;
  run(context: RunContext): Promise<ExperimentResult>;
}

export interface ExperimentRecord {
  id: string;
  title: string;
  citation: string;
  claim: string;
  rule: string;
  seconds: number;
  result?: ExperimentResult;
  error?: string;
}
