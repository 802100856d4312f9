import * as tf from '@tensorflow/tfjs';
import { UnsupportedError } from '@gradflow/core';

/*
 * A small executor for the layer graph of any tf.LayersModel (Sequential or functional),
 * mirroring tfjs-layers' own `Container.runInternalGraph` / training `execute()`: it visits the
 * model's nodes by decreasing depth and calls `layer.apply(inputs, {training, mask, ...callArgs})`
 * on concrete tensors, exactly as `model.fit` does. The difference is a callback on every node's
 * outputs, which the probe uses to keep each activation and to wrap it in a gradient hook.
 *
 * It reads three properties tfjs-layers keeps on every LayersModel (`nodesByDepth`, and on
 * nodes `inputTensors` / `outputTensors` / `callArgs`); they are typed locally below because
 * the public typings mark them internal.
 */

export interface SymbolicLike {
  id: number;
  name: string;
  shape: (number | null)[];
  sourceLayer: tf.layers.Layer;
}

interface NodeLike {
  outboundLayer: tf.layers.Layer;
  inputTensors: SymbolicLike[];
  outputTensors: SymbolicLike[];
  callArgs?: Record<string, unknown> | null;
}

interface ContainerLike {
  nodesByDepth?: Record<string, NodeLike[]>;
  inputs: SymbolicLike[];
  outputs: SymbolicLike[];
  layers: tf.layers.Layer[];
}

export interface PlanStep {
  layer: tf.layers.Layer;
  /** Position of the layer in `model.layers`. */
  layerIndex: number;
  /** Report name: the layer name, `name@k` for the k-th call of a shared layer. */
  name: string;
  inputIds: number[];
  outputIds: number[];
  callArgs: Record<string, unknown>;
  outputShapes: (number | null)[][];
}

export interface Plan {
  /** Steps in execution (topological) order. */
  steps: PlanStep[];
  inputIds: number[];
  outputIds: number[];
  /** Producer step index of each symbolic tensor id (-1 for model inputs). */
  producer: Map<number, number>;
}

const plans = new WeakMap<tf.LayersModel, Plan>();

/** The execution plan of `model` (cached per model object). */
export function planOf(model: tf.LayersModel): Plan {
  const cached = plans.get(model);
  if (cached) return cached;
  const container = model as unknown as ContainerLike & {
    model?: unknown;
    build?: (shape?: unknown) => void;
  };
  // tf.Sequential creates its inner graph lazily (on compile / predict / fit); do what they do.
  if (model.getClassName() === 'Sequential' && container.model == null && container.inputs.length > 0) {
    container.build?.();
  }
  const byDepth = container.nodesByDepth;
  if (
    !byDepth ||
    Object.keys(byDepth).length === 0 ||
    !Array.isArray(container.inputs) ||
    container.inputs.length === 0
  ) {
    throw new UnsupportedError(
      `model '${model.name}' has no layer graph yet (build it: call it on an input or give the first layer an inputShape)`,
      { value: model.name },
    );
  }
  const depths = Object.keys(byDepth)
    .map((d) => Number.parseInt(d, 10))
    .sort((a, b) => b - a);
  const layerIndex = new Map<tf.layers.Layer, number>();
  container.layers.forEach((l, i) => layerIndex.set(l, i));
  const calls = new Map<tf.layers.Layer, number>();
  const steps: PlanStep[] = [];
  const producer = new Map<number, number>();
  const inputIds = container.inputs.map((t) => t.id);
  for (const id of inputIds) producer.set(id, -1);
  for (const depth of depths) {
    for (const node of byDepth[String(depth)] ?? []) {
      const layer = node.outboundLayer;
      if (layer.getClassName() === 'InputLayer') continue;
      const k = calls.get(layer) ?? 0;
      calls.set(layer, k + 1);
      const index = steps.length;
      steps.push({
        layer,
        layerIndex: layerIndex.get(layer) ?? -1,
        name: k === 0 ? layer.name : `${layer.name}@${k}`,
        inputIds: node.inputTensors.map((t) => t.id),
        outputIds: node.outputTensors.map((t) => t.id),
        callArgs: { ...(node.callArgs ?? {}) },
        outputShapes: node.outputTensors.map((t) => [...t.shape]),
      });
      for (const t of node.outputTensors) producer.set(t.id, index);
    }
  }
  const plan: Plan = { steps, inputIds, outputIds: container.outputs.map((t) => t.id), producer };
  plans.set(model, plan);
  return plan;
}

export interface RnnLike extends tf.layers.Layer {
  cell: tf.layers.Layer & {
    call(inputs: tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor[];
    dropoutMask?: tf.Tensor | tf.Tensor[] | null;
    recurrentDropoutMask?: tf.Tensor | tf.Tensor[] | null;
  };
  returnSequences: boolean;
  returnState: boolean;
  goBackwards: boolean;
  stateful: boolean;
  getInitialState(inputs: tf.Tensor): tf.Tensor[];
}

export function isRnn(layer: tf.layers.Layer): layer is RnnLike {
  const l = layer as Partial<RnnLike>;
  return (
    typeof l.cell === 'object' &&
    l.cell !== null &&
    typeof (l.cell as { call?: unknown }).call === 'function' &&
    typeof l.returnSequences === 'boolean' &&
    typeof l.getInitialState === 'function'
  );
}

export interface RunOptions {
  training: boolean;
  /** Called with each step's outputs; returns the tensors downstream layers should consume. */
  onOutputs?: (step: PlanStep, index: number, outputs: tf.Tensor[]) => tf.Tensor[];
  /**
   * Called for each time step of an unrolled recurrent layer with the hidden state h_t (and
   * the step output when it is a different tensor); returns what the recurrence continues with.
   * When given, recurrent layers without masks or initial states are unrolled here.
   */
  onHiddenState?: (step: PlanStep, index: number, t: number, h: tf.Tensor) => tf.Tensor;
}

function clearDropoutMasks(cell: RnnLike['cell']): void {
  for (const key of ['dropoutMask', 'recurrentDropoutMask'] as const) {
    const m = cell[key];
    if (m != null) {
      tf.dispose(m);
      cell[key] = null;
    }
  }
}

/**
 * The recurrence of a tf.layers RNN written out step by step (as tfjs-layers' `rnn()` does, with
 * no mask), so that every hidden state h_t passes through `hook`.
 */
function unrollRnn(
  layer: RnnLike,
  x: tf.Tensor,
  training: boolean,
  hook: (t: number, h: tf.Tensor) => tf.Tensor,
): tf.Tensor[] {
  clearDropoutMasks(layer.cell);
  const steps = x.shape[1] ?? 0;
  const perStep = tf.unstack(x, 1);
  let states = layer.getInitialState(x);
  const outputs: tf.Tensor[] = [];
  let last: tf.Tensor | undefined;
  for (let k = 0; k < steps; k++) {
    const t = layer.goBackwards ? steps - 1 - k : k;
    const res = layer.cell.call([perStep[t]!, ...states], { training }) as tf.Tensor[];
    const out = res[0]!;
    const next = res.slice(1);
    const hooked = hook(t, out);
    if (next[0] === out) next[0] = hooked;
    else if (next[0] !== undefined) next[0] = hook(t, next[0]);
    last = hooked;
    states = next;
    outputs.push(hooked);
  }
  if (last === undefined)
    throw new UnsupportedError(`recurrent layer '${layer.name}' got a sequence of length 0`);
  const output = layer.returnSequences ? tf.stack(outputs, 1) : last;
  return layer.returnState ? [output, ...states] : [output];
}

/** Runs the plan on concrete `inputs`; returns the model outputs. */
export function runPlan(plan: Plan, inputs: tf.Tensor[], options: RunOptions): tf.Tensor[] {
  const values = new Map<number, { value: tf.Tensor; mask: tf.Tensor | null }>();
  plan.inputIds.forEach((id, i) => values.set(id, { value: inputs[i]!, mask: null }));
  plan.steps.forEach((step, index) => {
    const got = step.inputIds.map((id) => values.get(id));
    if (got.some((g) => g === undefined)) {
      throw new UnsupportedError(
        `layer '${step.name}' needs a tensor the model does not compute from its inputs`,
      );
    }
    const ins = got.map((g) => g!.value);
    const masks = got.map((g) => g!.mask);
    const anyMask = masks.some((m) => m !== null);
    const kwargs: Record<string, unknown> = { ...step.callArgs, training: options.training };
    if (anyMask && kwargs.mask == null) kwargs.mask = ins.length === 1 ? masks[0] : masks;
    const layer = step.layer;
    const inputArg = ins.length === 1 ? ins[0]! : ins;
    let outs: tf.Tensor[];
    if (
      options.onHiddenState &&
      isRnn(layer) &&
      !layer.stateful &&
      ins.length === 1 &&
      !anyMask &&
      kwargs.initialState == null &&
      kwargs.mask == null
    ) {
      const hook = options.onHiddenState;
      outs = unrollRnn(layer, ins[0]!, options.training, (t, h) => hook(step, index, t, h));
    } else {
      const res = layer.apply(inputArg, kwargs) as tf.Tensor | tf.Tensor[];
      outs = Array.isArray(res) ? res : [res];
    }
    let outMasks: (tf.Tensor | null)[] = [];
    if (layer.supportsMasking || anyMask) {
      const m = layer.computeMask(
        inputArg,
        anyMask ? (ins.length === 1 ? masks[0]! : (masks as tf.Tensor[])) : undefined,
      );
      outMasks = Array.isArray(m) ? m : [m ?? null];
    }
    const consumed = options.onOutputs ? options.onOutputs(step, index, outs) : outs;
    step.outputIds.forEach((id, i) => values.set(id, { value: consumed[i]!, mask: outMasks[i] ?? null }));
  });
  return plan.outputIds.map((id) => {
    const v = values.get(id);
    if (!v) throw new UnsupportedError('model output was not computed from the model inputs');
    return v.value;
  });
}

/**
 * A new tensor handle on the same data (a reshape to the same shape: every backend shares the
 * storage and counts a reference, where `tf.clone` copies the data on wasm). The data of tfjs
 * tensors is immutable, so the alias outlives the disposal of `t` unchanged.
 */
export function alias<T extends tf.Tensor>(t: T): T {
  return tf.reshape(t, t.shape) as T;
}

/**
 * An identity whose gradient is reported to `capture` (the JS analogue of PyTorch's
 * `tensor.register_hook`): the backward pass hands it d loss / d x, accumulated over every
 * consumer of x, and it passes that gradient on unchanged.
 */
export function gradientHook(x: tf.Tensor, capture: (dy: tf.Tensor) => void): tf.Tensor {
  const f = tf.customGrad((...args: unknown[]) => ({
    value: alias(args[0] as tf.Tensor),
    gradFunc: (dy: tf.Tensor) => {
      capture(dy);
      return dy;
    },
  }));
  return f(x as tf.Tensor) as tf.Tensor;
}
