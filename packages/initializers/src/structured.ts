import type * as tf from '@tensorflow/tfjs';
import {
  InvalidArgumentError,
  ShapeError,
  checkFinite,
  checkInteger,
  sizeOf,
  type Rng,
} from '@gradflow/core';
import { GradflowInitializer, checkKeys, checkSeed, type SeedArgs } from './base.js';

/**
 * Applies the reflector H = I - beta v v^T (v = rows k..n-1 of column `vc` of `v`) to columns
 * j0..j1-1 of `t` (both column-major with n rows), four columns per pass over v.
 */
function reflect(
  v: Float64Array,
  vc: number,
  beta: number,
  t: Float64Array,
  j0: number,
  j1: number,
  n: number,
  k: number,
): void {
  const vo = vc * n;
  let j = j0;
  for (; j + 4 <= j1; j += 4) {
    const c0 = j * n,
      c1 = c0 + n,
      c2 = c1 + n,
      c3 = c2 + n;
    let s0 = 0,
      s1 = 0,
      s2 = 0,
      s3 = 0;
    for (let i = k; i < n; i++) {
      const vi = v[vo + i]!;
      s0 += vi * t[c0 + i]!;
      s1 += vi * t[c1 + i]!;
      s2 += vi * t[c2 + i]!;
      s3 += vi * t[c3 + i]!;
    }
    s0 *= beta;
    s1 *= beta;
    s2 *= beta;
    s3 *= beta;
    for (let i = k; i < n; i++) {
      const vi = v[vo + i]!;
      t[c0 + i] = t[c0 + i]! - s0 * vi;
      t[c1 + i] = t[c1 + i]! - s1 * vi;
      t[c2 + i] = t[c2 + i]! - s2 * vi;
      t[c3 + i] = t[c3 + i]! - s3 * vi;
    }
  }
  for (; j < j1; j++) {
    const c = j * n;
    let s = 0;
    for (let i = k; i < n; i++) s += v[vo + i]! * t[c + i]!;
    s *= beta;
    for (let i = k; i < n; i++) t[c + i] = t[c + i]! - s * v[vo + i]!;
  }
}

/**
 * The thin Q factor (n x m, n >= m, column-major Float64Array) of an n x m column-major
 * matrix, by Householder QR in Float64, with the sign correction that makes the diagonal of R
 * positive (so Q of a Gaussian matrix is Haar-distributed, Mezzadri 2007). O(n m^2); `a` is
 * overwritten with the Householder vectors.
 */
export function householderQ(a: Float64Array, n: number, m: number): Float64Array {
  if (n < m) throw new ShapeError('matrix for QR', [n, m], 'rows >= columns');
  const betas = new Float64Array(m);
  const signs = new Float64Array(m);
  for (let k = 0; k < m; k++) {
    const ck = k * n;
    let norm2 = 0;
    for (let i = k; i < n; i++) norm2 += a[ck + i]! * a[ck + i]!;
    const x0 = a[ck + k]!;
    const alpha = (x0 >= 0 ? -1 : 1) * Math.sqrt(norm2);
    // v = x - alpha e1, stored in place; |v|^2 = |x|^2 - 2 alpha x0 + alpha^2.
    a[ck + k] = x0 - alpha;
    const vnorm2 = norm2 - 2 * alpha * x0 + alpha * alpha;
    betas[k] = vnorm2 > 0 ? 2 / vnorm2 : 0;
    // R[k][k] = alpha; the sign correction multiplies Q's column k by sign(alpha).
    signs[k] = alpha < 0 ? -1 : 1;
    if (betas[k]! !== 0) reflect(a, k, betas[k]!, a, k + 1, m, n, k);
  }
  // Q = H_0 H_1 ... H_{m-1} [I; 0], accumulated backwards; H_k only touches rows >= k, and
  // columns < k of the partial product are still unit vectors there, so they are skipped.
  const q = new Float64Array(n * m);
  for (let j = 0; j < m; j++) q[j * n + j] = 1;
  for (let k = m - 1; k >= 0; k--) {
    if (betas[k]! !== 0) reflect(a, k, betas[k]!, q, k, m, n, k);
  }
  for (let j = 0; j < m; j++) {
    if (signs[j]! > 0) continue;
    const cj = j * n;
    for (let i = 0; i < n; i++) q[cj + i] = -q[cj + i]!;
  }
  return q;
}

/**
 * Values (row-major, `rows x cols`) of a random matrix with orthonormal columns (rows >= cols)
 * or orthonormal rows (rows < cols), times `gain`.
 */
export function orthogonalMatrix(rows: number, cols: number, gain: number, rng: Rng): Float32Array {
  const n = Math.max(rows, cols);
  const m = Math.min(rows, cols);
  const a = new Float64Array(n * m);
  for (let i = 0; i < a.length; i++) a[i] = rng.normal();
  const q = householderQ(a, n, m);
  const out = new Float32Array(rows * cols);
  if (rows >= cols) {
    // W[i][j] = Q[i][j]; Q is column-major n x m with n = rows, m = cols.
    for (let j = 0; j < cols; j++) {
      const cj = j * n;
      for (let i = 0; i < rows; i++) out[i * cols + j] = gain * q[cj + i]!;
    }
  } else {
    // W = Q^T: W[i][j] = Q[j][i] = q[i * n + j], with n = cols.
    for (let k = 0; k < out.length; k++) out[k] = gain * q[k]!;
  }
  return out;
}

/** Options of {@link Orthogonal}. */
export interface OrthogonalArgs extends SeedArgs {
  /** Multiplies the orthogonal matrix (default 1). */
  gain?: number;
}

/**
 * A (semi-)orthogonal matrix (Saxe et al. 2014) for any shape of rank >= 2: the kernel is
 * viewed as a matrix `[prod(shape[:-1]), shape[-1]]` (Keras's convention; for a conv kernel
 * `[...k, in, out]` that is `[k·in, out]`, the transpose of PyTorch's `[out, in·k]` view of the
 * same layer, so the same Gram matrix is the identity). If that matrix is tall, its columns are
 * orthonormal (W^T W = gain² I); if wide, its rows (W W^T = gain² I). Householder QR in Float64
 * on the CPU with sign correction: Haar-distributed, exact to float32 rounding, and fast
 * (O(n m²), no tfjs linalg.qr).
 *
 * @example
 * ```ts
 * const w = new Orthogonal({ gain: 2, seed: 0 }).apply([64, 16]); // tall: orthonormal columns
 * const gram = tf.tidy(() => tf.matMul(w, w, true, false)); // Wᵀ W = gain² I = 4 I
 * tf.test_util.expectArraysClose(gram.dataSync(), tf.tidy(() => tf.eye(16).mul(4).dataSync()));
 * tf.dispose([w, gram]);
 * ```
 */
export class Orthogonal extends GradflowInitializer {
  static className = 'GradflowOrthogonal';
  static readonly options: readonly string[] = ['gain', 'seed'];
  readonly gain: number;
  constructor(args: OrthogonalArgs = {}) {
    checkKeys('orthogonal', args, Orthogonal.options);
    super(checkSeed(args.seed));
    this.gain = checkFinite('gain', args.gain ?? 1);
  }
  protected sample(shape: readonly number[]): Float32Array {
    if (shape.length < 2) {
      throw new ShapeError(
        'orthogonal initializer weight',
        shape,
        'rank >= 2',
        'an orthogonal matrix needs two dimensions',
      );
    }
    const cols = shape[shape.length - 1]!;
    const rows = sizeOf(shape) / cols;
    return orthogonalMatrix(rows, cols, this.gain, this.nextRng());
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { gain: this.gain, seed: this.seed };
  }
}

/** Options of {@link Identity}. */
export interface IdentityArgs {
  /** Multiplies the identity (default 1). */
  gain?: number;
}

/**
 * `gain` times the identity matrix of a rank-2 kernel (`torch.nn.init.eye_`, Keras `Identity`);
 * non-square shapes get ones on the main diagonal. A dense layer `[n, n]` with it (and a zero
 * bias) is the identity map.
 *
 * @example
 * ```ts
 * const dense = tf.layers.dense({ units: 3, inputShape: [3], kernelInitializer: new Identity() });
 * const x = tf.tensor2d([[1, 2, 3]]);
 * const y = dense.apply(x) as tf.Tensor; // [[1, 2, 3]]: the identity map
 * tf.test_util.expectArraysClose(y.dataSync(), [1, 2, 3]);
 * tf.dispose([x, y]);
 * dense.dispose();
 * ```
 */
export class Identity extends GradflowInitializer {
  static className = 'GradflowIdentity';
  static readonly options: readonly string[] = ['gain'];
  readonly gain: number;
  constructor(args: IdentityArgs = {}) {
    checkKeys('identity', args, Identity.options);
    super();
    this.gain = checkFinite('gain', args.gain ?? 1);
  }
  protected override integral(): boolean {
    return Number.isInteger(this.gain);
  }
  protected sample(shape: readonly number[]): Float32Array {
    if (shape.length !== 2) {
      throw new ShapeError(
        'identity initializer weight',
        shape,
        'rank 2 ([in, out])',
        "for conv kernels use 'dirac'",
      );
    }
    const [rows, cols] = shape as [number, number];
    const out = new Float32Array(rows * cols);
    for (let i = 0; i < Math.min(rows, cols); i++) out[i * cols + i] = this.gain;
    return out;
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { gain: this.gain };
  }
}

/** Options of {@link Dirac}. */
export interface DiracArgs {
  /** Number of groups the output channels are split into (default 1), as `dirac_(groups=)`. */
  groups?: number;
}

/**
 * `torch.nn.init.dirac_` for conv kernels in tfjs layout `[...k, in, out]` (rank 3, 4 or 5):
 * the centre tap (index floor(k/2) in each spatial dimension) connects input channel d to
 * output channel g·(out/groups) + d for d < min(out/groups, in), every other tap is 0. A conv
 * with it, 'same' padding and zero bias is the identity map on its first min(in, out) channels.
 *
 * @example
 * ```ts
 * const conv = tf.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same', kernelInitializer: new Dirac() });
 * const x = tf.randomNormal([1, 5, 5, 2], 0, 1, 'float32', 1);
 * const y = conv.apply(x) as tf.Tensor; // equals x
 * tf.test_util.expectArraysClose(y.dataSync(), x.dataSync());
 * tf.dispose([x, y]);
 * conv.dispose();
 * ```
 */
export class Dirac extends GradflowInitializer {
  static className = 'GradflowDirac';
  static readonly options: readonly string[] = ['groups'];
  readonly groups: number;
  constructor(args: DiracArgs = {}) {
    checkKeys('dirac', args, Dirac.options);
    super();
    this.groups = checkInteger('groups', args.groups ?? 1);
  }
  protected override integral(): boolean {
    return true;
  }
  protected sample(shape: readonly number[]): Float32Array {
    if (shape.length < 3 || shape.length > 5) {
      throw new ShapeError(
        'dirac initializer weight',
        shape,
        'rank 3, 4 or 5 ([...k, in, out])',
        "for dense kernels use 'identity'",
      );
    }
    const inChannels = shape[shape.length - 2]!;
    const outChannels = shape[shape.length - 1]!;
    if (outChannels % this.groups !== 0) {
      throw new InvalidArgumentError(
        'groups',
        this.groups,
        `a divisor of the ${outChannels} output channels`,
      );
    }
    const outPerGroup = outChannels / this.groups;
    const spatial = shape.slice(0, -2);
    // Row-major offset of the centre tap's [in, out] block.
    let centre = 0;
    for (const k of spatial) centre = centre * k + Math.floor(k / 2);
    const block = centre * inChannels * outChannels;
    const out = new Float32Array(sizeOf(shape));
    for (let g = 0; g < this.groups; g++) {
      for (let d = 0; d < Math.min(outPerGroup, inChannels); d++) {
        out[block + d * outChannels + g * outPerGroup + d] = 1;
      }
    }
    return out;
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { groups: this.groups };
  }
}
