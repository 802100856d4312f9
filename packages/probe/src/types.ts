/**
 * The report types. `ProbeReport` is what `probe()` returns; `toJSON()` serialises it under
 * `SCHEMA_VERSION` (see README "JSON schema").
 */

/** Version of the JSON document written by `toJSON()`; bumped on any breaking change. */
export const SCHEMA_VERSION = 1;

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

export interface ActivationStats {
  kind: ActivationKind;
  /** Name of the nonlinearity as found (`'sigmoid'`, `'ReLU'`, ...), or null. */
  activation: string | null;
  mean: number;
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

export interface WeightStats {
  name: string;
  shape: number[];
  /** L2 norm of the weight. */
  norm: number;
  /** L2 norm of d loss / d weight (null when the loss does not depend on it). */
  gradNorm: number | null;
}

export interface NonFiniteCounts {
  weights: number;
  weightGrads: number;
  activations: number;
  outputGrads: number;
}

export interface LayerReport {
  /** Layer name; `name@k` for the k-th (k >= 1) call of a shared layer. */
  name: string;
  className: string;
  /** Position in `model.layers`. */
  index: number;
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
  activation: ActivationStats | null;
  /** L2 norm of d loss / d output of this layer: the back-propagated signal. */
  outputGradNorm: number | null;
  /** outputGradNorm / sqrt(output size). */
  outputGradRms: number | null;
  nonFinite: NonFiniteCounts;
  /** Mean squared singular value of the layer's Jacobian (d output / d input), when requested. */
  jacobianMeanSqSingular: number | null;
}

export interface Evidence {
  /** What the number is, e.g. `'backprop signal ratio input/output side'`. */
  metric: string;
  value: number;
  threshold: number | null;
  layer: string | null;
}

export interface Verdict {
  status: ProbeStatus;
  /** Layer (in model order) where the problem shows first; null for `healthy`. */
  firstBadLayer: string | null;
  /** One sentence for humans. */
  summary: string;
  evidence: Evidence[];
  /** Concrete cures, in this project's terms. */
  advice: string[];
}

export interface SignalPropagationBlock {
  /** Name of the `Add` layer that sums the shortcut and the residual branch. */
  block: string;
  /** Name of the layer whose output is the residual branch (the Add input on the longer path). */
  branch: string;
  /** Name of the layer whose output is the block input (the two paths' common source), or 'input'. */
  blockInput: string;
  shortcut: 'identity' | 'projection';
  /** Average over channels of the squared channel mean of the block output. */
  avgChannelSquaredMean: number;
  /** Average over channels of the channel variance of the block output. */
  avgChannelVariance: number;
  /** Average channel variance of the residual branch output (before the sum). */
  residualVariance: number;
}

export interface RecurrentProfile {
  layer: string;
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

export interface JacobianReport {
  /** Mean squared singular value of d outputs / d inputs, (1/m) tr(J J^T), Hutchinson estimate. */
  meanSqSingular: number;
  projections: number;
}

export interface ProbeReport {
  schemaVersion: typeof SCHEMA_VERSION;
  model: { name: string; className: string; params: number; layers: number };
  batchSize: number;
  loss: number;
  /** Which loss was used: a registry name, `'compiled'` or `'custom'`. */
  lossName: string;
  training: boolean;
  backend: string;
  layers: LayerReport[];
  verdict: Verdict;
  signalPropagation: SignalPropagationBlock[];
  recurrent: RecurrentProfile[];
  jacobian: JacobianReport | null;
  /** Caveats about this run (e.g. BatchNorm evaluated with moving statistics). */
  notes: string[];
  /** Milliseconds spent in probe(). */
  elapsedMs: number;
}
