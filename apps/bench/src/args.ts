import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, checkInteger } from '@gradflow/core';
import type { Mode } from './types.js';

export interface BenchArgs {
  mode: Mode;
  /** Experiment ids and/or 'speed'; undefined runs everything. */
  only?: string[];
  seed: number;
  out: string;
  browser: boolean;
  help: boolean;
}

export const DEFAULT_OUT = fileURLToPath(new URL('../reports/latest', import.meta.url));

export const usage = (
  experiments: string[],
): string => `gradflow bench — gradient-flow experiments and the WASM training speed suite

  pnpm bench [--quick | --full] [--only ID[,ID...]] [--seed N] [--out DIR] [--browser]

  --quick        small, fast settings (default; < 10 minutes on 2 cores)
  --full         settings closer to the papers (much longer)
  --only IDS     run only these experiments (and/or 'speed'); see the list below
  --seed N       seed for data, init and shuffling (default 1); runs are deterministic given it
  --out DIR      report directory (default apps/bench/reports/latest); an existing report there
                 is moved aside, never overwritten
  --browser      also run the wasm speed suite in headless Chromium (Debian's /usr/bin/chromium)

  experiments: ${experiments.join(', ')}, speed
`;

export function parseBenchArgs(argv: string[]): BenchArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean' },
      full: { type: 'boolean' },
      only: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      browser: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.quick && values.full)
    throw new InvalidArgumentError('mode', '--quick --full', 'one of --quick or --full');
  const seed = values.seed === undefined ? 1 : checkInteger('--seed', Number(values.seed), 0);
  const only = values.only
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return {
    mode: values.full ? 'full' : 'quick',
    ...(only ? { only } : {}),
    seed,
    out: values.out ?? DEFAULT_OUT,
    browser: values.browser ?? false,
    help: values.help ?? false,
  };
}
