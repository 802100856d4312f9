import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, ShapeError, StateError, UnsupportedError } from '@gradflow/core';
import { expectAllClose, withBackend } from '@gradflow/testing';
import './register.js';
import { gruCell, lstmCell, simpleRnnCell, type CellConfig } from './cells.js';
import { RecurrentLayer } from './layer.js';
import { loadKerasWeights, loadTorchState, toKerasWeights, toTorchState } from './weights.js';

function built(
  cell: CellConfig,
  extra: { numLayers?: number; bidirectional?: boolean } = {},
  inputSize = 3,
): RecurrentLayer {
  const layer = new RecurrentLayer({ cell, returnSequences: true, ...extra });
  layer.build([null, null, inputSize]);
  return layer;
}

function free(...layers: RecurrentLayer[]): void {
  for (const l of layers) l.weights.forEach((w) => w.dispose());
}

function sameOutputs(a: RecurrentLayer, b: RecurrentLayer): void {
  const x = tf.randomUniform([2, 5, 3], -1, 1, 'float32', 7);
  const [ya, yb] = [a.apply(x) as tf.Tensor, b.apply(x) as tf.Tensor];
  expectAllClose(yb, ya, { rtol: 1e-6, atol: 1e-7 }, 'outputs after the round trip');
  tf.dispose([x, ya, yb]);
}

const CELLS: [string, () => CellConfig][] = [
  ['simple_rnn', () => simpleRnnCell({ units: 4 })],
  ['gru', () => gruCell({ units: 4 })],
  ['gru Cho', () => gruCell({ units: 4, resetAfter: false })],
  ['lstm', () => lstmCell({ units: 4 })],
];

describe('weight import / export', () => {
  for (const [name, cell] of CELLS) {
    it(`${name}: Keras layout round-trips exactly (stacked, bidirectional)`, async () => {
      await withBackend('cpu', () => {
        const a = built(cell(), { numLayers: 2, bidirectional: true });
        const b = built(cell(), { numLayers: 2, bidirectional: true });
        const before = tf.memory().numTensors;
        const keras = toKerasWeights(a);
        expect(keras).toHaveLength(12);
        loadKerasWeights(b, keras);
        expect(tf.memory().numTensors).toBe(before);
        b.getWeights().forEach((w, i) => expect(w.dataSync()).toEqual(a.getWeights()[i]!.dataSync()));
        sameOutputs(a, b);
        free(a, b);
      });
    });
  }

  for (const [name, cell] of CELLS.filter(([n]) => n !== 'gru Cho')) {
    it(`${name}: PyTorch layout round-trips (stacked, bidirectional)`, async () => {
      await withBackend('cpu', () => {
        const a = built(cell(), { numLayers: 2, bidirectional: true });
        const b = built(cell(), { numLayers: 2, bidirectional: true });
        const state = toTorchState(a, { prefix: 'rnn.' });
        const G = name === 'gru' ? 3 : name === 'lstm' ? 4 : 1;
        expect(state['rnn.weight_ih_l0']!.shape).toEqual([G * 4, 3]);
        expect(state['rnn.weight_ih_l1_reverse']!.shape).toEqual([G * 4, 8]);
        expect(state['rnn.weight_hh_l1']!.shape).toEqual([G * 4, 4]);
        expect(Object.keys(state)).toHaveLength(16);
        loadTorchState(b, { ...state, 'fc.weight': { shape: [1], data: [0] } }, { prefix: 'rnn.' });
        sameOutputs(a, b);
        free(a, b);
      });
    });
  }

  it('accepts tensors as well as { shape, data }, and leaks none', async () => {
    await withBackend('cpu', () => {
      const a = built(lstmCell({ units: 3 }));
      const b = built(lstmCell({ units: 3 }));
      const tensors = Object.fromEntries(
        Object.entries(toTorchState(a)).map(([k, v]) => [k, tf.tensor(v.data, v.shape)]),
      );
      const before = tf.memory().numTensors;
      loadTorchState(b, tensors);
      expect(tf.memory().numTensors).toBe(before);
      sameOutputs(a, b);
      tf.dispose(Object.values(tensors));
      free(a, b);
    });
  });

  it('gate orders: torch r,z,n / i,f,g,o and Keras z,r,h / i,f,c,o describe the same weights', async () => {
    await withBackend('cpu', () => {
      const H = 2;
      const gru = built(gruCell({ units: H }), {}, 1);
      // weight_ih rows: r block = 1, z block = 2, n block = 3.
      const wih = { shape: [3 * H, 1], data: [1, 1, 2, 2, 3, 3] };
      const zeros = (n: number, m?: number) => ({
        shape: m ? [n, m] : [n],
        data: new Array(n * (m ?? 1)).fill(0),
      });
      loadTorchState(gru, {
        weight_ih_l0: wih,
        weight_hh_l0: zeros(3 * H, H),
        bias_ih_l0: zeros(3 * H),
        bias_hh_l0: { shape: [3 * H], data: [0, 0, 0, 0, 7, 7] },
      });
      const [kernel, , bias] = toKerasWeights(gru);
      expect([...kernel!.data]).toEqual([2, 2, 1, 1, 3, 3]); // z, r, h
      expect(bias!.shape).toEqual([2, 3 * H]);
      expect([...bias!.data]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 7]);
      const lstm = built(lstmCell({ units: 1 }), {}, 1);
      loadTorchState(lstm, {
        weight_ih_l0: { shape: [4, 1], data: [1, 2, 3, 4] },
        weight_hh_l0: zeros(4, 1),
        bias_ih_l0: { shape: [4], data: [0.5, 0, 0, 0] },
        bias_hh_l0: { shape: [4], data: [0.25, 0, 0, 0] },
      });
      const [lk, , lb] = toKerasWeights(lstm);
      expect([...lk!.data]).toEqual([1, 2, 3, 4]);
      expect([...lb!.data]).toEqual([0.75, 0, 0, 0]); // b_ih + b_hh
      free(gru, lstm);
    });
  });

  it('wrong layouts are typed errors naming the expected shape, and change nothing', async () => {
    await withBackend('cpu', () => {
      const layer = built(gruCell({ units: 5 }), {}, 4);
      const good = toTorchState(layer);
      const weights = layer.getWeights().map((w) => w.dataSync().slice());
      const before = tf.memory().numTensors;
      const transposed = { ...good, weight_ih_l0: { shape: [4, 15], data: good['weight_ih_l0']!.data } };
      expect(() => loadTorchState(layer, transposed)).toThrow(ShapeError);
      expect(() => loadTorchState(layer, transposed)).toThrow(
        'weight_ih_l0 has shape [4, 15], expected [15, 4] (3 gate(s) x 5 units, input 4)',
      );
      const { bias_hh_l0: _dropped, ...missing } = good;
      expect(() => loadTorchState(layer, missing)).toThrow(/an entry 'bias_hh_l0'/);
      expect(() => loadTorchState(layer, { ...good, weight_ih_l1: good['weight_ih_l0']! })).toThrow(
        InvalidArgumentError,
      );
      expect(() => loadTorchState(layer, { ...good, bias_ih_l0: { shape: [15], data: [1, 2] } })).toThrow(
        /15 values/,
      );
      const keras = toKerasWeights(layer);
      expect(() => loadKerasWeights(layer, keras.slice(0, 2))).toThrow(
        /a list of 3 arrays \(l0 forward kernel, l0 forward recurrent_kernel, l0 forward bias\)/,
      );
      expect(() =>
        loadKerasWeights(layer, [keras[0]!, keras[1]!, { shape: [15], data: new Float32Array(15) }]),
      ).toThrow('l0 forward bias has shape [15], expected [2, 15] (reset_after=True GRU bias');
      // The last slot is bad: nothing was written.
      expect(tf.memory().numTensors).toBe(before);
      layer.getWeights().forEach((w, i) => expect(w.dataSync()).toEqual(weights[i]));

      const cho = built(gruCell({ units: 2, resetAfter: false }));
      expect(() => toTorchState(cho)).toThrow(UnsupportedError);
      expect(() => loadTorchState(cho, {})).toThrow(/resetAfter: false/);
      expect(() => toTorchState(new RecurrentLayer({ cell: lstmCell({ units: 2 }) }))).toThrow(StateError);
      free(layer, cho);
    });
  });
});
