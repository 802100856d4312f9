import * as tf from '@tensorflow/tfjs';

/** A kernel of our own: dy * step(x), the ReLU gradient, fused into one pass on wasm. */
export const RELU_GRAD_KERNEL = 'GradflowReluGrad';

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

let previous: tf.GradConfig | undefined;
let installed = false;

/**
 * Registers a 'Relu' gradient that runs RELU_GRAD_KERNEL on the wasm backend and tfjs-core's
 * composition (mul(dy, cast(step(x)))) everywhere else, so other backends are unaffected.
 */
export function installReluGradient(): void {
  if (installed) return;
  previous = tf.getGradient('Relu');
  tf.registerGradient(reluGradient);
  tf.registerGradient(reluGradGradient);
  installed = true;
}

/** Restores the Relu gradient that was registered before installReluGradient(). */
export function uninstallReluGradient(): void {
  if (!installed) return;
  if (previous) tf.registerGradient(previous);
  installed = false;
}
