import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, checkInteger } from '@gradflow/core';
import { CELL_TYPES, gruCell, irnnCell, lstmCell, recurrent, simpleRnnCell } from '@gradflow/recurrent';
import type { CellConfig, CellType, InitializerSpec } from '@gradflow/recurrent';
import {
  buildGuarded,
  checkBoolean,
  checkInputShape,
  checkOptionKeys,
  denseHead,
  headOptions,
} from '../options.js';
import type { ModelOptions } from '../options.js';

/** A recurrent sequence model as data. */
export interface SequenceVariant {
  readonly family: 'sequence';
  readonly cell: CellType;
  /** `classification`: softmax over classes from the last state; `regression`: linear outputs. */
  readonly task: 'classification' | 'regression';
  readonly units: number;
  readonly numLayers: number;
}

/** Options of the recurrent sequence models, on top of the common ones. */
export interface SequenceModelOptions extends ModelOptions {
  /** Hidden size of every recurrent layer (default: the variant's). */
  units?: number;
  /** Stacked recurrent layers (default: the variant's). */
  numLayers?: number;
  /** Run each recurrent layer forward and backward and concatenate (default false). */
  bidirectional?: boolean;
  /** Predict at every time step (`[T, numClasses]`, e.g. the copy task) instead of from the last state. */
  perStep?: boolean;
  /** GRU only: reset gate after the recurrent matmul (PyTorch / Keras 3, default true). */
  resetAfter?: boolean;
  /** LSTM only: forget-gate bias 1 at init (default true). */
  unitForgetBias?: boolean;
  /** Initializer of the recurrent kernels (default: the cell's, e.g. orthogonal; identity for IRNN). */
  recurrentInitializer?: InitializerSpec;
  /** Initializer of the recurrent biases (default zeros). */
  biasInitializer?: InitializerSpec;
}

export const SEQUENCE_OPTIONS = [
  'units',
  'numLayers',
  'bidirectional',
  'perStep',
  'resetAfter',
  'unitForgetBias',
  'recurrentInitializer',
  'biasInitializer',
] as const;

function makeCell(v: SequenceVariant, options: SequenceModelOptions, units: number): CellConfig {
  const inits = {
    ...(options.kernelInitializer === undefined
      ? {}
      : { kernelInitializer: options.kernelInitializer as InitializerSpec }),
    ...(options.recurrentInitializer === undefined
      ? {}
      : { recurrentInitializer: options.recurrentInitializer }),
    ...(options.biasInitializer === undefined ? {} : { biasInitializer: options.biasInitializer }),
  };
  if (options.resetAfter !== undefined && v.cell !== 'gru')
    throw new InvalidArgumentError(
      'resetAfter',
      options.resetAfter,
      `undefined for a ${v.cell} cell`,
      'only GRU cells have it',
    );
  if (options.unitForgetBias !== undefined && v.cell !== 'lstm')
    throw new InvalidArgumentError(
      'unitForgetBias',
      options.unitForgetBias,
      `undefined for a ${v.cell} cell`,
      'only LSTM cells have it',
    );
  if (options.activation !== undefined && v.cell !== 'simple_rnn') {
    throw new InvalidArgumentError(
      'activation',
      options.activation,
      `undefined for a ${v.cell} cell`,
      "gated and IRNN cells fix their nonlinearities; only 'simple_rnn' models take 'tanh' or 'relu'",
    );
  }
  switch (v.cell) {
    case 'simple_rnn':
      return simpleRnnCell({
        units,
        ...inits,
        ...(options.activation === undefined ? {} : { activation: options.activation as 'tanh' | 'relu' }),
      });
    case 'irnn':
      return irnnCell({ units, ...inits });
    case 'gru':
      return gruCell({
        units,
        ...inits,
        ...(options.resetAfter === undefined ? {} : { resetAfter: options.resetAfter }),
      });
    case 'lstm':
      return lstmCell({
        units,
        ...inits,
        ...(options.unitForgetBias === undefined ? {} : { unitForgetBias: options.unitForgetBias }),
      });
  }
}

/**
 * A recurrent sequence model: `input [T, features] → recurrent (numLayers, optionally
 * bidirectional) → dense head` on the last state (or at every step with `perStep`).
 * Layer names: `rnn`, `predictions` / `outputs`.
 *
 * @example
 * ```ts
 * const model = buildSequenceModel('tiny_gru', SEQUENCE_MODELS.gru_classifier, { units: 4 }, { inputShape: [5, 1], numClasses: 3 });
 * const y = model.predict(tf.ones([2, 5, 1])) as tf.Tensor; // 2 sequences of 5 steps
 * if (y.shape.join() !== '2,3') throw new Error(`got [${y.shape}]`);
 * y.dispose();
 * model.dispose();
 * ```
 */
export function buildSequenceModel(
  name: string,
  v: SequenceVariant,
  options: SequenceModelOptions,
  defaults: { inputShape: readonly number[]; numClasses: number },
): tf.LayersModel {
  checkOptionKeys(name, options, SEQUENCE_OPTIONS);
  const inputShape = checkInputShape(
    name,
    options.inputShape ?? defaults.inputShape,
    2,
    '[timesteps, features]',
  );
  const head = headOptions(options, {
    numClasses: defaults.numClasses,
    classifierActivation: v.task === 'regression' ? 'linear' : 'softmax',
  });
  if (head.pooling !== null)
    throw new InvalidArgumentError(
      'pooling',
      head.pooling,
      `null for '${name}'`,
      'a recurrent model summarizes the sequence with its last state',
    );
  if (options.norm !== undefined && options.norm !== 'none' && options.norm !== null) {
    throw new InvalidArgumentError(
      'norm',
      options.norm,
      `'none' for '${name}'`,
      'the recurrent cells have no normalization',
    );
  }
  const units = checkInteger('units', options.units ?? v.units);
  const numLayers = checkInteger('numLayers', options.numLayers ?? v.numLayers);
  const bidirectional = checkBoolean('bidirectional', options.bidirectional, false);
  const perStep = checkBoolean('perStep', options.perStep, false);
  const cell = makeCell(v, options, units);
  const input = tf.input({ shape: inputShape, name: 'input' });
  return buildGuarded(input, () => {
    const x = recurrent(input, {
      cell,
      numLayers,
      bidirectional,
      returnSequences: perStep,
      name: 'rnn',
    }) as tf.SymbolicTensor;
    const output = head.includeTop ? denseHead(x, head) : x;
    return tf.model({ inputs: input, outputs: output, name: options.name ?? name });
  });
}

/** Trainable parameters at the variant's defaults: G·(in·H + H·H + H) per layer (+ G·H for reset-after GRU), plus the head. */
export function sequenceParams(v: SequenceVariant, features: number, numClasses: number): number {
  const G = CELL_TYPES[v.cell].gates;
  const H = v.units;
  let total = 0;
  let fanIn = features;
  for (let l = 0; l < v.numLayers; l++) {
    total += G * (fanIn * H + H * H + H) + (v.cell === 'gru' ? G * H : 0);
    fanIn = H;
  }
  return total + H * numClasses + numClasses;
}
