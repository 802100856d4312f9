import * as tf from '@tensorflow/tfjs';
import { DEFAULT_SEED, Rng } from '@gradflow/core';

/*
 * The activation ops on float32 tensors, differentiable with `tf.grad`, leaking no tensors.
 *
 * Two constraints shape them:
 * 1. Values and gradients match PyTorch, including at kinks (PyTorch's relu6 / hardtanh
 *    gradient is 0 at the clip points, tfjs's is 1) and in the tails (0.5 (1 + erf(x/√2)) is 0
 *    below x = -5.5 in float32; tfjs-wasm's Log1p is log(1 + x), 0 for x < 6e-8).
 * 2. Speed on tfjs-wasm, where only some kernels are vectorised (XNNPack): add, sub, mul, div,
 *    square, abs, neg, relu, elu, sigmoid, step, round, clip take ~10-30 µs per 64k elements,
 *    while exp, expm1, tanh, softplus, erf, leakyRelu, comparisons (greater, ...) and select
 *    (`where`) are scalar loops, 10-100x slower. So masks are `tf.step` (x > 0 ? 1 : alpha),
 *    selections are blends m·a + (1 - m)·b with finite a and b, and exp(-a) for a >= 0 is
 *    s / (1 - s), s = sigmoid(-a) (exact identity, fast kernels, relative error of a few ulps).
 * 3. Dispatch cost on small tensors: every kernel costs ~2 µs on wasm whatever its size (plus
 *    ~1 µs per scalar constant), so at ~1k elements speed is the kernel count, forward and
 *    backward. Ops are a `tf.customGrad` (its forward records nothing on the tape; each tensor
 *    it saves costs one clone) whose backward is as few kernels as possible, or one built-in.
 * Built-in tfjs ops are used where they already satisfy both (relu, sigmoid, elu with alpha 1,
 * softplus at PyTorch's defaults).
 */

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
/** sqrt(2/pi), the constant of the tanh approximation of GELU. */
const GELU_TANH_C = Math.sqrt(2 / Math.PI);
/**
 * SELU's α (Klambauer et al. 2017), as in PyTorch and tfjs: selu(x) = λ α (e^x − 1) for x <= 0.
 *
 * @example
 * ```ts
 * // sup |selu'| is reached as x -> 0 from below: λ α ≈ 1.7581
 * const bound = SELU_SCALE * SELU_ALPHA;
 * if (Math.abs(supDerivative('selu') - bound) > 1e-9) throw new Error('unexpected');
 * ```
 */
export const SELU_ALPHA = 1.6732632423543772;
/**
 * SELU's scale λ (Klambauer et al. 2017), as in PyTorch and tfjs: selu(x) = λ x for x > 0.
 *
 * @example
 * ```ts
 * const x = tf.tensor1d([2]);
 * const y = selu(x); // [2 λ] = [2.1014]
 * tf.test_util.expectArraysClose(y.dataSync(), [2 * SELU_SCALE]);
 * tf.dispose([x, y]);
 * ```
 */
export const SELU_SCALE = 1.0507009873554805;

/** 1 where a > b, 0 elsewhere, as float32 (one kernel: Step of the difference). */
function above(a: tf.Tensor, b: number): tf.Tensor {
  return tf.step(b === 0 ? a : tf.sub(a, b));
}

/** 1 where a < b, 0 elsewhere, as float32. */
function below(a: tf.Tensor, b: number): tf.Tensor {
  return tf.step(tf.sub(b, a));
}

/** m·a + (1 - m)·b for a 0/1 mask m: exactly a or b (for finite a and b). */
function blend(m: tf.Tensor, a: tf.Tensor | number, b: tf.Tensor): tf.Tensor {
  return tf.add(tf.mul(m, a), tf.mul(tf.sub(1, m), b));
}

/**
 * Leaky ReLU, x for x > 0 and slope·x otherwise; gradient slope at 0 (PyTorch). Computed as
 * x · step(x, slope), one vectorised kernel each way (tfjs-wasm's LeakyRelu is a scalar loop).
 * Default slope 0.01 (PyTorch's `negative_slope`; tfjs's default is 0.2).
 *
 * @example
 * ```ts
 * const x = tf.tensor1d([-2, 0, 3]);
 * const y = leakyRelu(x, { slope: 0.1 }); // [-0.2, 0, 3]
 * const g = tf.grad((v: tf.Tensor) => leakyRelu(v, { slope: 0.1 }))(x); // [0.1, 0.1, 1]: slope at 0
 * tf.test_util.expectArraysClose(y.dataSync(), [-0.2, 0, 3]);
 * tf.test_util.expectArraysClose(g.dataSync(), [0.1, 0.1, 1]);
 * tf.dispose([x, y, g]);
 * ```
 */
export function leakyRelu(x: tf.Tensor, options: { slope?: number } = {}): tf.Tensor {
  const slope = options.slope ?? 0.01;
  const f = tf.customGrad((input, save) => {
    const v = input as tf.Tensor;
    const factor = tf.step(v, slope);
    (save as tf.GradSaveFunc)([factor]);
    return { value: tf.mul(v, factor), gradFunc: (dy: tf.Tensor, [s]: tf.Tensor[]) => tf.mul(dy, s!) };
  });
  return f(x);
}

/**
 * PReLU with a slope tensor `alpha` broadcast against x (shape [1] shared, or [channels]):
 * relu(x) + alpha · (x - relu(x)), exact on both sides; gradients reach x and alpha, with
 * PyTorch's slope alpha at x = 0.
 *
 * @example
 * ```ts
 * const x = tf.tensor2d([[-2, 3], [-1, -4]]);
 * const alpha = tf.tensor1d([0.25, 0.5]); // one slope per channel (last axis)
 * const y = prelu(x, alpha); // [[-0.5, 3], [-0.25, -2]]
 * tf.test_util.expectArraysClose(y.dataSync(), [-0.5, 3, -0.25, -2]);
 * tf.dispose([x, alpha, y]);
 * ```
 */
export function prelu(x: tf.Tensor, alpha: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const r = tf.relu(x);
    return tf.add(r, tf.mul(alpha, tf.sub(x, r)));
  });
}

/**
 * ReLU6, min(max(x, 0), 6). Gradient 1 on the open interval (0, 6) and 0 at both kinks, like
 * PyTorch (tfjs's built-in relu6 passes the gradient at x = 6).
 *
 * @example
 * ```ts
 * const x = tf.tensor1d([-1, 3, 6, 8]);
 * const y = relu6(x); // [0, 3, 6, 6]
 * const g = tf.grad((v: tf.Tensor) => relu6(v))(x); // [0, 1, 0, 0]
 * tf.test_util.expectArraysClose(y.dataSync(), [0, 3, 6, 6]);
 * tf.test_util.expectArraysClose(g.dataSync(), [0, 1, 0, 0]);
 * tf.dispose([x, y, g]);
 * ```
 */
export function relu6(x: tf.Tensor): tf.Tensor {
  return clip(x, 0, 6, tf.relu6);
}

/**
 * HardTanh, min(max(x, min_val), max_val); gradient 1 strictly inside (PyTorch's convention).
 * Defaults [-1, 1].
 *
 * @example
 * ```ts
 * const x = tf.tensor1d([-3, 0.5, 3]);
 * const y = hardTanh(x); // [-1, 0.5, 1]
 * const z = hardTanh(x, { minVal: 0, maxVal: 2 }); // [0, 0.5, 2]
 * tf.test_util.expectArraysClose(y.dataSync(), [-1, 0.5, 1]);
 * tf.test_util.expectArraysClose(z.dataSync(), [0, 0.5, 2]);
 * tf.dispose([x, y, z]);
 * ```
 */
export function hardTanh(x: tf.Tensor, options: { minVal?: number; maxVal?: number } = {}): tf.Tensor {
  const lo = options.minVal ?? -1;
  const hi = options.maxVal ?? 1;
  return clip(x, lo, hi, (v) => tf.clipByValue(v, lo, hi));
}

/** `forward` (a clip to [lo, hi]) with gradient 1 on the open interval (lo, hi) and 0 elsewhere. */
function clip(x: tf.Tensor, lo: number, hi: number, forward: (x: tf.Tensor) => tf.Tensor): tf.Tensor {
  const f = tf.customGrad((input, save) => {
    const v = input as tf.Tensor;
    (save as tf.GradSaveFunc)([v]);
    return {
      value: forward(v),
      gradFunc: (dy: tf.Tensor, [s]: tf.Tensor[]) => tf.mul(dy, tf.mul(above(s!, lo), below(s!, hi))),
    };
  });
  return f(x);
}

/**
 * Hard sigmoid, relu6(x + 3) / 6 (PyTorch and Keras 3; not Keras 2's 0.2x + 0.5).
 *
 * @example
 * ```ts
 * const x = tf.tensor1d([-4, 0, 1.5, 4]);
 * const y = hardSigmoid(x); // [0, 0.5, 0.75, 1]
 * tf.test_util.expectArraysClose(y.dataSync(), [0, 0.5, 0.75, 1]);
 * tf.dispose([x, y]);
 * ```
 */
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
 * Hard swish, x * relu6(x + 3) / 6 (Howard et al. 2019). Gradient as PyTorch's vectorised CPU
 * kernel (which handles all but the last few elements of a tensor): 0 for x < -3, x/3 + 1/2 for
 * -3 <= x < 3, 1 for x >= 3. (PyTorch 1.13's scalar tail loop gives 3/2 at exactly x = 3.)
 *
 * @example
 * ```ts
 * const x = tf.tensor1d([-4, 1, 4]);
 * const y = hardSwish(x); // [0, 0.6667, 4]
 * tf.test_util.expectArraysClose(y.dataSync(), [0, 4 / 6, 4]);
 * tf.dispose([x, y]);
 * ```
 */
export function hardSwish(x: tf.Tensor): tf.Tensor {
  const f = tf.customGrad((input, save) => {
    const v = input as tf.Tensor;
    (save as tf.GradSaveFunc)([v]);
    return {
      value: tf.div(tf.mul(v, tf.clipByValue(tf.add(v, 3), 0, 6)), 6),
      gradFunc: (dy: tf.Tensor, [s]: tf.Tensor[]) => {
        const lt3 = below(s!, 3); // x < 3
        const geMinus3 = tf.sub(1, below(s!, -3)); // x >= -3
        const inside = tf.mul(tf.add(tf.div(s!, 3), 0.5), tf.mul(geMinus3, lt3));
        return tf.mul(dy, tf.add(inside, tf.sub(1, lt3)));
      },
    };
  });
  return f(x);
}

/**
 * Softsign, x / (1 + |x|), with the exact derivative 1 / (1 + |x|)^2 (no cancellation).
 *
 * @example
 * ```ts
 * const x = tf.tensor1d([-1, 0, 3]);
 * const y = softsign(x); // [-0.5, 0, 0.75]
 * const g = tf.grad((v: tf.Tensor) => softsign(v))(x); // [0.25, 1, 0.0625]
 * tf.test_util.expectArraysClose(y.dataSync(), [-0.5, 0, 0.75]);
 * tf.test_util.expectArraysClose(g.dataSync(), [0.25, 1, 0.0625]);
 * tf.dispose([x, y, g]);
 * ```
 */
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
 * x for x > 0, alpha (exp(x) - 1) otherwise; gradient alpha exp(x) for x <= 0 (alpha at 0,
 * as PyTorch). Built from tfjs's vectorised elu: relu(x) + alpha elu(x - relu(x)).
 *
 * @example
 * ```ts
 * const x = tf.tensor1d([-1, 2]);
 * const y = elu(x, { alpha: 0.5 }); // [0.5 (e^-1 - 1), 2] = [-0.3161, 2]
 * tf.test_util.expectArraysClose(y.dataSync(), [0.5 * Math.expm1(-1), 2]);
 * tf.dispose([x, y]);
 * ```
 */
export function elu(x: tf.Tensor, options: { alpha?: number } = {}): tf.Tensor {
  const alpha = options.alpha ?? 1;
  if (alpha === 1) return tf.elu(x);
  return tf.tidy(() => {
    const r = tf.relu(x);
    return tf.add(r, tf.mul(tf.elu(tf.sub(x, r)), alpha));
  });
}

/**
 * CELU, max(0, x) + min(0, alpha (exp(x / alpha) - 1)) = alpha elu(x / alpha) (Barron 2017).
 *
 * @example
 * ```ts
 * const x = tf.tensor1d([-1, 2]);
 * const y = celu(x, { alpha: 2 }); // [2 (e^-0.5 - 1), 2] = [-0.7869, 2]
 * tf.test_util.expectArraysClose(y.dataSync(), [2 * Math.expm1(-0.5), 2]);
 * tf.dispose([x, y]);
 * ```
 */
export function celu(x: tf.Tensor, options: { alpha?: number } = {}): tf.Tensor {
  const alpha = options.alpha ?? 1;
  if (alpha === 1) return tf.elu(x);
  return tf.tidy(() => tf.mul(tf.elu(tf.div(x, alpha)), alpha));
}

/**
 * SELU, scale (x > 0 ? x : alpha (exp(x) - 1)) (Klambauer et al. 2017), as elu(x) · c with
 * c = scale · (x > 0 ? 1 : alpha) (`tf.step`); gradient c · (x > 0 ? 1 : elu(x) + 1) (tfjs's
 * `EluGrad` kernel, the one `tf.elu`'s gradient uses), i.e. scale alpha exp(x) for x <= 0 as
 * PyTorch. 4 kernels forward, 2 saved clones, 2 backward. tfjs's `tf.selu` is not used:
 * tfjs-wasm's Selu kernel computes exp(x) - 1 in float32 (3.5e-6 relative error at x = -0.005,
 * 100% at x = -1e-8; Elu uses expm1), and its gradient takes 10 kernels, Greater, Exp and Select
 * among them (scalar loops on wasm).
 *
 * @example
 * ```ts
 * const x = tf.tensor1d([-1, 0, 1]);
 * const y = selu(x); // [-1.1113, 0, 1.0507]
 * tf.test_util.expectArraysClose(y.dataSync(), [SELU_SCALE * SELU_ALPHA * Math.expm1(-1), 0, SELU_SCALE]);
 * tf.dispose([x, y]);
 * ```
 */
export function selu(x: tf.Tensor): tf.Tensor {
  const f = tf.customGrad((input, save) => {
    const v = input as tf.Tensor;
    const e = tf.elu(v);
    const c = tf.mul(tf.step(v, SELU_ALPHA), SELU_SCALE);
    (save as tf.GradSaveFunc)([e, c]);
    return {
      value: tf.mul(e, c),
      gradFunc: (dy: tf.Tensor, [y, s]: tf.Tensor[]) =>
        tf.mul(tf.engine().runKernel('EluGrad', { dy, y: y! }) as tf.Tensor, s!),
    };
  });
  return f(x);
}

/**
 * Softplus, log(1 + exp(beta x)) / beta, reverting to x where beta x > threshold (PyTorch's
 * form). At PyTorch's defaults (beta 1, threshold 20) the tfjs kernel gives the same float32
 * values and gradient sigmoid(x) (it reverts to x above ~15.9, where log1p(e^x) rounds to x),
 * so it is used as is. Otherwise a custom op with PyTorch's branches around the tfjs kernel.
 *
 * @example
 * ```ts
 * const x = tf.tensor1d([0, 30]);
 * const y = softplus(x); // [ln 2, 30] = [0.6931, 30]
 * const z = softplus(x, { beta: 2, threshold: 10 }); // [ln(2) / 2, 30]: linear where beta x > 10
 * tf.test_util.expectArraysClose(y.dataSync(), [Math.LN2, 30]);
 * tf.test_util.expectArraysClose(z.dataSync(), [Math.LN2 / 2, 30]);
 * tf.dispose([x, y, z]);
 * ```
 */
export function softplus(x: tf.Tensor, options: { beta?: number; threshold?: number } = {}): tf.Tensor {
  const beta = options.beta ?? 1;
  const threshold = options.threshold ?? 20;
  if (beta === 1 && threshold === 20) return tf.softplus(x);
  const f = tf.customGrad((input, save) => {
    const v = input as tf.Tensor;
    const bx = beta === 1 ? v : tf.mul(v, beta);
    const linear = above(bx, threshold);
    const soft = tf.softplus(bx);
    const value = blend(linear, v, beta === 1 ? soft : tf.div(soft, beta));
    (save as tf.GradSaveFunc)([bx, linear]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, [s, lin]: tf.Tensor[]) => tf.mul(dy, blend(lin!, 1, tf.sigmoid(s!))),
    };
  });
  return f(x);
}

/**
 * log(sigmoid(x)) = -softplus(-x): finite for every finite x; gradient sigmoid(-x). The same
 * kernels as `tf.logSigmoid`, whose custom gradient reads its input from a closure instead of
 * saving it and so throws ("Cannot read properties of undefined (reading 'backend')") when the
 * input is an intermediate tensor, i.e. in any model.
 *
 * @example
 * ```ts
 * const x = tf.tensor1d([-100, 0, 100]);
 * const y = logSigmoid(x); // [-100, -0.6931, 0]: finite where log(sigmoid(-100)) would be -Infinity
 * tf.test_util.expectArraysClose(y.dataSync(), [-100, -Math.LN2, 0]);
 * tf.dispose([x, y]);
 * ```
 */
export function logSigmoid(x: tf.Tensor): tf.Tensor {
  const f = tf.customGrad((input, save) => {
    const v = input as tf.Tensor;
    const nx = tf.neg(v);
    (save as tf.GradSaveFunc)([nx]);
    return {
      value: tf.neg(tf.softplus(nx)),
      gradFunc: (dy: tf.Tensor, [n]: tf.Tensor[]) => tf.mul(dy, tf.sigmoid(n!)),
    };
  });
  return f(x);
}

/**
 * SiLU / swish, x * sigmoid(x); gradient sigmoid(x) (1 + x (1 - sigmoid(x))). 1 - sigmoid(x)
 * has an absolute error of ~3e-8, times x, so the gradient's relative error stays below ~5e-7.
 *
 * @example
 * ```ts
 * const x = tf.tensor1d([-1, 0, 1]);
 * const y = silu(x); // [-0.2689, 0, 0.7311]
 * const g = tf.grad((v: tf.Tensor) => silu(v))(x); // [0.0723, 0.5, 0.9277]
 * tf.test_util.expectArraysClose(y.dataSync(), [-0.2689, 0, 0.7311]);
 * tf.test_util.expectArraysClose(g.dataSync(), [0.0723, 0.5, 0.9277]);
 * tf.dispose([x, y, g]);
 * ```
 */
export function silu(x: tf.Tensor): tf.Tensor {
  const f = tf.customGrad((input, save) => {
    const v = input as tf.Tensor;
    const s = tf.sigmoid(v);
    (save as tf.GradSaveFunc)([v, s]);
    return {
      value: tf.mul(v, s),
      gradFunc: (dy: tf.Tensor, [xs, ss]: tf.Tensor[]) =>
        tf.mul(dy, tf.mul(ss!, tf.add(tf.mul(xs!, tf.sub(1, ss!)), 1))),
    };
  });
  return f(x);
}

/**
 * Mish, x * tanh(softplus(x)) (Misra 2019), from sigmoids only. With s = sigmoid(x) and
 * q = sigmoid(-x), 1 + e^x = 1/q, so T = tanh(softplus(x)) = (1 - q^2) / (1 + q^2)
 * = s (1 + q) / (1 + q^2) (no cancellation at x -> -inf), and 1 - T = 2q^2 / (1 + q^2), so
 * 1 - T^2 = 2q^2 (1 + T) / (1 + q^2) (none at x -> +inf). Finite for every finite x.
 *
 * @example
 * ```ts
 * const x = tf.tensor1d([-1, 0, 1]);
 * const y = mish(x); // [-0.3034, 0, 0.8651]
 * tf.test_util.expectArraysClose(y.dataSync(), [-0.3034, 0, 0.8651]);
 * tf.dispose([x, y]);
 * ```
 */
export function mish(x: tf.Tensor): tf.Tensor {
  const f = tf.customGrad((input, save) => {
    const v = input as tf.Tensor;
    const s = tf.sigmoid(v);
    const q = tf.sigmoid(tf.neg(v));
    const q2 = tf.square(q);
    const d = tf.add(q2, 1);
    const t = tf.div(tf.mul(s, tf.add(q, 1)), d);
    (save as tf.GradSaveFunc)([v, s, q2, d, t]);
    return {
      value: tf.mul(v, t),
      gradFunc: (dy: tf.Tensor, [xs, ss, qq, dd, tt]: tf.Tensor[]) => {
        const sech2 = tf.div(tf.mul(tf.mul(qq!, 2), tf.add(tt!, 1)), dd!);
        return tf.mul(dy, tf.add(tt!, tf.mul(tf.mul(xs!, ss!), sech2)));
      },
    };
  });
  return f(x);
}

/**
 * Mills ratio R(a) = Q(a) / phi(a) of the standard normal (Q(a) = Phi(-a), the upper tail) as
 * t S(t), t = 1 / (1 + 0.35 a), S a degree-8 polynomial in t (coefficients of t^0 .. t^8),
 * fitted for relative error on a in [0, 14] (beyond, phi(a) < 1e-42 underflows float32 anyway) by
 * scripts/fit_gelu.py: 3.2e-8 for the fit, 3.4e-7 at worst for its float32 evaluation.
 * Unlike an erfc fit of the form t exp(-z^2 + P(t)), it shares its one exponential with the
 * density phi that the gradient needs.
 */
const MILLS_K = 1 / 0.35;
const MILLS_S = [
  0.3499789599140195, 0.3505817126454546, 0.3003764995125981, 0.26446911193058953, -0.05792707538966585,
  0.39898924059602026, -0.6409793345477819, 0.36088283365387197, -0.0730578509551163,
];

/**
 * GELU's value x Phi(x) and derivative Phi(x) + x phi(x), in float32 with relative accuracy in the
 * lower tail (gelu(-10) ~ -7.6e-23, where 0.5 x (1 + erf(x / sqrt 2)) is 0): Phi(-|x|) =
 * phi(x) t S(t), and exp(-x^2/2) = s / (1 - s), s = sigmoid(-x^2/2) (exact algebraically; s <= 1/2,
 * so 1 - s does not cancel). 28 kernels (29 for rank > 1), all vectorised on wasm, and 5 constants.
 */
function geluValueAndDerivative(x: tf.Tensor): { value: tf.Tensor; derivative: tf.Tensor } {
  const k = tf.scalar(MILLS_K);
  const tt = tf.div(k, tf.add(tf.abs(x), k));
  const t = x.rank === 1 ? tt : tf.reshape(tt, [x.size]);
  // t S(t) = sum c_i t^(i+1): one matMul of the coefficients with the stacked powers t .. t^9
  // (12 kernels and one constant, where Horner's scheme takes 17 kernels and 9 scalar constants)
  const t2 = tf.square(t);
  const t3 = tf.mul(t2, t);
  const t4 = tf.square(t2);
  const t5 = tf.mul(t4, t);
  const t8 = tf.square(t4);
  // concat + reshape: a little cheaper than tf.stack (Pack) on wasm
  const powers = tf.reshape(
    tf.concat([t, t2, t3, t4, t5, tf.square(t3), tf.mul(t3, t4), t8, tf.mul(t8, t)]),
    [MILLS_S.length, x.size],
  );
  const ts = tf.reshape(tf.matMul(tf.tensor2d(MILLS_S, [1, MILLS_S.length]), powers), x.shape);
  const g = tf.sigmoid(tf.mul(tf.square(x), -0.5));
  const pdf = tf.div(tf.mul(g, INV_SQRT_2PI), tf.sub(1, g)); // phi(x) = exp(-x^2/2) / sqrt(2 pi)
  const tail = tf.mul(ts, pdf); // Phi(-|x|)
  // Phi(x) = |step(x) - tail|: 1 - tail for x > 0, tail otherwise
  const cdf = tf.abs(tf.sub(tf.step(x), tail));
  return { value: tf.mul(x, cdf), derivative: tf.add(cdf, tf.mul(x, pdf)) };
}

/**
 * GELU, x * Phi(x) with the exact normal CDF (PyTorch's default `approximate='none'`), accurate
 * in the far negative tail where 0.5 (1 + erf(x / sqrt 2)) underflows to 0.
 *
 * @example
 * ```ts
 * const x = tf.tensor1d([-1, 0, 1]);
 * const y = gelu(x); // [-0.1587, 0, 0.8413]
 * tf.test_util.expectArraysClose(y.dataSync(), [-0.1587, 0, 0.8413]);
 * tf.dispose([x, y]);
 * ```
 */
export function gelu(x: tf.Tensor): tf.Tensor {
  const f = tf.customGrad((input, save) => {
    const { value, derivative } = geluValueAndDerivative(input as tf.Tensor);
    (save as tf.GradSaveFunc)([derivative]);
    return { value, gradFunc: (dy: tf.Tensor, [d]: tf.Tensor[]) => tf.mul(dy, d!) };
  });
  return f(x);
}

/**
 * GELU's tanh approximation, 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (PyTorch's
 * `approximate='tanh'`), computed as x * sigmoid(2u) to avoid the 1 + tanh cancellation for x < 0.
 *
 * @example
 * ```ts
 * const x = tf.tensor1d([-1, 0, 1]);
 * const y = geluTanh(x); // [-0.1588, 0, 0.8412]
 * tf.test_util.expectArraysClose(y.dataSync(), [-0.1588, 0, 0.8412]);
 * tf.dispose([x, y]);
 * ```
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
 * RReLU (Xu et al. 2015). Training: each element gets its own slope drawn from U(lower, upper)
 * (from `rng`, or a fresh `Rng(seed)`), applied where x <= 0; inference: the mean slope
 * (lower + upper) / 2, as PyTorch. Defaults lower 1/8, upper 1/3.
 *
 * @example
 * ```ts
 * const x = tf.tensor1d([-1, -1, 2]);
 * const y = rrelu(x); // inference: mean slope 11/48 -> [-0.2292, -0.2292, 2]
 * const t = rrelu(x, { training: true, seed: 7 }); // a random slope in [1/8, 1/3] per element
 * tf.test_util.expectArraysClose(y.dataSync(), [-11 / 48, -11 / 48, 2]);
 * const [a] = t.dataSync();
 * if (a === undefined || a > -1 / 8 || a < -1 / 3) throw new Error('slope out of range');
 * tf.dispose([x, y, t]);
 * ```
 */
export function rrelu(
  x: tf.Tensor,
  options: { lower?: number; upper?: number; training?: boolean; rng?: Rng; seed?: number } = {},
): tf.Tensor {
  const lower = options.lower ?? 1 / 8;
  const upper = options.upper ?? 1 / 3;
  if (!options.training) return leakyRelu(x, { slope: (lower + upper) / 2 });
  const rng = options.rng ?? new Rng(options.seed ?? DEFAULT_SEED);
  const slopes = tf.tensor(
    rng.fill(x.size, (r) => r.uniform(lower, upper)),
    x.shape,
    'float32',
  );
  const y = prelu(x, slopes);
  // the tape keeps its own reference to `slopes` for the backward pass
  slopes.dispose();
  return y;
}
