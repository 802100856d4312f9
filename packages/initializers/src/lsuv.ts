import * as tf from '@tensorflow/tfjs';
import {
  InvalidArgumentError,
  ShapeError,
  StateError,
  checkFinite,
  checkInteger,
  checkOneOf,
} from '@gradflow/core';
import { checkKeys, checkSeed } from './base.js';
import { Orthogonal } from './structured.js';

/**
 * Layer classes LSUV rescales: those with a `kernel` that maps inputs linearly.
 *
 * @example
 * ```ts
 * const model = tf.sequential({ layers: [tf.layers.dense({ units: 4, inputShape: [2] }), tf.layers.dropout({ rate: 0.1 })] });
 * const visited = model.layers.filter((l) => (LSUV_LAYER_CLASSES as readonly string[]).includes(l.getClassName()));
 * if (visited.length !== 1) throw new Error('only the Dense layer is rescaled');
 * model.dispose();
 * ```
 */
export const LSUV_LAYER_CLASSES = [
  'Dense',
  'Conv1D',
  'Conv2D',
  'Conv3D',
  'Conv2DTranspose',
  'Conv3DTranspose',
] as const;

/**
 * The values of {@link LsuvOptions.measure}: normalize each layer's affine output
 * (`'pre_activation'`, default) or its output after the fused activation (`'output'`).
 *
 * @example
 * ```ts
 * LSUV_MEASURES; // ['pre_activation', 'output']
 * if (LSUV_MEASURES[0] !== 'pre_activation') throw new Error('unexpected default');
 * ```
 */
export const LSUV_MEASURES = ['pre_activation', 'output'] as const;

/** Options of {@link lsuv}. */
export interface LsuvOptions {
  /** Stop rescaling a layer once |Var - 1| < tol (default 0.1, the paper's). */
  tol?: number;
  /** At most this many rescalings per layer (default 10, the paper's). */
  maxIter?: number;
  /** Replace each kernel by an orthogonal one first, as the paper does (default true). */
  orthonormalInit?: boolean;
  /** Seed of the orthogonal pre-init (default: the global generator, see `setInitializerSeed`). */
  seed?: number;
  /**
   * What is normalized: 'pre_activation' (default) is the layer's affine output `xW + b` even
   * when the layer has a fused activation (the blob the paper's Caffe code measured before its
   * in-place ReLU; always reachable by rescaling); 'output' is what the layer outputs, after its
   * activation (with a bounded activation such as tanh, variance 1 may be unreachable).
   */
  measure?: (typeof LSUV_MEASURES)[number];
}

/** What {@link lsuv} did to one layer. */
export interface LsuvLayerResult {
  /** The layer's name. */
  name: string;
  /** Rescalings applied (0 if the variance was already within tol). */
  iterations: number;
  /** Variance of the measured output after the last rescaling. */
  variance: number;
  /** Whether |variance - 1| < tol (false when maxIter ran out first). */
  converged: boolean;
}

type AnyLayer = tf.layers.Layer;

function kernelIndex(layer: AnyLayer): number {
  return layer.weights.findIndex((w) => /(^|\/)kernel(_\d+)?$/.test(w.originalName ?? w.name));
}

/**
 * Layer-sequential unit-variance initialization (Mishkin & Matas, "All you need is a good
 * init", ICLR 2016) of a built model, in place: for each Dense/Conv layer in topological order,
 * an orthonormal pre-init of its kernel, then the kernel is divided by sqrt(Var(output)) on the
 * batch `x` until |Var - 1| < tol or maxIter rescalings. Biases are left as they are.
 *
 * Everything is validated before any weight changes (no Dense/Conv layer, mismatched inputs,
 * bad options: typed errors); if a pass fails later (a layer whose output has zero or
 * non-finite variance), every kernel is restored and the error is rethrown. No tensor outlives
 * the call. Layers inside nested models and shared layers' second calls are not visited.
 *
 * @example
 * ```ts
 * const model = tf.sequential({
 *   layers: [
 *     tf.layers.dense({ units: 32, activation: 'relu', inputShape: [16], name: 'fc1' }),
 *     tf.layers.dense({ units: 32, activation: 'relu', name: 'fc2' }),
 *     tf.layers.dense({ units: 1, name: 'head' }),
 *   ],
 * });
 * const xBatch = tf.randomNormal([128, 16], 0, 1, 'float32', 0);
 * const report = lsuv(model, xBatch, { tol: 0.05, seed: 0 });
 * // [{ name: 'fc1', iterations: 1, variance: 1.00, converged: true }, { name: 'fc2', ... }, { name: 'head', ... }]
 * if (report.length !== 3 || !report.every((r) => r.converged && Math.abs(r.variance - 1) < 0.05)) {
 *   throw new Error('LSUV did not converge');
 * }
 * xBatch.dispose();
 * model.dispose();
 * ```
 */
export function lsuv(
  model: tf.LayersModel,
  x: tf.Tensor | tf.Tensor[],
  options: LsuvOptions = {},
): LsuvLayerResult[] {
  // ---- validate everything up front: a failed call must not touch the model.
  if (!(model instanceof tf.LayersModel)) {
    throw new InvalidArgumentError('model', model, 'a built tf.LayersModel (tf.model or tf.sequential)');
  }
  checkKeys('lsuv', options, ['tol', 'maxIter', 'orthonormalInit', 'seed', 'measure']);
  const tol = checkFinite('tol', options.tol ?? 0.1, { min: 0, minExclusive: true });
  const maxIter = checkInteger('maxIter', options.maxIter ?? 10);
  const orthonormalInit = options.orthonormalInit ?? true;
  if (typeof orthonormalInit !== 'boolean')
    throw new InvalidArgumentError('orthonormalInit', orthonormalInit, 'true or false');
  const seed = checkSeed(options.seed);
  const measure = checkOneOf('measure', options.measure ?? 'pre_activation', LSUV_MEASURES);
  const inputs = Array.isArray(x) ? x : [x];
  if (inputs.length !== model.inputs.length) {
    throw new InvalidArgumentError(
      'x',
      `${inputs.length} tensor(s)`,
      `${model.inputs.length} tensor(s), one per model input`,
    );
  }
  inputs.forEach((t, i) => {
    if (!(t instanceof tf.Tensor) || t.isDisposed)
      throw new InvalidArgumentError(`x[${i}]`, t, 'a tensor that is not disposed');
    const expected = model.inputs[i]!.shape;
    const ok = t.rank === expected.length && expected.every((d, j) => d === null || d === t.shape[j]);
    if (!ok)
      throw new ShapeError(
        `x[${i}]`,
        t.shape,
        `[${expected.map((d) => d ?? 'batch').join(', ')}] (the model's input)`,
      );
  });
  const targets = model.layers.filter(
    (l) =>
      (LSUV_LAYER_CLASSES as readonly string[]).includes(l.getClassName()) && l.built && kernelIndex(l) >= 0,
  );
  if (targets.length === 0) {
    throw new InvalidArgumentError(
      'model',
      model.name,
      `a model with at least one ${LSUV_LAYER_CLASSES.join('/')} layer`,
      `its layers are ${model.layers.map((l) => l.getClassName()).join(', ')}`,
    );
  }

  const snapshot = targets.map((l) => l.getWeights().map((w) => w.clone()));
  const orthogonal = new Orthogonal({ seed });
  const results: LsuvLayerResult[] = [];
  try {
    for (const layer of targets)
      results.push(lsuvLayer(model, layer, inputs, { tol, maxIter, orthonormalInit, measure, orthogonal }));
    return results;
  } catch (error) {
    targets.forEach((l, i) => l.setWeights(snapshot[i]!));
    throw error;
  } finally {
    tf.dispose(snapshot.flat());
  }
}

interface LayerPass {
  tol: number;
  maxIter: number;
  orthonormalInit: boolean;
  measure: (typeof LSUV_MEASURES)[number];
  orthogonal: Orthogonal;
}

function lsuvLayer(model: tf.LayersModel, layer: AnyLayer, x: tf.Tensor[], pass: LayerPass): LsuvLayerResult {
  const k = kernelIndex(layer);
  // The layer's input on x, with every earlier layer already rescaled.
  const symbolicInput = layer.getInputAt(0) as tf.SymbolicTensor;
  const direct = model.inputs.indexOf(symbolicInput);
  let layerInput: tf.Tensor;
  if (direct >= 0) {
    layerInput = x[direct]!;
  } else {
    // Not disposed: disposing a model disposes the weights of the layers it shares with `model`.
    const sub = tf.model({
      inputs: model.inputs,
      outputs: symbolicInput,
      name: `${model.name}_lsuv_${layer.name}`,
    });
    layerInput = sub.predict(x) as tf.Tensor;
  }
  const probe = pass.measure === 'pre_activation' ? linearTwin(layer) : layer;
  try {
    const setKernel = (kernel: tf.Tensor) => {
      const weights = layer.getWeights();
      weights[k] = kernel;
      layer.setWeights(weights);
      if (probe !== layer) probe.setWeights(weights);
    };
    const variance = (): number =>
      tf.tidy(() => {
        const y = probe.apply(layerInput) as tf.Tensor;
        return tf.moments(y).variance.dataSync()[0]!;
      });
    if (probe !== layer) {
      // Builds the twin on the concrete input, then gives it the layer's weights.
      tf.tidy(() => {
        probe.apply(layerInput);
      });
      probe.setWeights(layer.getWeights());
    }
    if (pass.orthonormalInit) {
      const kernel = pass.orthogonal.apply(layer.getWeights()[k]!.shape);
      setKernel(kernel);
      kernel.dispose();
    }
    let v = variance();
    let iterations = 0;
    while (Math.abs(v - 1) >= pass.tol && iterations < pass.maxIter) {
      if (!Number.isFinite(v) || v <= 0) {
        throw new StateError(
          `LSUV: the output of layer '${layer.name}' has variance ${v} on this batch, so it cannot be rescaled to 1; check the batch (constant inputs?) and the layers before it (dead ReLUs?)`,
          { value: v },
        );
      }
      const scaled = tf.tidy(() => tf.div(layer.getWeights()[k]!, Math.sqrt(v)));
      setKernel(scaled);
      scaled.dispose();
      iterations++;
      v = variance();
    }
    return { name: layer.name, iterations, variance: v, converged: Math.abs(v - 1) < pass.tol };
  } finally {
    if (direct < 0) layerInput.dispose();
    if (probe !== layer) probe.dispose();
  }
}

/** A copy of `layer` without its activation, to measure the affine output (weights set later). */
function linearTwin(layer: AnyLayer): AnyLayer {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[layer.getClassName()];
  if (!entry)
    throw new StateError(`LSUV: class '${layer.getClassName()}' of layer '${layer.name}' is not registered`);
  const [cls, fromConfig] = entry;
  const config = {
    ...layer.getConfig(),
    name: `${layer.name}_lsuv_twin`,
    activation: 'linear',
    // The twin's weights are overwritten; zeros keep it from drawing on any random generator.
    kernelInitializer: { className: 'Zeros', config: {} },
    biasInitializer: { className: 'Zeros', config: {} },
  };
  delete (config as Record<string, unknown>).batchInputShape;
  delete (config as Record<string, unknown>).inputShape;
  return fromConfig(cls, config) as AnyLayer;
}
