import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, Rng, ShapeError, StateError } from '@gradflow/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { lsuv } from './lsuv.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function batch(shape: number[], seed: number, scale = 1): tf.Tensor {
  const rng = new Rng(seed);
  return tf.tensor(
    rng.fill(
      shape.reduce((a, b) => a * b, 1),
      (r) => scale * r.normal(),
    ),
    shape,
  );
}

/** Variances of the given layers' outputs on x, measured independently of lsuv. */
function outputVariances(model: tf.LayersModel, layers: tf.layers.Layer[], x: tf.Tensor): number[] {
  const probe = tf.model({
    inputs: model.inputs,
    outputs: layers.map((l) => l.output as tf.SymbolicTensor),
    name: `${model.name}_probe`,
  });
  return tf.tidy(() => {
    const ys = probe.predict(x);
    return (Array.isArray(ys) ? ys : [ys]).map((y) => tf.moments(y).variance.dataSync()[0]!);
  });
}

function deepMlp(
  depth: number,
  width: number,
  activation: 'relu' | 'tanh',
  name: string,
): { model: tf.LayersModel; dense: tf.layers.Layer[] } {
  const input = tf.input({ shape: [32] });
  let h: tf.SymbolicTensor = input;
  const dense: tf.layers.Layer[] = [];
  for (let i = 0; i < depth; i++) {
    // Deliberately bad init (tiny uniform): without LSUV the signal dies within a few layers.
    const layer = tf.layers.dense({
      units: width,
      name: `${name}_dense${i}`,
      kernelInitializer: tf.initializers.randomUniform({ minval: -0.01, maxval: 0.01, seed: i }),
    });
    dense.push(layer);
    h = tf.layers
      .activation({ activation, name: `${name}_act${i}` })
      .apply(layer.apply(h)) as tf.SymbolicTensor;
  }
  const out = tf.layers.dense({ units: 10, name: `${name}_head` });
  dense.push(out);
  return { model: tf.model({ inputs: input, outputs: out.apply(h) as tf.SymbolicTensor, name }), dense };
}

describe('lsuv', () => {
  it('brings every layer of a deep MLP to unit output variance, without leaking tensors', () => {
    for (const activation of ['relu', 'tanh'] as const) {
      const { model, dense } = deepMlp(12, 48, activation, `mlp_${activation}`);
      const x = batch([256, 32], 1);
      const before = tf.memory().numTensors;
      const report = lsuv(model, x, { tol: 0.1, seed: 3 });
      expect(tf.memory().numTensors).toBe(before);
      expect(report.map((r) => r.name)).toEqual(dense.map((l) => l.name));
      for (const r of report) {
        expect(r.converged, r.name).toBe(true);
        expect(Math.abs(r.variance - 1)).toBeLessThan(0.1);
      }
      // Independently: the outputs of every dense layer (pre-activation here) have variance within tol of 1.
      for (const v of outputVariances(model, dense, x)) expect(Math.abs(v - 1)).toBeLessThan(0.1);
      // Orthonormal pre-init, then only rescaling: each square kernel is c · orthogonal.
      const w = dense[3]!.getWeights()[0]!;
      const gram = tf.tidy(() => tf.matMul(w, w, true, false).arraySync() as number[][]);
      const c = gram[0]![0]!;
      for (let i = 0; i < gram.length; i++)
        for (let j = 0; j < gram.length; j++)
          expect(Math.abs(gram[i]![j]! - (i === j ? c : 0))).toBeLessThan(1e-4 * c);
      x.dispose();
      model.dispose();
    }
  });

  it('on a small conv net (conv, strided conv, fused relu, dense head), measuring before the activation', () => {
    const input = tf.input({ shape: [10, 10, 3] });
    const c1 = tf.layers.conv2d({
      filters: 8,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      name: 'cnn_conv1',
    });
    const c2 = tf.layers.conv2d({
      filters: 16,
      kernelSize: 3,
      strides: 2,
      activation: 'relu',
      name: 'cnn_conv2',
    });
    const c3 = tf.layers.conv1d({ filters: 4, kernelSize: 2, name: 'cnn_conv3' });
    const head = tf.layers.dense({ units: 5, name: 'cnn_head' });
    let h = c2.apply(c1.apply(input)) as tf.SymbolicTensor;
    h = tf.layers.reshape({ targetShape: [16, 16] }).apply(h) as tf.SymbolicTensor;
    h = c3.apply(h) as tf.SymbolicTensor;
    const out = head.apply(tf.layers.flatten().apply(h)) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out, name: 'cnn' });
    const x = batch([16, 10, 10, 3], 2, 3);
    const before = tf.memory().numTensors;
    const report = lsuv(model, x, { tol: 0.05, seed: 1 });
    expect(tf.memory().numTensors).toBe(before);
    expect(report.map((r) => r.name)).toEqual(['cnn_conv1', 'cnn_conv2', 'cnn_conv3', 'cnn_head']);
    for (const r of report) expect(Math.abs(r.variance - 1), r.name).toBeLessThan(0.05);
    // Independently, pre-activation of the fused-relu convs: conv without activation from the layer's input.
    const pre = tf.tidy(() => {
      const sub = tf.model({
        inputs: input,
        outputs: [c1.getInputAt(0) as tf.SymbolicTensor, c2.getInputAt(0) as tf.SymbolicTensor],
        name: 'cnn_sub',
      });
      const [i1, i2] = sub.predict(x) as tf.Tensor[];
      const [k1, b1] = c1.getWeights() as [tf.Tensor4D, tf.Tensor];
      const [k2, b2] = c2.getWeights() as [tf.Tensor4D, tf.Tensor];
      const z1 = tf.add(tf.conv2d(i1 as tf.Tensor4D, k1, 1, 'same'), b1);
      const z2 = tf.add(tf.conv2d(i2 as tf.Tensor4D, k2, 2, 'valid'), b2);
      return [tf.moments(z1).variance.dataSync()[0]!, tf.moments(z2).variance.dataSync()[0]!];
    });
    for (const v of pre) expect(Math.abs(v - 1)).toBeLessThan(0.05);
    for (const v of outputVariances(model, [c3, head], x)) expect(Math.abs(v - 1)).toBeLessThan(0.05);
    x.dispose();
    model.dispose();
  });

  it("reports layers that maxIter stops early ('output' of a tanh layer cannot reach variance 1)", () => {
    const model = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [8], units: 16, activation: 'tanh' })],
    });
    const x = batch([64, 8], 4);
    const [r] = lsuv(model, x, { measure: 'output', maxIter: 3 });
    expect(r!.converged).toBe(false);
    expect(r!.iterations).toBe(3);
    expect(r!.variance).toBeLessThan(1);
    x.dispose();
    model.dispose();
  });

  it('validates everything up front and leaves the model unchanged when it throws', () => {
    const noKernels = tf.sequential({
      layers: [tf.layers.activation({ inputShape: [4], activation: 'relu' })],
    });
    const x4 = batch([8, 4], 5);
    expect(() => lsuv(noKernels, x4)).toThrow(InvalidArgumentError);
    expect(() => lsuv(noKernels, x4)).toThrow(
      'expected a model with at least one Dense/Conv1D/Conv2D/Conv3D/Conv2DTranspose/Conv3DTranspose layer; its layers are Activation',
    );
    noKernels.dispose();

    const model = tf.sequential({
      layers: [
        tf.layers.dense({
          inputShape: [4],
          units: 6,
          biasInitializer: tf.initializers.constant({ value: -100 }),
          activation: 'relu',
          name: 'dead_first',
        }),
        tf.layers.dense({ units: 3, name: 'dead_second' }),
      ],
    });
    const weightsBefore = model.getWeights().map((w) => w.arraySync());
    const wrong = batch([8, 5], 1);
    const before = tf.memory().numTensors;
    expect(() => lsuv(model, x4, { tol: 0 })).toThrow('invalid tol: got 0, expected a finite number > 0');
    expect(() => lsuv(model, x4, { maxIter: 0 })).toThrow('invalid maxIter');
    expect(() => lsuv(model, x4, { maxIter: 2.5 })).toThrow(InvalidArgumentError);
    expect(() => lsuv(model, x4, { tolerance: 0.1 } as never)).toThrow(
      "invalid lsuv option: got 'tolerance'",
    );
    expect(() => lsuv(model, x4, { measure: 'post' as never })).toThrow('invalid measure');
    expect(() => lsuv(model, x4, { orthonormalInit: 'yes' as never })).toThrow('invalid orthonormalInit');
    expect(() => lsuv(model, wrong)).toThrow(ShapeError);
    expect(() => lsuv(model, [x4, x4])).toThrow('expected 1 tensor(s), one per model input');
    expect(() => lsuv({} as tf.LayersModel, x4)).toThrow(InvalidArgumentError);
    // The first layer is rescaled, then its ReLU outputs are all 0 (bias -100): the second
    // layer's output has variance 0 and cannot be rescaled; the first layer's kernel comes back.
    expect(() => lsuv(model, x4)).toThrow(StateError);
    expect(() => lsuv(model, x4)).toThrow("LSUV: the output of layer 'dead_second' has variance 0");
    expect(model.getWeights().map((w) => w.arraySync())).toEqual(weightsBefore);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x4, wrong]);
    model.dispose();
  });
});
