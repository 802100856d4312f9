import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BROWSER_RUNNERS, runBrowserSuite } from '../browser/run.js';
import type { Progress } from '../progress.js';
import { barChart, type Chart } from '../report/charts.js';
import type { Mode } from '../types.js';
import { speedModels, type SpeedModel } from './models.js';
import { RUNNER_LABELS, type Measurement, type RunnerId, type SpeedResult, type SpeedRow } from './types.js';

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));
const PEAK = fileURLToPath(new URL('./peak.ts', import.meta.url));
const TORCH_SCRIPT = fileURLToPath(new URL('../../torch/speed_reference.py', import.meta.url));
const JS_RUNNERS: RunnerId[] = ['gradflow_wasm_1t', 'gradflow_wasm_2t', 'stock_wasm', 'tfjs_cpu'];
/**
 * tfjs cpu trains a conv net at 0.02-0.3 GFLOP/s (its filter gradient is a scalar loop): a
 * ResNet-20 step at batch 32 takes minutes, a U-Net image at 64x64 about six. Its examples/s hardly
 * depend on the batch (one thread, no batching tricks: ResNet-20 ran at 0.16-0.18 img/s at batch 2 and 32),
 * so --full times one step of one example, with no warm-up (a JIT warm-up is noise against
 * minutes), and says so.
 */
const CPU_CONV_BATCH = 1;

export interface SpeedOptions {
  mode: Mode;
  seed: number;
  progress: Progress;
  browser: boolean;
  /** The models to time; default `speedModels(mode)`. */
  models?: SpeedModel[];
}

/**
 * Runs a TypeScript entry point in a fresh Node process (by default with the same loader and
 * conditions as this one: `execArgv`).
 */
function runNode(
  entry: string,
  args: string[],
  timeoutMs: number,
  execArgv = process.execArgv,
): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...execArgv, entry, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', () => {
      clearTimeout(timer);
      resolve(
        out.trim().split('\n').at(-1) ||
          JSON.stringify({ note: `failed: ${err.trim().split('\n').at(-1) ?? 'no output'}` }),
      );
    });
  });
}

/**
 * One Node measurement: `runner` × `modelId` in a fresh process (speed/worker.ts). `execArgv` must
 * let Node run TypeScript with the `source` condition (the default: this process's own flags).
 */
export async function measureInNode(
  runner: RunnerId,
  modelId: string,
  repeats: number,
  warmup: number,
  options: { timeoutMs?: number; execArgv?: string[]; batch?: number } = {},
): Promise<Measurement & { gflopPerStep?: number }> {
  const line = await runNode(
    WORKER,
    [runner, modelId, String(repeats), String(warmup), ...(options.batch ? [String(options.batch)] : [])],
    options.timeoutMs ?? 15 * 60_000,
    options.execArgv,
  );
  return JSON.parse(line) as Measurement & { gflopPerStep?: number };
}

function torchAvailable(): boolean {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import torch, torchvision'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function torchMeasurements(
  models: SpeedModel[],
  threads: number,
  repeats: number,
  warmup: number,
): Map<string, Measurement> {
  const specs = models.filter((m) => m.torch).map((m) => `${m.torch}:${m.batch}`);
  const result = new Map<string, Measurement>();
  if (specs.length === 0) return result;
  const out = execFileSync(
    '/usr/bin/python3',
    [
      TORCH_SCRIPT,
      '--threads',
      String(threads),
      '--repeats',
      String(repeats),
      '--warmup',
      String(warmup),
      ...specs,
    ],
    {
      encoding: 'utf8',
      timeout: 30 * 60_000,
    },
  );
  for (const line of out.trim().split('\n')) {
    const row = JSON.parse(line) as { model: string; batch: number; ms_per_step?: number; error?: string };
    const model = models.find((m) => m.torch === row.model);
    if (!model) continue;
    result.set(
      model.id,
      row.ms_per_step
        ? { msPerStep: row.ms_per_step, examplesPerSecond: (1000 * row.batch) / row.ms_per_step }
        : { note: row.error ?? 'failed' },
    );
  }
  return result;
}

export async function runSpeedSuite(
  options: SpeedOptions,
): Promise<{ result: SpeedResult; charts: Chart[] }> {
  const models = options.models ?? speedModels(options.mode);
  const [repeats, warmup] = options.mode === 'quick' ? [3, 2] : [10, 3];
  const notes: string[] = [];
  const rows: SpeedRow[] = models.map((m) => ({
    model: m.id,
    inputShape: m.inputShape,
    batch: m.batch,
    gflopPerStep: 0,
    results: {},
  }));
  const browserRunners = options.browser ? BROWSER_RUNNERS : [];
  const bar = options.progress.start(
    'speed suite',
    models.length * (JS_RUNNERS.length + browserRunners.length) + 2,
  );

  const peakLine = await runNode(PEAK, [], 120_000);
  const peak = JSON.parse(peakLine) as {
    gflops?: number;
    simdPeakGflops?: number;
    kernelVariant?: string | null;
    note?: string;
  };
  bar.tick(1, 'peak GEMM');

  for (const [i, model] of models.entries()) {
    for (const runner of JS_RUNNERS) {
      if (runner === 'tfjs_cpu' && model.conv && options.mode === 'quick') {
        rows[i]!.results[runner] = { note: 'not timed in --quick (tens of seconds per step); see --full' };
        bar.tick(1, `${model.id} ${RUNNER_LABELS[runner]} skipped`);
        continue;
      }
      // tfjs cpu and stock wasm are 10-100x slower; a step or two is enough to show it.
      const cpuConv = runner === 'tfjs_cpu' && model.conv;
      const [r, w] = cpuConv
        ? [1, 0]
        : runner === 'tfjs_cpu' || runner === 'stock_wasm'
          ? [Math.min(repeats, 2), 1]
          : [repeats, warmup];
      const batch = cpuConv ? CPU_CONV_BATCH : undefined;
      const m = await measureInNode(runner, model.id, r, w, batch ? { batch } : {});
      if (m.gflopPerStep) rows[i]!.gflopPerStep = m.gflopPerStep;
      delete m.gflopPerStep;
      rows[i]!.results[runner] = m;
      bar.tick(1, `${model.id} ${RUNNER_LABELS[runner]}`);
    }
  }

  if (options.browser) {
    const browser = await runBrowserSuite({
      models,
      repeats,
      warmup,
      onMeasured: (id, runner) => bar.tick(1, `${id} ${RUNNER_LABELS[runner]}`),
    });
    for (const [i, model] of models.entries()) {
      for (const [runner, measured] of Object.entries(browser.results.get(model.id) ?? {})) {
        const { gflopPerStep, ...m } = measured as Measurement & { gflopPerStep?: number };
        if (gflopPerStep && !rows[i]!.gflopPerStep) rows[i]!.gflopPerStep = gflopPerStep;
        rows[i]!.results[runner as RunnerId] = m;
      }
    }
    notes.push(...browser.notes);
  }

  if (torchAvailable()) {
    for (const [threads, runner] of [
      [1, 'pytorch_1t'],
      [2, 'pytorch_2t'],
    ] as const) {
      const measured = torchMeasurements(models, threads, repeats, warmup);
      for (const [i, model] of models.entries()) {
        rows[i]!.results[runner] = measured.get(model.id) ?? { note: 'no PyTorch twin' };
      }
    }
    notes.push(
      'PyTorch: Debian python3-torch, torch.set_num_threads(n), same batch and SGD-momentum step on random data (apps/bench/torch/speed_reference.py).',
    );
  } else {
    notes.push(
      'PyTorch columns skipped: python3-torch is not installed (apt-get install python3-torch python3-torchvision).',
    );
  }
  bar.finish();

  if (peak.kernelVariant) {
    notes.push(
      `gradflow's kernels in Node: the ${peak.kernelVariant} build${peak.kernelVariant.includes('relaxed') ? ' (fused multiply-add through relaxed SIMD: Node 20 runs with --experimental-wasm-relaxed-simd, on by default from Node 22 and in Chromium)' : ' (this engine has no relaxed SIMD: no fused multiply-add)'}.`,
    );
  }
  notes.push(
    `${options.mode === 'quick' ? 'Quick' : 'Full'} mode: median of ${repeats} steps after at least ${warmup} warm-up steps and 2.5 s of them (tfjs cpu and stock wasm: 2 after 1${options.mode === 'full' ? `; tfjs cpu on conv nets: 1 step, no warm-up, at batch ${CPU_CONV_BATCH}: its examples/s hardly depend on the batch` : ''}). GFLOP/step = 3 x forward conv/dense/recurrent FLOPs, convolutions counted as direct ones: gradflow runs 3x3 stride-1 convolutions as Winograd F(2x2, 3x3), 2.25x fewer multiply-adds, so its GFLOP/s can pass the SIMD peak.`,
  );
  const charts = [
    barChart(
      'speed_throughput',
      'Training throughput (examples/s, log scale)',
      rows.flatMap((row) =>
        Object.entries(row.results).map(([runner, m]) => ({
          group: row.model,
          series: RUNNER_LABELS[runner as RunnerId],
          value: m?.examplesPerSecond ?? 0,
        })),
      ),
      { value: 'examples / s', logX: true },
    ),
  ];
  return {
    result: {
      ...(peak.gflops ? { peakGemmGflops: peak.gflops } : {}),
      ...(peak.simdPeakGflops ? { simdPeakGflops: peak.simdPeakGflops } : {}),
      rows,
      notes: peak.note ? [peak.note, ...notes] : notes,
    },
    charts,
  };
}
