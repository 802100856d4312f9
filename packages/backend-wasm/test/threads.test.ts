// Runs in its own process (vitest forks pool): the thread count is fixed when the backend first initializes.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '@gradflow/core';
import { describe, expect, it } from 'vitest';
import { channelMoments, useWasmBackend } from '../src/index.js';
import { activeRuntime } from '../src/runtime.js';
import { channelMomentsF64, maxAbsDiff, on, randomData, relErr, runKernelOn } from './helpers.js';
import { recurrentReference } from './recurrent-reference.js';

describe('useWasmBackend({ threads: 2 }) in Node', () => {
  it('starts the stock threaded build and gradflow kernels run on its shared heap', async () => {
    await expect(useWasmBackend({ threads: 2, stockThreads: 3 })).rejects.toThrow(
      /options.stockThreads.*an integer in \[1, threads \(2\)\]/,
    );
    const info = await useWasmBackend({ threads: 2 });
    expect(info.threads).toBe(true);
    // gradflow's pool takes the 2 threads; the stock XNNPACK pool stays at 1 (stockThreads).
    expect(info.threadCount).toBe(1);
    expect(info.kernelVariant).toBe('shared-relaxed-simd');
    expect(info.kernelThreads).toBe(2);
    const heap = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer;
    expect(heap).toBeInstanceOf(SharedArrayBuffer);
    // Idempotent with the same or no thread count; a different one is a typed error.
    expect((await useWasmBackend()).kernelThreads).toBe(2);
    expect((await useWasmBackend({ threads: 2 })).kernelThreads).toBe(2);
    await expect(useWasmBackend({ threads: 1 })).rejects.toThrow(
      /must be chosen before it first initializes/,
    );
    await expect(useWasmBackend({ threads: 2, stockThreads: 2 })).rejects.toThrow(
      /must be chosen before it first initializes/,
    );
    await expect(useWasmBackend({ threads: 0 })).rejects.toThrow(/invalid options.threads/);

    const rng = new Rng(9);
    const x = { data: randomData(rng, 2 * 9 * 9 * 8), shape: [2, 9, 9, 8] };
    const dy = { data: randomData(rng, 2 * 5 * 5 * 16), shape: [2, 5, 5, 16] };
    const attrs = { strides: 2, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 8, 16] };
    const got = await runKernelOn('wasm', 'Conv2DBackpropFilter', { x, dy }, attrs);
    const want = await runKernelOn('cpu', 'Conv2DBackpropFilter', { x, dy }, attrs);
    expect(relErr(got, want)).toBeLessThanOrEqual(1e-4);
    const a = { data: randomData(rng, 64 * 48), shape: [64, 48] };
    const b = { data: randomData(rng, 64 * 40), shape: [64, 40] };
    const mm = { transposeA: true, transposeB: false };
    expect(
      relErr(
        await runKernelOn('wasm', 'BatchMatMul', { a, b }, mm),
        await runKernelOn('cpu', 'BatchMatMul', { a, b }, mm),
      ),
    ).toBeLessThanOrEqual(1e-4);
    const xf = { data: randomData(rng, 2 * 12 * 12 * 16), shape: [2, 12, 12, 16] };
    const f = { data: randomData(rng, 3 * 3 * 16 * 32), shape: [3, 3, 16, 32] };
    const conv = { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 1 };
    // The forward conv (gradflow's indirect GEMM; below the split threshold here).
    expect(
      relErr(
        await runKernelOn('wasm', 'Conv2D', { x: xf, filter: f }, conv),
        await runKernelOn('cpu', 'Conv2D', { x: xf, filter: f }, conv),
      ),
    ).toBeLessThanOrEqual(1e-4);
  });

  it('splits the big kernels over the kernel pool and matches the cpu backend', async () => {
    await useWasmBackend({ threads: 2 });
    const pool = activeRuntime().pool;
    expect(pool?.threads).toBe(2);
    const jobsBefore = pool?.jobs ?? 0;
    const workerChunksBefore = pool?.workerChunks ?? 0;
    const rng = new Rng(11);
    const tensor = (shape: number[]) => ({
      data: randomData(
        rng,
        shape.reduce((p, d) => p * d, 1),
      ),
      shape,
    });
    // Above the 4 MFLOP split threshold; an odd batch splits 2 + 1 images.
    for (const [strides, pad] of [
      [1, 'same'],
      [2, 'same'],
      [2, 'valid'],
    ] as const) {
      const x = tensor([3, 33, 31, 16]);
      const filterShape = [3, 3, 16, 32];
      const outH = pad === 'same' ? Math.ceil(33 / strides) : Math.floor((33 - 3) / strides) + 1;
      const outW = pad === 'same' ? Math.ceil(31 / strides) : Math.floor((31 - 3) / strides) + 1;
      const dy = tensor([3, outH, outW, 32]);
      const attrs = { strides, pad, dataFormat: 'NHWC', filterShape, dilations: 1 };
      const dw = await runKernelOn('wasm', 'Conv2DBackpropFilter', { x, dy }, attrs);
      expect(
        relErr(dw, await runKernelOn('cpu', 'Conv2DBackpropFilter', { x, dy }, attrs)),
      ).toBeLessThanOrEqual(1e-4);
      const filter = tensor(filterShape);
      const fwd = { strides, pad, dataFormat: 'NHWC', dilations: 1 };
      expect(
        relErr(
          await runKernelOn('wasm', 'Conv2D', { x, filter }, fwd),
          await runKernelOn('cpu', 'Conv2D', { x, filter }, fwd),
        ),
      ).toBeLessThanOrEqual(1e-4);
      const inAttrs = { strides, pad, dataFormat: 'NHWC', inputShape: x.shape, dilations: 1 };
      expect(
        relErr(
          await runKernelOn('wasm', 'Conv2DBackpropInput', { dy, filter }, inAttrs),
          await runKernelOn('cpu', 'Conv2DBackpropInput', { dy, filter }, inAttrs),
        ),
      ).toBeLessThanOrEqual(1e-4);
    }
    // GEMMs split by rows (m >= n) and by columns (n > m), every transpose combination.
    for (const [m, k, n] of [
      [262, 130, 97],
      [37, 150, 601],
    ] as const) {
      for (const transposeA of [false, true]) {
        for (const transposeB of [false, true]) {
          const a = tensor(transposeA ? [k, m] : [m, k]);
          const b = tensor(transposeB ? [n, k] : [k, n]);
          const attrs = { transposeA, transposeB };
          expect(
            relErr(
              await runKernelOn('wasm', 'BatchMatMul', { a, b }, attrs),
              await runKernelOn('cpu', 'BatchMatMul', { a, b }, attrs),
            ),
            `m=${m} k=${k} n=${n} tA=${transposeA} tB=${transposeB}`,
          ).toBeLessThanOrEqual(1e-4);
        }
      }
    }
    // 3 filter gradients, 3 forwards, 3 input gradients and 8 GEMMs each ran as a pool job, and
    // the worker took some of their chunks.
    expect((pool?.jobs ?? 0) - jobsBefore).toBe(17);
    expect((pool?.workerChunks ?? 0) - workerChunksBefore).toBeGreaterThan(0);
  });

  it('splits the element-wise kernels into chunks and matches the cpu backend', async () => {
    await useWasmBackend({ threads: 2 });
    const pool = activeRuntime().pool;
    const jobsBefore = pool?.jobs ?? 0;
    const rng = new Rng(12);
    // 40425 floats: above the split threshold, a period (5 channels) that is no power of two.
    const shape = [7, 33, 35, 5];
    const n = shape.reduce((p, d) => p * d, 1);
    const x = { data: randomData(rng, n), shape };
    const full = { data: randomData(rng, n), shape };
    const channel = { data: randomData(rng, 5), shape: [5] };
    const positive = { data: randomData(rng, 5).map((v) => 1.5 + v), shape: [1, 1, 1, 5] };
    const scalar = { data: randomData(rng, 1), shape: [] };
    const cases: [
      string,
      Record<string, { data: Float32Array; shape: number[] }>,
      Record<string, unknown>,
    ][] = [
      ['Add', { a: x, b: full }, {}],
      ['Sub', { a: x, b: channel }, {}],
      ['Multiply', { a: scalar, b: x }, {}],
      ['RealDiv', { a: x, b: positive }, {}],
      ['SquaredDifference', { a: channel, b: x }, {}],
      ['Relu', { x }, {}],
      ['Square', { x }, {}],
      ['Mean', { x }, { axis: [0, 1, 2], keepDims: false }],
      ['Sum', { x }, { axis: [0, 1, 2], keepDims: true }],
    ];
    for (const [kernel, inputs, attrs] of cases) {
      const got = await runKernelOn('wasm', kernel, inputs, attrs);
      expect(relErr(got, await runKernelOn('cpu', kernel, inputs, attrs)), kernel).toBeLessThanOrEqual(1e-5);
      // Partial sums are added in chunk order: the same result whichever thread ran which chunk.
      expect(await runKernelOn('wasm', kernel, inputs, attrs), kernel).toEqual(got);
    }
    // MaxPoolGrad splits by images (2x2, stride 2: the U-Net's pooling).
    const pooled = await on('cpu', () => {
      const t = tf.maxPool(tf.tensor4d(x.data, shape as [number, number, number, number]), 2, 2, 'valid');
      const out = { data: Float32Array.from(t.dataSync()), shape: t.shape };
      t.dispose();
      return out;
    });
    const poolInputs = {
      dy: { data: randomData(rng, pooled.data.length), shape: pooled.shape },
      input: x,
      output: pooled,
    };
    const poolAttrs = { filterSize: 2, strides: 2, pad: 'valid' };
    expect(
      relErr(
        await runKernelOn('wasm', 'MaxPoolGrad', poolInputs, poolAttrs),
        await runKernelOn('cpu', 'MaxPoolGrad', poolInputs, poolAttrs),
      ),
    ).toBeLessThanOrEqual(1e-6);
    // channelMoments by rows, partial sums added in chunk order (against float64).
    const moments = await on('wasm', () => {
      const t = tf.tensor(x.data, shape);
      const m = channelMoments(t)!;
      const out = [m.mean, m.variance].map((v) => Float32Array.from(v.dataSync()));
      tf.dispose([t, m.mean, m.variance]);
      return out;
    });
    const exact = channelMomentsF64(x.data, 5);
    expect(maxAbsDiff(moments[0]!, exact[0])).toBeLessThanOrEqual(1e-6); // data of scale 1, means near 0
    expect(relErr(moments[1]!, exact[1])).toBeLessThanOrEqual(1e-6);
    // AvgPoolGrad by images, Concat by rows.
    const avgAttrs = { filterSize: 2, strides: 2, pad: 'valid' };
    const avgInputs = { dy: poolInputs.dy, input: x };
    expect(
      relErr(
        await runKernelOn('wasm', 'AvgPoolGrad', avgInputs, avgAttrs),
        await runKernelOn('cpu', 'AvgPoolGrad', avgInputs, avgAttrs),
      ),
    ).toBeLessThanOrEqual(1e-6);
    const joined = await Promise.all(
      (['wasm', 'cpu'] as const).map((backend) =>
        on(backend, () => {
          const parts = [tf.tensor(x.data, shape), tf.tensor(full.data, shape)];
          const out = tf.concat(parts, 3);
          const data = Float32Array.from(out.dataSync());
          tf.dispose([...parts, out]);
          return data;
        }),
      ),
    );
    expect(joined[0]).toEqual(joined[1]);
    // BatchNorm with batch statistics and a ReLU, trained: FusedBatchNorm, the BatchNorm, ReLU and
    // Mean gradients all split too.
    const w = randomData(rng, n);
    const gamma = randomData(rng, 5);
    const beta = randomData(rng, 5);
    const grads = (backend: 'wasm' | 'cpu') =>
      on(backend, () => {
        const before = tf.memory().numTensors;
        const result = tf.tidy(() => {
          const f = (xs: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
            const { mean, variance } = tf.moments(xs, [0, 1, 2]);
            const y = tf.relu(tf.batchNorm(xs, mean, variance, b, g, 1e-3));
            return tf.sum(tf.mul(y, tf.tensor(w, shape)));
          };
          const params = [tf.tensor(x.data, shape), tf.tensor(gamma, [5]), tf.tensor(beta, [5])];
          return tf
            .grads(f)(params)
            .map((g) => Float32Array.from(g.dataSync()));
        });
        expect(tf.memory().numTensors).toBe(before);
        return result;
      });
    const wasm = await grads('wasm');
    const cpu = await grads('cpu');
    wasm.forEach((g, i) => expect(relErr(g, cpu[i]!), `gradient ${i}`).toBeLessThanOrEqual(1e-4));
    expect((pool?.jobs ?? 0) - jobsBefore).toBeGreaterThanOrEqual(cases.length + 9);
  });

  it('keeps every result right over 2100 jobs in a row (the claim generation wraps at 2048)', async () => {
    await useWasmBackend({ threads: 2 });
    const pool = activeRuntime().pool;
    const jobsBefore = pool?.jobs ?? 0;
    await on('wasm', () => {
      const before = tf.memory().numTensors;
      // Just above the split threshold: short jobs, so the threads turn from one to the next fast.
      const a = tf.range(0, 33000, 1, 'float32');
      let wrong = 0;
      for (let i = 0; i < 2100; i++) {
        const out = tf.add(a, i);
        const v = out.dataSync();
        if (v[0] !== i || v[32999] !== 32999 + i || v[16500] !== 16500 + i) wrong++;
        out.dispose();
      }
      a.dispose();
      expect(wrong).toBe(0);
      expect(tf.memory().numTensors).toBe(before);
    });
    expect((pool?.jobs ?? 0) - jobsBefore).toBeGreaterThanOrEqual(2100);
  });

  it("splits a GRU or LSTM layer's hidden units over the pool: both directions match float64 BPTT", async () => {
    await useWasmBackend({ threads: 2 });
    const pool = activeRuntime().pool;
    const [jobsBefore, workerBefore] = [pool?.jobs ?? 0, pool?.workerChunks ?? 0];
    // 96 units: 12 GEMM panels, 6 per thread; a step GEMM above the split threshold.
    const { makeCase, reference, runKernels, compare } = recurrentReference(16, 5, 96);
    await on('wasm', () => {
      const before = tf.memory().numTensors;
      for (const cell of ['gru', 'lstm'] as const) {
        for (const reverse of [false, true]) {
          const c = makeCase(cell, new Rng(cell === 'gru' ? 13 : 14));
          compare(c, reference(c, reverse), runKernels(c, reverse), `${cell}${reverse ? ' reverse' : ''}`);
        }
      }
      expect(tf.memory().numTensors).toBe(before);
    });
    // Each forward and backward ran as a team of two, the worker one part of each (the parts
    // meet every step, so neither thread can run both).
    expect((pool?.jobs ?? 0) - jobsBefore).toBe(8);
    expect((pool?.workerChunks ?? 0) - workerBefore).toBe(8);
  });

  it('lets a script that used threads finish on its own', () => {
    // emscripten refs each worker it runs a pthread on, and tfjs's pool threads never end.
    const script = fileURLToPath(new URL('./fixtures/threaded-script.ts', import.meta.url));
    const run = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', script], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      timeout: 30_000,
      encoding: 'utf8',
    });
    expect(run.signal, 'killed after 30 s: the process did not exit').toBeNull();
    expect(run.stdout.trim()).toBe('done 16');
  }, 40_000);
});
