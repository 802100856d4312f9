import { useWasmBackend } from '@gradflow/backend-wasm';
import { GradflowError } from '@gradflow/core';
import { setInitializerSeed } from '@gradflow/initializers';
import { cpus } from 'node:os';
import { relative } from 'node:path';
import { parseBenchArgs, usage } from './args.js';
import { EXPERIMENTS, selectExperiments } from './experiments/index.js';
import { Progress } from './progress.js';
import type { RunDocument } from './report/document.js';
import { fmt, markdownTable } from './report/format.js';
import { keepPrevious, writeReport } from './report/write.js';
import { speedTable } from './report/markdown.js';
import { runSpeedSuite } from './speed/suite.js';
import type { ExperimentRecord } from './types.js';

async function main(argv: string[]): Promise<number> {
  const args = parseBenchArgs(argv);
  if (args.help) {
    process.stdout.write(usage(EXPERIMENTS.list()));
    return 0;
  }
  const progress = new Progress();
  const { experiments, speed } = selectExperiments(args.only);
  const startedAt = new Date().toISOString();
  // Experiments train on gradflow's wasm backend (the speed suite sets up its own processes).
  const wasm = await useWasmBackend();
  progress.log(
    `backend: wasm (simd ${wasm.simd}, threads ${wasm.kernelThreads}, kernels ${wasm.kernelVariant ?? 'stock'})`,
  );
  progress.log(
    `gradflow bench --${args.mode}, seed ${args.seed}: ${experiments.length} experiment(s)${speed ? ' + speed suite' : ''}`,
  );

  const records: ExperimentRecord[] = [];
  for (const experiment of experiments) {
    progress.log(`\n▶ ${experiment.title}`);
    const started = performance.now();
    const record: ExperimentRecord = {
      id: experiment.id,
      title: experiment.title,
      citation: experiment.citation,
      claim: experiment.claim,
      rule: experiment.rule,
      seconds: 0,
    };
    try {
      // Every experiment starts from the same weight stream, whatever ran before it.
      setInitializerSeed(args.seed);
      record.result = await experiment.run({ mode: args.mode, seed: args.seed, progress });
      progress.log(`  → ${record.result.verdict}: ${record.result.finding}`);
    } catch (error) {
      record.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      progress.log(`  → error: ${record.error}`);
    }
    record.seconds = (performance.now() - started) / 1000;
    records.push(record);
  }

  const speedResult = speed
    ? await runSpeedSuite({ mode: args.mode, seed: args.seed, progress, browser: args.browser })
    : undefined;

  const doc: RunDocument = {
    schemaVersion: 1,
    startedAt,
    finishedAt: new Date().toISOString(),
    mode: args.mode,
    seed: args.seed,
    command: `pnpm bench ${argv.join(' ')}`.trim(),
    environment: {
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
    },
    experiments: records,
    ...(speedResult ? { speed: speedResult.result } : {}),
    charts: speedResult?.charts ?? [],
  };
  const moved = keepPrevious(args.out);
  if (moved) progress.log(`\nprevious report kept: ${relative(process.cwd(), moved)}`);
  const files = await writeReport(args.out, doc);

  const speedSummary = doc.speed
    ? `\n\nspeed, examples/s (ratio: gradflow wasm 1T over each):\n${speedTable(doc.speed)}`
    : '';
  process.stdout.write(
    `${records.length > 0 ? `\n${summary(records)}` : ''}${speedSummary}\n\nreport: ${args.out}/report.html (${files.length} files: report.md, report.html, results.json, charts/)\n`,
  );
  return records.some((r) => r.error) ? 1 : 0;
}

function summary(records: ExperimentRecord[]): string {
  return markdownTable(
    ['experiment', 'verdict', 'seconds'],
    records.map((r) => [r.title, r.result?.verdict ?? `error`, fmt(r.seconds)]),
  );
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (
      error instanceof GradflowError ||
      (error instanceof Error && error.name === 'TypeError' && 'code' in error)
    ) {
      process.stderr.write(`gradflow bench: ${error.message}\n\n${usage(EXPERIMENTS.list())}`);
      process.exit(2);
    }
    throw error;
  },
);
