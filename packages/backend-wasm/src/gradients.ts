import * as tf from '@tensorflow/tfjs';

/** A kernel of our own: dy * step(x), the ReLU gradient, fused into one pass on wasm. */
export const RELU_GRAD_KERNEL = 'GradflowReluGrad';

/**
 * A kernel of our own: the whole FusedBatchNorm gradient (dx, dmean, dvariance, dscale, doffset)
 * in two passes over x and dy on wasm, where tfjs-core's composition makes about ten.
 */
export const BATCH_NORM_GRAD_KERNEL = 'GradflowBatchNormGrad';

/**
 * A kernel of our own: the Sum/Mean gradient over leading axes, dy repeated to x's shape and
 * divided by the reduced size (Mean) in one pass, where tfjs-core makes ones(x.shape), a
 * broadcast Multiply and a RealDiv.
 */
export const REDUCE_GRAD_KERNEL = 'GradflowReduceGrad';

/** True while the engine records a tape inside a backward pass (higher-order gradients). */
function higherOrder(): boolean {
  return (tf.engine() as unknown as { state: { gradientDepth: number } }).state.gradientDepth > 0;
}

/** tfjs-core's own Relu gradient: dy * step(x) as two kernels (Step, Multiply). */
function composedReluGrad(dy: tf.Tensor, x: tf.Tensor): tf.Tensor {
  return tf.mul(dy, tf.cast(tf.step(x), 'float32'));
}

function fusedAvailable(x: tf.Tensor, dy: tf.Tensor): boolean {
  return (
    tf.getBackend() === 'wasm' &&
    tf.getKernel(RELU_GRAD_KERNEL, 'wasm') !== undefined &&
    x.dtype === 'float32' &&
    dy.dtype === 'float32' &&
    tf.util.arraysEqual(x.shape, dy.shape)
  );
}

const reluGradient: tf.GradConfig = {
  kernelName: 'Relu',
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved as tf.Tensor[];
    const g = dy as tf.Tensor;
    return {
      x: () =>
        x && fusedAvailable(x, g)
          ? (tf.engine().runKernel(RELU_GRAD_KERNEL, { dy: g, x }) as tf.Tensor)
          : composedReluGrad(g, x as tf.Tensor),
    };
  },
};

/** Second order: d(dy*step(x))/d(dy) = step(x); step has a zero derivative in x. */
const reluGradGradient: tf.GradConfig = {
  kernelName: RELU_GRAD_KERNEL,
  inputsToSave: ['x'],
  gradFunc: (g, saved) => {
    const [x] = saved as tf.Tensor[];
    return {
      dy: () => composedReluGrad(g as tf.Tensor, x as tf.Tensor),
      x: () => tf.zerosLike(x as tf.Tensor),
    };
  },
};

let previousReduce: { Sum?: tf.GradConfig; Mean?: tf.GradConfig } = {};

/** The reduced axes when they are exactly the leading ones (0..k-1, k < rank), else null. */
function leadingAxes(axis: unknown, shape: number[]): number[] | null {
  const axes = [...tf.util.parseAxisParam(axis as number | number[], shape)].sort((a, b) => a - b);
  return axes.length > 0 && axes.length < shape.length && axes.every((a, i) => a === i) ? axes : null;
}

function reduceGradient(kernelName: 'Sum' | 'Mean', original: tf.GradConfig): tf.GradConfig {
  return {
    kernelName,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as (tf.Tensor | undefined)[];
      const g = dy as tf.Tensor;
      const axes = x ? leadingAxes(attrs.axis, x.shape) : null;
      if (
        !x ||
        !axes ||
        tf.getBackend() !== 'wasm' ||
        tf.getKernel(REDUCE_GRAD_KERNEL, 'wasm') === undefined ||
        higherOrder() ||
        x.dtype !== 'float32' ||
        g.dtype !== 'float32' ||
        g.size !== x.shape.slice(axes.length).reduce((p, d) => p * d, 1)
      ) {
        return original.gradFunc(dy, saved, attrs);
      }
      const reduced = x.shape.slice(0, axes.length).reduce((p, d) => p * d, 1);
      const divisor = kernelName === 'Mean' ? reduced : 1;
      return {
        x: () =>
          tf.engine().runKernel(REDUCE_GRAD_KERNEL, { dy: g }, {
            shape: x.shape,
            divisor,
          } as unknown as tf.NamedAttrMap) as tf.Tensor,
      };
    },
  };
}

let previous: tf.GradConfig | undefined;
let previousBatchNorm: tf.GradConfig | undefined;
let installed = false;

/** GradflowBatchNormGrad can run on x and dy (float32, same shape, first-order, on wasm). */
function batchNormKernelReady(x: tf.Tensor, dy: tf.Tensor): boolean {
  return (
    tf.getBackend() === 'wasm' &&
    tf.getKernel(BATCH_NORM_GRAD_KERNEL, 'wasm') !== undefined &&
    !higherOrder() &&
    x.rank >= 1 &&
    x.dtype === 'float32' &&
    dy.dtype === 'float32' &&
    tf.util.arraysEqual(x.shape, dy.shape)
  );
}

function fusedBatchNormApplies(
  x: tf.Tensor,
  dy: tf.Tensor,
  mean: tf.Tensor,
  variance: tf.Tensor,
  scale?: tf.Tensor,
): boolean {
  const c = x.shape[x.rank - 1];
  const vec = (t: tf.Tensor): boolean => t.dtype === 'float32' && t.rank === 1 && t.shape[0] === c;
  return batchNormKernelReady(x, dy) && vec(mean) && vec(variance) && (scale === undefined || vec(scale));
}

/**
 * The whole gradient of a channels-last BatchNorm in training mode, whose mean and variance are
 * x's own statistics over every axis but the last: dx (the paths through the statistics
 * included), dscale and doffset, in two passes over x and dy on wasm, where the closed form
 * composed of tfjs ops makes about eight. mean, variance and scale may have kept dims
 * (`[1, ..., 1, C]`). Null where the kernel does not apply: another backend, gradflow's kernels
 * not registered, a higher-order gradient, other shapes or dtypes. It only reads its inputs.
 *
 * @example
 * ```ts
 * const x = tf.randomNormal([2, 3, 4]);
 * const dy = tf.randomNormal([2, 3, 4]);
 * const m = tf.moments(x, [0, 1]);
 * const g = batchNormTrainingGrad({ x, dy, mean: m.mean, variance: m.variance, scale: null, epsilon: 1e-3 });
 * if (tf.getBackend() !== 'wasm' && g !== null) throw new Error('the fused gradient is wasm only');
 * if (g) tf.dispose([g.dx, g.dscale, g.doffset]);
 * tf.dispose([x, dy, m.mean, m.variance]);
 * ```
 */
export function batchNormTrainingGrad(args: {
  x: tf.Tensor;
  dy: tf.Tensor;
  mean: tf.Tensor;
  variance: tf.Tensor;
  scale: tf.Tensor | null;
  epsilon: number;
}): { dx: tf.Tensor; dscale: tf.Tensor; doffset: tf.Tensor } | null {
  const { x, dy, epsilon } = args;
  const c = x.shape[x.rank - 1] ?? 0;
  const stats = [args.mean, args.variance, ...(args.scale ? [args.scale] : [])];
  // Per-channel statistics, possibly with kept dims: reshaped to the vectors the kernel takes.
  const perChannel = (t: tf.Tensor): boolean =>
    t.dtype === 'float32' && t.size === c && t.shape[t.rank - 1] === c;
  const vector = (t: tf.Tensor): tf.Tensor => tf.reshape(t, [c]);
  if (x.rank < 2 || !stats.every(perChannel) || !batchNormKernelReady(x, dy)) return null;
  return tf.tidy(() => {
    const inputs: tf.NamedTensorMap = { x, dy, mean: vector(args.mean), variance: vector(args.variance) };
    if (args.scale) inputs.scale = vector(args.scale);
    const [dx, , , dscale, doffset] = tf.engine().runKernel(BATCH_NORM_GRAD_KERNEL, inputs, {
      varianceEpsilon: epsilon,
      batchStatistics: true,
    } as unknown as tf.NamedAttrMap) as tf.Tensor[];
    return { dx: dx!, dscale: dscale!, doffset: doffset! };
  }) as { dx: tf.Tensor; dscale: tf.Tensor; doffset: tf.Tensor };
}

function batchNormGradient(original: tf.GradConfig): tf.GradConfig {
  return {
    kernelName: 'FusedBatchNorm',
    inputsToSave: ['x', 'mean', 'variance', 'scale'],
    gradFunc: (dy, saved, attrs) => {
      const [x, mean, variance, scale] = saved as (tf.Tensor | undefined)[];
      const g = dy as tf.Tensor;
      if (!x || !mean || !variance || !fusedBatchNormApplies(x, g, mean, variance, scale ?? undefined)) {
        return original.gradFunc(dy, saved, attrs);
      }
      const inputs: tf.NamedTensorMap = { x, dy: g, mean, variance };
      if (scale) inputs.scale = scale;
      const [dx, dmean, dvar, dscale, doffset] = tf.engine().runKernel(BATCH_NORM_GRAD_KERNEL, inputs, {
        varianceEpsilon: attrs.varianceEpsilon,
      } as unknown as tf.NamedAttrMap) as tf.Tensor[];
      return {
        x: () => dx as tf.Tensor,
        mean: () => dmean as tf.Tensor,
        variance: () => dvar as tf.Tensor,
        scale: () => dscale as tf.Tensor,
        offset: () => doffset as tf.Tensor,
      };
    },
  };
}

/**
 * Registers 'Sum' and 'Mean' gradients that run REDUCE_GRAD_KERNEL on wasm for leading-axes
 * reductions, a 'FusedBatchNorm' gradient that runs BATCH_NORM_GRAD_KERNEL on wasm (first-order,
 * per-channel statistics) and tfjs-core's own gradient otherwise, and a 'Relu' gradient that runs RELU_GRAD_KERNEL on the wasm backend and tfjs-core's
 * composition (mul(dy, cast(step(x)))) everywhere else, so other backends are unaffected.
 */
export function installGradients(): void {
  if (installed) return;
  previous = tf.getGradient('Relu');
  previousBatchNorm = tf.getGradient('FusedBatchNorm');
  tf.registerGradient(reluGradient);
  if (previousBatchNorm) tf.registerGradient(batchNormGradient(previousBatchNorm));
  previousReduce = {};
  for (const name of ['Sum', 'Mean'] as const) {
    const original = tf.getGradient(name);
    if (original) {
      previousReduce[name] = original;
      tf.registerGradient(reduceGradient(name, original));
    }
  }
  tf.registerGradient(reluGradGradient);
  installed = true;
}

/** Restores the Relu gradient that was registered before installGradients(). */
export function uninstallGradients(): void {
  if (!installed) return;
  if (previous) tf.registerGradient(previous);
  if (previousBatchNorm) tf.registerGradient(previousBatchNorm);
  for (const original of Object.values(previousReduce)) tf.registerGradient(original);
  installed = false;
}
