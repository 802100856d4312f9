import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, ShapeError, StateError, UnsupportedError } from '@gradflow/core';
import { CELL_TYPES } from './cells.js';
import { GATES } from './kernels.js';
import type { RecurrentLayer, WeightSlot } from './layer.js';

/** A weight as plain data: row-major `data` of `shape` (what the exporters return). */
export interface WeightArray {
  shape: number[];
  data: Float32Array;
}

/** A weight to import: a tensor, or `{ shape, data }` (e.g. from JSON or `safetensors`). */
export type WeightInput = tf.Tensor | { shape: readonly number[]; data: ArrayLike<number> };

function toArray(what: string, w: WeightInput | undefined): WeightArray {
  if (w instanceof tf.Tensor)
    return { shape: [...w.shape], data: Float32Array.from(w.dataSync() as ArrayLike<number>) };
  if (w === null || typeof w !== 'object' || !Array.isArray(w.shape) || w.data === undefined) {
    throw new InvalidArgumentError(what, w, 'a tf.Tensor or { shape, data }');
  }
  const size = w.shape.reduce((n, d) => n * d, 1);
  if (w.data.length !== size)
    throw new ShapeError(`${what} data`, [w.data.length], `${size} values for shape [${w.shape.join(', ')}]`);
  return { shape: [...w.shape], data: Float32Array.from(w.data) };
}

function expectShape(what: string, w: WeightArray, expected: number[], meaning: string): void {
  if (w.shape.length !== expected.length || w.shape.some((d, i) => d !== expected[i])) {
    throw new ShapeError(what, w.shape, `[${expected.join(', ')}] (${meaning})`);
  }
}

/** `[rows, cols]` → `[cols, rows]`. */
function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}

/**
 * Reorders the gate column blocks of `[rows, G*H]` data: `order[k]` is the source block of
 * destination block k.
 */
function permuteGates(data: Float32Array, rows: number, H: number, order: readonly number[]): Float32Array {
  const G = order.length;
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < G; k++) {
      const src = r * G * H + order[k]! * H;
      out.set(data.subarray(src, src + H), r * G * H + k * H);
    }
  }
  return out;
}

function requireBuilt(layer: RecurrentLayer): void {
  if (!layer.built || layer.inputSize === null) {
    throw new StateError(
      `layer '${layer.name}' has no weights yet: apply it to an input (or call layer.build([null, null, inputSize])) before importing or exporting weights`,
    );
  }
}

interface SlotValues {
  kernel: Float32Array;
  recurrentKernel: Float32Array;
  bias: Float32Array;
  recurrentBias: Float32Array | null;
}

function readSlot(slot: WeightSlot): SlotValues {
  const get = (v: { read(): tf.Tensor }) => Float32Array.from(v.read().dataSync() as Float32Array);
  return {
    kernel: get(slot.kernel),
    recurrentKernel: get(slot.recurrentKernel),
    bias: get(slot.bias),
    recurrentBias: slot.recurrentBias ? get(slot.recurrentBias) : null,
  };
}

/** Writes every slot at once, after everything was validated (a failed import changes nothing). */
function writeSlots(layer: RecurrentLayer, values: SlotValues[]): void {
  const tensors: tf.Tensor[] = [];
  layer.slots.forEach((slot, i) => {
    const v = values[i]!;
    tensors.push(
      tf.tensor(v.kernel, slot.kernel.shape as number[]),
      tf.tensor(v.recurrentKernel, slot.recurrentKernel.shape as number[]),
      tf.tensor(v.bias, slot.bias.shape as number[]),
    );
    if (slot.recurrentBias) tensors.push(tf.tensor(v.recurrentBias!, slot.recurrentBias.shape as number[]));
  });
  const variables = layer.slots.flatMap((s) => [
    s.kernel,
    s.recurrentKernel,
    s.bias,
    ...(s.recurrentBias ? [s.recurrentBias] : []),
  ]);
  variables.forEach((v, i) => v.write(tensors[i]!));
  tf.dispose(tensors);
}

function torchSuffix(slot: WeightSlot): string {
  return `_l${slot.depth}${slot.direction === 'backward' ? '_reverse' : ''}`;
}

/** Options of {@link loadTorchState}. */
export interface TorchStateOptions {
  /** Prefix of the keys, e.g. `'encoder.rnn.'` for a module inside a model's `state_dict()`. */
  prefix?: string;
  /** Reject keys under the prefix that the layer does not use (default true). */
  strict?: boolean;
}

function checkTorchCompatible(layer: RecurrentLayer): void {
  if (layer.kind === 'gru_cho') {
    throw new UnsupportedError(
      `layer '${layer.name}' is a GRU with resetAfter: false (Cho et al. 2014); torch.nn.GRU applies the reset gate after the recurrent matmul, so it has no PyTorch layout. Use resetAfter: true, or the Keras layout (reset_after=False).`,
      { value: false, accepted: 'resetAfter: true' },
    );
  }
}

/**
 * Loads a `torch.nn.RNN` / `GRU` / `LSTM` `state_dict()` (names `weight_ih_l{k}[_reverse]`,
 * `weight_hh_l{k}`, `bias_ih_l{k}`, `bias_hh_l{k}`; gates r,z,n for GRU and i,f,g,o for LSTM;
 * `weight_ih` is `[G*H, in]`) into `layer` exactly. RNN and LSTM keep one bias, `b_ih + b_hh`
 * (the same function); the GRU keeps both. Throws `ShapeError` naming the expected shape, and
 * writes nothing unless every weight is valid. The layer must be built (applied once) first.
 *
 * @example
 * ```ts
 * // torch.nn.GRU(input_size=3, hidden_size=2).state_dict(), as { shape, data } (e.g. from JSON).
 * const state = {
 *   'rnn.weight_ih_l0': { shape: [6, 3], data: Array.from({ length: 18 }, (_, i) => i / 18) },
 *   'rnn.weight_hh_l0': { shape: [6, 2], data: Array.from({ length: 12 }, (_, i) => -i / 12) },
 *   'rnn.bias_ih_l0': { shape: [6], data: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6] },
 *   'rnn.bias_hh_l0': { shape: [6], data: [0, 0, 0, 0, 0, -0.1] },
 * };
 * const gru = gruLayer({ units: 2 });
 * const x = tf.ones([1, 4, 3]);
 * tf.dispose(gru.apply(x) as tf.Tensor); // builds the weights
 * loadTorchState(gru, state, { prefix: 'rnn.' });
 * // The layer now holds exactly those weights (weight_ih transposed to tfjs's [in, 3H] kernel):
 * const back = toTorchState(gru, { prefix: 'rnn.' });
 * if (back['rnn.bias_hh_l0']!.data[5] !== Math.fround(-0.1)) throw new Error('bias_hh');
 * if (back['rnn.weight_ih_l0']!.data[4] !== Math.fround(4 / 18)) throw new Error('weight_ih');
 * x.dispose();
 * gru.dispose();
 * ```
 */
export function loadTorchState(
  layer: RecurrentLayer,
  state: Record<string, WeightInput>,
  options: TorchStateOptions = {},
): void {
  requireBuilt(layer);
  checkTorchCompatible(layer);
  if (state === null || typeof state !== 'object')
    throw new InvalidArgumentError('torch state', state, 'an object of named weights');
  const prefix = options.prefix ?? '';
  const H = layer.units;
  const G = GATES[layer.kind];
  const used = new Set<string>();
  const take = (name: string): WeightArray => {
    const key = prefix + name;
    if (!(key in state)) {
      throw new InvalidArgumentError(
        'torch state',
        Object.keys(state),
        `an entry '${key}' (layer '${layer.name}': ${CELL_TYPES[layer.cell.type].torchModule}, ${layer.numLayers} layer(s), bidirectional ${layer.bidirectional})`,
      );
    }
    used.add(key);
    return toArray(key, state[key]);
  };
  const values = layer.slots.map((slot): SlotValues => {
    const sfx = torchSuffix(slot);
    const wih = take(`weight_ih${sfx}`);
    const whh = take(`weight_hh${sfx}`);
    const bih = take(`bias_ih${sfx}`);
    const bhh = take(`bias_hh${sfx}`);
    const gates = `${G} gate(s) x ${H} units`;
    expectShape(
      prefix + `weight_ih${sfx}`,
      wih,
      [G * H, slot.inputSize],
      `${gates}, input ${slot.inputSize}`,
    );
    expectShape(prefix + `weight_hh${sfx}`, whh, [G * H, H], `${gates}, hidden ${H}`);
    expectShape(prefix + `bias_ih${sfx}`, bih, [G * H], gates);
    expectShape(prefix + `bias_hh${sfx}`, bhh, [G * H], gates);
    const kernel = transpose(wih.data, G * H, slot.inputSize);
    const recurrentKernel = transpose(whh.data, G * H, H);
    if (slot.recurrentBias) return { kernel, recurrentKernel, bias: bih.data, recurrentBias: bhh.data };
    const bias = new Float32Array(G * H);
    for (let i = 0; i < bias.length; i++) bias[i] = bih.data[i]! + bhh.data[i]!;
    return { kernel, recurrentKernel, bias, recurrentBias: null };
  });
  if (options.strict ?? true) {
    const extra = Object.keys(state).filter((k) => k.startsWith(prefix) && !used.has(k));
    if (extra.length > 0) {
      throw new InvalidArgumentError(
        'torch state',
        extra,
        `only the keys of layer '${layer.name}' under prefix '${prefix}' (pass strict: false to ignore others)`,
      );
    }
  }
  writeSlots(layer, values);
}

/**
 * The layer's weights as a PyTorch `state_dict` (see `loadTorchState`). RNN and LSTM export
 * their single bias as `bias_ih` and zeros as `bias_hh`.
 *
 * @example
 * ```ts
 * const lstm = lstmLayer({ units: 4, bidirectional: true });
 * const x = tf.ones([1, 2, 3]);
 * tf.dispose(lstm.apply(x) as tf.Tensor); // builds the weights
 * const state = toTorchState(lstm); // what torch.nn.LSTM(3, 4, bidirectional=True).load_state_dict takes
 * if (state.weight_ih_l0_reverse!.shape.join() !== '16,3') throw new Error('[4H, in]');
 * if (Object.keys(state).length !== 8) throw new Error(Object.keys(state).join());
 * // JSON.stringify({ k: Array.from(data) }) it for Python; loadTorchState(lstm, state) reads it back.
 * x.dispose();
 * lstm.dispose();
 * ```
 */
export function toTorchState(
  layer: RecurrentLayer,
  options: { prefix?: string } = {},
): Record<string, WeightArray> {
  requireBuilt(layer);
  checkTorchCompatible(layer);
  const prefix = options.prefix ?? '';
  const H = layer.units;
  const G = GATES[layer.kind];
  const out: Record<string, WeightArray> = {};
  for (const slot of layer.slots) {
    const v = readSlot(slot);
    const sfx = torchSuffix(slot);
    out[`${prefix}weight_ih${sfx}`] = {
      shape: [G * H, slot.inputSize],
      data: transpose(v.kernel, slot.inputSize, G * H),
    };
    out[`${prefix}weight_hh${sfx}`] = { shape: [G * H, H], data: transpose(v.recurrentKernel, H, G * H) };
    out[`${prefix}bias_ih${sfx}`] = { shape: [G * H], data: v.bias };
    out[`${prefix}bias_hh${sfx}`] = { shape: [G * H], data: v.recurrentBias ?? new Float32Array(G * H) };
  }
  return out;
}

/** gradflow gate block k comes from Keras gate block `fromKeras[k]` (and back). */
function kerasOrder(layer: RecurrentLayer): { fromKeras: number[]; toKeras: number[] } {
  const spec = CELL_TYPES[layer.cell.type];
  const fromKeras = spec.gateOrder
    .map((_g, k) => k)
    .map((k) => {
      const name = spec.gateOrder[k]!;
      // gradflow's GRU candidate 'n' is Keras's 'h'; LSTM's 'g' is Keras's 'c'.
      const kerasName = ({ n: 'h', g: 'c' } as Record<string, string>)[name] ?? name;
      return (spec.kerasGateOrder as readonly string[]).indexOf(kerasName);
    });
  const toKeras = fromKeras.map((_v, k) => fromKeras.indexOf(k));
  return { fromKeras, toKeras };
}

function kerasNames(layer: RecurrentLayer): string[] {
  const names = ['kernel', 'recurrent_kernel', 'bias'];
  return layer.slots.flatMap((s) => names.map((n) => `l${s.depth} ${s.direction} ${n}`));
}

/**
 * Loads Keras weights: the `get_weights()` list of a Keras `SimpleRNN` / `GRU` / `LSTM`
 * (`[kernel [in, G*H], recurrent_kernel [H, G*H], bias]`; gates z,r,h for GRU, i,f,c,o for
 * LSTM; a `reset_after=True` GRU's bias is `[2, 3H]`: input row, recurrent row), one triple
 * per stacked layer and direction (forward then backward, as `Bidirectional.get_weights()`).
 * The layer must be built first; nothing is written unless every weight is valid.
 *
 * @example
 * ```ts
 * // A Keras LSTM(2) on 3 features: kernel [3, 8], recurrent_kernel [2, 8], bias [8] (gates i,f,c,o).
 * const kernel = { shape: [3, 8], data: new Array<number>(24).fill(0.1) };
 * const recurrentKernel = { shape: [2, 8], data: new Array<number>(16).fill(0) };
 * const bias = { shape: [8], data: [0, 0, 1, 1, 0, 0, 0, 0] }; // forget bias 1
 * const lstm = lstmLayer({ units: 2 });
 * const x = tf.ones([1, 3, 3]);
 * tf.dispose(lstm.apply(x) as tf.Tensor); // builds the weights
 * loadKerasWeights(lstm, [kernel, recurrentKernel, bias]);
 * const back = toKerasWeights(lstm); // the same three arrays, in Keras layout
 * if (back[2]!.data.join() !== bias.data.join()) throw new Error(String(back[2]!.data));
 * x.dispose();
 * lstm.dispose();
 * ```
 */
export function loadKerasWeights(layer: RecurrentLayer, weights: readonly WeightInput[]): void {
  requireBuilt(layer);
  const names = kerasNames(layer);
  if (!Array.isArray(weights) || weights.length !== names.length) {
    throw new ShapeError(
      `keras weights for layer '${layer.name}'`,
      Array.isArray(weights) ? [weights.length] : weights,
      `a list of ${names.length} arrays (${names.join(', ')})`,
    );
  }
  const H = layer.units;
  const G = GATES[layer.kind];
  const { fromKeras } = kerasOrder(layer);
  const values = layer.slots.map((slot, i): SlotValues => {
    const [k, rk, b] = [0, 1, 2].map((j) => toArray(names[i * 3 + j]!, weights[i * 3 + j])) as [
      WeightArray,
      WeightArray,
      WeightArray,
    ];
    expectShape(
      names[i * 3]!,
      k,
      [slot.inputSize, G * H],
      `input ${slot.inputSize} x ${G} gate(s) of ${H} units`,
    );
    expectShape(names[i * 3 + 1]!, rk, [H, G * H], `${H} x ${G} gate(s) of ${H} units`);
    const kernel = permuteGates(k.data, slot.inputSize, H, fromKeras);
    const recurrentKernel = permuteGates(rk.data, H, H, fromKeras);
    if (slot.recurrentBias) {
      expectShape(
        names[i * 3 + 2]!,
        b,
        [2, G * H],
        `reset_after=True GRU bias: [input bias; recurrent bias] of ${G} x ${H}`,
      );
      const both = permuteGates(b.data, 2, H, fromKeras);
      return { kernel, recurrentKernel, bias: both.slice(0, G * H), recurrentBias: both.slice(G * H) };
    }
    expectShape(names[i * 3 + 2]!, b, [G * H], `${G} gate(s) x ${H} units`);
    return { kernel, recurrentKernel, bias: permuteGates(b.data, 1, H, fromKeras), recurrentBias: null };
  });
  writeSlots(layer, values);
}

/**
 * The layer's weights in Keras layout (see `loadKerasWeights`): `[kernel, recurrent_kernel,
 * bias]` per stacked layer and direction, for Keras's `set_weights`.
 *
 * @example
 * ```ts
 * const gru = gruLayer({ units: 4 }); // reset-after, as Keras 3's GRU(reset_after=True)
 * const x = tf.ones([2, 3, 5]);
 * tf.dispose(gru.apply(x) as tf.Tensor); // builds the weights
 * const [kernel, recurrentKernel, bias] = toKerasWeights(gru);
 * if (kernel!.shape.join() !== '5,12' || recurrentKernel!.shape.join() !== '4,12') throw new Error('kernels');
 * if (bias!.shape.join() !== '2,12') throw new Error('reset_after bias is [input row; recurrent row]');
 * x.dispose();
 * gru.dispose();
 * ```
 */
export function toKerasWeights(layer: RecurrentLayer): WeightArray[] {
  requireBuilt(layer);
  const H = layer.units;
  const G = GATES[layer.kind];
  const { toKeras } = kerasOrder(layer);
  return layer.slots.flatMap((slot) => {
    const v = readSlot(slot);
    const bias = v.recurrentBias
      ? {
          shape: [2, G * H],
          data: permuteGates(Float32Array.of(...v.bias, ...v.recurrentBias), 2, H, toKeras),
        }
      : { shape: [G * H], data: permuteGates(v.bias, 1, H, toKeras) };
    return [
      { shape: [slot.inputSize, G * H], data: permuteGates(v.kernel, slot.inputSize, H, toKeras) },
      { shape: [H, G * H], data: permuteGates(v.recurrentKernel, H, H, toKeras) },
      bias,
    ];
  });
}
