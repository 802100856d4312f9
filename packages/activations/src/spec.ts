import type * as tf from '@tensorflow/tfjs';
import type { Rng } from '@gradflow/core';

/** A numeric parameter of an activation, with its default and accepted range. */
export interface NumberParamSpec {
  readonly type: 'number';
  readonly default: number;
  /** Lower bound (inclusive unless `minExclusive`). */
  readonly min?: number;
  readonly minExclusive?: boolean;
  readonly max?: number;
  readonly doc: string;
}

/** A boolean switch of an activation (e.g. PReLU's `per_channel`). */
export interface BooleanParamSpec {
  readonly type: 'boolean';
  readonly default: boolean;
  readonly doc: string;
}

/** The declaration of one activation parameter: a number with a range, or a boolean switch. */
export type ParamSpec = NumberParamSpec | BooleanParamSpec;

/** Resolved parameter values of one activation: every declared parameter, defaults filled in. */
export type ActivationParams = Readonly<Record<string, number | boolean>>;

/** Where f' goes to 0 as |x| grows: on both sides, on one side, or nowhere. */
export type Saturation = 'both' | 'one' | 'none';

/** Per-call context of an op. */
export interface OpContext {
  /** Training mode (only RReLU behaves differently). */
  readonly training: boolean;
  /** Source of RReLU's random slopes in training mode. */
  readonly rng?: Rng;
  /** PReLU's slope as a tensor (the layer's learnable weight); the `init` parameter otherwise. */
  readonly alpha?: tf.Tensor;
}

/**
 * Recommended initialisation gain. `pytorch`: the value of `torch.nn.init.calculate_gain`.
 * `he2015`: He et al. (2015) §2.2, the leaky-ReLU formula sqrt(2/(1+a^2)) at the (initial or
 * mean) negative slope a, which PyTorch does not tabulate for PReLU / RReLU.
 * `second_moment`: 1/sqrt(E[f(z)^2]) for z ~ N(0, 1), computed numerically, the gain that keeps
 * the second moment of pre-activations at 1 through a fan-in-scaled layer (it gives sqrt 2 for
 * ReLU, agreeing with PyTorch where both exist).
 */
export type GainRule =
  | { readonly source: 'pytorch' | 'he2015'; readonly value: (p: ActivationParams) => number }
  | { readonly source: 'second_moment' };

/** Everything gradflow knows about one activation; one entry of `ACTIVATIONS`. */
export interface ActivationSpec {
  /** Human-readable formula of f (plain text / unicode, for docs). */
  readonly formula: string;
  /** Formula of f'. */
  readonly derivative: string;
  readonly params: Readonly<Record<string, ParamSpec>>;
  /** The op on float32 tensors (differentiable; gradients match PyTorch, including at kinks). */
  readonly op: (x: tf.Tensor, p: ActivationParams, ctx: OpContext) => tf.Tensor;
  /** The closest tfjs built-in (op or tfjs-layers activation), for benchmarks; absent if none. */
  readonly builtin?: {
    readonly label: string;
    readonly op: (x: tf.Tensor, p: ActivationParams) => tf.Tensor;
  };
  /** f in float64 on numbers (inference mode), used for metadata integrals and docs. */
  readonly f64: (x: number, p: ActivationParams) => number;
  /** f' in float64 on numbers, with PyTorch's one-sided choice at kinks. */
  readonly df64: (x: number, p: ActivationParams) => number;
  /** sup |f'(x)| over x: exact closed form, or `numeric` (maximised from `df64`). */
  readonly supDerivative: number | ((p: ActivationParams) => number) | 'numeric';
  readonly saturates: Saturation;
  /** Outputs centred on zero for zero-mean inputs (odd f, or SELU's self-normalisation). */
  readonly zeroCentred: boolean;
  readonly gain: GainRule;
  /** Checks between parameters (e.g. min_val < max_val); single-parameter ranges live in `params`. */
  readonly check?: (p: ActivationParams) => void;
  /** Other names that resolve to this entry (`swish` for `silu`). */
  readonly aliases?: readonly string[];
  /** Has a learnable weight when used as a layer (PReLU). */
  readonly learnable?: boolean;
  /** Random in training mode (RReLU). */
  readonly stochastic?: boolean;
  /** One line for the docs table. */
  readonly summary: string;
}
