// Kernel and training-step benchmark: gradflow's wasm kernels vs stock tfjs-backend-wasm (plus a
// naive filter gradient where stock has none) vs the tfjs cpu backend, side by side in one run;
// the training steps (bench/steps.ts) also against PyTorch where python3-torch is installed.
//   npx tsx --conditions=source bench/kernels.ts [--quick] [--steps-only] [--threads N] [--stock-threads N]
//     [--cpu-step] [--reps N]
// (run once with --threads 1 and once with --threads 2 to compare: the count is fixed per process;
// the stock XNNPACK pool runs on 1 thread unless --stock-threads says otherwise, see stockThreads)
// Prints medians after warm-up. Benchmarks are not tests: numbers depend on the machine.
import * as tf from '@tensorflow/tfjs';
import {
  registerGradflowKernels,
  simdPeakGflops,
  unregisterGradflowKernels,
  useWasmBackend,
} from '../src/index.js';
import { registerNaive, unregisterNaive } from './naive.js';
import { runSteps, type StepMode } from './steps.js';
import { timeIt } from './timing.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const cpuStep = args.includes('--cpu-step');
const stepsOnly = args.includes('--steps-only');
const threadsArg = args.indexOf('--threads');
const THREADS = threadsArg >= 0 ? Number(args[threadsArg + 1]) : 1;
const stockThreadsArg = args.indexOf('--stock-threads');
const STOCK_THREADS = stockThreadsArg >= 0 ? Number(args[stockThreadsArg + 1]) : undefined;
const repsArg = args.indexOf('--reps');
const REPS = repsArg >= 0 ? Number(args[repsArg + 1]) : quick ? 3 : 10;

async function mode(m: StepMode): Promise<void> {
  if (m === 'cpu') {
    await tf.setBackend('cpu');
    return;
  }
  await tf.setBackend('wasm');
  if (m === 'ours') {
    unregisterNaive();
    registerGradflowKernels();
  } else {
    unregisterGradflowKernels();
    registerNaive();
  }
}

const gflops = (flop: number, ms: number): string => (flop / ms / 1e6).toFixed(2);
const ratio = (a: number, b: number): string => `${(b / a).toFixed(1)}x`;

function run(kernel: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>): tf.Tensor {
  return tf.engine().runKernel(kernel, inputs, attrs as tf.NamedAttrMap) as tf.Tensor;
}

async function timeKernel(
  m: StepMode,
  make: () => Record<string, tf.Tensor>,
  kernel: string,
  attrs: Record<string, unknown>,
  reps = REPS,
): Promise<number> {
  await mode(m);
  const inputs = make();
  const ms = timeIt(() => run(kernel, inputs, attrs), reps);
  tf.dispose(Object.values(inputs));
  return ms;
}

const info = await useWasmBackend({ threads: THREADS, stockThreads: STOCK_THREADS });
console.log(`useWasmBackend: ${JSON.stringify(info)}`);
console.log(`measured WASM SIMD multiply-add peak: ${simdPeakGflops().toFixed(1)} GFLOP/s (1 thread)`);

// ---- GEMM ----
if (!stepsOnly) {
  console.log('\nBatchMatMul GFLOP/s        ours   stock   cpu    ours/stock');
  const gemms: [number, number, number][] = [
    [256, 256, 256],
    [1024, 144, 16],
    [64, 2048, 64],
    [512, 512, 512],
  ];
  for (const [m, k, n] of quick ? gemms.slice(0, 1) : gemms) {
    for (const [ta, tb] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      const make = (): Record<string, tf.Tensor> => ({
        a: tf.randomUniform(ta ? [k, m] : [m, k]),
        b: tf.randomUniform(tb ? [n, k] : [k, n]),
      });
      const attrs = { transposeA: ta, transposeB: tb };
      const flop = 2 * m * n * k;
      const ours = await timeKernel('ours', make, 'BatchMatMul', attrs);
      const stock = await timeKernel('stock', make, 'BatchMatMul', attrs);
      const cpu = await timeKernel('cpu', make, 'BatchMatMul', attrs, 3);
      const label = `${m}x${k}x${n} ${ta ? 'T' : 'N'}${tb ? 'T' : 'N'}`.padEnd(24);
      console.log(
        `${label} ${gflops(flop, ours).padStart(6)} ${gflops(flop, stock).padStart(7)} ${gflops(flop, cpu).padStart(6)}  ${ratio(ours, stock)}`,
      );
    }
  }

  // ---- convolutions at ResNet-20 shapes, batch 32 ----
  const B = quick ? 8 : 32;
  const convs: [string, number, number, number, number, number, number][] = [
    // name, H, Ci, Co, k, stride
    ['32x32 16->16 k3 s1', 32, 16, 16, 3, 1, 0],
    ['32x32 16->32 k3 s2', 32, 16, 32, 3, 2, 0],
    ['16x16 32->32 k3 s1', 16, 32, 32, 3, 1, 0],
    ['16x16 32->64 k3 s2', 16, 32, 64, 3, 2, 0],
    ['8x8 64->64 k3 s1', 8, 64, 64, 3, 1, 0],
    ['32x32 16->32 k1 s2', 32, 16, 32, 1, 2, 0],
  ];
  console.log(
    `\nconv2d (batch ${B}), GFLOP/s: forward ours, stock XNNPACK | dX ours, stock | dW ours, naive | cpu dX, dW\n(backward "x fwd": against the faster of the two forwards)`,
  );
  for (const [name, h, ci, co, k, s] of quick ? convs.slice(0, 2) : convs) {
    const oh = Math.ceil(h / s);
    const flop = 2 * B * oh * oh * k * k * ci * co;
    const attrs = { strides: s, pad: 'same', dataFormat: 'NHWC', dilations: 1, dimRoundingMode: undefined };
    const x = (): tf.Tensor => tf.randomUniform([B, h, h, ci]);
    const f = (): tf.Tensor => tf.randomUniform([k, k, ci, co]);
    const dy = (): tf.Tensor => tf.randomUniform([B, oh, oh, co]);
    const fwdOurs = await timeKernel('ours', () => ({ x: x(), filter: f() }), 'Conv2D', attrs);
    const fwdStock = await timeKernel('stock', () => ({ x: x(), filter: f() }), 'Conv2D', attrs);
    const fwd = Math.min(fwdOurs, fwdStock);
    const dxA = { ...attrs, inputShape: [B, h, h, ci] };
    const dwA = { ...attrs, filterShape: [k, k, ci, co] };
    const dxOurs = await timeKernel('ours', () => ({ dy: dy(), filter: f() }), 'Conv2DBackpropInput', dxA);
    const dxStock = await timeKernel(
      'stock',
      () => ({ dy: dy(), filter: f() }),
      'Conv2DBackpropInput',
      dxA,
      3,
    );
    const dwOurs = await timeKernel('ours', () => ({ x: x(), dy: dy() }), 'Conv2DBackpropFilter', dwA);
    const dwNaive = await timeKernel('stock', () => ({ x: x(), dy: dy() }), 'Conv2DBackpropFilter', dwA, 3);
    // The cpu backend at batch 2 (GFLOP/s is what is compared; it is far too slow at batch 32).
    const cb = 2;
    const cflop = (flop / B) * cb;
    const dxCpu = await timeKernel(
      'cpu',
      () => ({ dy: tf.randomUniform([cb, oh, oh, co]), filter: f() }),
      'Conv2DBackpropInput',
      { ...attrs, inputShape: [cb, h, h, ci] },
      2,
    );
    const dwCpu = await timeKernel(
      'cpu',
      () => ({ x: tf.randomUniform([cb, h, h, ci]), dy: tf.randomUniform([cb, oh, oh, co]) }),
      'Conv2DBackpropFilter',
      dwA,
      2,
    );
    console.log(
      `${name.padEnd(20)} fwd ${gflops(flop, fwdOurs).padStart(6)} ${gflops(flop, fwdStock).padStart(6)} | dX ${gflops(flop, dxOurs).padStart(6)} ${gflops(flop, dxStock).padStart(6)} (${ratio(dxOurs, dxStock)}, ${(fwd / dxOurs).toFixed(2)}x fwd) | dW ${gflops(flop, dwOurs).padStart(6)} ${gflops(flop, dwNaive).padStart(6)} (${ratio(dwOurs, dwNaive)}, ${(fwd / dwOurs).toFixed(2)}x fwd) | cpu ${gflops(cflop, dxCpu)} ${gflops(cflop, dwCpu)}`,
    );
  }

  // ---- depthwise and Tile ----
  {
    const make = (): Record<string, tf.Tensor> => ({
      x: tf.randomUniform([B, 16, 16, 64]),
      dy: tf.randomUniform([B, 16, 16, 64]),
    });
    const attrs = { strides: 1, pad: 'same', dilations: 1, filterShape: [3, 3, 64, 1] };
    const flop = 2 * B * 16 * 16 * 9 * 64;
    const ours = await timeKernel('ours', make, 'DepthwiseConv2dNativeBackpropFilter', attrs);
    const naive = await timeKernel('stock', make, 'DepthwiseConv2dNativeBackpropFilter', attrs, 3);
    console.log(
      `\ndepthwise dW 16x16x64 k3: ours ${gflops(flop, ours)} GFLOP/s, naive ${gflops(flop, naive)} (${ratio(ours, naive)})`,
    );
    const mk = (): Record<string, tf.Tensor> => ({ x: tf.randomUniform([1, 1, 1, 64]) });
    const tAttrs = { reps: [B, 16, 16, 1] };
    const tOurs = await timeKernel('ours', mk, 'Tile', tAttrs);
    const tStock = await timeKernel('stock', mk, 'Tile', tAttrs);
    console.log(
      `Tile [1,1,1,64] -> [${B},16,16,64] (BatchNorm gradient): ours ${tOurs.toFixed(3)} ms, stock ${tStock.toFixed(3)} ms (${ratio(tOurs, tStock)})`,
    );
  }
} // !stepsOnly

// ---- training steps ----
await runSteps({ quick, threads: THREADS, cpu: cpuStep, mode });
process.exit(0);
