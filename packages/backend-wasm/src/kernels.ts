/** The registry of gradflow's wasm kernels (GRADFLOW_WASM_KERNELS) and its registration. */
import * as tf from '@tensorflow/tfjs';
import {
  BATCH_NORM_GRAD_KERNEL,
  REDUCE_GRAD_KERNEL,
  RELU_GRAD_KERNEL,
  installGradients,
  uninstallGradients,
} from './gradients.js';
import { stock, type KernelArgs } from './kernels/common.js';
import {
  conv2DBackpropFilter,
  conv2DBackpropInput,
  convForward,
  depthwiseBackpropFilter,
  depthwiseBackpropInput,
} from './kernels/conv.js';
import {
  BINARY_OPS,
  MOMENTS_KERNEL,
  batchNormGrad,
  binary,
  fusedBatchNorm,
  moments,
  reduceGrad,
  reluGrad,
  unary,
  type BinaryName,
} from './kernels/elementwise.js';
import { avgPoolGrad, maxPoolGrad } from './kernels/pooling.js';
import {
  RECURRENT_BACKWARD_KERNEL,
  RECURRENT_FORWARD_KERNEL,
  recurrentBackward,
  recurrentForward,
} from './kernels/recurrent.js';
import { batchMatMul, cast, concat, identity, runReduce, slice, splitV, tile } from './kernels/tensor.js';

/**
 * Kernels this package registers for the 'wasm' backend: the kernel name, whether it replaces a
 * stock tfjs kernel or fills a missing one, and the path it takes.
 *
 * @example
 * ```ts
 * const names = GRADFLOW_WASM_KERNELS.map((k) => k.kernelName);
 * if (!names.includes('Conv2DBackpropFilter')) throw new Error('conv backprop kernel missing');
 * ```
 */
export const GRADFLOW_WASM_KERNELS = [
  {
    kernelName: 'Conv2DBackpropFilter',
    replacesStock: false,
    path: '3x3 stride 1 (channel counts as Conv2D): Winograd, dU = sum over tiles of V^T Z, then dW = G^T dU G; otherwise SIMD dW = im2col(x)^T dy without im2col: x read in place through a pointer per (pixel, tap), dy packed in blocks of 64 pixels (256 once dW outgrows L2; 1x1 stride 1: GEMM on x); images split over the threads',
    kernelFunc: conv2DBackpropFilter,
  },
  {
    kernelName: 'Conv2DBackpropInput',
    replacesStock: true,
    path: '3x3 stride 1 (dy channels a multiple of 4, dx of 8): Winograd with the rotated, transposed filter; otherwise indirect GEMM per stride phase (dx pixels with the same ih mod sh, iw mod sw see the same taps): no work on inserted zeros, no col2im, each dx pixel written once; images split over the threads',
    kernelFunc: conv2DBackpropInput,
  },
  {
    kernelName: 'Conv2D',
    replacesStock: true,
    path: '3x3 stride 1 (in channels a multiple of 4, out of 8): Winograd F(2x2, 3x3), 16 GEMMs over tiles with 2.25x fewer multiply-adds; otherwise indirect GEMM (x read in place through a pointer per (pixel, tap); no im2col), images split over the threads; other data formats stock',
    kernelFunc: (a: KernelArgs) => convForward('Conv2D', a),
  },
  {
    kernelName: 'FusedConv2D',
    replacesStock: true,
    path: 'as Conv2D, with the bias and a linear or ReLU activation in one pass after it; other activations stock',
    kernelFunc: (a: KernelArgs) => convForward('FusedConv2D', a),
  },
  {
    kernelName: 'SplitV',
    replacesStock: true,
    path: 'the pieces through Slice (contiguous runs; the Concat gradient of DenseNets); else stock',
    kernelFunc: splitV,
  },
  {
    kernelName: 'DepthwiseConv2dNativeBackpropFilter',
    replacesStock: false,
    path: 'direct loops, SIMD over channels (multiplier 1)',
    kernelFunc: depthwiseBackpropFilter,
  },
  {
    kernelName: 'DepthwiseConv2dNativeBackpropInput',
    replacesStock: false,
    path: 'direct loops, SIMD over channels (multiplier 1)',
    kernelFunc: depthwiseBackpropInput,
  },
  {
    kernelName: 'MaxPoolGrad',
    replacesStock: true,
    path: "NHWC: each window's first maximum found in SIMD over channels (the cpu backend's positions), dy added there; images split over the threads; else stock",
    kernelFunc: maxPoolGrad,
  },
  {
    kernelName: 'AvgPoolGrad',
    replacesStock: true,
    path: 'NHWC: each output gradient added to its window in SIMD over channels, then scaled by 1/(window size) as cpu does; images split over the threads; else stock',
    kernelFunc: avgPoolGrad,
  },
  {
    kernelName: 'Concat',
    replacesStock: true,
    path: "float32/int32, any axis: each output row assembled from the inputs' rows by SIMD copies (stock copies row by row in JavaScript), rows split over the threads; else stock",
    kernelFunc: concat,
  },
  {
    kernelName: 'BatchMatMul',
    replacesStock: true,
    path: 'packed 4x8 SIMD GEMM, every transpose combination by strides, batch broadcast; one-row products as a streaming GEMV; rows or columns split over the threads',
    kernelFunc: batchMatMul,
  },
  {
    kernelName: 'Tile',
    replacesStock: true,
    path: 'block copies when only leading size-1 axes repeat (the BatchNorm gradient); else stock',
    kernelFunc: tile,
  },
  {
    kernelName: 'Identity',
    replacesStock: true,
    path: 'shares the buffer (refcount), no copy',
    kernelFunc: identity,
  },
  {
    kernelName: 'Slice',
    replacesStock: true,
    path: "any rank, 4-byte dtypes: contiguous runs copied in SIMD (stock is element by element above rank 4, e.g. the ResNet option-A shortcut's subsampling); else stock",
    kernelFunc: slice,
  },
  {
    kernelName: 'Cast',
    replacesStock: true,
    path: 'to the same dtype: shares the buffer like Identity; else stock',
    kernelFunc: cast,
  },
  ...(Object.keys(BINARY_OPS) as BinaryName[]).map((kernelName) => ({
    kernelName,
    replacesStock: true,
    path: 'one SIMD pass for same-shape, per-channel, per-sample-and-channel and scalar operands; else stock',
    kernelFunc: (a: KernelArgs) => binary(kernelName, a),
  })),
  ...(['Relu', 'Square'] as const).map((kernelName) => ({
    kernelName,
    replacesStock: true,
    path: 'one SIMD pass, bit-identical to the cpu backend (stock is slower on two threads than on one)',
    kernelFunc: (a: KernelArgs) => unary(kernelName, a),
  })),
  {
    kernelName: 'Sum',
    replacesStock: true,
    path: 'SIMD sums over any contiguous run of axes (per-channel, per-sample and per-row statistics); else stock',
    kernelFunc: (a: KernelArgs) => runReduce('Sum', a),
  },
  {
    kernelName: 'Mean',
    replacesStock: true,
    path: 'SIMD sums over any contiguous run of axes (per-channel, per-sample and per-row statistics); else stock',
    kernelFunc: (a: KernelArgs) => runReduce('Mean', a),
  },
  {
    kernelName: 'FusedBatchNorm',
    replacesStock: true,
    path: 'per-channel mean/variance/offset/scale: one SIMD pass, scale/sqrt(var+eps) once per channel; else stock',
    kernelFunc: fusedBatchNorm,
  },
  {
    kernelName: BATCH_NORM_GRAD_KERNEL,
    replacesStock: false,
    path: "the FusedBatchNorm gradient (per-channel statistics) in two SIMD passes; registered with a 'FusedBatchNorm' gradient that uses it on wasm",
    kernelFunc: batchNormGrad,
  },
  {
    kernelName: MOMENTS_KERNEL,
    replacesStock: false,
    path: "per-channel mean and variance (BatchNorm's training statistics) in one pass, shifted by the first row, rows split over the threads; used by @gradflow/normalization",
    kernelFunc: moments,
  },
  {
    kernelName: REDUCE_GRAD_KERNEL,
    replacesStock: false,
    path: "the Sum/Mean gradient over leading axes: dy repeated (and divided by the count) in one pass; registered with 'Sum'/'Mean' gradients that use it on wasm",
    kernelFunc: reduceGrad,
  },
  {
    kernelName: RELU_GRAD_KERNEL,
    replacesStock: false,
    path: "the Relu gradient dy*step(x) in one SIMD pass (bit-identical); registered with a 'Relu' gradient that uses it on wasm",
    kernelFunc: reluGrad,
  },
  {
    kernelName: RECURRENT_FORWARD_KERNEL,
    replacesStock: false,
    path: "a GRU/LSTM layer's whole forward time loop (per step: recurrent GEMM, fused SIMD gates) in one call; used by @gradflow/recurrent",
    kernelFunc: recurrentForward,
  },
  {
    kernelName: RECURRENT_BACKWARD_KERNEL,
    replacesStock: false,
    path: 'the same loop backward (BPTT: per step fused gate gradients, then dh U^T) from the stash the forward kernel left in the heap',
    kernelFunc: recurrentBackward,
  },
] as const satisfies readonly {
  kernelName: string;
  replacesStock: boolean;
  path: string;
  kernelFunc: (args: KernelArgs) => unknown;
}[];

/**
 * The README's kernel table (markdown), derived from GRADFLOW_WASM_KERNELS.
 *
 * @example
 * ```ts
 * const table = kernelTableMarkdown();
 * if (!table.startsWith('| kernel |')) throw new Error('unexpected table header');
 * if (table.split('\n').length !== GRADFLOW_WASM_KERNELS.length + 2) throw new Error('one row per kernel');
 * ```
 */
export function kernelTableMarkdown(): string {
  const rows = GRADFLOW_WASM_KERNELS.map(
    (k) => `| \`${k.kernelName}\` | ${k.replacesStock ? 'replaces stock' : 'missing in stock'} | ${k.path} |`,
  );
  return ['| kernel | stock 4.22 | gradflow path |', '|---|---|---|', ...rows].join('\n');
}

/** The name of one kernel in GRADFLOW_WASM_KERNELS (a tfjs kernel name such as 'Conv2DBackpropFilter'). */
export type GradflowKernelName = (typeof GRADFLOW_WASM_KERNELS)[number]['kernelName'];

let registered = false;

/**
 * Registers every kernel of GRADFLOW_WASM_KERNELS for 'wasm' (keeping the stock ones as
 * fallbacks) and returns their names. Idempotent; `useWasmBackend()` already calls it.
 *
 * @example
 * ```ts
 * await useWasmBackend({ kernels: false }); // stock kernels only
 * const names = registerGradflowKernels();
 * if (!gradflowKernelsRegistered() || names.length !== GRADFLOW_WASM_KERNELS.length) throw new Error('not registered');
 * await tf.setBackend('cpu');
 * ```
 */
export function registerGradflowKernels(): GradflowKernelName[] {
  if (!registered) {
    for (const k of GRADFLOW_WASM_KERNELS) {
      const existing = tf.getKernel(k.kernelName, 'wasm');
      if (existing) {
        stock.set(k.kernelName, existing);
        tf.unregisterKernel(k.kernelName, 'wasm');
      }
      tf.registerKernel({
        kernelName: k.kernelName,
        backendName: 'wasm',
        kernelFunc: k.kernelFunc as unknown as tf.KernelFunc,
      });
    }
    installGradients();
    registered = true;
  }
  return GRADFLOW_WASM_KERNELS.map((k) => k.kernelName);
}

/**
 * Restores the stock kernels (used by benchmarks to compare); `registerGradflowKernels()` puts
 * gradflow's back.
 *
 * @example
 * ```ts
 * await useWasmBackend();
 * unregisterGradflowKernels();
 * if (gradflowKernelsRegistered()) throw new Error('still registered');
 * registerGradflowKernels();
 * await tf.setBackend('cpu');
 * ```
 */
export function unregisterGradflowKernels(): void {
  if (!registered) return;
  for (const k of GRADFLOW_WASM_KERNELS) {
    tf.unregisterKernel(k.kernelName, 'wasm');
    const original = stock.get(k.kernelName);
    if (original) tf.registerKernel(original);
  }
  uninstallGradients();
  stock.clear();
  registered = false;
}

/**
 * Whether registerGradflowKernels() is in effect.
 *
 * @example
 * ```ts
 * const info = await useWasmBackend();
 * if (gradflowKernelsRegistered() !== info.kernels.length > 0) throw new Error('inconsistent');
 * await tf.setBackend('cpu');
 * ```
 */
export function gradflowKernelsRegistered(): boolean {
  return registered;
}

/**
 * The stock wasm kernel config that `kernelName` replaced, if any (for benchmarks);
 * `undefined` for kernels the stock backend lacks or when gradflow's kernels are not registered.
 *
 * @example
 * ```ts
 * await useWasmBackend();
 * const replaced = GRADFLOW_WASM_KERNELS.filter((k) => k.replacesStock).map((k) => k.kernelName);
 * for (const name of replaced) {
 *   if (stockKernel(name)?.kernelName !== name) throw new Error(`no stock ${name}`);
 * }
 * await tf.setBackend('cpu');
 * ```
 */
export function stockKernel(kernelName: string): tf.KernelConfig | undefined {
  return stock.get(kernelName);
}
