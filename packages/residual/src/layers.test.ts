import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, ShapeError } from '@gradflow/core';
import { expectAllClose, expectNoLeak, runLayerContract } from '@gradflow/testing';
import {
  DropBlock2D,
  DropConnectDense,
  DropPath,
  OptionAShortcut,
  ScalarBias,
  ScalarScale,
  ScaledInitializer,
} from './index.js';

// Parameter-free layers sit behind a dense layer so the contract has a weight whose gradient
// must flow through them (tfjs's variableGrads needs at least one variable).
const behindDense =
  (layer: tf.layers.Layer, units = 4) =>
  (x: tf.SymbolicTensor) =>
    layer.apply(tf.layers.dense({ units, name: 'pre' }).apply(x) as tf.SymbolicTensor) as tf.SymbolicTensor;

describe('layer contract (cpu and wasm)', () => {
  it('DropPath (inference = identity) and in training mode with rate 0', async () => {
    await runLayerContract({
      name: 'DropPath',
      inputShape: [3, 3, 2],
      outputShape: [3, 3, 4],
      training: false,
      build: behindDense(new DropPath({ rate: 0.3, seed: 7 })),
    });
    await runLayerContract({
      name: 'DropPath rate 0',
      inputShape: [5],
      outputShape: [4],
      build: behindDense(new DropPath({ rate: 0 })),
    });
  });

  it('DropConnectDense (inference) with rank 2 and rank 3 inputs', async () => {
    await runLayerContract({
      name: 'DropConnectDense',
      inputShape: [5],
      outputShape: [3],
      training: false,
      build: (x) =>
        new DropConnectDense({ units: 3, rate: 0.5, kernelInitializer: 'he_normal', seed: 3 }).apply(
          x,
        ) as tf.SymbolicTensor,
    });
    await runLayerContract({
      name: 'DropConnectDense rank 3',
      inputShape: [4, 5],
      outputShape: [4, 2],
      training: false,
      build: (x) =>
        new DropConnectDense({ units: 2, rate: 0.2, useBias: false }).apply(x) as tf.SymbolicTensor,
    });
  });

  it('DropBlock2D (inference = identity)', async () => {
    await runLayerContract({
      name: 'DropBlock2D',
      inputShape: [8, 8, 2],
      outputShape: [8, 8, 4],
      training: false,
      build: behindDense(new DropBlock2D({ blockSize: 3, keepProb: 0.8, seed: 1 })),
    });
  });

  it('ScalarScale and ScalarBias', async () => {
    await runLayerContract({
      name: 'ScalarScale',
      inputShape: [6],
      outputShape: [6],
      build: (x) => new ScalarScale({ initialValue: 0.5 }).apply(x) as tf.SymbolicTensor,
    });
    await runLayerContract({
      name: 'ScalarBias',
      inputShape: [4, 4, 2],
      outputShape: [4, 4, 2],
      build: (x) => new ScalarBias({ initialValue: -0.25 }).apply(x) as tf.SymbolicTensor,
    });
  });

  it('OptionAShortcut, and a conv kernel initialized by ScaledInitializer', async () => {
    await runLayerContract({
      name: 'OptionAShortcut',
      inputShape: [6, 6, 2],
      outputShape: [3, 3, 8],
      build: behindDense(new OptionAShortcut({ stride: 2, padBefore: 2, padAfter: 2 })),
    });
    await runLayerContract({
      name: 'ScaledInitializer',
      inputShape: [5],
      outputShape: [3],
      build: (x) =>
        tf.layers
          .dense({
            units: 3,
            kernelInitializer: new ScaledInitializer({
              initializer: tf.initializers.heNormal({ seed: 1 }),
              scale: 0.5,
            }),
          })
          .apply(x) as tf.SymbolicTensor,
    });
  });
});

describe('DropPath', () => {
  it('drops whole samples with probability rate and scales survivors by 1/(1-rate); gradient = mask', async () => {
    const layer = new DropPath({ rate: 0.25, seed: 11 });
    const n = 2000;
    const x = tf.ones([n, 2, 3]);
    await expectNoLeak(() => {
      const [y, g] = tf.tidy(() => {
        const f = (t: tf.Tensor) => layer.apply(t, { training: true }) as tf.Tensor;
        // the gradient call draws its own mask, so it is checked for the same structure
        const grad = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(f(t), t)))(x);
        return [f(x), grad];
      });
      const v = tf.tidy(() => y!.reshape([n, 6]).arraySync()) as number[][];
      // every sample is all-zero or all 1/(1 - 0.25)
      expect(
        v.every((row) => row.every((e) => e === 0) || row.every((e) => Math.abs(e - 4 / 3) < 1e-6)),
      ).toBe(true);
      const dropped = v.filter((row) => row[0] === 0).length / n;
      expect(dropped).toBeGreaterThan(0.21);
      expect(dropped).toBeLessThan(0.29);
      // d/dx sum(mask * x * x) at x = 1 is 2 * mask: per sample all 0 or all 2/(1 - rate)
      const grads = tf.tidy(() => g!.reshape([n, 6]).arraySync()) as number[][];
      expect(
        grads.every((row) => row.every((e) => e === 0) || row.every((e) => Math.abs(e - 8 / 3) < 1e-5)),
      ).toBe(true);
      tf.dispose([y!, g!]);
    }, 'DropPath training call');
    const inference = layer.apply(x) as tf.Tensor;
    expectAllClose(inference, x.dataSync(), { rtol: 0, atol: 0 }, 'DropPath at inference');
    tf.dispose([x, inference]);
  });

  it('rejects rates outside [0, 1) and non-integer seeds', () => {
    expect(() => new DropPath({ rate: 1 })).toThrow(InvalidArgumentError);
    expect(() => new DropPath({ rate: Number.NaN })).toThrow(InvalidArgumentError);
    expect(() => new DropPath({ rate: 0.1, seed: 1.5 })).toThrow(InvalidArgumentError);
  });
});

describe('DropConnectDense', () => {
  it('inference is x W + b; training averages to it (inverted scaling) and drops about rate of the kernel', () => {
    const layer = new DropConnectDense({ units: 3, rate: 0.5, seed: 5 });
    const x = tf.tensor2d([[1, -2, 0.5, 3]]);
    const [inference, expected] = tf.tidy(() => {
      const y = layer.apply(x) as tf.Tensor;
      const [w, b] = layer.getWeights();
      return [y, tf.add(tf.matMul(x, w!), b!)];
    });
    expectAllClose(inference!, expected!.dataSync(), { rtol: 1e-6, atol: 1e-6 }, 'DropConnect inference');
    const before = tf.memory().numTensors;
    const draws = 3000;
    const mean = new Float64Array(3);
    let zeros = 0;
    for (let i = 0; i < draws; i++) {
      const y = tf.tidy(() => layer.apply(x, { training: true }) as tf.Tensor);
      y.dataSync().forEach((v, j) => (mean[j]! += v / draws));
      y.dispose();
    }
    // a single input feature makes the dropped fraction observable: output = w_1j * m_1j * 2
    const one = tf.tensor2d([[1, 0, 0, 0]]);
    const bias = layer.getWeights()[1]!;
    for (let i = 0; i < 1000; i++) {
      const y = tf.tidy(() => tf.sub(layer.apply(one, { training: true }) as tf.Tensor, bias));
      y.dataSync().forEach((v) => (zeros += v === 0 ? 1 / 3000 : 0));
      y.dispose();
    }
    one.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expectAllClose(
      mean,
      expected!.dataSync(),
      { rtol: 0.1, atol: 0.15 },
      'mean of DropConnect training outputs',
    );
    expect(zeros).toBeGreaterThan(0.45);
    expect(zeros).toBeLessThan(0.55);
    tf.dispose([x, inference!, expected!]);
  });

  it('config round-trips its initializers and rejects bad arguments', () => {
    const layer = new DropConnectDense({ units: 2, rate: 0.1, kernelInitializer: 'orthogonal' });
    const copy = new DropConnectDense(JSON.parse(JSON.stringify(layer.getConfig())));
    expect(copy.getConfig()).toEqual(layer.getConfig());
    expect(() => new DropConnectDense({ units: 0, rate: 0.1 })).toThrow(InvalidArgumentError);
    expect(() => new DropConnectDense({ units: 2, rate: 1.5 })).toThrow(InvalidArgumentError);
    expect(
      () => new DropConnectDense({ units: 2, rate: 0.1, kernelInitializer: 'glorot_unifrom' as never }),
    ).toThrow(/glorot_uniform/);
  });
});

describe('DropBlock2D', () => {
  it('drops square blocks, about 1 - keepProb of the units, and rescales by count/kept', async () => {
    const layer = new DropBlock2D({ blockSize: 3, keepProb: 0.8, seed: 2 });
    const mask = layer.sampleMask([64, 12, 12, 1]);
    const m = mask.arraySync() as number[][][][];
    const keptFraction = mask.mean().dataSync()[0]!;
    // the gamma formula targets 1 - keepProb dropped; block overlaps make it somewhat less
    expect(keptFraction).toBeGreaterThan(0.78);
    expect(keptFraction).toBeLessThan(0.9);
    // every zero belongs to a full 3x3 zero square inside the map
    for (const sample of m) {
      for (let i = 0; i < 12; i++) {
        for (let j = 0; j < 12; j++) {
          if (sample[i]![j]![0] !== 0) continue;
          let inBlock = false;
          for (let a = Math.max(0, i - 2); a <= Math.min(i, 9) && !inBlock; a++) {
            for (let b = Math.max(0, j - 2); b <= Math.min(j, 9) && !inBlock; b++) {
              let all = true;
              for (let u = 0; u < 3; u++) for (let v = 0; v < 3; v++) all &&= sample[a + u]![b + v]![0] === 0;
              inBlock = all;
            }
          }
          expect(inBlock).toBe(true);
        }
      }
    }
    mask.dispose();
    const x = tf.ones([8, 12, 12, 4]);
    await expectNoLeak(() => {
      tf.tidy(() => {
        const y = layer.apply(x, { training: true }) as tf.Tensor;
        // rescaled so that the sum is preserved exactly: count(M) / sum(M)
        expect(y.sum().dataSync()[0]).toBeCloseTo(x.size, 0);
        expect(y.min().dataSync()[0]).toBe(0);
      });
    }, 'DropBlock2D training call');
    const inference = layer.apply(x) as tf.Tensor;
    expectAllClose(inference, x.dataSync(), { rtol: 0, atol: 0 }, 'DropBlock2D at inference');
    tf.dispose([x, inference]);
  });

  it('keepProb 1 is the identity in training; bad arguments and ranks are typed errors', () => {
    const x = tf.randomNormal([1, 4, 4, 1]);
    const y = new DropBlock2D({ keepProb: 1 }).apply(x, { training: true }) as tf.Tensor;
    expectAllClose(y, x.dataSync(), { rtol: 0, atol: 0 }, 'DropBlock2D with keepProb 1');
    tf.dispose([x, y]);
    expect(() => new DropBlock2D({ keepProb: 0 })).toThrow(InvalidArgumentError);
    expect(() => new DropBlock2D({ blockSize: 0 })).toThrow(InvalidArgumentError);
    expect(() => new DropBlock2D().apply(tf.input({ shape: [4, 4] }))).toThrow(ShapeError);
  });
});

describe('OptionAShortcut', () => {
  it('equals F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, p, p)) in NHWC, also for odd sizes', () => {
    for (const [h, w] of [
      [4, 6],
      [5, 3],
    ] as const) {
      const x = tf.tensor4d(
        Array.from({ length: 2 * h * w * 3 }, (_, i) => i + 1),
        [2, h, w, 3],
      );
      const y = new OptionAShortcut({ stride: 2, padBefore: 1, padAfter: 2 }).apply(x) as tf.Tensor;
      const xv = x.arraySync();
      const expected = xv.map((img) =>
        img
          .filter((_, i) => i % 2 === 0)
          .map((row) => row.filter((_, j) => j % 2 === 0).map((px) => [0, ...px, 0, 0])),
      );
      expect(y.arraySync()).toEqual(expected);
      tf.dispose([x, y]);
    }
  });
});

describe('ScalarScale, ScalarBias, ScaledInitializer', () => {
  it('compute alpha * x and x + b with one parameter each', () => {
    const x = tf.tensor2d([[1, -2, 3]]);
    const s = new ScalarScale({ initialValue: -2 });
    const b = new ScalarBias({ initialValue: 0.5 });
    const [ys, yb] = tf.tidy(() => [s.apply(x) as tf.Tensor, b.apply(x) as tf.Tensor]);
    expect(Array.from(ys!.dataSync())).toEqual([-2, 4, -6]);
    expect(Array.from(yb!.dataSync())).toEqual([1.5, -1.5, 3.5]);
    expect(s.countParams() + b.countParams()).toBe(2);
    tf.dispose([x, ys!, yb!]);
    expect(() => new ScalarScale({ initialValue: Number.POSITIVE_INFINITY })).toThrow(InvalidArgumentError);
  });

  it('ScaledInitializer scales every draw and round-trips its config', () => {
    const base = tf.initializers.randomNormal({ mean: 0, stddev: 1, seed: 4 });
    const init = new ScaledInitializer({ initializer: base, scale: 0.25 });
    const [a, b] = tf.tidy(() => [
      init.apply([50, 40]),
      tf.initializers.randomNormal({ mean: 0, stddev: 1, seed: 4 }).apply([50, 40]),
    ]);
    expectAllClose(
      a!,
      tf.tidy(() => tf.mul(b!, 0.25).dataSync()),
      { rtol: 1e-6, atol: 0 },
      'scaled draws',
    );
    const copy = new ScaledInitializer(JSON.parse(JSON.stringify(init.getConfig())));
    expect(copy.getConfig()).toEqual(init.getConfig());
    tf.dispose([a!, b!]);
  });
});
