/**
 * Training-step benchmark: gradflow's fused GRU / LSTM vs tfjs-layers' tf.layers.gru / lstm on
 * the same backend, side by side in one run (ratios are what matter; machines are noisy).
 *
 *   cd packages/recurrent && pnpm bench [--backends wasm,cpu] [--cells gru,lstm] [--steps 15]
 *     [--warmup 3] [--T 100] [--batch 32] [--input 32] [--hidden 128] [--threads 1]
 *
 * (`pnpm bench` runs tsx with --experimental-wasm-relaxed-simd: Node 20 validates relaxed SIMD
 * only behind that flag, and without it both sides lose the fused multiply-add.)
 * One step = forward + backward + SGD update of a model `input [T, in] -> recurrent(H) -> MSE`
 * (the last state, as a sequence classifier would use). The two models' steps alternate after
 * warm-up (`--warmup` rounds and at least 5 s); it reports each one's median and the median of
 * the rounds' ratios.
 * `--wasm-kernels false` measures both on stock tfjs wasm (no gradflow kernels: slow transposed matmul).
 * PyTorch at the same size: `/usr/bin/python3 bench/torch_rnn.py --threads <n>`.
 * On wasm it also prints each cell's matmul FLOPs per step, the GFLOP/s gradflow's step reaches
 * over them, and how long they would take at the measured SIMD peak: the floor of gradflow's step.
 */
import * as tf from '@tensorflow/tfjs';
import { simdPeakGflops, useWasmBackend } from '@gradflow/backend-wasm';
import { gruLayer, lstmLayer } from '../src/index.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const backends = arg('backends', 'wasm,cpu').split(',');
const cells = arg('cells', 'gru,lstm').split(',') as ('gru' | 'lstm')[];
const steps = Number(arg('steps', '15'));
const warmup = Number(arg('warmup', '3'));
const T = Number(arg('T', '100'));
const B = Number(arg('batch', '32'));
const I = Number(arg('input', '32'));
const H = Number(arg('hidden', '128'));
const threads = Number(arg('threads', '1'));

function buildModel(kind: 'ours' | 'tfjs', cell: 'gru' | 'lstm'): tf.LayersModel {
  const input = tf.input({ shape: [T, I] });
  let layer: tf.layers.Layer;
  if (kind === 'ours') {
    layer = cell === 'gru' ? gruLayer({ units: H }) : lstmLayer({ units: H });
  } else {
    // resetAfter is not available in tfjs-layers; its GRU is the Cho variant.
    layer =
      cell === 'gru'
        ? tf.layers.gru({ units: H, recurrentInitializer: 'glorotUniform' })
        : tf.layers.lstm({ units: H, unitForgetBias: true, recurrentInitializer: 'glorotUniform' });
  }
  return tf.model({ inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Process CPU time in ms: on a shared machine it is steadier than wall time (the step is single-threaded). */
function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** One training step of `model` (SGD), and what to dispose afterwards. */
function trainer(
  model: tf.LayersModel,
  x: tf.Tensor,
  y: tf.Tensor,
): { step: () => void; dispose: () => void } {
  const optimizer = tf.train.sgd(0.01);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const step = () =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(
        () => tf.losses.meanSquaredError(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
        variables,
      );
      optimizer.applyGradients(grads);
      value.dataSync();
    });
  return { step, dispose: () => optimizer.dispose() };
}

interface Timing {
  wall: number;
  cpu: number;
}

/**
 * Times two models' steps alternately, one of each per round, so that a slow spell of a shared
 * machine lands on both: the ratio is the median of the rounds' ratios.
 */
function timePair(
  a: tf.LayersModel,
  b: tf.LayersModel,
  x: tf.Tensor,
  y: tf.Tensor,
): { a: Timing; b: Timing; ratio: Timing } {
  const [ta, tb] = [trainer(a, x, y), trainer(b, x, y)];
  // At least `warmup` rounds and 5 s: V8's background JIT needs about 2 s per model when two
  // threads of ours keep both cores busy.
  const warmUntil = performance.now() + 5000;
  for (let i = 0; i < warmup || performance.now() < warmUntil; i++) {
    ta.step();
    tb.step();
  }
  const time = (step: () => void): Timing => {
    const [t0, c0] = [performance.now(), cpuNow()];
    step();
    return { wall: performance.now() - t0, cpu: cpuNow() - c0 };
  };
  const rounds = Array.from({ length: steps }, () => [time(ta.step), time(tb.step)] as const);
  ta.dispose();
  tb.dispose();
  const med = (f: (r: (typeof rounds)[number]) => number) => median(rounds.map(f));
  return {
    a: { wall: med(([p]) => p.wall), cpu: med(([p]) => p.cpu) },
    b: { wall: med(([, q]) => q.wall), cpu: med(([, q]) => q.cpu) },
    ratio: { wall: med(([p, q]) => q.wall / p.wall), cpu: med(([p, q]) => q.cpu / p.cpu) },
  };
}

/**
 * Matmul FLOPs of one training step of a first recurrent layer with G gate blocks: the input
 * projection and its weight gradient (2·B·T·I·G·H each), the step matmuls forward and back through
 * U and U's gradient (2·B·T·H·G·H each). No dx: nothing upstream needs it. Both sides do this work.
 */
function stepMatmulFlops(cell: 'gru' | 'lstm'): number {
  const G = cell === 'gru' ? 3 : 4;
  return 2 * B * T * G * H * (2 * I + 3 * H);
}

async function main(): Promise<void> {
  console.log(
    `training step, T=${T} batch=${B} input=${I} hidden=${H}; ${steps} alternating rounds after ${warmup} warm-up rounds and 5 s`,
  );
  for (const backend of backends) {
    let peak = 0;
    if (backend === 'wasm') {
      const info = await useWasmBackend({
        kernels: arg('wasm-kernels', 'true') !== 'false',
        threads,
      });
      console.log(
        `wasm: simd=${info.simd} relaxed simd=${info.relaxedSimd} threads=${info.threads} (${info.kernelThreads}) kernels=[${info.kernels.join(', ')}]`,
      );
      if (info.kernels.length > 0) {
        peak = simdPeakGflops();
        console.log(`measured WASM SIMD multiply-add peak: ${peak.toFixed(1)} GFLOP/s per thread`);
      }
    } else {
      await tf.setBackend(backend);
      await tf.ready();
    }
    const x = tf.randomUniform([B, T, I], -1, 1, 'float32', 1);
    const y = tf.randomUniform([B, H], -1, 1, 'float32', 2);
    for (const cell of cells) {
      const ours = buildModel('ours', cell);
      const theirs = buildModel('tfjs', cell);
      const { a, b, ratio } = timePair(ours, theirs, x, y);
      console.log(
        `${backend.padEnd(4)} ${cell.padEnd(4)}  wall: gradflow ${a.wall.toFixed(1).padStart(7)} ms  tf.layers ${b.wall.toFixed(1).padStart(7)} ms  x${ratio.wall.toFixed(2).padEnd(5)}` +
          `  cpu: gradflow ${a.cpu.toFixed(1).padStart(7)} ms  tf.layers ${b.cpu.toFixed(1).padStart(7)} ms  x${ratio.cpu.toFixed(2)}`,
      );
      if (peak > 0) {
        // What bounds the ratio: the matmuls alone at the peak of every thread we run.
        const gflop = stepMatmulFlops(cell) / 1e9;
        console.log(
          `     ${cell} matmuls ${gflop.toFixed(2)} GFLOP/step: gradflow's whole step runs at ${(gflop / (a.wall / 1000)).toFixed(1)} GFLOP/s; ` +
            `at the peak they alone take ${((gflop / (peak * threads)) * 1000).toFixed(1)} ms, tf.layers / 5 is ${(b.wall / 5).toFixed(1)} ms`,
        );
      }
      ours.dispose();
      theirs.dispose();
    }
    tf.dispose([x, y]);
  }
}

await main();
