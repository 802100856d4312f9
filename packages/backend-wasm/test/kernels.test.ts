import * as tf from '@tensorflow/tfjs';
import { Rng } from '@gradflow/core';
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import {
  forceKernelVariant,
  GRADFLOW_WASM_KERNELS,
  kernelTableMarkdown,
  matMul,
  simdPeakGflops,
  useWasmBackend,
} from '../src/index.js';
import { winogradFits } from '../src/kernels/conv.js';
import { activeRuntime } from '../src/runtime.js';
import {
  describeCase,
  on,
  dilateFilter,
  finiteDifference,
  grid,
  info,
  lossF64,
  randomData,
  relErr,
  runKernelOn,
  undilateFilter,
  type ConvCase,
} from './helpers.js';

const TOL = 1e-4;

interface Problem {
  c: ConvCase;
  x: Float32Array;
  w: Float32Array;
  dy: Float32Array;
  xShape: number[];
  wShape: number[];
  dyShape: number[];
}

function problem(c: ConvCase, depthwise: boolean, rng: Rng): Problem {
  const g = info(c, depthwise);
  const co = depthwise ? c.ci * c.mult : c.co;
  const xShape = [c.n, c.h, c.w, c.ci];
  const wShape = [c.k, c.k, c.ci, depthwise ? c.mult : c.co];
  const dyShape = [c.n, g.outHeight, g.outWidth, co];
  const size = (s: number[]): number => s.reduce((p, d) => p * d, 1);
  return {
    c,
    xShape,
    wShape,
    dyShape,
    x: randomData(rng, size(xShape)),
    w: randomData(rng, size(wShape)),
    dy: randomData(rng, size(dyShape)),
  };
}

/** The cpu backend's answer; dilation > 1 goes through the zero-inserted filter (cpu ignores dilations here). */
async function cpuFilterGrad(p: Problem, depthwise: boolean): Promise<Float32Array> {
  const { c } = p;
  const name = depthwise ? 'DepthwiseConv2dNativeBackpropFilter' : 'Conv2DBackpropFilter';
  const ke = (c.k - 1) * c.dilation + 1;
  const b = depthwise ? c.mult : c.co;
  const g = await runKernelOn(
    'cpu',
    name,
    { x: { data: p.x, shape: p.xShape }, dy: { data: p.dy, shape: p.dyShape } },
    { strides: c.stride, pad: c.pad, dilations: 1, dataFormat: 'NHWC', filterShape: [ke, ke, c.ci, b] },
  );
  return c.dilation === 1 ? g : undilateFilter(g, c.k, c.ci, b, c.dilation);
}

async function cpuInputGrad(p: Problem, depthwise: boolean): Promise<Float32Array> {
  const { c } = p;
  const name = depthwise ? 'DepthwiseConv2dNativeBackpropInput' : 'Conv2DBackpropInput';
  const ke = (c.k - 1) * c.dilation + 1;
  const b = depthwise ? c.mult : c.co;
  const w = c.dilation === 1 ? p.w : dilateFilter(p.w, c.k, c.ci, b, c.dilation);
  return runKernelOn(
    'cpu',
    name,
    { dy: { data: p.dy, shape: p.dyShape }, filter: { data: w, shape: [ke, ke, c.ci, b] } },
    { strides: c.stride, pad: c.pad, dilations: 1, dataFormat: 'NHWC', inputShape: p.xShape },
  );
}

/** Conv2D forward on `backend`; the cpu side gets the zero-inserted filter for dilation > 1. */
function forward(backend: 'wasm' | 'cpu', p: Problem): Promise<Float32Array> {
  const { c } = p;
  const ke = (c.k - 1) * c.dilation + 1;
  const dilate = backend === 'cpu' && c.dilation > 1;
  const w = dilate ? dilateFilter(p.w, c.k, c.ci, c.co, c.dilation) : p.w;
  return runKernelOn(
    backend,
    'Conv2D',
    {
      x: { data: p.x, shape: p.xShape },
      filter: { data: w, shape: dilate ? [ke, ke, c.ci, c.co] : p.wShape },
    },
    { strides: c.stride, pad: c.pad, dilations: dilate ? 1 : c.dilation, dataFormat: 'NHWC' },
  );
}

function wasmFilterGrad(p: Problem, depthwise: boolean): Promise<Float32Array> {
  const { c } = p;
  return runKernelOn(
    'wasm',
    depthwise ? 'DepthwiseConv2dNativeBackpropFilter' : 'Conv2DBackpropFilter',
    { x: { data: p.x, shape: p.xShape }, dy: { data: p.dy, shape: p.dyShape } },
    { strides: c.stride, pad: c.pad, dilations: c.dilation, dataFormat: 'NHWC', filterShape: p.wShape },
  );
}

function wasmInputGrad(p: Problem, depthwise: boolean): Promise<Float32Array> {
  const { c } = p;
  return runKernelOn(
    'wasm',
    depthwise ? 'DepthwiseConv2dNativeBackpropInput' : 'Conv2DBackpropInput',
    { dy: { data: p.dy, shape: p.dyShape }, filter: { data: p.w, shape: p.wShape } },
    { strides: c.stride, pad: c.pad, dilations: c.dilation, dataFormat: 'NHWC', inputShape: p.xShape },
  );
}

/** Finite differences of L = sum(conv(x, w) * dy) in float64 at a few sampled coordinates. */
function checkFiniteDifferences(
  p: Problem,
  depthwise: boolean,
  dw: Float32Array,
  dx: Float32Array,
  rng: Rng,
): void {
  const scaleW = Math.max(...Array.from(dw, Math.abs), 1e-12);
  const scaleX = Math.max(...Array.from(dx, Math.abs), 1e-12);
  for (let s = 0; s < 3; s++) {
    const i = rng.int(p.w.length);
    const fd = finiteDifference((w) => lossF64(p.c, depthwise, p.x, w, p.dy), p.w, i);
    expect(
      Math.abs((dw[i] as number) - fd) / scaleW,
      `dW[${i}] vs finite difference, ${describeCase(p.c)}`,
    ).toBeLessThanOrEqual(TOL);
    const j = rng.int(p.x.length);
    const fdx = finiteDifference((x) => lossF64(p.c, depthwise, x, p.w, p.dy), p.x, j);
    expect(
      Math.abs((dx[j] as number) - fdx) / scaleX,
      `dX[${j}] vs finite difference, ${describeCase(p.c)}`,
    ).toBeLessThanOrEqual(TOL);
  }
}

function fdCost(p: Problem): number {
  return p.dy.length * p.c.k * p.c.k * p.c.ci;
}

afterAll(() => forceKernelVariant(undefined));

describe.each([
  ['conv2d', false],
  ['depthwise', true],
] as const)('%s backprop kernels on wasm', (_label, depthwise) => {
  const cases = grid(depthwise ? 7 : 3);

  it(`match the cpu backend and finite differences over the grid (${cases.length} cases)`, async () => {
    const rng = new Rng(11);
    let fdChecked = 0;
    for (const c of cases) {
      const p = problem(c, depthwise, rng);
      if (!depthwise) {
        expect(
          relErr(await forward('wasm', p), await forward('cpu', p)),
          `y vs cpu, ${describeCase(c)}`,
        ).toBeLessThanOrEqual(TOL);
      }
      const dw = await wasmFilterGrad(p, depthwise);
      const dx = await wasmInputGrad(p, depthwise);
      expect(
        relErr(dw, await cpuFilterGrad(p, depthwise)),
        `dW vs cpu, ${describeCase(c)}`,
      ).toBeLessThanOrEqual(TOL);
      expect(
        relErr(dx, await cpuInputGrad(p, depthwise)),
        `dX vs cpu, ${describeCase(c)}`,
      ).toBeLessThanOrEqual(TOL);
      if (fdCost(p) <= 400_000) {
        checkFiniteDifferences(p, depthwise, dw, dx, rng);
        fdChecked++;
      }
    }
    expect(fdChecked).toBeGreaterThanOrEqual(cases.length / 2);
  });

  it('even kernels (asymmetric same padding) and strided 1x1 over odd sizes match cpu', async () => {
    const rng = new Rng(13);
    const extra: ConvCase[] = [
      { n: 2, h: 7, w: 6, ci: 3, co: 5, mult: 2, k: 2, stride: 1, dilation: 1, pad: 'same' },
      { n: 1, h: 9, w: 9, ci: 4, co: 4, mult: 1, k: 4, stride: 1, dilation: 1, pad: 'same' },
      { n: 2, h: 8, w: 8, ci: 2, co: 3, mult: 1, k: 2, stride: 2, dilation: 1, pad: 'same' },
      { n: 1, h: 9, w: 8, ci: 5, co: 2, mult: 3, k: 4, stride: 2, dilation: 1, pad: 'valid' },
      // Strided 1x1 takes the on-grid copy path for the input gradient (odd sizes, strides 2 and 3).
      { n: 3, h: 9, w: 7, ci: 16, co: 32, mult: 1, k: 1, stride: 2, dilation: 1, pad: 'same' },
      { n: 2, h: 10, w: 9, ci: 5, co: 8, mult: 1, k: 1, stride: 2, dilation: 1, pad: 'valid' },
      { n: 1, h: 11, w: 8, ci: 3, co: 4, mult: 1, k: 1, stride: 3, dilation: 1, pad: 'same' },
      { n: 2, h: 7, w: 10, ci: 8, co: 2, mult: 1, k: 1, stride: 3, dilation: 1, pad: 'valid' },
    ];
    for (const c of extra) {
      const p = problem(c, depthwise, rng);
      expect(
        relErr(await wasmFilterGrad(p, depthwise), await cpuFilterGrad(p, depthwise)),
        describeCase(c),
      ).toBeLessThanOrEqual(TOL);
      expect(
        relErr(await wasmInputGrad(p, depthwise), await cpuInputGrad(p, depthwise)),
        describeCase(c),
      ).toBeLessThanOrEqual(TOL);
    }
  });

  it.each(['scalar', 'simd'] as const)('the %s build gives the same results', async (variant) => {
    // The default build here is relaxed-simd (vitest.config.ts runs Node with relaxed SIMD on).
    const rng = new Rng(5);
    forceKernelVariant(variant);
    try {
      for (const c of cases.filter((_, i) => i % 4 === 1)) {
        const p = problem(c, depthwise, rng);
        if (!depthwise) {
          expect(
            relErr(await forward('wasm', p), await forward('cpu', p)),
            describeCase(c),
          ).toBeLessThanOrEqual(TOL);
        }
        expect(
          relErr(await wasmFilterGrad(p, depthwise), await cpuFilterGrad(p, depthwise)),
          describeCase(c),
        ).toBeLessThanOrEqual(TOL);
        expect(
          relErr(await wasmInputGrad(p, depthwise), await cpuInputGrad(p, depthwise)),
          describeCase(c),
        ).toBeLessThanOrEqual(TOL);
      }
    } finally {
      forceKernelVariant(undefined);
    }
  });
});

describe('Winograd F(2x2, 3x3): 3x3 stride-1 convolutions, their input and filter gradients', () => {
  // Forward and dW take the Winograd path when ci % 4 == 0 and co % 8 == 0, dX when co % 4 == 0
  // and ci % 8 == 0: the cases cover both, one or neither, odd and even sizes (partial tiles),
  // 'same' and 'valid', batch 1 and 3.
  const cases: ConvCase[] = [
    [1, 2, 2, 8, 8, 'same'],
    [3, 7, 9, 16, 8, 'same'],
    [1, 5, 6, 8, 16, 'valid'],
    [3, 9, 7, 12, 16, 'valid'],
    [1, 6, 5, 4, 8, 'same'],
    [3, 4, 4, 8, 12, 'same'],
    [1, 11, 8, 16, 32, 'same'],
    [1, 3, 3, 32, 24, 'valid'],
    [3, 5, 6, 6, 10, 'valid'],
  ].map(([n, h, w, ci, co, pad]) => ({
    n: n as number,
    h: h as number,
    w: w as number,
    ci: ci as number,
    co: co as number,
    mult: 1,
    k: 3,
    stride: 1,
    dilation: 1,
    pad: pad as 'same' | 'valid',
  }));

  it('routes exactly the fitting shapes to it', async () => {
    await useWasmBackend();
    const rt = activeRuntime();
    const fits = cases.map((c) => [
      winogradFits(rt, info(c, false), false),
      winogradFits(rt, info(c, false), true),
    ]);
    expect(fits).toEqual([
      [true, true],
      [true, true],
      [true, true],
      [true, false],
      [true, false],
      [false, true],
      [true, true],
      [true, true],
      [false, false],
    ]);
    expect(winogradFits(rt, info({ ...cases[0]!, stride: 2 }, false), false)).toBe(false);
    expect(winogradFits(rt, info({ ...cases[0]!, dilation: 2 }, false), false)).toBe(false);
    expect(winogradFits(rt, info({ ...cases[0]!, k: 5 }, false), false)).toBe(false);
    // Past 2048 channels in and out together the workspace cannot hold a block of tiles.
    expect(winogradFits(rt, info({ ...cases[0]!, ci: 1024, co: 1024 }, false), false)).toBe(true);
    expect(winogradFits(rt, info({ ...cases[0]!, ci: 1032, co: 1024 }, false), false)).toBe(false);
  });

  it('y, dW and dX match the cpu backend and finite differences, no leaks', async () => {
    const rng = new Rng(41);
    for (const c of cases) {
      const p = problem(c, false, rng);
      expect(
        relErr(await forward('wasm', p), await forward('cpu', p)),
        `y vs cpu, ${describeCase(c)}`,
      ).toBeLessThanOrEqual(TOL);
      const dw = await wasmFilterGrad(p, false);
      const dx = await wasmInputGrad(p, false);
      expect(relErr(dw, await cpuFilterGrad(p, false)), `dW vs cpu, ${describeCase(c)}`).toBeLessThanOrEqual(
        TOL,
      );
      expect(relErr(dx, await cpuInputGrad(p, false)), `dX vs cpu, ${describeCase(c)}`).toBeLessThanOrEqual(
        TOL,
      );
      checkFiniteDifferences(p, false, dw, dx, rng);
    }
  });

  it('the scalar build runs the same shapes directly', async () => {
    const rng = new Rng(42);
    await useWasmBackend();
    forceKernelVariant('scalar');
    try {
      expect(winogradFits(activeRuntime(), info(cases[1]!, false), false)).toBe(false);
      const p = problem(cases[1]!, false, rng);
      expect(relErr(await forward('wasm', p), await forward('cpu', p))).toBeLessThanOrEqual(TOL);
      expect(relErr(await wasmFilterGrad(p, false), await cpuFilterGrad(p, false))).toBeLessThanOrEqual(TOL);
      expect(relErr(await wasmInputGrad(p, false), await cpuInputGrad(p, false))).toBeLessThanOrEqual(TOL);
    } finally {
      forceKernelVariant(undefined);
    }
  });
});

describe('BatchMatMul and Tile on wasm', () => {
  it('match cpu for every transpose combination, broadcast batches and odd sizes', async () => {
    const rng = new Rng(21);
    const shapes: [number[], number[], boolean, boolean][] = [
      [[1, 7], [7, 3], false, false],
      [[33, 65], [65, 17], false, false],
      [[65, 33], [65, 17], true, false],
      [[33, 65], [17, 65], false, true],
      [[65, 33], [17, 65], true, true],
      [[4, 9, 300], [4, 300, 11], false, false],
      [[2, 3, 9, 5], [2, 3, 9, 6], true, false],
      [[5, 9, 8], [1, 8, 12], false, false],
      [[1, 9, 8], [5, 12, 8], false, true],
      [[130, 1030], [1030, 9], false, false],
      // One row of A (the GEMV path: sums over spatial axes as ones · X), N = 16k+4j+r.
      [[6, 1, 300], [6, 300, 23], false, false],
      [[1, 300], [300, 16], false, false],
      [[300, 1], [300, 7], true, false],
      [[1, 64], [37, 64], false, true],
    ];
    for (const [sa, sb, ta, tb] of shapes) {
      const a = {
        data: randomData(
          rng,
          sa.reduce((p, d) => p * d, 1),
        ),
        shape: sa,
      };
      const b = {
        data: randomData(
          rng,
          sb.reduce((p, d) => p * d, 1),
        ),
        shape: sb,
      };
      const attrs = { transposeA: ta, transposeB: tb };
      const got = await runKernelOn('wasm', 'BatchMatMul', { a, b }, attrs);
      const want = await runKernelOn('cpu', 'BatchMatMul', { a, b }, attrs);
      expect(relErr(got, want), `${JSON.stringify([sa, sb, ta, tb])}`).toBeLessThanOrEqual(TOL);
    }
  });

  it('Sum and Mean: the contiguous-axes fast path (leading, middle, trailing) and the stock fallback', async () => {
    const rng = new Rng(23);
    for (const [shape, axis, keepDims] of [
      [[3, 5, 7, 19], [0, 1, 2], false],
      [[3, 5, 7, 16], [2, 1, 0], true],
      [[4, 6], 0, false],
      [[2, 3, 5], [0, 1], true],
      [[2, 3, 5], [1, 2], false],
      [[2, 3, 5], [0, 1, 2], false],
      [[2, 3, 5], -1, false],
      [[3, 5, 7, 16], [3], true],
      [[3, 5, 7, 19], [2, 3], false],
      [[3, 5, 7, 16], [1, 2], true],
      [[2, 3, 5], 1, false],
      [[2, 3, 5], [0, 2], false],
      [[4, 0, 3], 1, false],
    ] as const) {
      const x = {
        data: randomData(
          rng,
          shape.reduce((p: number, d: number) => p * d, 1),
        ),
        shape: [...shape],
      };
      for (const kernel of ['Sum', 'Mean']) {
        const attrs = { axis: typeof axis === 'number' ? axis : [...axis], keepDims };
        const got = await runKernelOn('wasm', kernel, { x }, attrs);
        const want = await runKernelOn('cpu', kernel, { x }, attrs);
        expect(relErr(got, want), `${kernel} ${JSON.stringify([shape, axis, keepDims])}`).toBeLessThanOrEqual(
          TOL,
        );
      }
    }
  });

  it('Identity and same-dtype Cast share the buffer safely: disposing either side leaves the other intact', async () => {
    await on('wasm', () => {
      const before = tf.memory().numTensors;
      const a = tf.tensor([1, 2, 3]);
      const b = tf.clone(a);
      a.dispose();
      expect(Array.from(b.dataSync())).toEqual([1, 2, 3]);
      const c = tf.clone(b);
      b.dispose();
      const d = tf.add(c, 1);
      expect(Array.from(d.dataSync())).toEqual([2, 3, 4]);
      d.dispose();
      c.dispose();
      const f = tf.tensor([1.5, -2]);
      const same = tf.cast(f, 'float32');
      const toInt = tf.cast(f, 'int32');
      f.dispose();
      expect(Array.from(same.dataSync())).toEqual([1.5, -2]);
      expect(Array.from(toInt.dataSync())).toEqual([1, -2]);
      tf.dispose([same, toInt]);
      expect(tf.memory().numTensors).toBe(before);
    });
  });

  it('Add/Sub/Multiply/RealDiv/SquaredDifference: full, per-channel, per-sample, scalar and fallback broadcasts', async () => {
    const rng = new Rng(24);
    const pairs: [number[], number[]][] = [
      [
        [2, 3, 4, 9],
        [2, 3, 4, 9],
      ],
      [[2, 3, 4, 9], [9]],
      [[9], [2, 3, 4, 9]],
      [
        [2, 3, 4, 8],
        [1, 1, 1, 8],
      ],
      [[2, 3, 4, 8], []],
      [[], [5, 7]],
      [[5, 7], [1]],
      [
        [2, 3, 5],
        [3, 5],
      ],
      [
        [2, 3, 5],
        [2, 1, 5],
      ],
      [
        [4, 1],
        [1, 6],
      ],
      [[7], [7]],
      // Per-sample-and-channel statistics (GroupNorm/InstanceNorm/LayerNorm): [outer, 1, inner].
      [
        [3, 4, 5, 6],
        [3, 1, 1, 6],
      ],
      [
        [3, 1, 1, 6],
        [3, 4, 5, 6],
      ],
      [
        [3, 20, 6],
        [3, 1, 6],
      ],
      [
        [3, 4, 5, 6],
        [3, 1, 1, 1],
      ],
      [
        [3, 4, 5, 6],
        [3, 4, 5, 1],
      ],
      // Two broadcast runs: stock.
      [
        [3, 4, 5, 6],
        [1, 4, 1, 6],
      ],
    ];
    for (const [sa, sb] of pairs) {
      const a = {
        data: randomData(
          rng,
          sa.reduce((p, d) => p * d, 1),
        ),
        shape: sa,
      };
      const bData = randomData(
        rng,
        sb.reduce((p, d) => p * d, 1),
      ).map((v) => (Math.abs(v) < 0.1 ? 0.5 : v));
      const b = { data: bData, shape: sb };
      for (const kernel of ['Add', 'Sub', 'Multiply', 'RealDiv', 'SquaredDifference']) {
        const got = await runKernelOn('wasm', kernel, { a, b }, {});
        const want = await runKernelOn('cpu', kernel, { a, b }, {});
        expect(relErr(got, want), `${kernel} ${JSON.stringify([sa, sb])}`).toBeLessThanOrEqual(1e-6);
      }
    }
  });

  it('Relu and Square: bit-identical to cpu, NaN, infinities and signed zeros included; int32 runs stock', async () => {
    const rng = new Rng(25);
    const data = randomData(rng, 103);
    data.set([NaN, Infinity, -Infinity, -0, 0, 3e38, -3e38], 0);
    data.set([NaN, -0, -1], 100); // the scalar tail too
    for (const kernel of ['Relu', 'Square']) {
      const x = { data, shape: [103] };
      const got = await runKernelOn('wasm', kernel, { x }, {});
      const want = await runKernelOn('cpu', kernel, { x }, {});
      expect(
        got.findIndex((v, i) => !Object.is(v, want[i])),
        kernel,
      ).toBe(-1);
    }
    const ints = await on('wasm', () => {
      const t = tf.tensor1d([-2, 0, 3], 'int32');
      const r = tf.relu(t);
      const out = [r.dtype, Array.from(r.dataSync())];
      tf.dispose([t, r]);
      return out;
    });
    expect(ints).toEqual(['int32', [0, 0, 3]]);
  });

  it('Conv2D, FusedConv2D (bias, linear and relu) and the stride-1 input gradient at deep, small-spatial shapes', async () => {
    const rng = new Rng(26);
    const t = (shape: number[]) => ({
      data: randomData(
        rng,
        shape.reduce((p, d) => p * d, 1),
      ),
      shape,
    });
    for (const [xShape, fShape, strides, pad, dilations] of [
      [[2, 4, 4, 64], [3, 3, 64, 24], 1, 'same', 1],
      [[2, 5, 5, 48], [3, 3, 48, 16], 2, 'valid', 1],
      [[1, 6, 6, 40], [3, 3, 40, 8], 1, 'same', 2],
      [[3, 2, 2, 96], [1, 1, 96, 32], 1, 'valid', 1],
    ] as const) {
      const x = t([...xShape]);
      const filter = t([...fShape]);
      const attrs = { strides, pad, dataFormat: 'NHWC', dilations, dimRoundingMode: undefined };
      expect(
        relErr(
          await runKernelOn('wasm', 'Conv2D', { x, filter }, attrs),
          await runKernelOn('cpu', 'Conv2D', { x, filter }, attrs),
        ),
        `Conv2D ${JSON.stringify([xShape, fShape, strides, pad, dilations])}`,
      ).toBeLessThanOrEqual(TOL);
      const bias = t([fShape[3]]);
      for (const activation of ['linear', 'relu']) {
        const fused = { ...attrs, activation };
        expect(
          relErr(
            await runKernelOn('wasm', 'FusedConv2D', { x, filter, bias }, fused),
            await runKernelOn('cpu', 'FusedConv2D', { x, filter, bias }, fused),
          ),
          `FusedConv2D ${activation} ${JSON.stringify([xShape, fShape])}`,
        ).toBeLessThanOrEqual(TOL);
      }
      // (tfjs's cpu Conv2DBackpropInput ignores dilations: compared undilated; the grid above checks dilated dX.)
      if (strides === 1 && dilations === 1) {
        const [outH, outW] =
          pad === 'same'
            ? [xShape[1], xShape[2]]
            : [xShape[1] - (fShape[0] - 1) * dilations, xShape[2] - (fShape[1] - 1) * dilations];
        const dy = t([xShape[0], outH, outW, fShape[3]]);
        const inAttrs = { ...attrs, inputShape: [...xShape] };
        expect(
          relErr(
            await runKernelOn('wasm', 'Conv2DBackpropInput', { dy, filter }, inAttrs),
            await runKernelOn('cpu', 'Conv2DBackpropInput', { dy, filter }, inAttrs),
          ),
          `Conv2DBackpropInput ${JSON.stringify([xShape, fShape, pad, dilations])}`,
        ).toBeLessThanOrEqual(TOL);
      }
    }
    // An activation the path does not fuse falls back to stock.
    const x = t([2, 4, 4, 64]);
    const filter = t([3, 3, 64, 24]);
    const elu = { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 1, activation: 'elu' };
    expect(
      relErr(
        await runKernelOn('wasm', 'FusedConv2D', { x, filter }, elu),
        await runKernelOn('cpu', 'FusedConv2D', { x, filter }, elu),
      ),
    ).toBeLessThanOrEqual(TOL);
  });

  it('deep layers: over 512 channels the filter row runs in channel passes, small images share a block', async () => {
    // 520 channels: two passes of 260 per tap (the forward and dX), a dW over 256K floats (its
    // 256-pixel blocks), and 3x3 / 5x5 images grouped several to a pointer block.
    const rng = new Rng(28);
    const t = (shape: number[]) => ({
      data: randomData(
        rng,
        shape.reduce((p, d) => p * d, 1),
      ),
      shape,
    });
    for (const [xShape, strides] of [
      [[3, 3, 3, 520], 1],
      [[2, 5, 5, 520], 2],
    ] as const) {
      const [n, h, w] = xShape;
      const oh = Math.ceil(h / strides);
      const ow = Math.ceil(w / strides);
      const x = t([...xShape]);
      const filter = t([3, 3, 520, 64]);
      const dy = t([n, oh, ow, 64]);
      const attrs = { strides, pad: 'same', dataFormat: 'NHWC', dilations: 1 };
      const label = JSON.stringify([xShape, strides]);
      expect(
        relErr(
          await runKernelOn('wasm', 'Conv2D', { x, filter }, attrs),
          await runKernelOn('cpu', 'Conv2D', { x, filter }, attrs),
        ),
        `forward ${label}`,
      ).toBeLessThanOrEqual(TOL);
      const dwAttrs = { ...attrs, filterShape: [3, 3, 520, 64] };
      expect(
        relErr(
          await runKernelOn('wasm', 'Conv2DBackpropFilter', { x, dy }, dwAttrs),
          await runKernelOn('cpu', 'Conv2DBackpropFilter', { x, dy }, dwAttrs),
        ),
        `dW ${label}`,
      ).toBeLessThanOrEqual(TOL);
      // dX of the transposed problem: 520 channels of dy per tap.
      const wide = t([3, 3, 24, 520]);
      const dyWide = t([n, oh, ow, 520]);
      const dxAttrs = { ...attrs, inputShape: [n, h, w, 24] };
      expect(
        relErr(
          await runKernelOn('wasm', 'Conv2DBackpropInput', { dy: dyWide, filter: wide }, dxAttrs),
          await runKernelOn('cpu', 'Conv2DBackpropInput', { dy: dyWide, filter: wide }, dxAttrs),
        ),
        `dX ${label}`,
      ).toBeLessThanOrEqual(TOL);
    }
  });

  it('zero input channels: the forward and the input gradient sum nothing (zeros, as cpu)', async () => {
    const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 1 };
    const empty = (shape: number[]) => ({ data: new Float32Array(0), shape });
    for (const backend of ['wasm', 'cpu'] as const) {
      const y = await runKernelOn(
        backend,
        'Conv2D',
        { x: empty([1, 3, 3, 0]), filter: empty([3, 3, 0, 4]) },
        attrs,
      );
      expect(Array.from(y), `${backend} forward`).toEqual(new Array(36).fill(0));
      const dx = await runKernelOn(
        backend,
        'Conv2DBackpropInput',
        { dy: empty([1, 3, 3, 0]), filter: empty([3, 3, 4, 0]) },
        { ...attrs, inputShape: [1, 3, 3, 4] },
      );
      expect(Array.from(dx), `${backend} dX`).toEqual(new Array(36).fill(0));
    }
  });

  it('SplitV through Slice, any rank', async () => {
    const rng = new Rng(27);
    const x = { data: randomData(rng, 2 * 3 * 4 * 2 * 10), shape: [2, 3, 4, 2, 10] };
    for (const [numOrSizeSplits, axis] of [
      [[3, 7], 4],
      [[1, -1, 1], 2],
      [2, 0],
    ] as const) {
      await on('wasm', async () => {
        const xt = tf.tensor(x.data, x.shape);
        const parts = tf.split(xt, numOrSizeSplits as number | number[], axis);
        await on('cpu', () => undefined);
        const xc = tf.tensor(x.data, x.shape);
        const want = tf.split(xc, numOrSizeSplits as number | number[], axis);
        parts.forEach((p, i) => expect(Array.from(p.dataSync())).toEqual(Array.from(want[i]!.dataSync())));
        tf.dispose([xc, ...want]);
        await tf.setBackend('wasm');
        tf.dispose([xt, ...parts]);
      });
    }
  });

  it('Slice: any rank in contiguous runs, int32 too, sizes of -1 and 0, no leaks', async () => {
    const rng = new Rng(25);
    const cases: [number[], number[], number[]][] = [
      [
        [32, 4, 2, 4, 2, 8],
        [0, 0, 0, 0, 0, 0],
        [32, 4, 1, 4, 1, 8],
      ], // the option-A subsampling
      [
        [3, 5, 7, 9],
        [1, 2, 3, 4],
        [2, -1, 2, 5],
      ],
      [
        [3, 5, 7, 9],
        [0, 0, 0, 0],
        [3, 5, 7, 9],
      ],
      [
        [4, 6],
        [1, 0],
        [2, 6],
      ],
      [[10], [3], [4]],
      [
        [2, 1, 3, 1, 5],
        [1, 0, 1, 0, 2],
        [1, 1, 2, 1, 3],
      ],
      [
        [3, 4, 5],
        [0, 1, 0],
        [3, 0, 5],
      ],
    ];
    for (const [shape, begin, size] of cases) {
      const x = {
        data: randomData(
          rng,
          shape.reduce((p, d) => p * d, 1),
        ),
        shape,
      };
      const attrs = { begin, size };
      expect(
        relErr(
          await runKernelOn('wasm', 'Slice', { x }, attrs),
          await runKernelOn('cpu', 'Slice', { x }, attrs),
        ),
        JSON.stringify([shape, begin, size]),
      ).toBe(0);
    }
    await on('wasm', () => {
      const before = tf.memory().numTensors;
      const ints = tf.tensor([1, 2, 3, 4, 5, 6], [2, 3], 'int32');
      const part = tf.slice(ints, [0, 1], [2, 2]);
      expect(part.dtype).toBe('int32');
      expect(Array.from(part.dataSync())).toEqual([2, 3, 5, 6]);
      tf.dispose([ints, part]);
      expect(tf.memory().numTensors).toBe(before);
    });
  });

  it('Tile: the broadcast fast path and the stock fallback', async () => {
    const rng = new Rng(22);
    for (const [shape, reps] of [
      [
        [1, 1, 1, 5],
        [2, 3, 4, 1],
      ],
      [
        [1, 7],
        [3, 1],
      ],
      [
        [2, 3],
        [2, 2],
      ],
      [
        [3, 1, 2],
        [1, 4, 1],
      ],
    ] as const) {
      const x = {
        data: randomData(
          rng,
          shape.reduce((p: number, d: number) => p * d, 1),
        ),
        shape: [...shape],
      };
      const got = await runKernelOn('wasm', 'Tile', { x }, { reps: [...reps] });
      const want = await runKernelOn('cpu', 'Tile', { x }, { reps: [...reps] });
      expect(Array.from(got)).toEqual(Array.from(want));
    }
  });
});

describe('MaxPoolGrad on wasm', () => {
  it('matches the cpu backend: windows 2/3 and 2x3, strides 1/2, same/valid, odd sizes, ties, -inf and NaN', async () => {
    const rng = new Rng(21);
    let cases = 0;
    type Window = number | [number, number];
    const poolCases: [number[], Window, Window, 'same' | 'valid', 'random' | 'ties' | 'special'][] = [
      [[1, 7, 9, 3], 2, 2, 'valid', 'random'],
      [[3, 8, 8, 16], 2, 2, 'same', 'random'],
      [[2, 5, 6, 5], 3, 1, 'same', 'ties'],
      [[2, 9, 7, 4], 3, 2, 'valid', 'ties'],
      [[1, 6, 7, 6], [2, 3], [1, 2], 'same', 'random'],
      [[2, 4, 4, 5], 2, 1, 'valid', 'special'],
    ];
    for (const [shape, filterSize, strides, pad, values] of poolCases) {
      const n = shape.reduce((p, d) => p * d, 1);
      let data = randomData(rng, n);
      // Ties: values on a coarse grid, so windows hold several equal maxima (the first one wins).
      if (values === 'ties') data = data.map((v) => Math.round(v * 2) / 2);
      // -inf and NaN never win a window; a window of nothing else passes no gradient.
      if (values === 'special') data = data.map((v, i) => (i % 3 === 0 ? -Infinity : i % 7 === 0 ? NaN : v));
      const attrs = { filterSize, strides, pad };
      const y = await on('cpu', () => {
        const t = tf.maxPool(
          tf.tensor4d(data, shape as [number, number, number, number]),
          filterSize,
          strides,
          pad,
        );
        const out = { data: Float32Array.from(t.dataSync()), shape: t.shape };
        t.dispose();
        return out;
      });
      const inputs = {
        dy: { data: randomData(rng, y.data.length), shape: y.shape },
        input: { data, shape: [...shape] },
        output: y,
      };
      const got = await runKernelOn('wasm', 'MaxPoolGrad', inputs, attrs);
      const want = await runKernelOn('cpu', 'MaxPoolGrad', inputs, attrs);
      expect(
        relErr(got, want),
        `${shape} window ${filterSize} stride ${strides} ${pad} ${values}`,
      ).toBeLessThanOrEqual(1e-6);
      cases++;
    }
    expect(cases).toBe(6);
  });

  it('rejects a dy of the wrong shape with a ShapeError, leaving no tensors behind', async () => {
    await on('wasm', () => {
      const before = tf.memory().numTensors;
      const x = tf.zeros([1, 4, 4, 2]);
      const dy = tf.zeros([1, 3, 3, 2]);
      expect(() =>
        tf
          .engine()
          .runKernel(
            'MaxPoolGrad',
            { dy, input: x, output: dy },
            { filterSize: 2, strides: 2, pad: 'valid' },
          ),
      ).toThrow(/MaxPoolGrad dy.*\[1, 2, 2, 2\]/);
      tf.dispose([x, dy]);
      expect(tf.memory().numTensors).toBe(before);
    });
  });
});

describe('AvgPoolGrad and Concat on wasm', () => {
  it('AvgPoolGrad matches the cpu backend: windows 2/3 and 2x3, strides 1/2, same/valid, odd sizes', async () => {
    const rng = new Rng(22);
    type Window = number | [number, number];
    const poolCases: [number[], Window, Window, 'same' | 'valid'][] = [
      [[2, 8, 8, 16], 2, 2, 'valid'],
      [[1, 7, 9, 3], 2, 2, 'valid'],
      [[2, 5, 6, 5], 3, 1, 'same'],
      [[2, 9, 7, 4], 3, 2, 'same'],
      [[1, 6, 7, 1], [2, 3], [1, 2], 'valid'],
    ];
    for (const [shape, filterSize, strides, pad] of poolCases) {
      const dyShape = await on('cpu', () => {
        const t = tf.avgPool(
          tf.tensor4d(
            new Float32Array(shape.reduce((p, d) => p * d, 1)),
            shape as [number, number, number, number],
          ),
          filterSize,
          strides,
          pad,
        );
        const s = t.shape;
        t.dispose();
        return s;
      });
      const n = shape.reduce((p, d) => p * d, 1);
      const inputs = {
        dy: {
          data: randomData(
            rng,
            dyShape.reduce((p, d) => p * d, 1),
          ),
          shape: dyShape,
        },
        input: { data: randomData(rng, n), shape },
      };
      const attrs = { filterSize, strides, pad };
      expect(
        relErr(
          await runKernelOn('wasm', 'AvgPoolGrad', inputs, attrs),
          await runKernelOn('cpu', 'AvgPoolGrad', inputs, attrs),
        ),
        `${shape} window ${filterSize} stride ${strides} ${pad}`,
      ).toBeLessThanOrEqual(1e-6);
    }
  });

  it('Concat copies exactly along every axis, int32 too, skipping empty inputs; bool and one input run stock', async () => {
    const rng = new Rng(23);
    for (const [shapes, axis] of [
      [
        [
          [2, 3, 5, 7],
          [2, 3, 5, 12],
        ],
        3,
      ],
      [
        [
          [2, 3, 5, 4],
          [2, 3, 2, 4],
          [2, 3, 1, 4],
        ],
        -2,
      ],
      [
        [
          [4, 3],
          [1, 3],
          [2, 3],
          [3, 3],
        ],
        0,
      ],
      [
        [
          [3, 0, 5],
          [3, 2, 5],
          [3, 4, 5],
        ],
        1,
      ],
      [
        [
          [2, 5, 3],
          [2, 0, 3],
        ],
        1,
      ],
    ] as [number[][], number][]) {
      for (const dtype of ['float32', 'int32', 'bool'] as const) {
        const values = shapes.map((shape) => {
          const data = randomData(
            rng,
            shape.reduce((p, d) => p * d, 1),
          );
          return dtype === 'float32'
            ? data
            : data.map((v) => (dtype === 'int32' ? Math.round(v * 1000) : v > 0 ? 1 : 0));
        });
        const run = (backend: 'wasm' | 'cpu') =>
          on(backend, () => {
            const before = tf.memory().numTensors;
            const ts = values.map((v, i) => tf.tensor(v, shapes[i], dtype));
            const out = tf.concat(ts, axis);
            const got = { data: Array.from(out.dataSync()), shape: out.shape };
            tf.dispose([...ts, out]);
            expect(tf.memory().numTensors).toBe(before);
            return got;
          });
        expect(await run('wasm'), `${JSON.stringify(shapes)} axis ${axis} ${dtype}`).toEqual(
          await run('cpu'),
        );
      }
    }
  });
});

describe('matMul and simdPeakGflops', () => {
  it('matMul: values and gradients match cpu for every transpose combination, no leaks', async () => {
    const rng = new Rng(31);
    const aData = randomData(rng, 6 * 5);
    const bData = randomData(rng, 5 * 7);
    const run = (backend: 'cpu' | 'wasm', ta: boolean, tb: boolean): Promise<number[][]> =>
      on(backend, () => {
        const before = tf.memory().numTensors;
        const a = tf.tidy(() => (ta ? tf.tensor(aData, [6, 5]).transpose() : tf.tensor(aData, [6, 5])));
        const b = tf.tidy(() => (tb ? tf.tensor(bData, [5, 7]).transpose() : tf.tensor(bData, [5, 7])));
        const f = (x: tf.Tensor, y: tf.Tensor): tf.Tensor =>
          matMul(x, y, { transposeA: ta, transposeB: tb }).square().sum();
        const { value, grads } = tf.valueAndGrads(f)([a, b]);
        const out = [Array.from(value.dataSync()), ...grads.map((g) => Array.from(g.dataSync()))];
        tf.dispose([a, b, value, ...grads]);
        expect(tf.memory().numTensors).toBe(before);
        return out;
      });
    for (const ta of [false, true])
      for (const tb of [false, true]) {
        const got = await run('wasm', ta, tb);
        const want = await run('cpu', ta, tb);
        got.forEach((g, i) =>
          expect(relErr(g, want[i] as number[]), `${ta} ${tb} #${i}`).toBeLessThanOrEqual(TOL),
        );
      }
    expect(() => matMul(tf.zeros([2, 2]), tf.zeros([2, 2]), { transposeA: 1 as unknown as boolean })).toThrow(
      /invalid transposeA/,
    );
  });

  it('simdPeakGflops measures a positive rate and rejects bad iteration counts', async () => {
    await useWasmBackend();
    expect(simdPeakGflops(200_000)).toBeGreaterThan(0);
    expect(() => simdPeakGflops(0)).toThrow(/invalid iterations/);
  });
});

describe('useWasmBackend', () => {
  it('the README kernel table is the one derived from the registry', () => {
    // Compared cell by cell: prettier pads the README's columns.
    const cells = (text: string): string[][] =>
      text
        .split('\n')
        .filter((l) => l.startsWith('| `'))
        .map((l) => l.split('|').map((c) => c.trim()));
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(cells(readme)).toEqual(cells(kernelTableMarkdown()));
  });

  it('is idempotent and reports what it enabled', async () => {
    const a = await useWasmBackend();
    const b = await useWasmBackend();
    expect(a).toEqual(b);
    expect(a.backend).toBe('wasm');
    expect(a.simd).toBe(true);
    // vitest.config.ts runs Node 20 with --experimental-wasm-relaxed-simd: the fused build runs.
    expect(a.relaxedSimd).toBe(true);
    expect(a.kernelVariant).toBe('relaxed-simd');
    expect(a.kernels).toEqual(GRADFLOW_WASM_KERNELS.map((k) => k.kernelName));
    expect(a.threadCount).toBeGreaterThanOrEqual(1);
    for (const k of a.kernels) expect(tf.getKernel(k, 'wasm')).toBeDefined();
  });

  it('rejects bad input with typed errors and leaves no tensors behind', async () => {
    await useWasmBackend();
    const before = tf.memory().numTensors;
    const x = tf.zeros([1, 4, 4, 2]);
    const dy = tf.zeros([1, 4, 4, 3]);
    expect(() =>
      tf
        .engine()
        .runKernel(
          'Conv2DBackpropFilter',
          { x, dy },
          { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 2, 4] },
        ),
    ).toThrow(/dy has shape \[1, 4, 4, 3\], expected \[1, 4, 4, 4\]/);
    expect(() =>
      tf
        .engine()
        .runKernel(
          'Conv2DBackpropFilter',
          { x, dy },
          { strides: 1, pad: 'same', dataFormat: 'NCHW', filterShape: [3, 3, 2, 3] },
        ),
    ).toThrow(/dataFormat NCHW is not supported/);
    // More filter taps than the pointer block holds: a typed error, not a write past it.
    const wide = tf.zeros([1, 1, 4100, 1]);
    const wideDy = tf.zeros([1, 1, 4100, 1]);
    expect(() =>
      tf
        .engine()
        .runKernel(
          'Conv2DBackpropFilter',
          { x: wide, dy: wideDy },
          { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [1, 4097, 1, 1] },
        ),
    ).toThrow(/1x4097 filter has 4097 taps; gradflow's kernels take up to 4096/);
    tf.dispose([wide, wideDy]);
    const xi = tf.zeros([1, 4, 4, 2], 'int32');
    expect(() =>
      tf
        .engine()
        .runKernel(
          'Conv2DBackpropFilter',
          { x: xi, dy },
          { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 2, 3] },
        ),
    ).toThrow(/only float32/);
    await expect(useWasmBackend({ kernels: 'yes' as unknown as boolean })).rejects.toThrow(
      /invalid options.kernels/,
    );
    tf.dispose([x, dy, xi]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
