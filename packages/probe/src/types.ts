/**
 * The report types. `ProbeReport` is what `probe()` returns; `toJSON()` serialises it under
 * `SCHEMA_VERSION` (see README "JSON schema").
 */

/**
 * Version of the JSON document written by `toJSON()`; bumped on any breaking change.
 *
 * @example
 * ```ts
 * // fromJSON refuses documents of another version with an UnsupportedError.
 * let message = '';
 * try {
 *   fromJSON(JSON.stringify({ schemaVersion: SCHEMA_VERSION + 1 }));
 * } catch (e) {
 *   message = (e as Error).message;
 * }
 * if (!message.includes(`reads ${SCHEMA_VERSION}`)) throw new Error(message);
 * ```
 */
export const SCHEMA_VERSION = 1;

/** The verdict: the first of nonfinite, exploding, dead, saturated, vanishing that applies, else healthy. */
export type ProbeStatus = 'healthy' | 'vanishing' | 'exploding' | 'saturated' | 'dead' | 'nonfinite';

/** How the probe reads a layer's output: which failure its nonlinearity can have. */
export type ActivationKind =
  /** sigmoid-like: bounded in [0, 1], f' -> 0 at both ends (sigmoid, hard_sigmoid). */
  | 'sigmoid'
  /** tanh-like: bounded in [-1, 1], f' -> 0 at both ends (tanh, softsign). */
  | 'tanh'
  /** ReLU-like: exactly zero (and zero gradient) on a half line: can die (relu, relu6). */
  | 'relu'
  /** anything else (linear, softmax, elu, gelu, the output of a norm or a sum, ...). */
  | 'other';

/** Forward statistics of one layer's output. */
export interface ActivationStats {
  /** How the output was read (which failure it can have). */
  kind: ActivationKind;
  /** Name of the nonlinearity as found (`'sigmoid'`, `'ReLU'`, ...), or null. */
  activation: string | null;
  /** Mean of the output over the batch. */
  mean: number;
  /** Standard deviation of the output over the batch. */
  std: number;
  /** sqrt(mean of squares): the forward signal's scale. */
  rms: number;
  /**
   * Fraction of elements whose local derivative is below `saturationDerivativeRatio` times its
   * maximum (sigmoid- and tanh-like outputs only; null otherwise).
   */
  saturatedFraction: number | null;
  /**
   * Fraction of units (channels: the last axis) that are zero for every example of the batch
   * and every spatial / time position (ReLU-like outputs only; null otherwise).
   */
  deadFraction: number | null;
  /** Values per unit behind `deadFraction`: batch size times positions (output size / channels). */
  samplesPerUnit: number;
}

/** Statistics of one weight tensor of a layer. */
export interface WeightStats {
  /** The weight's name (e.g. `dense_1/kernel`). */
  name: string;
  /** The weight's shape. */
  shape: number[];
  /** L2 norm of the weight. */
  norm: number;
  /** L2 norm of d loss / d weight (null when the loss does not depend on it). */
  gradNorm: number | null;
}

/** Number of NaN / ±Infinity elements found in a layer's tensors. */
export interface NonFiniteCounts {
  /** In its weights. */
  weights: number;
  /** In the gradients of its weights. */
  weightGrads: number;
  /** In its output. */
  activations: number;
  /** In d loss / d output. */
  outputGrads: number;
}

/** Everything the probe measured on one layer (one call of a shared layer). */
export interface LayerReport {
  /** Layer name; `name@k` for the k-th (k >= 1) call of a shared layer. */
  name: string;
  /** The layer's class name (`Dense`, `Conv2D`, ...). */
  className: string;
  /** Position in `model.layers`. */
  index: number;
  /** Output shape on the probed batch. */
  outputShape: number[];
  /** Number of trainable parameters. */
  params: number;
  /** L2 norm of the gradient of all trainable weights of the layer (null: none). */
  gradNorm: number | null;
  /** gradNorm / sqrt(params). */
  gradRms: number | null;
  /** L2 norm of all trainable weights. */
  weightNorm: number | null;
  /** gradNorm / weightNorm: an SGD step of learning rate lr changes the weights by lr times this. */
  gradToWeight: number | null;
  /** lr * gradNorm / weightNorm when a learning rate is known (options or the compiled SGD). */
  updateToWeight: number | null;
  /** Per-weight detail (kernel, bias, ...). */
  weights: WeightStats[];
  /** Forward statistics of the output (null when the output was not a float tensor). */
  activation: ActivationStats | null;
  /** L2 norm of d loss / d output of this layer: the back-propagated signal. */
  outputGradNorm: number | null;
  /** outputGradNorm / sqrt(output size). */
  outputGradRms: number | null;
  /** NaN / Infinity counts. */
  nonFinite: NonFiniteCounts;
  /** Mean squared singular value of the layer's Jacobian (d output / d input), when requested. */
  jacobianMeanSqSingular: number | null;
}

/** One number behind a verdict, with the threshold it was compared to. */
export interface Evidence {
  /** What the number is, e.g. `'backprop signal ratio input/output side'`. */
  metric: string;
  /** The measured value. */
  value: number;
  /** The threshold it crossed (or was compared to), if any. */
  threshold: number | null;
  /** The layer it was measured on, if any. */
  layer: string | null;
}

/** The diagnosis of a report: a status, where it shows first, why, and what to do. */
export interface Verdict {
  /** The status (see {@link ProbeStatus}). */
  status: ProbeStatus;
  /** Layer (in model order) where the problem shows first; null for `healthy`. */
  firstBadLayer: string | null;
  /** One sentence for humans. */
  summary: string;
  /** The numbers behind the status. */
  evidence: Evidence[];
  /** Concrete cures, in this project's terms. */
  advice: string[];
}

/** Signal-propagation statistics of one residual block (De & Smith 2020's plot). */
export interface SignalPropagationBlock {
  /** Name of the `Add` layer that sums the shortcut and the residual branch. */
  block: string;
  /** Name of the layer whose output is the residual branch (the Add input on the longer path). */
  branch: string;
  /** Name of the layer whose output is the block input (the two paths' common source), or 'input'. */
  blockInput: string;
  /** Identity shortcut, or a projection (conv, pooling, ...). */
  shortcut: 'identity' | 'projection';
  /** Average over channels of the squared channel mean of the block output. */
  avgChannelSquaredMean: number;
  /** Average over channels of the channel variance of the block output. */
  avgChannelVariance: number;
  /** Average channel variance of the residual branch output (before the sum). */
  residualVariance: number;
}

/** How the gradient of a recurrent layer's hidden state changes over time. */
export interface RecurrentProfile {
  /** The layer's name. */
  layer: string;
  /** Its class name (`SimpleRNN`, `GRU`, `LSTM`, ...). */
  className: string;
  /** |d loss / d h_t| (L2 over batch and units) for t = 0..T-1, in input time order. */
  gradNorms: number[];
  /** The layer runs over the sequence in reverse (t = T-1 first). */
  goBackwards: boolean;
  /**
   * |dL/dh| at the first processed step over that at the last processed step (gradNorms[0] /
   * gradNorms[T-1], reversed for goBackwards): < 1 means the signal fades going back in time.
   */
  firstToLast: number;
}

/** The end-to-end input-output Jacobian estimate (`jacobian` option of `probe`). */
export interface JacobianReport {
  /** Mean squared singular value of d outputs / d inputs, (1/m) tr(J J^T), Hutchinson estimate. */
  meanSqSingular: number;
  /** Number of random projections averaged. */
  projections: number;
}

/** What `probe()` returns: per-layer statistics, the verdict and the optional analyses. */
export interface ProbeReport {
  /** {@link SCHEMA_VERSION} of the JSON form. */
  schemaVersion: typeof SCHEMA_VERSION;
  /** The probed model: name, class, trainable parameters, number of layers. */
  model: { name: string; className: string; params: number; layers: number };
  /** Examples in the probed batch. */
  batchSize: number;
  /** Loss on the batch (mean, plus regularization unless disabled). */
  loss: number;
  /** Which loss was used: a registry name, `'compiled'` or `'custom'`. */
  lossName: string;
  /** Whether the forward pass ran in training mode. */
  training: boolean;
  /** The tfjs backend it ran on. */
  backend: string;
  /** One report per layer call, in execution order. */
  layers: LayerReport[];
  /** The diagnosis. */
  verdict: Verdict;
  /** Per residual block (empty without `Add` shortcuts). */
  signalPropagation: SignalPropagationBlock[];
  /** Per recurrent layer (empty without them, or with `recurrent: false`). */
  recurrent: RecurrentProfile[];
  /** The Jacobian estimate, when requested. */
  jacobian: JacobianReport | null;
  /** Caveats about this run (e.g. BatchNorm evaluated with moving statistics). */
  notes: string[];
  /** Milliseconds spent in probe(). */
  elapsedMs: number;
}
