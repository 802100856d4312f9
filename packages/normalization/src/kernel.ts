import * as tf from '@tensorflow/tfjs';

/**
 * The one normalization kernel every layer here uses:
 *
 *   x̂ = (x − μ) · (σ² + ε)^(-1/2)      (centred: BatchNorm, LayerNorm, GroupNorm, InstanceNorm)
 *   x̂ = x · (ms + ε)^(-1/2)             (uncentred: RMSNorm, ms = mean of x²)
 *   y = γ · x̂ + β
 *
 * with statistics over `statAxes` and γ, β broadcast over `paramReduceAxes`. The gradient is
 * written by hand (the closed form of the normalization's Jacobian), so the backward pass is two
 * or three reductions and a few element-wise ops instead of autodiff through `moments` and
 * broadcasts (and no `Tile`, which tfjs-core's own BatchNorm gradient uses):
 *
 *   g = γ·dy,   dx = (σ²+ε)^(-1/2) · (g − mean(g) − x̂ · mean(g·x̂))   (uncentred: no mean(g) term)
 *   dγ = Σ dy·x̂,   dβ = Σ dy
 *
 * The statistics (`mean`, `variance`) are computed by the caller and captured, not passed as
 * inputs: their contribution to dx is already in the closed form, so autodiff must not also
 * route a gradient through them.
 */
export interface NormalizeArgs {
  x: tf.Tensor;
  /** Mean over `statAxes` with kept dims, or null for the uncentred (RMS) form. */
  mean: tf.Tensor | null;
  /** Variance (centred) or mean square (uncentred) over `statAxes`, with kept dims. */
  variance: tf.Tensor;
  epsilon: number;
  /** Axes the statistics were reduced over. */
  statAxes: number[];
  /** γ, already shaped to broadcast against x, or null. */
  gamma: tf.Tensor | null;
  /** β, already shaped to broadcast against x, or null. */
  beta: tf.Tensor | null;
  /** Axes of x along which γ and β are broadcast (where their shape is 1). */
  paramReduceAxes: number[];
}

export function normalize(args: NormalizeArgs): tf.Tensor {
  const { x, mean, variance, epsilon, statAxes, gamma, beta, paramReduceAxes } = args;
  const invStd = tf.rsqrt(tf.add(variance, epsilon));
  const count = statAxes.reduce((n, a) => n * x.shape[a]!, 1);
  // BatchNorm: statistics and parameter reductions run over the same axes, so the sums the
  // parameter gradients need are the sums dx needs too.
  const sameAxes = gamma !== null && sameSet(statAxes, paramReduceAxes);
  const inputs: tf.Tensor[] = [x];
  if (gamma) inputs.push(gamma);
  if (beta) inputs.push(beta);

  const kernel = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const xIn = args[0] as tf.Tensor;
    const gammaIn = gamma ? (args[1] as tf.Tensor) : null;
    const betaIn = beta ? (args[gamma ? 2 : 1] as tf.Tensor) : null;
    const xHat = tf.mul(mean ? tf.sub(xIn, mean) : xIn, invStd);
    let y = gammaIn ? tf.mul(xHat, gammaIn) : xHat;
    if (betaIn) y = tf.add(y, betaIn);
    // Everything the backward pass reads is saved: tensors captured from the caller's tidy scope
    // are gone by the time the gradient runs.
    save(gammaIn ? [xHat, invStd, gammaIn] : [xHat, invStd]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const xh = saved[0]!;
        const invStd = saved[1]!;
        const gammaIn = gamma ? saved[2]! : null;
        const grads: tf.Tensor[] = [];
        let sumDy: tf.Tensor | null = null;
        let sumDyXh: tf.Tensor | null = null;
        if (gammaIn || betaIn) {
          if (betaIn) sumDy = tf.sum(dy, paramReduceAxes, true);
          if (gammaIn) sumDyXh = tf.sum(tf.mul(dy, xh), paramReduceAxes, true);
        }
        let meanG: tf.Tensor | null;
        let meanGXh: tf.Tensor;
        if (sameAxes && gammaIn) {
          // mean(γ·dy) = γ·Σdy/n and mean(γ·dy·x̂) = γ·Σ(dy·x̂)/n over the same axes.
          meanG = mean ? tf.mul(gammaIn, tf.div(sumDy ?? tf.sum(dy, statAxes, true), count)) : null;
          meanGXh = tf.mul(gammaIn, tf.div(sumDyXh!, count));
        } else {
          const g = gammaIn ? tf.mul(dy, gammaIn) : dy;
          meanG = mean ? tf.mean(g, statAxes, true) : null;
          meanGXh = tf.mean(tf.mul(g, xh), statAxes, true);
        }
        // dx = invStd·(γ·dy − mean(g) − x̂·mean(g·x̂)) = (γ·invStd)·dy − invStd·(mean(g) + x̂·mean(g·x̂))
        const scaledDy = gammaIn ? tf.mul(dy, tf.mul(gammaIn, invStd)) : tf.mul(dy, invStd);
        let correction = tf.mul(xh, tf.mul(meanGXh, invStd));
        if (meanG) correction = tf.add(correction, tf.mul(meanG, invStd));
        grads.push(tf.sub(scaledDy, correction));
        if (gammaIn) grads.push(tf.reshape(sumDyXh!, gammaIn.shape));
        if (betaIn) grads.push(tf.reshape(sumDy!, betaIn.shape));
        return grads;
      },
    };
  });
  return kernel(...inputs);
}

function sameSet(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((v) => b.includes(v));
}

/** Moments over `axes` with kept dims, as the kernel wants them (`tf.moments`: two passes). */
export function moments(x: tf.Tensor, axes: number[]): { mean: tf.Tensor; variance: tf.Tensor } {
  const { mean, variance } = tf.moments(x, axes, true);
  return { mean, variance };
}

/** Mean of x² over `axes` with kept dims (RMSNorm's statistic). */
export function meanSquare(x: tf.Tensor, axes: number[]): tf.Tensor {
  return tf.mean(tf.square(x), axes, true);
}
