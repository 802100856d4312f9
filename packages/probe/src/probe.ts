import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, DEFAULT_SEED } from '@gradflow/core';
import { outputActivationOf } from './activation-kind.js';
import { alias, gradientHook, isRnn, planOf, runPlan } from './graph.js';
import type { Plan, PlanStep } from './graph.js';
import { findResidualBlocks } from './signal-propagation.js';
import { DEFAULT_THRESHOLDS } from './thresholds.js';
import type { Thresholds } from './thresholds.js';
import { SCHEMA_VERSION } from './types.js';
import type {
  ActivationStats,
  JacobianReport,
  LayerReport,
  ProbeReport,
  RecurrentProfile,
  SignalPropagationBlock,
  WeightStats,
} from './types.js';
import { checkBatch, checkModel, resolveLoss } from './validate.js';
import type { LossOption } from './validate.js';
import { diagnose } from './verdict.js';
import { activationHost, channelMomentsHost, sumSqHost, sumSqOfSumHost } from './host-stats.js';

/** The batch {@link probe} runs on (the caller keeps ownership: the probe disposes neither). */
export interface ProbeBatch {
  /** Model input(s), one tensor per model input. */
  x: tf.Tensor | tf.Tensor[];
  /** Labels, one tensor per model output. */
  y: tf.Tensor | tf.Tensor[];
}

/** Options of {@link probe} (and of the monitor and callback built on it). */
export interface ProbeOptions {
  /**
   * The loss: a name from `LOSSES` (`'categorical_crossentropy'`, `'mse'`, ...), a function
   * `(yTrue, yPred) => per-example loss`, or (default) the model's compiled loss.
   */
  loss?: LossOption;
  /**
   * Run the forward pass in training mode (BatchNorm on batch statistics, dropout active), as
   * `model.fit` does. Default false: inference mode. Either way no state changes survive the
   * call: BatchNorm moving statistics (all non-trainable weights) are restored afterwards.
   */
  training?: boolean;
  /** Learning rate for update/weight ratios; default: the compiled optimizer's if it is SGD. */
  learningRate?: number;
  /** Override verdict thresholds (see `DEFAULT_THRESHOLDS`). */
  thresholds?: Partial<Thresholds>;
  /**
   * Estimate the input-output Jacobian's mean squared singular value (Hutchinson random
   * projections). `true` = 1 projection end to end plus one per layer. Default false: it costs
   * one extra backward pass per projection plus about one forward+backward for the per-layer ones.
   */
  jacobian?: boolean | { projections?: number; perLayer?: boolean };
  /** Unroll recurrent layers to record |d loss / d h_t| over time (default true). */
  recurrent?: boolean;
  /** Add the layers' regularization losses, as `model.fit` does (default true). */
  regularization?: boolean;
  /** Seed of the random projections. */
  seed?: number;
  /**
   * Where statistics are reduced: `'host'` (in JS over each tensor's data, float64),
   * `'device'` (tfjs ops, one read-back), or `'auto'` (default): host on cpu and wasm, where
   * the data is read in place (the cpu backend's own array, a view onto the wasm heap), device
   * elsewhere (webgl, webgpu). The batch value checks (finite inputs, label ranges) follow it.
   */
  reduce?: 'auto' | 'host' | 'device';
}

type Stat = { offset: number; length: number };

/** Packs many small reductions into one tensor so the whole report costs one read-back. */
class Collector {
  private parts: tf.Tensor[] = [];
  private size = 0;
  add(t: tf.Tensor): Stat {
    const flat = tf.reshape(t.dtype === 'float32' ? t : tf.cast(t, 'float32'), [-1]);
    this.parts.push(flat);
    const stat = { offset: this.size, length: flat.size };
    this.size += flat.size;
    return stat;
  }
  concat(): tf.Tensor {
    return this.parts.length === 0 ? tf.zeros([0]) : tf.concat(this.parts);
  }
}

/** The host-side counterpart of `Collector`: values computed in JS, same `Stat` offsets. */
class HostCollector {
  readonly values: number[] = [];
  push(...v: number[]): Stat {
    const stat = { offset: this.values.length, length: v.length };
    this.values.push(...v);
    return stat;
  }
}

const sumSq = (t: tf.Tensor) => tf.sum(tf.square(t));
const countNonFinite = (t: tf.Tensor) => tf.sum(tf.cast(tf.logicalNot(tf.isFinite(t)), 'float32'));

function learningRateOf(model: tf.LayersModel, option: number | undefined): number | null {
  if (option !== undefined) {
    if (!(Number.isFinite(option) && option > 0)) {
      throw new InvalidArgumentError('options.learningRate', option, 'a positive finite number');
    }
    return option;
  }
  try {
    const opt = (model as unknown as { optimizer?: { getClassName?: () => string; learningRate?: unknown } })
      .optimizer;
    if (opt && opt.getClassName?.() === 'SGD' && typeof opt.learningRate === 'number')
      return opt.learningRate;
  } catch {
    return null;
  }
  return null;
}

interface StepCapture {
  acts: tf.Tensor[] | null;
  outGrads: (tf.Tensor | undefined)[];
  hidden: Map<number, tf.Tensor[]>;
}

/**
 * One forward + backward pass of `model` on a batch, without any weight update, returning
 * per-layer gradient and activation statistics and a verdict.
 *
 * How: the model's layer graph is executed node by node (as `model.fit` does) and every
 * layer output is passed through an identity with a gradient hook (`tf.customGrad`), so one
 * backward pass (`tf.engine().gradients`) yields both d loss / d weight for every trainable
 * weight and d loss / d output for every layer. Statistics are then reduced in JS over each
 * tensor's data, read in place, on cpu/wasm, or on the device with one read-back elsewhere.
 *
 * @example
 * ```ts
 * const model = tf.sequential({
 *   layers: [
 *     tf.layers.dense({ inputShape: [4], units: 8, activation: 'relu' }),
 *     tf.layers.dense({ units: 8, activation: 'relu' }),
 *     tf.layers.dense({ units: 3, activation: 'softmax' }),
 *   ],
 * });
 * const x = tf.randomNormal([16, 4]);
 * const labels = tf.tensor1d(Array.from({ length: 16 }, (_, i) => i % 3), 'int32');
 * const y = tf.oneHot(labels, 3);
 * labels.dispose();
 * const report = await probe(model, { x, y }, { loss: 'categorical_crossentropy' });
 * const table = formatTable(report, { color: false }); // print it: one row per layer, then the verdict
 * if (report.layers.length !== 3 || !table.includes(`verdict: ${report.verdict.status.toUpperCase()}`))
 *   throw new Error(table);
 * if (report.verdict.status !== 'healthy') console.log(report.verdict.advice.join('\n'));
 * tf.dispose([x, y]);
 * model.dispose();
 * ```
 */
export async function probe(
  model: tf.LayersModel,
  batch: ProbeBatch,
  options: ProbeOptions = {},
): Promise<ProbeReport> {
  const started = performance.now();
  checkModel(model);
  const thresholds: Thresholds = { ...DEFAULT_THRESHOLDS, ...(options.thresholds ?? {}) };
  for (const [k, v] of Object.entries(thresholds)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new InvalidArgumentError(`thresholds.${k}`, v, 'a finite number >= 0');
    }
  }
  const loss = resolveLoss(model, options.loss);
  const reduce = options.reduce ?? 'auto';
  const onHost = reduce === 'host' || (reduce === 'auto' && ['cpu', 'wasm'].includes(tf.getBackend()));
  const { xs, ys, batchSize } = checkBatch(model, batch, loss, onHost);
  const training = options.training ?? false;
  const lr = learningRateOf(model, options.learningRate);
  const jac = options.jacobian ?? false;
  const projections = jac === false ? 0 : jac === true ? 1 : (jac.projections ?? 1);
  const perLayerJacobian = jac !== false && (jac === true || (jac.perLayer ?? true));
  if (!Number.isInteger(projections) || projections < 0) {
    throw new InvalidArgumentError('options.jacobian.projections', projections, 'an integer >= 0');
  }
  const plan = planOf(model);
  const userTensors = new Set<tf.Tensor>([...xs, ...ys]);

  // Snapshot state that a training-mode forward pass may change (BatchNorm moving statistics):
  // aliases share storage with the variables until they are reassigned, so this costs nothing.
  const stateVars = model.nonTrainableWeights.map((w) => w.read() as tf.Variable);
  const snapshot = training ? stateVars.map((v) => alias(v)) : [];

  // Which weights belong to which step: the first call of a layer owns them.
  const owned = new Set<tf.layers.Layer>();
  const stepWeights = plan.steps.map((step) => {
    if (owned.has(step.layer)) return [];
    owned.add(step.layer);
    return step.layer.trainableWeights.map((w) => ({ name: w.name, variable: w.read() as tf.Variable }));
  });
  const variables: tf.Variable[] = [];
  const varIndex = new Map<tf.Variable, number>();
  for (const list of stepWeights) {
    for (const { variable } of list) {
      if (!varIndex.has(variable)) {
        varIndex.set(variable, variables.length);
        variables.push(variable);
      }
    }
  }

  const captures: StepCapture[] = plan.steps.map(() => ({ acts: null, outGrads: [], hidden: new Map() }));
  const kept = new Set<tf.Tensor>();
  const keep = (t: tf.Tensor) => {
    if (!userTensors.has(t)) kept.add(tf.keep(t));
    return t;
  };
  const recurrent = options.recurrent ?? true;
  let lossValue: tf.Tensor | undefined;
  let grads: (tf.Tensor | undefined)[] = [];
  let jacobian: JacobianReport | null = null;
  let jacobianNote: string | null = null;
  const jacobianLayer = new Map<number, number>();
  try {
    const f = () => {
      const outputs = runPlan(plan, xs, {
        training,
        onOutputs: (_step, i, outs) => {
          const cap = captures[i]!;
          cap.acts = outs.map(keep);
          return outs.map((o, j) =>
            o.dtype === 'float32'
              ? gradientHook(o, (dy) => {
                  cap.outGrads[j] = keep(alias(dy));
                })
              : o,
          );
        },
        onHiddenState: recurrent
          ? (_step, i, t, h) =>
              gradientHook(h, (dy) => {
                const cap = captures[i]!;
                const list = cap.hidden.get(t) ?? [];
                list.push(keep(alias(dy)));
                cap.hidden.set(t, list);
              })
          : undefined,
      });
      let total: tf.Tensor | undefined;
      outputs.forEach((out, i) => {
        const l = tf.mean(loss.fns[i]!(ys[i]!, out));
        total = total === undefined ? l : tf.add(total, l);
      });
      if (options.regularization ?? true) {
        for (const r of model.calculateLosses()) total = tf.add(total!, r);
      }
      return total as tf.Scalar;
    };
    const res = tf.engine().gradients(f, variables, undefined, true);
    lossValue = res.value;
    grads = res.grads as (tf.Tensor | undefined)[];
    if (projections > 0 && xs[0]!.dtype !== 'float32') {
      jacobianNote = 'no input-output Jacobian: the first model input is not float32 (token ids?)';
    } else if (projections > 0) {
      const outStep = plan.producer.get(plan.outputIds[0]!) ?? -1;
      const outShape = captures[outStep]?.acts?.[0]?.shape ?? [];
      jacobian = estimateJacobian(
        plan,
        xs,
        [...outShape],
        training,
        projections,
        options.seed ?? DEFAULT_SEED,
      );
      if (perLayerJacobian)
        layerJacobians(plan, xs, captures, training, options.seed ?? DEFAULT_SEED, jacobianLayer);
    }

    // ---- statistics: on the host (cpu, wasm) or on the device with one read-back ----
    const actById = new Map<number, tf.Tensor>();
    plan.inputIds.forEach((id, i) => actById.set(id, xs[i]!));
    plan.steps.forEach((step, i) =>
      step.outputIds.forEach((id, j) => {
        const t = captures[i]!.acts?.[j];
        if (t) actById.set(id, t);
      }),
    );
    const blocks = findResidualBlocks(plan);
    const ratio = thresholds.saturationDerivativeRatio;
    type Layout = {
      weights: { w: Stat; g: Stat | null; wT: tf.Tensor; gT: tf.Tensor | undefined }[];
      act: { moments: Stat; sat: Stat | null; dead: Stat | null; t: tf.Tensor } | null;
      outGrad: { s: Stat; ts: tf.Tensor[] } | null;
      hidden: Stat | null;
    };
    const col = new Collector();
    let lossStat: Stat = { offset: 0, length: 1 };
    const layouts: Layout[] = [];
    const blockStats: { sq: Stat; v: Stat; rv: Stat }[] = [];
    let values: ArrayLike<number>;
    if (onHost) {
      const hc = new HostCollector();
      lossStat = hc.push(lossValue!.dataSync()[0]!);
      plan.steps.forEach((step, i) => {
        const cap = captures[i]!;
        const weights = stepWeights[i]!.map(({ variable }) => {
          const g = grads[varIndex.get(variable)!];
          return {
            w: hc.push(sumSqHost(variable)),
            g: g ? hc.push(sumSqHost(g)) : null,
            wT: variable,
            gT: g,
          };
        });
        const out = cap.acts?.[0];
        let act: Layout['act'] = null;
        if (out && out.dtype === 'float32' && out.size > 0) {
          const { spec } = outputActivationOf(step.layer);
          const satFn = spec.saturatedValue;
          const a = activationHost(out, satFn ? (y) => satFn(y, ratio) : null, spec.kind === 'relu');
          const moments = hc.push(a.mean, a.variance);
          let sat: Stat | null = a.saturated !== null ? hc.push(a.saturated) : null;
          if (sat === null && spec.supDerivative !== undefined && step.inputIds.length === 1) {
            const input = actById.get(step.inputIds[0]!);
            const sup = spec.supDerivative;
            if (input && input.dtype === 'float32') {
              const f = tf.tidy(() => {
                const d = tf.grad((v: tf.Tensor) =>
                  tf.sum(step.layer.apply(v, { training: false }) as tf.Tensor),
                )(input);
                return tf.mean(tf.cast(tf.less(tf.abs(d), ratio * sup), 'float32')).dataSync()[0]!;
              });
              sat = hc.push(f);
            }
          }
          act = { moments, sat, dead: a.dead !== null ? hc.push(a.dead) : null, t: out };
        }
        const present = cap.outGrads.filter((g): g is tf.Tensor => g !== undefined);
        const outGrad =
          present.length > 0
            ? { s: hc.push(present.reduce((acc, g) => acc + sumSqHost(g), 0)), ts: present }
            : null;
        let hidden: Stat | null = null;
        if (cap.hidden.size > 0) {
          const T = Math.max(...cap.hidden.keys()) + 1;
          hidden = hc.push(
            ...Array.from({ length: T }, (_, t) => {
              const list = cap.hidden.get(t);
              return list ? sumSqOfSumHost(list) : 0;
            }),
          );
        }
        layouts.push({ weights, act, outGrad, hidden });
      });
      for (const b of blocks) {
        const out = actById.get(b.outputId);
        const branch = actById.get(b.branchId);
        if (!out || !branch) continue;
        const mo = channelMomentsHost(out);
        const mb = channelMomentsHost(branch);
        blockStats.push({
          sq: hc.push(mo.avgSquaredMean),
          v: hc.push(mo.avgVariance),
          rv: hc.push(mb.avgVariance),
        });
      }
      values = hc.values;
    } else {
      const packed = tf.tidy(() => {
        lossStat = col.add(lossValue!);
        plan.steps.forEach((step, i) => {
          const cap = captures[i]!;
          const weights = stepWeights[i]!.map(({ variable }) => {
            const g = grads[varIndex.get(variable)!];
            return { w: col.add(sumSq(variable)), g: g ? col.add(sumSq(g)) : null, wT: variable, gT: g };
          });
          const out = cap.acts?.[0];
          let act: Layout['act'] = null;
          if (out && out.dtype === 'float32' && out.size > 0) {
            const { spec } = outputActivationOf(step.layer);
            const m = tf.moments(out);
            const moments = col.add(tf.stack([m.mean, m.variance]));
            let sat: Stat | null = null;
            if (spec.saturated) {
              sat = col.add(tf.mean(tf.cast(spec.saturated(out, ratio), 'float32')));
            } else if (spec.supDerivative !== undefined && step.inputIds.length === 1) {
              // An elementwise activation layer: f'(x) from its input, by autodiff through the layer.
              const input = actById.get(step.inputIds[0]!);
              const sup = spec.supDerivative;
              if (input && input.dtype === 'float32') {
                const d = tf.grad((v: tf.Tensor) =>
                  tf.sum(step.layer.apply(v, { training: false }) as tf.Tensor),
                )(input);
                sat = col.add(tf.mean(tf.cast(tf.less(tf.abs(d), ratio * sup), 'float32')));
              }
            }
            let dead: Stat | null = null;
            if (spec.kind === 'relu') {
              const axes = out.rank >= 2 ? Array.from({ length: out.rank - 1 }, (_, k) => k) : [0];
              dead = col.add(tf.mean(tf.cast(tf.equal(tf.max(tf.abs(out), axes), 0), 'float32')));
            }
            act = { moments, sat, dead, t: out };
          }
          const present = cap.outGrads.filter((g): g is tf.Tensor => g !== undefined);
          const outGrad =
            present.length > 0 ? { s: col.add(tf.addN(present.map(sumSq))), ts: present } : null;
          let hidden: Stat | null = null;
          if (cap.hidden.size > 0) {
            const T = Math.max(...cap.hidden.keys()) + 1;
            const per = Array.from({ length: T }, (_, t) => {
              const list = cap.hidden.get(t);
              return list ? sumSq(list.length === 1 ? list[0]! : tf.addN(list)) : tf.scalar(0);
            });
            hidden = col.add(tf.stack(per));
          }
          layouts.push({ weights, act, outGrad, hidden });
        });
        for (const b of blocks) {
          const out = actById.get(b.outputId);
          const branch = actById.get(b.branchId);
          if (!out || !branch) continue;
          const axes = Array.from({ length: Math.max(1, out.rank - 1) }, (_, k) => k);
          const mo = tf.moments(out, axes);
          const mb = tf.moments(branch, axes);
          blockStats.push({
            sq: col.add(tf.mean(tf.square(mo.mean))),
            v: col.add(tf.mean(mo.variance)),
            rv: col.add(tf.mean(mb.variance)),
          });
        }
        return col.concat();
      });
      values = (await packed.data()) as Float32Array;
      packed.dispose();
    }
    const at = (s: Stat) => values[s.offset]!;

    // Second, rare pass: count non-finite elements only where a sum came out non-finite.
    const nonFinite = plan.steps.map(() => ({ weights: 0, weightGrads: 0, activations: 0, outputGrads: 0 }));
    const suspects: { i: number; field: keyof (typeof nonFinite)[number]; t: tf.Tensor }[] = [];
    layouts.forEach((l, i) => {
      for (const w of l.weights) {
        if (!Number.isFinite(at(w.w))) suspects.push({ i, field: 'weights', t: w.wT });
        if (w.g && w.gT && !Number.isFinite(at(w.g))) suspects.push({ i, field: 'weightGrads', t: w.gT });
      }
      if (
        l.act &&
        !(Number.isFinite(at(l.act.moments)) && Number.isFinite(values[l.act.moments.offset + 1]!))
      ) {
        suspects.push({ i, field: 'activations', t: l.act.t });
      }
      if (l.outGrad && !Number.isFinite(at(l.outGrad.s))) {
        for (const t of l.outGrad.ts) suspects.push({ i, field: 'outputGrads', t });
      }
    });
    if (suspects.length > 0) {
      const counts = tf.tidy(() => tf.stack(suspects.map((s) => countNonFinite(s.t))));
      const c = (await counts.data()) as Float32Array;
      counts.dispose();
      suspects.forEach((s, k) => {
        nonFinite[s.i]![s.field] += c[k]!;
      });
    }

    const outputStepIds = new Set(plan.outputIds.map((id) => plan.producer.get(id)));
    const layers: LayerReport[] = plan.steps.map((step, i) => {
      const l = layouts[i]!;
      const cap = captures[i]!;
      const weights: WeightStats[] = l.weights.map((w, k) => ({
        name: stepWeights[i]![k]!.name,
        shape: [...w.wT.shape],
        norm: Math.sqrt(at(w.w)),
        gradNorm: w.g ? Math.sqrt(at(w.g)) : null,
      }));
      const params = l.weights.reduce((n, w) => n + w.wT.size, 0);
      const hasW = l.weights.length > 0;
      const gsq = l.weights.reduce((s, w) => s + (w.g ? at(w.g) : 0), 0);
      const anyGrad = l.weights.some((w) => w.g);
      const wsq = l.weights.reduce((s, w) => s + at(w.w), 0);
      const gradNorm = hasW && anyGrad ? Math.sqrt(gsq) : hasW ? 0 : null;
      const weightNorm = hasW ? Math.sqrt(wsq) : null;
      const gradToWeight =
        gradNorm !== null && weightNorm !== null && weightNorm > 0 ? gradNorm / weightNorm : null;
      let activation: ActivationStats | null = null;
      if (l.act) {
        const { name, spec } = outputActivationOf(step.layer);
        const mean = at(l.act.moments);
        const variance = values[l.act.moments.offset + 1]!;
        activation = {
          kind: spec.kind,
          activation: name,
          mean,
          std: Math.sqrt(Math.max(0, variance)),
          rms: Math.sqrt(Math.max(0, variance) + mean * mean),
          saturatedFraction: l.act.sat ? at(l.act.sat) : null,
          deadFraction: l.act.dead ? at(l.act.dead) : null,
          samplesPerUnit:
            l.act.t.rank >= 2 ? l.act.t.size / (l.act.t.shape[l.act.t.rank - 1] ?? 1) : l.act.t.size,
        };
      }
      const outSize = (cap.acts ?? []).reduce((n, t) => n + t.size, 0);
      const outputGradNorm = l.outGrad ? Math.sqrt(at(l.outGrad.s)) : null;
      return {
        name: step.name,
        className: step.layer.getClassName(),
        index: step.layerIndex,
        outputShape: [...(cap.acts?.[0]?.shape ?? [])],
        params,
        gradNorm,
        gradRms: gradNorm !== null && params > 0 ? gradNorm / Math.sqrt(params) : null,
        weightNorm,
        gradToWeight,
        updateToWeight: lr !== null && gradToWeight !== null ? lr * gradToWeight : null,
        weights,
        activation,
        outputGradNorm,
        outputGradRms: outputGradNorm !== null && outSize > 0 ? outputGradNorm / Math.sqrt(outSize) : null,
        nonFinite: nonFinite[i]!,
        jacobianMeanSqSingular: jacobianLayer.get(i) ?? null,
      };
    });

    const recurrentProfiles: RecurrentProfile[] = [];
    layouts.forEach((l, i) => {
      if (!l.hidden) return;
      const norms = Array.from({ length: l.hidden.length }, (_, t) =>
        Math.sqrt(values[l.hidden!.offset + t]!),
      );
      const step = plan.steps[i]!;
      const goBackwards = isRnn(step.layer) && step.layer.goBackwards;
      // In processing order: a goBackwards layer processes t = T-1 first.
      const first = goBackwards ? norms[norms.length - 1]! : norms[0]!;
      const last = goBackwards ? norms[0]! : norms[norms.length - 1]!;
      recurrentProfiles.push({
        layer: step.name,
        className: step.layer.getClassName(),
        gradNorms: norms,
        goBackwards,
        firstToLast: last > 0 ? first / last : first > 0 ? Infinity : 0,
      });
    });

    const signalPropagation: SignalPropagationBlock[] = blocks.slice(0, blockStats.length).map((b, k) => ({
      block: b.block,
      branch: b.branch,
      blockInput: b.blockInput,
      shortcut: b.shortcut,
      avgChannelSquaredMean: at(blockStats[k]!.sq),
      avgChannelVariance: at(blockStats[k]!.v),
      residualVariance: at(blockStats[k]!.rv),
    }));

    const notes: string[] = [];
    if (jacobianNote) notes.push(jacobianNote);
    const hasBn = plan.steps.some((s) => s.layer.getClassName() === 'BatchNormalization');
    if (hasBn && !training) {
      notes.push(
        'BatchNormalization layers were run in inference mode (moving statistics); pass { training: true } to probe the batch-statistics regime model.fit trains in',
      );
    }
    if (training && snapshot.length > 0) {
      notes.push('training-mode forward pass: BatchNorm moving statistics were restored afterwards');
    }
    const skippedRnn = plan.steps.filter((s, i) => isRnn(s.layer) && layouts[i]!.hidden === null);
    if (recurrent && skippedRnn.length > 0) {
      notes.push(
        `no gradient-through-time profile for ${skippedRnn.map((s) => s.name).join(', ')} (masked, stateful or given initial states)`,
      );
    }
    const verdict = diagnose(layers, {
      thresholds,
      outputLayers: new Set(plan.steps.filter((_, i) => outputStepIds.has(i)).map((s) => s.name)),
      hasShortcuts: blocks.length > 0,
      recurrent: recurrentProfiles,
      notes,
    });
    const report: ProbeReport = {
      schemaVersion: SCHEMA_VERSION,
      model: {
        name: model.name,
        className: model.getClassName(),
        params: model.trainableWeights.reduce(
          (n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1),
          0,
        ),
        layers: plan.steps.length,
      },
      batchSize,
      loss: at(lossStat),
      lossName: loss.name,
      training,
      backend: tf.getBackend(),
      layers,
      verdict,
      signalPropagation,
      recurrent: recurrentProfiles,
      jacobian,
      notes,
      elapsedMs: 0,
    };
    report.elapsedMs = performance.now() - started;
    return report;
  } finally {
    if (training) {
      stateVars.forEach((v, k) => v.assign(snapshot[k]!));
      tf.dispose(snapshot);
    }
    for (const t of kept) t.dispose();
    if (lossValue) lossValue.dispose();
    tf.dispose(grads.filter((g): g is tf.Tensor => g !== undefined));
  }
}

/** (1/m) tr(J J^T) = E||J^T v||^2 / E||v||^2 for v ~ N(0, I) over the (first) model output. */
function estimateJacobian(
  plan: Plan,
  xs: tf.Tensor[],
  outShape: number[],
  training: boolean,
  projections: number,
  seed: number,
): JacobianReport {
  const x0 = xs[0]!;
  let num = 0;
  let den = 0;
  for (let p = 0; p < projections; p++) {
    const [n, d] = tf.tidy(() => {
      const v = tf.randomNormal(outShape, 0, 1, 'float32', seed + p);
      const g = tf.grad((x: tf.Tensor) =>
        tf.sum(tf.mul(runPlan(plan, [x, ...xs.slice(1)], { training })[0]!, v)),
      )(x0);
      return [sumSq(g).dataSync()[0]!, sumSq(v).dataSync()[0]!];
    });
    num += n;
    den += d;
  }
  return { meanSqSingular: den > 0 ? num / den : 0, projections };
}

/** Per-layer E||J_l^T v||^2 / E||v||^2 for single-input, single-output float layers. */
function layerJacobians(
  plan: Plan,
  xs: tf.Tensor[],
  captures: StepCapture[],
  training: boolean,
  seed: number,
  into: Map<number, number>,
) {
  const byId = new Map<number, tf.Tensor>();
  plan.inputIds.forEach((id, i) => byId.set(id, xs[i]!));
  plan.steps.forEach((s, i) =>
    s.outputIds.forEach((id, j) => {
      const t = captures[i]!.acts?.[j];
      if (t) byId.set(id, t);
    }),
  );
  plan.steps.forEach((step: PlanStep, i) => {
    const out = captures[i]!.acts?.[0];
    if (step.inputIds.length !== 1 || step.outputIds.length !== 1 || !out || out.dtype !== 'float32') return;
    const input = byId.get(step.inputIds[0]!);
    if (!input || input.dtype !== 'float32') return;
    try {
      const value = tf.tidy(() => {
        const v = tf.randomNormal(out.shape, 0, 1, 'float32', seed + 7919 * (i + 1));
        const g = tf.grad((x: tf.Tensor) =>
          tf.sum(tf.mul(step.layer.apply(x, { ...step.callArgs, training }) as tf.Tensor, v)),
        )(input);
        const d = sumSq(v).dataSync()[0]!;
        return d > 0 ? sumSq(g).dataSync()[0]! / d : 0;
      });
      into.set(i, value);
    } catch {
      // The layer's output does not depend on its input (e.g. a constant): no Jacobian to report.
    }
  });
}
