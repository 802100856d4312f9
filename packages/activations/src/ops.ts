import * as tf from '@tensorflow/tfjs';
import { DEFAULT_SEED, Rng } from '@gradflow/core';

/*
 * The activation ops on float32 tensors. Built-in tfjs kernels are used where their values and
 * gradients agree with PyTorch (relu, leaky_relu, prelu, sigmoid, tanh, selu, softplus at its
 * default parameters); `tf.customGrad` where tfjs has no op, where the tfjs gradient differs from
 * PyTorch at a kink (relu6, hard_tanh: PyTorch's gradient is 0 at the clip points, tfjs's is 1),
 * or where the textbook formula loses precision in float32 (gelu's erf tail, mish, softsign).
 * Every op is differentiable with `tf.grad` and leaks no tensors.
 */

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
/** sqrt(2/pi), the constant of the tanh approximation of GELU. */
const GELU_TANH_C = Math.sqrt(2 / Math.PI);
/** SELU's constants (Klambauer et al. 2017), as in PyTorch and tfjs. */
export const SELU_ALPHA = 1.6732632423543772;
export const SELU_SCALE = 1.0507009873554805;

/** 1 where a > b, 0 elsewhere, as float32 (one kernel: Step of the difference). */
function above(a: tf.Tensor, b: number): tf.Tensor {
  return tf.step(b === 0 ? a : tf.sub(a, b));
}

/** 1 where a < b, 0 elsewhere, as float32. */
function below(a: tf.Tensor, b: number): tf.Tensor {
  return tf.step(tf.sub(b, a));
}

/**
 * ReLU6, min(max(x, 0), 6). Gradient 1 on the open interval (0, 6) and 0 at both kinks, like
 * PyTorch (tfjs's built-in relu6 passes the gradient at x = 6).
 */
export function relu6(x: tf.Tensor): tf.Tensor {
  return hardTanh(x, { minVal: 0, maxVal: 6 }, tf.relu6);
}

/**
 * HardTanh, min(max(x, min_val), max_val); gradient 1 strictly inside (PyTorch's convention).
 */
export function hardTanh(
  x: tf.Tensor,
  options: { minVal?: number; maxVal?: number } = {},
  forward?: (x: tf.Tensor) => tf.Tensor,
): tf.Tensor {
  const lo = options.minVal ?? -1;
  const hi = options.maxVal ?? 1;
  const f = tf.customGrad((input, save) => {
    const v = input as tf.Tensor;
    (save as tf.GradSaveFunc)([v]);
    return {
      value: forward ? forward(v) : tf.clipByValue(v, lo, hi),
      gradFunc: (dy: tf.Tensor, [s]: tf.Tensor[]) => tf.mul(dy, tf.mul(above(s!, lo), below(s!, hi))),
    };
  });
  return f(x);
}

/** Hard sigmoid, relu6(x + 3) / 6 (PyTorch and Keras 3; not Keras 2's 0.2x + 0.5). */
export function hardSigmoid(x: tf.Tensor): tf.Tensor {
  const f = tf.customGrad((input, save) => {
    const v = input as tf.Tensor;
    (save as tf.GradSaveFunc)([v]);
    return {
      value: tf.div(tf.clipByValue(tf.add(v, 3), 0, 6), 6),
      gradFunc: (dy: tf.Tensor, [s]: tf.Tensor[]) =>
        tf.mul(tf.div(dy, 6), tf.mul(above(s!, -3), below(s!, 3))),
    };
  });
  return f(x);
}

/**
 * Hard swish, x * relu6(x + 3) / 6 (Howard et al. 2019). Gradient as PyTorch: 0 for x < -3,
 * x/3 + 1/2 for -3 <= x <= 3, 1 above.
 */
export function hardSwish(x: tf.Tensor): tf.Tensor {
  const f = tf.customGrad((input, save) => {
    const v = input as tf.Tensor;
    (save as tf.GradSaveFunc)([v]);
    return {
      value: tf.div(tf.mul(v, tf.clipByValue(tf.add(v, 3), 0, 6)), 6),
      gradFunc: (dy: tf.Tensor, [s]: tf.Tensor[]) => {
        // slope = 0 (x < -3), x/3 + 1/2 (-3 <= x <= 3), 1 (x > 3)
        const inside = tf.mul(tf.add(tf.div(s!, 3), 0.5), tf.cast(tf.greaterEqual(s!, -3), 'float32'));
        const slope = tf.where(tf.greater(s!, 3), tf.onesLike(s!), inside);
        return tf.mul(dy, slope);
      },
    };
  });
  return f(x);
}

/** Softsign, x / (1 + |x|), with the exact derivative 1 / (1 + |x|)^2 (no cancellation). */
export function softsign(x: tf.Tensor): tf.Tensor {
  const f = tf.customGrad((input, save) => {
    const v = input as tf.Tensor;
    const d = tf.add(tf.abs(v), 1);
    (save as tf.GradSaveFunc)([d]);
    return { value: tf.div(v, d), gradFunc: (dy: tf.Tensor, [s]: tf.Tensor[]) => tf.div(dy, tf.square(s!)) };
  });
  return f(x);
}

/**
 * ELU with any alpha (tfjs's `elu` is alpha = 1 only and its layer throws otherwise):
 * x for x > 0, alpha * (exp(x) - 1) otherwise; gradient alpha * exp(x) for x <= 0 (PyTorch).
 */
export function elu(x: tf.Tensor, options: { alpha?: number } = {}): tf.Tensor {
  return eluScaled(x, options.alpha ?? 1, 1, 1);
}

/** CELU, max(0, x) + min(0, alpha * (exp(x / alpha) - 1)) (Barron 2017). */
export function celu(x: tf.Tensor, options: { alpha?: number } = {}): tf.Tensor {
  const alpha = options.alpha ?? 1;
  return eluScaled(x, alpha, 1, 1 / alpha);
}

/** scale * (x > 0 ? x : alpha * expm1(x * inputScale)), PyTorch's `elu` kernel. */
function eluScaled(x: tf.Tensor, alpha: number, scale: number, inputScale: number): tf.Tensor {
  const f = tf.customGrad((input, save) => {
    const v = input as tf.Tensor;
    const scaled = inputScale === 1 ? v : tf.mul(v, inputScale);
    const positive = tf.greater(v, 0);
    const negPart = tf.mul(tf.expm1(scaled), alpha * scale);
    const value = tf.where(positive, scale === 1 ? v : tf.mul(v, scale), negPart);
    (save as tf.GradSaveFunc)([scaled, positive]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, [s, pos]: tf.Tensor[]) =>
        tf.mul(dy, tf.where(pos!, tf.fill(s!.shape, scale), tf.mul(tf.exp(s!), alpha * scale * inputScale))),
    };
  });
  return f(x);
}

/**
 * Softplus, log(1 + exp(beta x)) / beta, reverting to x where beta x > threshold (PyTorch's
 * form). At PyTorch's defaults (beta 1, threshold 20) the tfjs kernel gives the same float32
 * values and gradient sigmoid(x), so it is used; otherwise a custom op with PyTorch's branches.
 */
export function softplus(x: tf.Tensor, options: { beta?: number; threshold?: number } = {}): tf.Tensor {
  const beta = options.beta ?? 1;
  const threshold = options.threshold ?? 20;
  const f = tf.customGrad((input, save) => {
    const v = input as tf.Tensor;
    const bx = beta === 1 ? v : tf.mul(v, beta);
    const linear = tf.greater(bx, threshold);
    // exp overflows to Infinity where `linear` holds; `where` discards those lanes.
    const soft = tf.log1p(tf.exp(tf.minimum(bx, threshold)));
    const value = tf.where(linear, v, beta === 1 ? soft : tf.div(soft, beta));
    (save as tf.GradSaveFunc)([bx, linear]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, [s, lin]: tf.Tensor[]) => tf.where(lin!, dy, tf.mul(dy, tf.sigmoid(s!))),
    };
  });
  return f(x);
}

/** log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)): finite for every finite x; gradient sigmoid(-x). */
export function logSigmoid(x: tf.Tensor): tf.Tensor {
  const f = tf.customGrad((input, save) => {
    const v = input as tf.Tensor;
    (save as tf.GradSaveFunc)([v]);
    return {
      value: tf.sub(tf.minimum(v, 0), tf.log1p(tf.exp(tf.neg(tf.abs(v))))),
      gradFunc: (dy: tf.Tensor, [s]: tf.Tensor[]) => tf.mul(dy, tf.sigmoid(tf.neg(s!))),
    };
  });
  return f(x);
}

/** SiLU / swish, x * sigmoid(x); gradient sigmoid(x) (1 + x sigmoid(-x)), no 1 - sigmoid cancellation. */
export function silu(x: tf.Tensor): tf.Tensor {
  const f = tf.customGrad((input, save) => {
    const v = input as tf.Tensor;
    const s = tf.sigmoid(v);
    (save as tf.GradSaveFunc)([v, s]);
    return {
      value: tf.mul(v, s),
      gradFunc: (dy: tf.Tensor, [xs, ss]: tf.Tensor[]) =>
        tf.mul(dy, tf.mul(ss!, tf.add(tf.mul(xs!, tf.sigmoid(tf.neg(xs!))), 1))),
    };
  });
  return f(x);
}

/**
 * Mish, x * tanh(softplus(x)) (Misra 2019). tanh(softplus(x)) is evaluated as a rational
 * function of t = exp(-|x|), which neither overflows at x = 100 nor cancels at x = -100:
 * x >= 0: (1 + 2t) / (1 + 2t + 2t^2);  x < 0: (t^2 + 2t) / (t^2 + 2t + 2).
 */
export function mish(x: tf.Tensor): tf.Tensor {
  const f = tf.customGrad((input, save) => {
    const v = input as tf.Tensor;
    const t = tf.exp(tf.neg(tf.abs(v)));
    const t2 = tf.mul(t, tf.add(t, 2)); // t^2 + 2t
    const positive = tf.greaterEqual(v, 0);
    // numerator and denominator of tanh(softplus(x)) in each branch
    const num = tf.where(positive, tf.add(tf.mul(t, 2), 1), t2);
    const den = tf.add(t2, tf.where(positive, tf.onesLike(t), tf.fill(t.shape, 2)));
    const th = tf.div(num, den);
    // 1 - th^2 = (den - num)(den + num) / den^2, with den - num exact: 2t^2 or 2
    const diff = tf.where(positive, tf.mul(tf.square(t), 2), tf.fill(t.shape, 2));
    const sech2 = tf.div(tf.mul(diff, tf.add(den, num)), tf.square(den));
    (save as tf.GradSaveFunc)([v, th, sech2]);
    return {
      value: tf.mul(v, th),
      gradFunc: (dy: tf.Tensor, [xs, ths, s2]: tf.Tensor[]) =>
        tf.mul(dy, tf.add(ths!, tf.mul(tf.mul(xs!, tf.sigmoid(xs!)), s2!))),
    };
  });
  return f(x);
}

/**
 * Standard normal CDF Phi(x) and density phi(x) in float32 with relative accuracy in the lower
 * tail (Phi(-10) ~ 7.6e-24 is returned to ~1e-7 relative, where 0.5 (1 + erf(x / sqrt 2)) is 0).
 * erfc uses Numerical Recipes' Chebyshev fit (fractional error < 1.2e-7 everywhere);
 * exp(-x^2/2) is split as exp(-xh^2/2) exp(-xl (x + xh)/2) with xh = x rounded to 1/16, so
 * x^2/2 suffers no float32 rounding.
 */
function normalCdfAndPdf(x: tf.Tensor): { cdf: tf.Tensor; pdf: tf.Tensor } {
  const a = tf.abs(x);
  const xh = tf.div(tf.round(tf.mul(a, 16)), 16);
  const xl = tf.sub(a, xh);
  const gauss = tf.mul(tf.exp(tf.mul(tf.square(xh), -0.5)), tf.exp(tf.mul(tf.mul(xl, tf.add(a, xh)), -0.5)));
  // erfc(z) = t exp(-z^2 + P(t)), z = |x| / sqrt 2, t = 1 / (1 + z / 2)
  const t = tf.div(1, tf.add(tf.mul(a, SQRT1_2 / 2), 1));
  const coefficients = [
    0.17087277, -0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806, 0.09678418, 0.37409196,
    1.00002368, -1.26551223,
  ];
  let poly: tf.Tensor = tf.fill(t.shape, coefficients[0]!);
  for (const c of coefficients.slice(1)) poly = tf.add(tf.mul(poly, t), c);
  const tail = tf.mul(tf.mul(t, tf.exp(poly)), tf.mul(gauss, 0.5)); // Phi(-|x|)
  const cdf = tf.where(tf.less(x, 0), tail, tf.sub(1, tail));
  return { cdf, pdf: tf.mul(gauss, INV_SQRT_2PI) };
}

/** GELU, x * Phi(x) with the exact normal CDF (PyTorch's default `approximate='none'`). */
export function gelu(x: tf.Tensor): tf.Tensor {
  const f = tf.customGrad((input, save) => {
    const v = input as tf.Tensor;
    const { cdf, pdf } = normalCdfAndPdf(v);
    (save as tf.GradSaveFunc)([v, cdf, pdf]);
    return {
      value: tf.mul(v, cdf),
      gradFunc: (dy: tf.Tensor, [xs, c, p]: tf.Tensor[]) => tf.mul(dy, tf.add(c!, tf.mul(xs!, p!))),
    };
  });
  return f(x);
}

/**
 * GELU's tanh approximation, 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (PyTorch's
 * `approximate='tanh'`), computed as x * sigmoid(2u) to avoid the 1 + tanh cancellation for x < 0.
 */
export function geluTanh(x: tf.Tensor): tf.Tensor {
  const f = tf.customGrad((input, save) => {
    const v = input as tf.Tensor;
    const x2 = tf.square(v);
    const u2 = tf.mul(tf.mul(v, tf.add(tf.mul(x2, 0.044715), 1)), 2 * GELU_TANH_C); // 2u
    const s = tf.sigmoid(u2);
    (save as tf.GradSaveFunc)([v, x2, u2, s]);
    return {
      value: tf.mul(v, s),
      gradFunc: (dy: tf.Tensor, [xs, xx, uu, ss]: tf.Tensor[]) => {
        // d/dx x s(2u) = s + x s(2u) s(-2u) 2u',  2u' = 2c (1 + 3 * 0.044715 x^2)
        const du = tf.mul(tf.add(tf.mul(xx!, 3 * 0.044715), 1), 2 * GELU_TANH_C);
        const sn = tf.sigmoid(tf.neg(uu!));
        return tf.mul(dy, tf.add(ss!, tf.mul(tf.mul(xs!, tf.mul(ss!, sn)), du)));
      },
    };
  });
  return f(x);
}

/**
 * RReLU (Xu et al. 2015). Training: each negative element gets its own slope drawn from
 * U(lower, upper) (from `rng`, or a fresh `Rng(seed)`); inference: the mean slope
 * (lower + upper) / 2, as PyTorch.
 */
export function rrelu(
  x: tf.Tensor,
  options: { lower?: number; upper?: number; training?: boolean; rng?: Rng; seed?: number } = {},
): tf.Tensor {
  const lower = options.lower ?? 1 / 8;
  const upper = options.upper ?? 1 / 3;
  if (!options.training) return tf.leakyRelu(x, (lower + upper) / 2);
  const rng = options.rng ?? new Rng(options.seed ?? DEFAULT_SEED);
  const slopes = tf.tensor(
    rng.fill(x.size, (r) => r.uniform(lower, upper)),
    x.shape,
    'float32',
  );
  // prelu's gradient is x > 0 ? dy : slope * dy, PyTorch's noise-times-grad (the slope applies at 0);
  // tfjs keeps its own copy of `slopes` for the backward pass, so ours can go now.
  const y = tf.prelu(x, slopes);
  slopes.dispose();
  return y;
}
