// Training-step rows of bench/kernels.ts: ResNet-20, a small U-Net, DenseNet-BC and a GRU model
// (plain tf.layers, test/models.ts), each timed with gradflow's kernels, on stock wasm plus a naive
// filter gradient, optionally on the tfjs cpu backend, and in PyTorch (bench/torch_step.py, the
// same models) on the same thread count where python3-torch is installed.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { densenetBC, resnetCifar, smallUnet } from '../test/models.js';
import { median } from './timing.js';

/** How a row's model runs: gradflow's kernels, stock wasm plus the naive filter gradient, tfjs cpu. */
export type StepMode = 'ours' | 'stock' | 'cpu';

interface StepModel {
  name: string;
  build: () => tf.LayersModel;
  /** Input shape including the batch. */
  shape: number[];
  /** Classes of a softmax head; null: a per-pixel sigmoid (the U-Net). */
  classes: number | null;
  /** bench/torch_step.py's arguments for the same model and batch. */
  torch: string[];
  /** tfjs cpu trains conv nets at 0.02-0.3 GFLOP/s: it is timed at batch 1 there. */
  cpuBatch: number;
}

function gruModel(): tf.LayersModel {
  // Matmul-bound: the recurrent matmuls and their transposed gradients.
  return tf.sequential({
    layers: [
      tf.layers.gru({ units: 128, inputShape: [32, 32], name: 'gru' }),
      tf.layers.dense({ units: 10, activation: 'softmax', name: 'fc' }),
    ],
  });
}

function stepModels(quick: boolean): StepModel[] {
  const rb = quick ? 8 : 32;
  const ub = quick ? 2 : 8;
  const depth = quick ? 40 : 100;
  const db = quick ? 2 : 8;
  return [
    {
      name: `ResNet-20 batch ${rb}`,
      build: () => resnetCifar(3),
      shape: [rb, 32, 32, 3],
      classes: 10,
      torch: ['--model', 'resnet20', '--batch', String(rb)],
      cpuBatch: 1,
    },
    {
      name: `U-Net 64x64 base 16 batch ${ub}`,
      build: () => smallUnet(64, 1, 16),
      shape: [ub, 64, 64, 1],
      classes: null,
      torch: ['--model', 'unet', '--batch', String(ub)],
      cpuBatch: 1,
    },
    {
      name: `DenseNet-BC-${depth} (k 12) batch ${db}`,
      build: () => densenetBC(depth),
      shape: [db, 32, 32, 3],
      classes: 10,
      torch: ['--model', 'densenet_bc', '--depth', String(depth), '--batch', String(db)],
      cpuBatch: 1,
    },
    {
      name: `GRU(128), 32 steps x 32 features, batch ${rb}`,
      build: gruModel,
      shape: [rb, 32, 32],
      classes: 10,
      torch: ['--model', 'gru', '--batch', String(rb)],
      cpuBatch: rb,
    },
  ];
}

/** The model compiled for SGD with its loss, and a random batch of `batch` inputs and targets. */
function prepare(model: StepModel, batch: number) {
  const net = model.build();
  net.compile({
    optimizer: tf.train.sgd(0.01),
    loss: model.classes ? 'categoricalCrossentropy' : 'binaryCrossentropy',
  });
  const shape = [batch, ...model.shape.slice(1)];
  const x = tf.randomUniform(shape);
  const y = model.classes
    ? tf.oneHot(tf.randomUniform([batch], 0, model.classes, 'int32'), model.classes)
    : tf.randomUniform([...shape.slice(0, 3), 1]).round();
  const dispose = () => {
    tf.dispose([x, y]);
    net.optimizer.dispose();
    net.dispose();
  };
  return { net, x, y, dispose };
}

/** Median ms of `trainOnBatch` (SGD) after warm-up: `warmSteps` steps and at least `warmMs`. */
async function stepMs(model: StepModel, batch: number, reps: number, warmSteps: number, warmMs: number) {
  const { net, x, y, dispose } = prepare(model, batch);
  const warmUntil = performance.now() + warmMs;
  for (let i = 0; i < warmSteps || performance.now() < warmUntil; i++) await net.trainOnBatch(x, y);
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await net.trainOnBatch(x, y);
    ts.push(performance.now() - t0);
  }
  dispose();
  return median(ts);
}

/** The ten kernels with the most time in one profiled step (after one untimed step). */
async function profileTop(model: StepModel): Promise<string> {
  const { net, x, y, dispose } = prepare(model, model.shape[0] as number);
  await net.trainOnBatch(x, y);
  const totals = new Map<string, number>();
  const prof = await tf.profile(async () => {
    await net.trainOnBatch(x, y);
  });
  for (const k of prof.kernels) totals.set(k.name, (totals.get(k.name) ?? 0) + (k.kernelTimeMs as number));
  dispose();
  const top = [...totals.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10);
  return top.map(([n, t]) => `${n} ${t.toFixed(0)}ms`).join(', ');
}

const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';
const TORCH_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'torch_step.py');

/** Whether PYTHON imports torch (Debian's python3-torch). */
function torchInstalled(): boolean {
  return spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
}

/** bench/torch_step.py's median ms for `args`, or its failure as text. */
function torchMs(args: string[], threads: number, reps: number): number | string {
  const run = spawnSync(
    PYTHON,
    [TORCH_SCRIPT, ...args, '--threads', String(threads), '--reps', String(reps)],
    {
      encoding: 'utf8',
      timeout: 20 * 60_000,
    },
  );
  const ms = /^ms=([\d.]+)$/m.exec(run.stdout ?? '');
  if (run.status === 0 && ms) return Number(ms[1]);
  return `failed (${run.error?.message ?? run.stderr?.trim().split('\n').at(-1) ?? `status ${run.status}`})`;
}

export interface StepOptions {
  quick: boolean;
  threads: number;
  /** Also time the tfjs cpu backend (slow: one step at batch 1 on the conv nets). */
  cpu: boolean;
  /** Switches the backend and kernel registration to a mode. */
  mode: (m: StepMode) => Promise<void>;
}

/** Prints one line per model (ours, stock + naive, cpu, PyTorch) and ResNet-20's top kernels. */
export async function runSteps(o: StepOptions): Promise<void> {
  const torch = torchInstalled();
  const ratio = (ours: number, other: number): string =>
    `${(other / ours).toFixed(other > ours * 10 ? 1 : 2)}x`;
  console.log(
    `\ntraining step (trainOnBatch, SGD), median ms; ratios are the other's time over ours` +
      ` (PyTorch: ${torch ? `bench/torch_step.py on ${o.threads} thread(s)` : `not installed for ${PYTHON}`})`,
  );
  // Warm-up: 2 steps and 2.5 s. With two threads busy on a 2-core machine V8's background JIT
  // needs about 2 s: a ResNet-20 step on 2 threads went from 190 to 145 ms over its first dozen.
  for (const [i, model] of stepModels(o.quick).entries()) {
    const batch = model.shape[0] as number;
    await o.mode('ours');
    const ours = await stepMs(model, batch, o.quick ? 2 : 5, 2, 2500);
    await o.mode('stock');
    const stock = await stepMs(model, batch, o.quick ? 1 : 3, 2, 2500);
    const parts = [
      `ours ${ours.toFixed(0)} ms (${((batch / ours) * 1000).toFixed(1)}/s)`,
      `stock+naive ${stock.toFixed(0)} ms (${ratio(ours, stock)})`,
    ];
    if (o.cpu) {
      await o.mode('cpu');
      const cpu = await stepMs(model, model.cpuBatch, 1, 1, 0);
      parts.push(
        `cpu ${cpu.toFixed(0)} ms at batch ${model.cpuBatch} (${((model.cpuBatch / cpu) * 1000).toFixed(2)}/s)`,
      );
    }
    if (torch) {
      const pt = torchMs(model.torch, o.threads, o.quick ? 3 : 10);
      parts.push(
        typeof pt === 'number' ? `PyTorch ${pt.toFixed(0)} ms (ours ${ratio(ours, pt)})` : `PyTorch ${pt}`,
      );
    }
    console.log(`${model.name}: ${parts.join(' | ')}`);
    if (i === 0) {
      await o.mode('ours');
      console.log(`  profile (ours), top kernels: ${await profileTop(model)}`);
    }
  }
}
