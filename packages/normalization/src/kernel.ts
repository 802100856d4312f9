import * as tf from '@tensorflow/tfjs';
import { batchNormTrainingGrad } from '@gradflow/backend-wasm';
import { InvalidArgumentError } from '@gradflow/core';

/**
 * The one normalization kernel every layer here uses:
 *
 *   x̂ = (x − μ) · (σ² + ε)^(-1/2)      (centred: BatchNorm, LayerNorm, GroupNorm, InstanceNorm)
 *   x̂ = x · (ms + ε)^(-1/2)             (uncentred: RMSNorm, ms = mean of x²)
 *   y = γ · x̂ + β
 *
 * with statistics over `statAxes` and γ, β broadcast over `paramReduceAxes`. The gradient is
 * written by hand (the closed form of the normalization's Jacobian), so the backward pass is a few
 * reductions and element-wise ops instead of autodiff through `moments` and broadcasts (and no
 * `Tile`, which tfjs-core's own BatchNorm gradient uses):
 *
 *   g = γ·dy,   dx = (σ²+ε)^(-1/2) · (g − mean(g) − x̂ · mean(g·x̂))   (uncentred: no mean(g) term)
 *   dγ = Σ dy·x̂,   dβ = Σ dy
 *
 * The statistics (`mean`, `variance`) are computed by the caller and captured, not passed as
 * inputs: their contribution to dx is already in the closed form, so autodiff must not also
 * route a gradient through them.
 *
 * These are the arguments of {@link normalize}.
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
  /** γ, already shaped to broadcast against x (same rank), or null. */
  gamma: tf.Tensor | null;
  /** β, already shaped to broadcast against x (same rank), or null. */
  beta: tf.Tensor | null;
  /** Axes of x along which γ and β are broadcast (where their shape is 1). */
  paramReduceAxes: number[];
  /**
   * GroupNorm: the statistics passed in are per channel (constant within each group, already
   * expanded), `statAxes` are the per-channel reduction axes, and `combine` sums a per-channel
   * tensor (of the statistics' shape) over the channels of each group, expanded back to every
   * channel. `statCount` is then the number of elements per group. Without `combine` each
   * statistics group is its own group.
   */
  combine?: (perChannel: tf.Tensor) => tf.Tensor;
  statCount?: number;
}

/**
 * The normalization kernel of every layer here (see {@link NormalizeArgs} for the formulas):
 * `y = γ·(x − μ)·(σ² + ε)^(-1/2) + β` with statistics the caller computed (e.g. with
 * {@link momentsOver}) and a closed-form gradient with respect to x, γ and β. Use it to write a
 * new normalization layer with the same numerics. Like the other kernel helpers it leaves
 * intermediates to the caller's `tf.tidy`.
 *
 * @example
 * ```ts
 * // Normalize each row of x over its features, as LayerNorm without γ and β does.
 * const x = tf.tensor2d([[1, 2, 3, 4], [10, 20, 30, 40]]);
 * const [rows, dxRowSums] = tf.tidy(() => {
 *   const { mean, variance } = momentsOver(x, [1]);
 *   const norm = (t: tf.Tensor) =>
 *     normalize({ x: t, mean, variance, epsilon: 1e-5, statAxes: [1], gamma: null, beta: null, paramReduceAxes: [0] });
 *   // Closed-form gradient: the mean and variance terms make dx sum to 0 over each row.
 *   const dx = tf.grad((t: tf.Tensor) => norm(t).mul(tf.tensor2d([[1, 0, 0, 2], [3, 1, 0, 0]])).sum())(x);
 *   return [norm(x).arraySync() as number[][], dx.sum(1).arraySync() as number[]];
 * });
 * // rows[0] ≈ [-1.342, -0.447, 0.447, 1.342], and rows[1] is the same
 * if (Math.abs(rows[0]![0]! + 3 / Math.sqrt(5)) > 1e-4) throw new Error(String(rows[0]));
 * if (dxRowSums.some((v) => Math.abs(v) > 1e-4)) throw new Error(String(dxRowSums));
 * x.dispose();
 * ```
 */
export function normalize(args: NormalizeArgs): tf.Tensor {
  const { x, mean, variance, epsilon, statAxes, gamma, beta, paramReduceAxes } = args;
  const invStd = tf.rsqrt(tf.add(variance, epsilon));
  const count = args.statCount ?? statAxes.reduce((n, a) => n * x.shape[a]!, 1);
  const combine = args.combine ?? ((t: tf.Tensor) => t);
  // γ (and β) constant within each statistics group (BatchNorm, InstanceNorm): every sum the
  // gradient needs is then a per-group sum of dy or dy·(x − μ), and the factors fold.
  const paramConstOverStats = statAxes.every(
    (a) => (gamma?.shape[a] ?? 1) === 1 && (beta?.shape[a] ?? 1) === 1,
  );
  if (args.combine && !paramConstOverStats) {
    throw new InvalidArgumentError(
      'combine',
      'a combine function',
      'γ and β constant over statAxes (one value per channel)',
    );
  }
  // y = x·s + o with s = γ/σ, o = β − μ·s costs two passes when s is small (one value per
  // channel, or per sample and channel); LayerNorm/RMSNorm's s would be as large as x.
  const foldedSize = broadcastSize(invStd.shape, gamma?.shape ?? []);
  const fold = foldedSize * 2 <= x.size;
  const inputs: tf.Tensor[] = [x];
  if (gamma) inputs.push(gamma);
  if (beta) inputs.push(beta);
  // BatchNorm over every axis but the last (channels last) on wasm: one FusedBatchNorm pass
  // forward and @gradflow/backend-wasm's two-pass training gradient backward, where the
  // composed forms below make two and about eight passes over x.
  const lastAxisStats =
    mean !== null &&
    !args.combine &&
    paramConstOverStats &&
    x.dtype === 'float32' &&
    statAxes.length === x.rank - 1 &&
    statAxes.every((a, i) => a === i) &&
    [gamma, beta].every((p) => p === null || p.size === x.shape[x.rank - 1]);
  const fusedOnWasm = lastAxisStats && tf.getBackend() === 'wasm';

  const kernel = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const xIn = args[0] as tf.Tensor;
    const gammaIn = gamma ? (args[1] as tf.Tensor) : null;
    const betaIn = beta ? (args[gamma ? 2 : 1] as tf.Tensor) : null;
    // Inner tidies free full-size temporaries as soon as they are consumed, so the allocator
    // hands the next one the same (cache-warm) memory.
    const y = tf.tidy(() => {
      if (fusedOnWasm) {
        const c = xIn.shape[xIn.rank - 1]!;
        const vec = (t: tf.Tensor | null) => (t ? tf.reshape(t, [c]) : undefined);
        return tf.batchNorm(xIn, vec(mean)!, vec(variance)!, vec(betaIn), vec(gammaIn), epsilon);
      }
      if (fold) {
        const s = gammaIn ? tf.mul(gammaIn, invStd) : invStd;
        let o = mean ? tf.neg(tf.mul(mean, s)) : null;
        if (betaIn) o = o ? tf.add(o, betaIn) : betaIn;
        const xs = tf.mul(xIn, s);
        return o ? tf.add(xs, o) : xs;
      }
      const xHat = tf.tidy(() => tf.mul(mean ? tf.sub(xIn, mean) : xIn, invStd));
      const scaled = gammaIn ? tf.tidy(() => tf.mul(xHat, gammaIn)) : xHat;
      return betaIn ? tf.add(scaled, betaIn) : scaled;
    });
    // Everything the backward pass reads is saved: tensors captured from the caller's tidy scope
    // are gone by the time the gradient runs. x is saved rather than x̂ (a clone shares its data).
    const saved = [xIn, invStd];
    if (mean) saved.push(mean);
    if (gammaIn) saved.push(gammaIn);
    if (fusedOnWasm) saved.push(variance);
    save(saved);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, s: tf.Tensor[]) =>
        tf.tidy(() => {
          const xs = s[0]!;
          const inv = s[1]!;
          const mu = mean ? s[2]! : null;
          const gam = gammaIn ? s[mean ? 3 : 2]! : null;
          const grads: tf.Tensor[] = [];
          const fused = fusedOnWasm
            ? batchNormTrainingGrad({ x: xs, dy, mean: mu!, variance: s[s.length - 1]!, scale: gam, epsilon })
            : null;
          if (fused) {
            grads.push(fused.dx);
            if (gam) grads.push(tf.reshape(fused.dscale, gam.shape));
            if (betaIn) grads.push(tf.reshape(fused.doffset, betaIn.shape));
            return grads;
          }
          const xc = mu ? tf.sub(xs, mu) : xs;
          if (paramConstOverStats) {
            // Per-group sums S1 = Σdy and S2 = Σdy·(x−μ) give dγ, dβ and both mean terms of dx.
            // With P = mean(γ·dy·(x−μ)) and Q = mean(γ·dy) over the group:
            // dx = (γ/σ)·dy − σ⁻³·P·(x − μ) − σ⁻¹·Q.
            const s1 = mu || betaIn ? sumOver(dy, statAxes) : null;
            const s2 = tf.tidy(() => sumOver(tf.mul(dy, xc), statAxes));
            const p = tf.div(combine(gam ? tf.mul(gam, s2) : s2), count);
            const a = gam ? tf.mul(gam, inv) : inv;
            const b = tf.mul(tf.pow(inv, 3), p);
            const c = mu ? tf.mul(inv, tf.div(combine(gam ? tf.mul(gam, s1!) : s1!), count)) : null;
            const dx = tf.tidy(() => {
              const d = tf.sub(
                tf.mul(dy, a),
                tf.tidy(() => tf.mul(xc, b)),
              );
              return c ? tf.sub(d, c) : d;
            });
            grads.push(dx);
            if (gam) grads.push(tf.reshape(sumOver(tf.mul(s2, inv), paramReduceAxes), gam.shape));
            if (betaIn) grads.push(tf.reshape(sumOver(s1!, paramReduceAxes), betaIn.shape));
            return grads;
          }
          const xh = tf.tidy(() => tf.mul(xc, inv));
          const dyXh = tf.mul(dy, xh);
          const g = gam ? tf.mul(dy, gam) : dy;
          const meanG = mu ? meanOver(g, statAxes) : null;
          const meanGXh = tf.tidy(() => meanOver(gam ? tf.mul(dyXh, gam) : dyXh, statAxes));
          // dx = σ⁻¹·(g − mean(g) − x̂·mean(g·x̂))
          const dx = tf.tidy(() => {
            const d = tf.sub(
              tf.tidy(() => tf.mul(g, inv)),
              tf.tidy(() => tf.mul(xh, tf.mul(meanGXh, inv))),
            );
            return meanG ? tf.sub(d, tf.mul(meanG, inv)) : d;
          });
          grads.push(dx);
          if (gam) grads.push(tf.reshape(sumOver(dyXh, paramReduceAxes), gam.shape));
          if (betaIn) grads.push(tf.reshape(sumOver(dy, paramReduceAxes), betaIn.shape));
          return grads;
        }),
    };
  });
  return kernel(...inputs);
}

function broadcastSize(a: readonly number[], b: readonly number[]): number {
  const rank = Math.max(a.length, b.length);
  let size = 1;
  for (let i = 0; i < rank; i++) size *= Math.max(a[a.length - rank + i] ?? 1, b[b.length - rank + i] ?? 1);
  return size;
}

/**
 * Sum over `axes` with kept dims, arranged so that no backend has to transpose: a trailing run
 * of axes and a leading run are reduced directly (tfjs-wasm reduces innermost axes natively and
 * `@gradflow/backend-wasm` leading ones), and a contiguous block of middle axes (the spatial axes of
 * NHWC, for InstanceNorm and GroupNorm) is reduced as a batched product with a row of ones.
 *
 * @example
 * ```ts
 * const x = tf.ones([2, 3, 4, 5]); // NHWC
 * // Over the spatial axes: the same as tf.sum(x, [1, 2], true). Intermediates go to tf.tidy.
 * const s = tf.tidy(() => sumOver(x, [1, 2]));
 * if (s.shape.join() !== '2,1,1,5' || s.dataSync()[0] !== 12) throw new Error(String(s.shape));
 * tf.dispose([x, s]);
 * ```
 */
export function sumOver(x: tf.Tensor, axes: number[]): tf.Tensor {
  const rank = x.rank;
  let rest = [...new Set(axes)].sort((p, q) => p - q);
  let y = x;
  if (rest.length === 0) return y;
  // Trailing run.
  let t = rank - 1;
  const trailing: number[] = [];
  while (rest.includes(t)) trailing.unshift(t--);
  if (trailing.length > 0) {
    y = tf.sum(y, trailing, true);
    rest = rest.filter((a) => !trailing.includes(a));
  }
  // Leading run.
  let l = 0;
  const leading: number[] = [];
  while (rest.includes(l)) leading.push(l++);
  if (leading.length > 0) {
    y = tf.sum(y, leading, true);
    rest = rest.filter((a) => !leading.includes(a));
  }
  if (rest.length === 0) return y;
  const lo = rest[0]!;
  const hi = rest[rest.length - 1]!;
  if (hi - lo + 1 !== rest.length) return tf.sum(y, rest, true);
  // Contiguous middle block [lo, hi]: [A, B, C] → ones[A, 1, B] · [A, B, C] = [A, 1, C].
  const shape = y.shape;
  const a = shape.slice(0, lo).reduce((p, d) => p * d, 1);
  const b = shape.slice(lo, hi + 1).reduce((p, d) => p * d, 1);
  const c = shape.slice(hi + 1).reduce((p, d) => p * d, 1);
  const summed = tf.matMul(tf.ones([a, 1, b]), tf.reshape(y, [a, b, c]));
  return tf.reshape(
    summed,
    shape.map((d, i) => (i >= lo && i <= hi ? 1 : d)),
  );
}

/**
 * Mean over `axes` with kept dims (see {@link sumOver}).
 *
 * @example
 * ```ts
 * const x = tf.tensor3d([[[1, 2], [3, 4]]]); // [1, 2, 2]
 * const m = tf.tidy(() => meanOver(x, [1])); // [[[2, 3]]], shape [1, 1, 2]
 * if (m.dataSync().join() !== '2,3') throw new Error(String(m.dataSync()));
 * tf.dispose([x, m]);
 * ```
 */
export function meanOver(x: tf.Tensor, axes: number[]): tf.Tensor {
  const n = axes.reduce((k, a) => k * x.shape[a]!, 1);
  return tf.div(sumOver(x, axes), n);
}

/**
 * Mean and (biased) variance over `axes` with kept dims: two passes, no copy of x.
 *
 * @example
 * ```ts
 * const x = tf.tensor2d([[1, 3], [5, 7]]);
 * const { mean, variance } = tf.tidy(() => momentsOver(x, [0])); // per column: mean [[3, 5]], variance [[4, 4]]
 * if (mean.dataSync().join() !== '3,5' || variance.dataSync().join() !== '4,4') throw new Error('moments');
 * tf.dispose([x, mean, variance]);
 * ```
 */
export function momentsOver(x: tf.Tensor, axes: number[]): { mean: tf.Tensor; variance: tf.Tensor } {
  const mean = meanOver(x, axes);
  const variance = tf.tidy(() => meanOver(tf.squaredDifference(x, mean), axes));
  return { mean, variance };
}

/** Mean of x² over `axes` with kept dims (RMSNorm's statistic). */
export function meanSquareOver(x: tf.Tensor, axes: number[]): tf.Tensor {
  return tf.tidy(() => meanOver(tf.square(x), axes));
}
