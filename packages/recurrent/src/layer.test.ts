import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { GradflowError, ShapeError, InvalidArgumentError, UnknownNameError } from '@gradflow/core';
import { expectAllClose, runLayerContract, withBackend } from '@gradflow/testing';
import './register.js';
import {
  CELL_TYPES,
  gruCell,
  irnnCell,
  listCellTypes,
  lstmCell,
  simpleRnnCell,
  type CellConfig,
} from './cells.js';
import { RecurrentLayer, gruLayer, irnnLayer, lstmLayer, recurrent, simpleRnnLayer } from './layer.js';

const CONTRACT_CELLS: [string, CellConfig][] = [
  ['simple_rnn tanh', simpleRnnCell({ units: 4 })],
  ['simple_rnn relu', simpleRnnCell({ units: 4, activation: 'relu' })],
  ['irnn', irnnCell({ units: 4, kernelInitializer: 'glorot_uniform' })],
  ['gru resetAfter', gruCell({ units: 4 })],
  ['gru Cho', gruCell({ units: 4, resetAfter: false })],
  ['lstm', lstmCell({ units: 4 })],
];

function freeWeights(layer: tf.layers.Layer): void {
  layer.weights.forEach((w) => w.dispose());
}

describe('RecurrentLayer contract (shape, config, save/load, gradients, cpu == wasm, no leak)', () => {
  for (const [name, cell] of CONTRACT_CELLS) {
    it(name, async () => {
      await runLayerContract({
        name,
        inputShape: [7, 3],
        outputShape: [7, 4],
        build: (x) => new RecurrentLayer({ cell, returnSequences: true }).apply(x) as tf.SymbolicTensor,
      });
    });
  }

  it('stacked bidirectional GRU and LSTM, last state', async () => {
    await runLayerContract({
      name: 'bi gru x2',
      inputShape: [5, 3],
      outputShape: [8],
      build: (x) => gruLayer({ units: 4, numLayers: 2, bidirectional: true }).apply(x) as tf.SymbolicTensor,
    });
    await runLayerContract({
      name: 'bi lstm x2 -> dense',
      inputShape: [5, 3],
      outputShape: [2],
      build: (x) => {
        const h = recurrent(x, {
          cell: lstmCell({ units: 3 }),
          numLayers: 2,
          bidirectional: true,
          returnSequences: true,
        }) as tf.SymbolicTensor;
        const last = lstmLayer({ units: 3 }).apply(h) as tf.SymbolicTensor;
        return tf.layers.dense({ units: 2 }).apply(last) as tf.SymbolicTensor;
      },
    });
  });

  it('after a masking layer (zero-padded steps)', async () => {
    await runLayerContract({
      name: 'masked gru',
      inputShape: [6, 2],
      outputShape: [4],
      makeInput: (shape, rng) => {
        const [b, t, f] = shape as [number, number, number];
        const data = rng.fill(b * t * f, (r) => r.uniform(-1, 1));
        for (let i = 0; i < b; i++)
          for (let s = 4 - i; s < t; s++) for (let k = 0; k < f; k++) data[(i * t + s) * f + k] = 0;
        return tf.tensor(data, shape);
      },
      build: (x) => {
        const m = tf.layers.masking({ maskValue: 0 }).apply(x) as tf.SymbolicTensor;
        return gruLayer({ units: 4, bidirectional: false }).apply(m) as tf.SymbolicTensor;
      },
    });
  });
});

describe('RecurrentLayer semantics', () => {
  it('initial state, returnState and the order of states', async () => {
    await withBackend('cpu', () => {
      const layer = lstmLayer({ units: 3, bidirectional: true, returnState: true, returnSequences: true });
      const x = tf.randomUniform([2, 4, 5], -1, 1, 'float32', 1);
      const zeros = tf.zeros([2, 3]);
      const before = tf.memory().numTensors;
      const a = layer.apply(x) as tf.Tensor[];
      const check = tf.tidy(() => {
        expect(a.map((t) => t.shape)).toEqual([
          [2, 4, 6],
          [2, 3],
          [2, 3],
          [2, 3],
          [2, 3],
        ]);
        expect(layer.stateNames()).toEqual([
          'l0 forward h',
          'l0 forward c',
          'l0 backward h',
          'l0 backward c',
        ]);
        // Zero initial states are the default.
        const b = layer.apply([x, zeros, zeros, zeros, zeros]) as tf.Tensor[];
        a.forEach((t, i) => expectAllClose(b[i]!, t, { rtol: 0, atol: 0 }, `state ${i}`));
        // Forward final h is the forward half of the last output; backward final h the backward half of the first.
        expectAllClose(a[1]!, tf.slice(a[0]!, [0, 3, 0], [2, 1, 3]).reshape([2, 3]), { rtol: 0, atol: 0 });
        expectAllClose(a[3]!, tf.slice(a[0]!, [0, 0, 3], [2, 1, 3]).reshape([2, 3]), { rtol: 0, atol: 0 });
        // A non-zero initial state changes the output.
        const c = layer.apply([x, tf.onesLike(zeros), zeros, zeros, zeros]) as tf.Tensor[];
        return tf.max(tf.abs(tf.sub(c[0]!, a[0]!))).dataSync()[0]!;
      });
      expect(check).toBeGreaterThan(1e-3);
      tf.dispose(a);
      // The first call built the layer: 2 directions x (kernel, recurrent kernel, bias).
      expect(tf.memory().numTensors).toBe(before + 6);
      tf.dispose([x, zeros]);
      freeWeights(layer);
    });
  });

  it('trains with model.fit in a tf.sequential model (loss falls)', async () => {
    await withBackend('cpu', async () => {
      const model = tf.sequential({
        layers: [lstmLayer({ units: 8, inputShape: [10, 2] }), tf.layers.dense({ units: 1 })],
      });
      model.compile({ optimizer: tf.train.adam(0.02), loss: 'meanSquaredError' });
      // The adding problem (Hochreiter & Schmidhuber 1997), small: sum of the two marked values.
      const [xs, ys] = tf.tidy(() => {
        const values = tf.randomUniform([64, 10, 1], 0, 1, 'float32', 1);
        const marks = tf
          .oneHot(
            tf.tensor1d(
              [...Array(64).keys()].map((i) => i % 10),
              'int32',
            ),
            10,
          )
          .add(
            tf.oneHot(
              tf.tensor1d(
                [...Array(64).keys()].map((i) => (i * 3 + 5) % 10),
                'int32',
              ),
              10,
            ),
          )
          .minimum(1)
          .expandDims(2);
        return [tf.concat([values, marks], 2), tf.sum(tf.mul(values, marks), 1)];
      });
      const before = tf.memory().numTensors;
      const history = await model.fit(xs, ys, { epochs: 30, batchSize: 64, verbose: 0 });
      const losses = history.history.loss as number[];
      expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! * 0.5);
      // Adam's two moments per weight are the only new tensors.
      expect(tf.memory().numTensors - before).toBe(2 * model.trainableWeights.length);
      tf.dispose([xs, ys]);
      model.dispose();
    });
  });

  it('symbolic initial state builds a model with states as inputs', () => {
    const x = tf.input({ shape: [3, 2] });
    const h0 = tf.input({ shape: [4] });
    const y = recurrent(x, { cell: gruCell({ units: 4 }), initialState: [h0] }) as tf.SymbolicTensor;
    const model = tf.model({ inputs: [x, h0], outputs: y });
    expect(y.shape).toEqual([null, 4]);
    const out = model.predict([tf.ones([2, 3, 2]), tf.zeros([2, 4])]) as tf.Tensor;
    expect(out.shape).toEqual([2, 4]);
    out.dispose();
    model.dispose();
  });

  it('masking carries the state and zeroes the output at padded steps', async () => {
    await withBackend('cpu', () => {
      const layer = gruLayer({ units: 3, returnSequences: true, returnState: true });
      const x = tf.randomUniform([2, 5, 2], -1, 1, 'float32', 3);
      const mask = tf.tensor2d(
        [
          [1, 1, 1, 1, 1],
          [1, 1, 0, 0, 0],
        ],
        [2, 5],
        'bool',
      );
      const [y, h] = layer.apply(x, { mask }) as [tf.Tensor, tf.Tensor];
      const short = layer.apply(tf.slice(x, [1, 0, 0], [1, 2, 2])) as tf.Tensor[];
      const yd = y.arraySync() as number[][][];
      expect(yd[1]![2]).toEqual([0, 0, 0]);
      expect(yd[1]![4]).toEqual([0, 0, 0]);
      expectAllClose(
        tf.slice(h, [1, 0], [1, 3]),
        short[1]!,
        { rtol: 1e-6, atol: 1e-7 },
        'final state of the short sequence',
      );
      tf.dispose([x, mask, y, h, ...short]);
      freeWeights(layer);
    });
  });

  it('defaults: orthogonal recurrent blocks, LSTM forget bias 1, IRNN identity', async () => {
    await withBackend('cpu', () => {
      const lstm = lstmLayer({ units: 4 });
      lstm.build([null, null, 3]);
      const bias = lstm.slots[0]!.bias.read().dataSync();
      expect([...bias]).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
      const rk = lstm.slots[0]!.recurrentKernel.read();
      for (let g = 0; g < 4; g++) {
        const block = tf.slice(rk, [0, g * 4], [4, 4]);
        expectAllClose(
          tf.matMul(block, block, true, false),
          tf.eye(4),
          { atol: 1e-5 },
          `gate ${g} block is orthogonal`,
        );
      }
      const irnn = new RecurrentLayer({ cell: irnnCell({ units: 3 }) });
      irnn.build([null, null, 2]);
      expectAllClose(
        irnn.slots[0]!.recurrentKernel.read(),
        tf.eye(3),
        { rtol: 0, atol: 0 },
        'IRNN recurrent kernel',
      );
      const w = irnn.slots[0]!.kernel.read().dataSync();
      expect(Math.max(...w.map(Math.abs))).toBeLessThan(0.01);
      freeWeights(lstm);
      freeWeights(irnn);
    });
  });

  it('config round-trips with initializer specs and instances', () => {
    const layer = new RecurrentLayer({
      cell: gruCell({
        units: 3,
        resetAfter: false,
        kernelInitializer: { name: 'he_normal' },
        recurrentInitializer: tf.initializers.orthogonal({ gain: 2 }),
      }),
      numLayers: 2,
      bidirectional: true,
      returnState: true,
      name: 'enc',
    });
    const config = JSON.parse(JSON.stringify(layer.getConfig()));
    expect(config.cell.type).toBe('gru');
    expect(config.cell.resetAfter).toBe(false);
    const again = new RecurrentLayer(config);
    expect(JSON.stringify(again.getConfig())).toBe(JSON.stringify(layer.getConfig()));
  });

  it('layer factories put cell and sequence options where they belong', () => {
    const a = simpleRnnLayer({ units: 3, activation: 'relu', returnSequences: true, name: 'rnn' });
    expect(a.cell).toMatchObject({ type: 'simple_rnn', units: 3, activation: 'relu' });
    expect([a.returnSequences, a.name]).toEqual([true, 'rnn']);
    const b = irnnLayer({ units: 2, bidirectional: true });
    expect(b.cell).toMatchObject({ type: 'irnn', activation: 'relu', recurrentInitializer: 'identity' });
    expect(b.bidirectional).toBe(true);
    const c = gruLayer({ units: 2, resetAfter: false, numLayers: 3 });
    expect([c.cell.resetAfter, c.numLayers, c.kind]).toEqual([false, 3, 'gru_cho']);
    const d = lstmLayer({ units: 2, unitForgetBias: false, returnState: true });
    expect([d.cell.unitForgetBias, d.returnState, d.stateTensorCount]).toEqual([false, true, 2]);
  });

  it('cell types come from one registry', () => {
    expect(listCellTypes()).toEqual(Object.keys(CELL_TYPES));
    expect(() => new RecurrentLayer({ cell: { ...gruCell({ units: 2 }), type: 'gur' as 'gru' } })).toThrow(
      UnknownNameError,
    );
    expect(() => new RecurrentLayer({ cell: { ...gruCell({ units: 2 }), type: 'gur' as 'gru' } })).toThrow(
      /did you mean 'gru'/,
    );
  });
});

describe('bad input: typed errors naming the expected shape', () => {
  it('options', () => {
    expect(() => gruCell({ units: 0 })).toThrow(InvalidArgumentError);
    expect(() => simpleRnnCell({ units: 2, activation: 'sigmoid' as 'tanh' })).toThrow(
      /one of "tanh", "relu"/,
    );
    expect(() => gruCell({ units: 2, resetAfter: 'yes' as unknown as boolean })).toThrow(
      InvalidArgumentError,
    );
    expect(() => gruCell({ units: 2, kernelInitializer: 'glorot_unifrom' as 'glorot_uniform' })).toThrow(
      UnknownNameError,
    );
    expect(() => new RecurrentLayer({ cell: gruCell({ units: 2 }), numLayers: 0 })).toThrow(
      InvalidArgumentError,
    );
    expect(() => new RecurrentLayer({} as never)).toThrow(InvalidArgumentError);
  });

  it('wrong input rank, empty sequence, wrong feature size', async () => {
    await withBackend('cpu', () => {
      expect(() => gruLayer({ units: 2 }).apply(tf.input({ shape: [4] }))).toThrow(ShapeError);
      expect(() => gruLayer({ units: 2 }).apply(tf.input({ shape: [4] }))).toThrow(
        /expected \[batch, time, features\] \(rank 3\)/,
      );
      expect(() => gruLayer({ units: 2 }).apply(tf.input({ shape: [0, 3] }))).toThrow(/time >= 1/);

      const layer = gruLayer({ units: 2 });
      const x = tf.ones([2, 3, 4]);
      const y = layer.apply(x) as tf.Tensor;
      const before = tf.memory().numTensors;
      const weightsBefore = layer.getWeights().map((w) => w.dataSync().slice());
      const bad = [tf.ones([2, 3]), tf.ones([2, 0, 4]), tf.ones([2, 3, 5])];
      expect(() => layer.apply(bad[0]!)).toThrow(ShapeError);
      expect(() => layer.apply(bad[1]!)).toThrow(/time >= 1/);
      expect(() => layer.apply(bad[2]!)).toThrow(/expected \[batch, time, 4\]/);
      // A failed call leaves memory and weights as they were.
      expect(tf.memory().numTensors).toBe(before + 3);
      layer.getWeights().forEach((w, i) => expect(w.dataSync()).toEqual(weightsBefore[i]));
      tf.dispose([x, y, ...bad]);
      freeWeights(layer);
    });
  });

  it('mismatched initial state', async () => {
    await withBackend('cpu', () => {
      const layer = lstmLayer({ units: 3 });
      const x = tf.ones([2, 4, 5]);
      const h = tf.zeros([2, 3]);
      const wrong = tf.zeros([2, 4]);
      const before = tf.memory().numTensors;
      expect(() => layer.apply([x, h])).toThrow(
        /2 tensor\(s\) of shape \[batch, 3\] \(l0 forward h, l0 forward c\)/,
      );
      expect(() => layer.apply([x, h, wrong])).toThrow(
        /initial state 1 \(l0 forward c\) has shape \[2, 4\], expected \[2, 3\]/,
      );
      expect(() => layer.apply([x, h, tf.zeros([3, 3])])).toThrow(ShapeError);
      expect(tf.memory().numTensors).toBe(before + 1);
      expect(() => layer.apply([x, h, wrong])).toThrow(GradflowError);
      tf.dispose([x, h, wrong]);
      freeWeights(layer);
    });
  });
});
