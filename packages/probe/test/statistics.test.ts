import * as tf from '@tensorflow/tfjs';
import { expectAllClose, withBackend } from '@gradflow/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { probe } from '../src/index.js';
import { cifarResnet, weightValues } from './models.js';

function chainModel() {
  const init = (seed: number) => tf.initializers.glorotNormal({ seed });
  const model = tf.sequential({ name: 'chain' });
  model.add(
    tf.layers.dense({
      inputShape: [6],
      units: 12,
      activation: 'relu',
      kernelInitializer: init(1),
      biasInitializer: tf.initializers.constant({ value: -0.4 }),
      name: 'd1',
    }),
  );
  model.add(tf.layers.batchNormalization({ name: 'bn' }));
  model.add(
    tf.layers.dense({
      units: 10,
      activation: 'tanh',
      kernelInitializer: tf.initializers.randomNormal({ mean: 0, stddev: 1.5, seed: 2 }),
      name: 'd2',
    }),
  );
  model.add(
    tf.layers.dense({
      units: 8,
      activation: 'sigmoid',
      kernelInitializer: tf.initializers.randomNormal({ mean: 0, stddev: 2, seed: 3 }),
      name: 'd3',
    }),
  );
  model.add(tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: init(4), name: 'out' }));
  return model;
}

function chainBatch() {
  return tf.tidy(() => ({
    x: tf.randomNormal([10, 6], 0, 1, 'float32', 5),
    y: tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1, 2, 0], 'int32'), 3).cast('float32'),
  }));
}

const l2 = (t: tf.Tensor) => Math.sqrt(tf.tidy(() => tf.sum(tf.square(t)).dataSync()[0]!));

/** Every statistic recomputed without the probe's executor or hooks, from tf.grads. */
function reference(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor) {
  const lossOf = (p: tf.Tensor) => tf.mean(tf.metrics.categoricalCrossentropy(y, p));
  const layers = model.layers;
  const aux = tf.model({ inputs: model.inputs, outputs: layers.map((l) => l.output as tf.SymbolicTensor) });
  const acts = aux.predict(x) as tf.Tensor[];
  const rows = layers.map((layer, k) => {
    const tail = (h: tf.Tensor) => layers.slice(k + 1).reduce((a, l) => l.apply(a) as tf.Tensor, h);
    const g = tf.grad((h: tf.Tensor) => lossOf(tail(h)))(acts[k]!);
    const vars = layer.trainableWeights.map((w) => w.read() as tf.Variable);
    const { grads } = tf.variableGrads(() => lossOf(model.apply(x) as tf.Tensor) as tf.Scalar, vars);
    const gradNorm = Math.sqrt(Object.values(grads).reduce((s, t) => s + l2(t) ** 2, 0));
    const weightNorm = Math.sqrt(vars.reduce((s, v) => s + l2(v) ** 2, 0));
    const a = acts[k]!.arraySync() as number[][];
    const flat = a.flat();
    const mean = flat.reduce((s, v) => s + v, 0) / flat.length;
    const std = Math.sqrt(flat.reduce((s, v) => s + (v - mean) ** 2, 0) / flat.length);
    const units = a[0]!.length;
    let dead = 0;
    for (let u = 0; u < units; u++) if (a.every((row) => row[u] === 0)) dead++;
    const satSig = flat.filter((v) => v * (1 - v) < 0.25 * 0.05).length / flat.length;
    const satTanh = flat.filter((v) => 1 - v * v < 0.05).length / flat.length;
    const row = { gradNorm, weightNorm, outGrad: l2(g), mean, std, dead: dead / units, satSig, satTanh };
    tf.dispose([g, ...Object.values(grads)]);
    return row;
  });
  tf.dispose(acts);
  return rows;
}

describe('probe statistics equal tf.grads-computed ones', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('per layer: weight-gradient and weight norms, d loss / d output, activation stats', async () => {
    const model = chainModel();
    const { x, y } = chainBatch();
    const ref = reference(model, x, y);
    const before = tf.memory().numTensors;
    const r = await probe(model, { x, y }, { loss: 'categorical_crossentropy' });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.layers.map((l) => l.name)).toEqual(['d1', 'bn', 'd2', 'd3', 'out']);
    r.layers.forEach((l, k) => {
      const e = ref[k]!;
      expectAllClose(l.gradNorm!, e.gradNorm, { rtol: 1e-4, atol: 1e-7 }, `${l.name} gradNorm`);
      expectAllClose(l.weightNorm!, e.weightNorm, { rtol: 1e-5 }, `${l.name} weightNorm`);
      expectAllClose(l.outputGradNorm!, e.outGrad, { rtol: 1e-4, atol: 1e-8 }, `${l.name} outputGradNorm`);
      expectAllClose(l.activation!.mean, e.mean, { rtol: 1e-4, atol: 1e-6 }, `${l.name} mean`);
      expectAllClose(l.activation!.std, e.std, { rtol: 1e-3, atol: 1e-6 }, `${l.name} std`);
      expectAllClose(l.gradToWeight!, e.gradNorm / e.weightNorm, { rtol: 1e-4 }, `${l.name} grad/weight`);
    });
    expect(r.layers[0]!.activation!.kind).toBe('relu');
    expect(r.layers[0]!.activation!.deadFraction).toBeCloseTo(ref[0]!.dead, 6);
    expect(r.layers[0]!.activation!.deadFraction).toBeGreaterThan(0);
    expect(r.layers[2]!.activation!.kind).toBe('tanh');
    expect(r.layers[2]!.activation!.saturatedFraction).toBeCloseTo(ref[2]!.satTanh, 6);
    expect(r.layers[3]!.activation!.kind).toBe('sigmoid');
    expect(r.layers[3]!.activation!.saturatedFraction).toBeCloseTo(ref[3]!.satSig, 6);
    expect(r.layers[1]!.activation!.kind).toBe('other');
    const loss = tf.tidy(
      () => tf.mean(tf.metrics.categoricalCrossentropy(y, model.predict(x) as tf.Tensor)).dataSync()[0]!,
    );
    expectAllClose(r.loss, loss, { rtol: 1e-5 }, 'loss');
    tf.dispose([x, y]);
  });

  it('compiled loss and learning rate are picked up; update/weight = lr * grad/weight', async () => {
    const model = chainModel();
    model.compile({ optimizer: tf.train.sgd(0.01), loss: 'categoricalCrossentropy' });
    const { x, y } = chainBatch();
    const r = await probe(model, { x, y });
    expect(r.lossName).toBe('compiled');
    for (const l of r.layers) {
      if (l.gradToWeight !== null) expect(l.updateToWeight).toBeCloseTo(0.01 * l.gradToWeight, 8);
    }
    tf.dispose([x, y]);
  });

  it('training mode: BatchNorm moving statistics and every weight are left exactly as they were', async () => {
    const model = chainModel();
    const { x, y } = chainBatch();
    const before = weightValues(model);
    const movingBefore = model.getLayer('bn').getWeights()[2]!.dataSync().slice();
    const n = tf.memory().numTensors;
    const r = await probe(model, { x, y }, { loss: 'categorical_crossentropy', training: true });
    expect(tf.memory().numTensors).toBe(n);
    weightValues(model).forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(before[i]!)));
    expect(r.training).toBe(true);
    // In training mode BN normalises with batch statistics: its output is standardised per unit.
    expect(Math.abs(r.layers[1]!.activation!.mean)).toBeLessThan(1e-3);
    // A training-mode forward pass moves the moving mean; the probe puts it back.
    expect(Array.from(model.getLayer('bn').getWeights()[2]!.dataSync())).toEqual(Array.from(movingBefore));
    tf.tidy(() => model.apply(x, { training: true }) as tf.Tensor);
    expect(Array.from(model.getLayer('bn').getWeights()[2]!.dataSync())).not.toEqual(
      Array.from(movingBefore),
    );
    tf.dispose([x, y]);
  });

  it('same numbers on wasm as on cpu', async () => {
    const model = chainModel();
    const { x, y } = chainBatch();
    const cpu = await probe(model, { x, y }, { loss: 'categorical_crossentropy', training: true });
    const wasm = await withBackend('wasm', async () => {
      const xw = tf.tensor(x.dataSync(), x.shape);
      const yw = tf.tensor(y.dataSync(), y.shape);
      const n = tf.memory().numTensors;
      const rep = await probe(model, { x: xw, y: yw }, { loss: 'categorical_crossentropy', training: true });
      expect(tf.memory().numTensors).toBe(n);
      tf.dispose([xw, yw]);
      return rep;
    });
    expect(wasm.backend).toBe('wasm');
    cpu.layers.forEach((l, k) => {
      const w = wasm.layers[k]!;
      expectAllClose(w.gradNorm ?? 0, l.gradNorm ?? 0, { rtol: 1e-3, atol: 1e-6 }, `${l.name} gradNorm`);
      expectAllClose(
        w.outputGradNorm!,
        l.outputGradNorm!,
        { rtol: 1e-3, atol: 1e-7 },
        `${l.name} outputGradNorm`,
      );
      expectAllClose(w.activation!.std, l.activation!.std, { rtol: 1e-3, atol: 1e-6 }, `${l.name} std`);
    });
    expect(wasm.verdict.status).toBe(cpu.verdict.status);
    tf.dispose([x, y]);
  });
});

describe('branching graphs', () => {
  it('d loss / d output of a tensor consumed twice sums both paths (zero-tap reference)', async () => {
    await tf.setBackend('cpu');
    const input = tf.input({ shape: [5] });
    const d1 = tf.layers.dense({ units: 6, activation: 'tanh', name: 'd1' });
    const d2a = tf.layers.dense({ units: 6, activation: 'relu', name: 'd2a' });
    const d2b = tf.layers.dense({ units: 6, name: 'd2b' });
    const add = tf.layers.add({ name: 'sum' });
    const head = tf.layers.dense({ units: 3, activation: 'softmax', name: 'head' });
    const a = d1.apply(input) as tf.SymbolicTensor;
    const out = head.apply(
      add.apply([d2a.apply(a) as tf.SymbolicTensor, d2b.apply(a) as tf.SymbolicTensor]),
    ) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    const x = tf.randomNormal([7, 5], 0, 1, 'float32', 1);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0], 'int32'), 3).cast('float32');
    const r = await probe(model, { x, y }, { loss: 'categorical_crossentropy' });
    const [ga, gs] = tf.grads((ta: tf.Tensor, ts: tf.Tensor) => {
      const av = tf.add(d1.apply(x) as tf.Tensor, ta);
      const sv = tf.add(add.apply([d2a.apply(av) as tf.Tensor, d2b.apply(av) as tf.Tensor]) as tf.Tensor, ts);
      return tf.mean(tf.metrics.categoricalCrossentropy(y, head.apply(sv) as tf.Tensor));
    })([tf.zeros([7, 6]), tf.zeros([7, 6])]);
    expectAllClose(r.layers.find((l) => l.name === 'd1')!.outputGradNorm!, l2(ga!), { rtol: 1e-5 }, 'd1');
    expectAllClose(r.layers.find((l) => l.name === 'sum')!.outputGradNorm!, l2(gs!), { rtol: 1e-5 }, 'sum');
    expect(r.signalPropagation).toHaveLength(1);
    tf.dispose([x, y, ga!, gs!]);
  });
});

describe('conv nets on wasm (gradflow kernels provide the conv backprops)', () => {
  it('ResNet-8 with BN in training mode: wasm report equals cpu report', async () => {
    await tf.setBackend('cpu');
    const model = cifarResnet({ n: 1, width: 4, plain: false });
    const xv = Array.from(tf.tidy(() => tf.randomNormal([4, 8, 8, 3], 0, 1, 'float32', 3).dataSync()));
    const yv = Array.from(tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1, 2, 3], 'int32'), 4).dataSync()));
    const run = async () => {
      const x = tf.tensor4d(xv, [4, 8, 8, 3]);
      const y = tf.tensor2d(yv, [4, 4]);
      const n = tf.memory().numTensors;
      const r = await probe(model, { x, y }, { loss: 'categorical_crossentropy', training: true });
      expect(tf.memory().numTensors).toBe(n);
      tf.dispose([x, y]);
      return r;
    };
    const cpu = await run();
    const wasm = await withBackend('wasm', run);
    expect(wasm.backend).toBe('wasm');
    cpu.layers.forEach((l, k) => {
      const w = wasm.layers[k]!;
      expectAllClose(w.gradNorm ?? 0, l.gradNorm ?? 0, { rtol: 2e-3, atol: 1e-6 }, `${l.name} gradNorm`);
      expectAllClose(
        w.outputGradNorm ?? 0,
        l.outputGradNorm ?? 0,
        { rtol: 2e-3, atol: 1e-7 },
        `${l.name} outputGradNorm`,
      );
    });
    wasm.signalPropagation.forEach((b, k) => {
      expectAllClose(
        b.avgChannelVariance,
        cpu.signalPropagation[k]!.avgChannelVariance,
        { rtol: 1e-3 },
        b.block,
      );
    });
    expect(wasm.verdict.status).toBe(cpu.verdict.status);
  });
});

describe('host and device reductions agree', () => {
  it('chain, residual and recurrent models', async () => {
    await tf.setBackend('cpu');
    const chain = chainModel();
    const c = chainBatch();
    const res = cifarResnet({ n: 1, width: 4, plain: false });
    const rb = tf.tidy(() => ({
      x: tf.randomNormal([4, 8, 8, 3], 0, 1, 'float32', 3),
      y: tf.oneHot(tf.tensor1d([0, 1, 2, 3], 'int32'), 4).cast('float32'),
    }));
    const rnn = tf.sequential();
    rnn.add(tf.layers.simpleRNN({ inputShape: [6, 2], units: 3, name: 'rnn', returnSequences: true }));
    rnn.add(tf.layers.dense({ units: 1, activation: 'sigmoid', name: 'head' }));
    const sx = tf.randomNormal([3, 6, 2], 0, 1, 'float32', 4);
    const sy = tf.randomUniform([3, 6, 1], 0, 1, 'float32', 5);
    const cases: [tf.LayersModel, { x: tf.Tensor; y: tf.Tensor }, string, boolean][] = [
      [chain, c, 'categorical_crossentropy', false],
      [res, rb, 'categorical_crossentropy', true],
      [rnn, { x: sx, y: sy }, 'binary_crossentropy', false],
    ];
    for (const [model, batch, loss, training] of cases) {
      const host = await probe(model, batch, { loss, training, reduce: 'host' });
      const device = await probe(model, batch, { loss, training, reduce: 'device' });
      expectAllClose(host.loss, device.loss, { rtol: 1e-6 }, 'loss');
      host.layers.forEach((l, k) => {
        const d = device.layers[k]!;
        const pairs: [number | null | undefined, number | null | undefined, string][] = [
          [l.gradNorm, d.gradNorm, 'gradNorm'],
          [l.weightNorm, d.weightNorm, 'weightNorm'],
          [l.outputGradNorm, d.outputGradNorm, 'outputGradNorm'],
          [l.activation?.mean, d.activation?.mean, 'mean'],
          [l.activation?.std, d.activation?.std, 'std'],
          [l.activation?.saturatedFraction, d.activation?.saturatedFraction, 'saturated'],
          [l.activation?.deadFraction, d.activation?.deadFraction, 'dead'],
        ];
        for (const [a, b, what] of pairs) {
          expect(a === null || a === undefined, `${l.name} ${what}`).toBe(b === null || b === undefined);
          if (a != null && b != null) expectAllClose(a, b, { rtol: 1e-4, atol: 1e-6 }, `${l.name} ${what}`);
        }
      });
      host.signalPropagation.forEach((b, k) => {
        const d = device.signalPropagation[k]!;
        expectAllClose(
          [b.avgChannelSquaredMean, b.avgChannelVariance, b.residualVariance],
          [d.avgChannelSquaredMean, d.avgChannelVariance, d.residualVariance],
          { rtol: 1e-4, atol: 1e-7 },
          b.block,
        );
      });
      host.recurrent.forEach((r, k) =>
        expectAllClose(r.gradNorms, device.recurrent[k]!.gradNorms, { rtol: 1e-4 }, r.layer),
      );
      expect(host.verdict.status).toBe(device.verdict.status);
    }
    tf.dispose([c.x, c.y, rb.x, rb.y, sx, sy]);
  });
});

describe('recurrent: gradient through time', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('|dL/dh_t| equals the zero-tap gradient of a hand-written SimpleRNN', async () => {
    const T = 12;
    const model = tf.sequential();
    model.add(
      tf.layers.simpleRNN({
        inputShape: [T, 3],
        units: 5,
        name: 'rnn',
        kernelInitializer: tf.initializers.glorotNormal({ seed: 1 }),
        recurrentInitializer: tf.initializers.orthogonal({ seed: 2 }),
      }),
    );
    model.add(
      tf.layers.dense({
        units: 2,
        name: 'head',
        kernelInitializer: tf.initializers.glorotNormal({ seed: 3 }),
      }),
    );
    const x = tf.randomNormal([4, T, 3], 0, 1, 'float32', 9);
    const y = tf.randomNormal([4, 2], 0, 1, 'float32', 10);
    const n = tf.memory().numTensors;
    const r = await probe(model, { x, y }, { loss: 'mse' });
    expect(tf.memory().numTensors).toBe(n);
    expect(r.recurrent).toHaveLength(1);
    const prof = r.recurrent[0]!;
    expect(prof.gradNorms).toHaveLength(T);
    // Reference: the recurrence by hand, with zero-valued taps added to every h_t.
    const [W, U, b] = model.getLayer('rnn').getWeights() as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
    const [Wo, bo] = model.getLayer('head').getWeights() as [tf.Tensor2D, tf.Tensor1D];
    const taps = Array.from({ length: T }, () => tf.zeros([4, 5]));
    const f = (...ts: tf.Tensor[]) => {
      let h: tf.Tensor = tf.zeros([4, 5]);
      const xs = tf.unstack(x, 1);
      for (let t = 0; t < T; t++)
        h = tf.add(
          tf.tanh(tf.add(tf.add(tf.matMul(xs[t] as tf.Tensor2D, W), tf.matMul(h as tf.Tensor2D, U)), b)),
          ts[t]!,
        );
      return tf.mean(tf.square(tf.sub(tf.add(tf.matMul(h as tf.Tensor2D, Wo), bo), y)));
    };
    const gs = tf.grads(f)(taps);
    const expected = gs.map(l2);
    expectAllClose(prof.gradNorms, expected, { rtol: 1e-4, atol: 1e-9 }, '|dL/dh_t|');
    // The loss reads the last step only: the profile fades going back in time.
    expect(prof.gradNorms[0]!).toBeLessThan(prof.gradNorms[T - 1]!);
    expectAllClose(r.layers[0]!.outputGradNorm!, expected[T - 1]!, { rtol: 1e-4 }, 'output grad = dL/dh_T');
    const loss = tf.tidy(() => f(...taps).dataSync()[0]!);
    expectAllClose(r.loss, loss, { rtol: 1e-5 }, 'unrolled loss');
    tf.dispose([x, y, ...taps, ...gs]);
  });

  it('GRU and LSTM (returnSequences, goBackwards): the unrolled pass gives the layer loss', async () => {
    for (const kind of ['gru', 'lstm'] as const) {
      const model = tf.sequential();
      const args = {
        inputShape: [6, 2],
        units: 4,
        returnSequences: true,
        goBackwards: kind === 'lstm',
        name: kind,
      };
      model.add(kind === 'gru' ? tf.layers.gru(args) : tf.layers.lstm(args));
      model.add(tf.layers.dense({ units: 1, name: 'head' }));
      const x = tf.randomNormal([3, 6, 2], 0, 1, 'float32', 4);
      const y = tf.randomNormal([3, 6, 1], 0, 1, 'float32', 5);
      const r = await probe(model, { x, y }, { loss: 'mse' });
      const loss = tf.tidy(
        () => tf.mean(tf.metrics.meanSquaredError(y, model.predict(x) as tf.Tensor)).dataSync()[0]!,
      );
      expectAllClose(r.loss, loss, { rtol: 1e-5 }, `${kind} loss`);
      expect(r.recurrent[0]!.gradNorms).toHaveLength(6);
      expect(r.recurrent[0]!.gradNorms.every((g) => g > 0)).toBe(true);
      tf.dispose([x, y]);
    }
  });
});

describe('nested models', () => {
  it('a Sequential used as a layer is one entry; numbers match the flat twin', async () => {
    await tf.setBackend('cpu');
    const inner = tf.sequential({ name: 'inner' });
    inner.add(
      tf.layers.dense({
        inputShape: [4],
        units: 6,
        activation: 'tanh',
        name: 'i1',
        kernelInitializer: tf.initializers.glorotNormal({ seed: 1 }),
      }),
    );
    inner.add(
      tf.layers.dense({
        units: 6,
        activation: 'relu',
        name: 'i2',
        kernelInitializer: tf.initializers.glorotNormal({ seed: 2 }),
      }),
    );
    const input = tf.input({ shape: [4] });
    const h = inner.apply(input) as tf.SymbolicTensor;
    const out = tf.layers
      .dense({ units: 2, name: 'o', kernelInitializer: tf.initializers.glorotNormal({ seed: 3 }) })
      .apply(h) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    const x = tf.randomNormal([5, 4], 0, 1, 'float32', 1);
    const y = tf.randomNormal([5, 2], 0, 1, 'float32', 2);
    const n = tf.memory().numTensors;
    const r = await probe(model, { x, y }, { loss: 'mse' });
    expect(tf.memory().numTensors).toBe(n);
    expect(r.layers.map((l) => l.name)).toEqual(['inner', 'o']);
    expect(r.layers[0]!.weights).toHaveLength(4);
    const { grads } = tf.variableGrads(
      () => tf.mean(tf.metrics.meanSquaredError(y, model.apply(x) as tf.Tensor)) as tf.Scalar,
      inner.trainableWeights.map((w) => w.read() as tf.Variable),
    );
    const expected = Math.sqrt(Object.values(grads).reduce((a, g) => a + l2(g) ** 2, 0));
    expectAllClose(r.layers[0]!.gradNorm!, expected, { rtol: 1e-4 }, 'nested gradNorm');
    tf.dispose([x, y, ...Object.values(grads)]);
  });
});

describe('token inputs and masks', () => {
  it('Embedding(maskZero) -> LSTM -> Dense: probes, notes the masked RNN and the int input', async () => {
    await tf.setBackend('cpu');
    const model = tf.sequential();
    model.add(
      tf.layers.embedding({ inputDim: 10, outputDim: 4, maskZero: true, inputLength: 5, name: 'emb' }),
    );
    model.add(tf.layers.lstm({ units: 3, name: 'lstm' }));
    model.add(tf.layers.dense({ units: 2, activation: 'softmax', name: 'head' }));
    const x = tf.tensor2d(
      [
        [1, 2, 3, 0, 0],
        [4, 5, 0, 0, 0],
        [6, 7, 8, 9, 1],
      ],
      [3, 5],
      'int32',
    );
    const y = tf.tensor1d([0, 1, 1]);
    const n = tf.memory().numTensors;
    const r = await probe(model, { x, y }, { loss: 'sparse_categorical_crossentropy', jacobian: true });
    expect(tf.memory().numTensors).toBe(n);
    const loss = tf.tidy(
      () =>
        tf
          .mean(
            tf.metrics.categoricalCrossentropy(
              tf.oneHot(tf.tensor1d([0, 1, 1], 'int32'), 2),
              model.predict(x) as tf.Tensor,
            ),
          )
          .dataSync()[0]!,
    );
    expectAllClose(r.loss, loss, { rtol: 1e-5 }, 'masked loss');
    expect(r.recurrent).toHaveLength(0);
    expect(r.notes.join('\n')).toContain('no gradient-through-time profile for lstm');
    expect(r.notes.join('\n')).toContain('not float32');
    expect(r.layers.find((l) => l.name === 'emb')!.gradNorm).toBeGreaterThan(0);
    tf.dispose([x, y]);
  });
});

describe('input-output Jacobian (Hutchinson estimate)', () => {
  it('for a linear map the mean squared singular value is ||W||_F^2 / m', async () => {
    await tf.setBackend('cpu');
    const model = tf.sequential();
    model.add(
      tf.layers.dense({
        inputShape: [12],
        units: 6,
        useBias: false,
        name: 'lin',
        kernelInitializer: tf.initializers.randomNormal({ mean: 0, stddev: 0.7, seed: 1 }),
      }),
    );
    const x = tf.randomNormal([64, 12], 0, 1, 'float32', 2);
    const y = tf.zeros([64, 6]);
    const n = tf.memory().numTensors;
    const r = await probe(model, { x, y }, { loss: 'mse', jacobian: { projections: 24 } });
    expect(tf.memory().numTensors).toBe(n);
    const W = model.getLayer('lin').getWeights()[0]!;
    const expected = l2(W) ** 2 / 6;
    expect(r.jacobian!.projections).toBe(24);
    expect(Math.abs(r.jacobian!.meanSqSingular / expected - 1)).toBeLessThan(0.1);
    expect(Math.abs(r.layers[0]!.jacobianMeanSqSingular! / expected - 1)).toBeLessThan(0.25);
    tf.dispose([x, y]);
  });
});
