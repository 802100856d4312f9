import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, ShapeError, StateError } from '@gradflow/core';
import { LOSSES, resolveLossName } from './losses.js';
import type { LabelKind, LossSpec } from './losses.js';
import { dataOf } from './host-stats.js';

/** A custom loss: per-example (or per-element) loss of labels and predictions; the probe takes its mean. */
export type LossFn = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor;
/** The `loss` option of `probe`: a `LOSSES` name (aliases accepted) or a {@link LossFn}. */
export type LossOption = string | LossFn;

export interface ResolvedLoss {
  /** One function per model output. */
  fns: LossFn[];
  /** Label kind per output, when the loss is known by name. */
  labels: (LabelKind | null)[];
  name: string;
}

function isTensor(t: unknown): t is tf.Tensor {
  return t instanceof tf.Tensor;
}

function toList(v: unknown, what: string): tf.Tensor[] {
  const list = Array.isArray(v) ? v : [v];
  list.forEach((t, i) => {
    if (!isTensor(t)) throw new InvalidArgumentError(`${what}[${i}]`, t, 'a tf.Tensor');
    if (t.isDisposed) throw new InvalidArgumentError(`${what}[${i}]`, 'disposed tensor', 'a live tf.Tensor');
  });
  return list as tf.Tensor[];
}

/** Duck-typed check so models built with another copy of tfjs-layers are accepted too. */
export function checkModel(model: unknown): asserts model is tf.LayersModel {
  const m = model as Partial<tf.LayersModel> | null;
  if (
    m === null ||
    typeof m !== 'object' ||
    !Array.isArray(m.layers) ||
    !Array.isArray(m.inputs) ||
    !Array.isArray(m.outputs)
  ) {
    throw new InvalidArgumentError(
      'model',
      typeof model,
      'a tf.LayersModel (tf.sequential / tf.model / loadLayersModel)',
    );
  }
  if (m.trainableWeights === undefined || m.trainableWeights.length === 0) {
    throw new StateError(
      `model '${m.name}' has no trainable weights: there is no gradient to probe (is every layer frozen with trainable = false?)`,
      { value: m.name },
    );
  }
}

/** The compiled per-output loss functions (tf.Sequential keeps them on its inner model). */
export function compiledLossFunctions(model: tf.LayersModel): LossFn[] | undefined {
  const inner = (model as unknown as { model?: { lossFunctions?: LossFn[] } }).model;
  return (model as unknown as { lossFunctions?: LossFn[] }).lossFunctions ?? inner?.lossFunctions;
}

export function resolveLoss(model: tf.LayersModel, option: LossOption | undefined): ResolvedLoss {
  const outputs = model.outputs.length;
  if (typeof option === 'function') {
    return {
      fns: Array.from({ length: outputs }, () => option),
      labels: Array(outputs).fill(null),
      name: 'custom',
    };
  }
  if (typeof option === 'string') {
    const spec = lookup(option);
    return {
      fns: Array(outputs).fill(spec.fn),
      labels: Array(outputs).fill(spec.labels),
      name: resolveLossName(option),
    };
  }
  if (option !== undefined) {
    throw new InvalidArgumentError(
      'options.loss',
      option,
      `a loss name (${LOSSES.list().join(', ')}) or a function`,
    );
  }
  const compiled = compiledLossFunctions(model);
  if (!Array.isArray(compiled) || compiled.length === 0) {
    throw new StateError(
      `model '${model.name}' is not compiled and no loss was given: pass { loss: 'categorical_crossentropy' } (see LOSSES.list()) or a function`,
    );
  }
  const declared = (model as unknown as { loss?: unknown }).loss;
  const names = Array.isArray(declared) ? declared : Array(outputs).fill(declared);
  const labels = names.map((n: unknown) => {
    if (typeof n !== 'string') return null;
    const key = resolveLossName(n);
    return LOSSES.has(key) ? LOSSES.get(key).labels : null;
  });
  return { fns: compiled, labels, name: 'compiled' };
}

function lookup(name: string): LossSpec {
  return LOSSES.get(resolveLossName(name));
}

function describe(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? 'batch' : String(d))).join(', ')}]`;
}

/** Checks x and y against the model's inputs, outputs and loss; returns them as lists. */
export function checkBatch(
  model: tf.LayersModel,
  batch: { x: unknown; y: unknown } | undefined,
  loss: ResolvedLoss,
  onHost = false,
): { xs: tf.Tensor[]; ys: tf.Tensor[]; batchSize: number } {
  if (batch === undefined || batch === null || typeof batch !== 'object') {
    throw new InvalidArgumentError('batch', batch, '{ x, y } with tensors');
  }
  const xs = toList(batch.x, 'x');
  const ys = toList(batch.y, 'y');
  if (xs.length !== model.inputs.length) {
    throw new InvalidArgumentError(
      'x',
      `${xs.length} tensor(s)`,
      `${model.inputs.length} (one per model input)`,
    );
  }
  if (ys.length !== model.outputs.length) {
    throw new InvalidArgumentError(
      'y',
      `${ys.length} tensor(s)`,
      `${model.outputs.length} (one per model output)`,
    );
  }
  const batchSize = xs[0]!.shape[0] ?? 0;
  if (xs[0]!.rank === 0 || batchSize === 0) {
    throw new InvalidArgumentError('batch size', batchSize, 'at least 1 example', 'the batch is empty');
  }
  xs.forEach((x, i) => {
    const expected = model.inputs[i]!.shape;
    const ok =
      x.rank === expected.length && expected.every((d, k) => k === 0 || d === null || d === x.shape[k]);
    if (!ok)
      throw new ShapeError(`x[${i}]`, x.shape, describe(expected), `model input '${model.inputs[i]!.name}'`);
    if (x.shape[0] !== batchSize)
      throw new ShapeError(`x[${i}]`, x.shape, `batch size ${batchSize} like x[0]`);
  });
  ys.forEach((y, i) => {
    if (y.rank === 0 || y.shape[0] !== batchSize) {
      throw new ShapeError(`y[${i}]`, y.shape, `batch size ${batchSize} (as x)`);
    }
    const out = model.outputs[i]!.shape;
    const kind = loss.labels[i] ?? null;
    if (kind === 'indices') {
      const ok = y.rank === 1 || (y.rank === 2 && y.shape[1] === 1);
      if (!ok || out.length !== 2) {
        throw new ShapeError(
          `y[${i}]`,
          y.shape,
          '[batch] or [batch, 1] class indices',
          `for ${loss.name} loss`,
        );
      }
    } else if (kind !== null) {
      const ok = y.rank === out.length && out.every((d, k) => k === 0 || d === null || d === y.shape[k]);
      if (!ok) {
        throw new ShapeError(
          `y[${i}]`,
          y.shape,
          `${describe(out)} like model output '${model.outputs[i]!.name}'`,
          `labels do not match the ${loss.name} loss`,
        );
      }
    }
  });
  // Value checks: on the host (cpu, wasm: reading data is a copy at most), or on the device
  // with one read-back for all of them. Same layout either way.
  const v: ArrayLike<number> = onHost ? hostValueChecks(xs, ys, loss) : deviceValueChecks(xs, ys, loss);
  {
    let k = 0;
    xs.forEach((x, i) => {
      if (x.dtype !== 'float32') return;
      if (v[k++] !== 1) throw new InvalidArgumentError(`x[${i}]`, 'non-finite values', 'finite inputs');
    });
    ys.forEach((y, i) => {
      const kind = loss.labels[i] ?? null;
      if (kind === null) return;
      const lo = v[k++]!;
      const hi = v[k++]!;
      if (kind === 'probabilities' && (lo < 0 || hi > 1)) {
        throw new InvalidArgumentError(
          `y[${i}]`,
          `values in [${lo}, ${hi}]`,
          `labels in [0, 1] for ${loss.name}`,
        );
      }
      if (kind === 'indices') {
        const integral = v[k++] === 1;
        const classes = model.outputs[i]!.shape[1] ?? Infinity;
        if (!integral || lo < 0 || hi >= classes) {
          throw new InvalidArgumentError(
            `y[${i}]`,
            `values in [${lo}, ${hi}]${integral ? '' : ' (not integers)'}`,
            `integer class indices in [0, ${classes}) for ${loss.name}`,
          );
        }
      }
    });
  }
  return { xs, ys, batchSize };
}

/** [all finite] per float32 x, then per labelled y: [min, max] and, for indices, [all integral]. */
function deviceValueChecks(xs: tf.Tensor[], ys: tf.Tensor[], loss: ResolvedLoss): ArrayLike<number> {
  const checks = tf.tidy(() => {
    const parts: tf.Tensor[] = [];
    for (const x of xs)
      if (x.dtype === 'float32') parts.push(tf.all(tf.isFinite(x)).cast('float32').reshape([1]));
    ys.forEach((y, i) => {
      const kind = loss.labels[i] ?? null;
      if (kind === null) return;
      const yf = y.cast('float32');
      parts.push(tf.min(yf).reshape([1]), tf.max(yf).reshape([1]));
      if (kind === 'indices')
        parts.push(
          tf
            .all(tf.equal(yf, tf.round(yf)))
            .cast('float32')
            .reshape([1]),
        );
    });
    return parts.length > 0 ? tf.concat(parts) : tf.zeros([0]);
  });
  const v = checks.dataSync();
  checks.dispose();
  return v;
}

/** The same checks as {@link deviceValueChecks}, in one JS pass over each tensor's data. */
function hostValueChecks(xs: tf.Tensor[], ys: tf.Tensor[], loss: ResolvedLoss): number[] {
  const out: number[] = [];
  for (const x of xs) {
    if (x.dtype !== 'float32') continue;
    const d = dataOf(x);
    let finite = 1;
    for (let i = 0; i < d.length; i++) {
      if (!Number.isFinite(d[i]!)) {
        finite = 0;
        break;
      }
    }
    out.push(finite);
  }
  ys.forEach((y, i) => {
    const kind = loss.labels[i] ?? null;
    if (kind === null) return;
    const d = y.dtype === 'float32' ? dataOf(y) : (y.dataSync() as ArrayLike<number>);
    // As tf.min / tf.max on cpu: start at the first element, compare with < and >.
    let lo = d.length > 0 ? Number(d[0]) : Infinity;
    let hi = d.length > 0 ? Number(d[0]) : -Infinity;
    let integral = 1;
    for (let k = 0; k < d.length; k++) {
      const e = Number(d[k]);
      if (e < lo) lo = e;
      if (e > hi) hi = e;
      if (e !== Math.round(e)) integral = 0;
    }
    out.push(lo, hi);
    if (kind === 'indices') out.push(integral);
  });
  return out;
}
