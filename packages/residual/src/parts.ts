import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, ShapeError } from '@gradflow/core';
import { activationLayer, type ActivationLike } from '@gradflow/activations';
import { resolveInitializer, type Initializer, type InitializerLike } from '@gradflow/initializers';
import { isNoNorm, normChecker, normLayer, type NormLike } from '@gradflow/normalization';

export type { ActivationLike, Initializer, InitializerLike, NormLike };

/** `layer.apply(x)` for the single-tensor layers the builders use. */
export function applyLayer(
  layer: tf.layers.Layer,
  x: tf.SymbolicTensor | tf.SymbolicTensor[],
): tf.SymbolicTensor {
  return layer.apply(x) as tf.SymbolicTensor;
}

// Validation lives with the registries and in core; the builders use it under their own names.
export { resolveActivation as checkActivation } from '@gradflow/activations';
export { checkLayerName as checkName, checkRate } from '@gradflow/core';
export { isNoNorm, normChecker as checkNorm };
export type { NormChannelCheck as ChannelCheck } from '@gradflow/normalization';

export function activation(spec: ActivationLike, name: string): tf.layers.Layer {
  return activationLayer(spec, { name });
}

export function norm(
  spec: NormLike,
  name: string,
  gammaInitializer?: InitializerLike,
): tf.layers.Layer | null {
  if (isNoNorm(spec)) return null;
  return normLayer(spec, gammaInitializer === undefined ? { name } : { name, gammaInitializer });
}

export function initializer(spec: InitializerLike): Initializer {
  return resolveInitializer(spec);
}

/** The static shape of a builder input, checked to be NHWC with known channels. */
export function nhwc(
  x: tf.SymbolicTensor,
  what: string,
): { height: number | null; width: number | null; channels: number } {
  if (!(x instanceof tf.SymbolicTensor)) {
    throw new InvalidArgumentError(
      `${what} input`,
      typeof x,
      'a tf.SymbolicTensor (from tf.input or a layer)',
    );
  }
  const [, h, w, c] = x.shape;
  if (x.shape.length !== 4 || c == null) {
    throw new ShapeError(`${what} input`, x.shape, '[batch, height, width, channels] with known channels');
  }
  return { height: h ?? null, width: w ?? null, channels: c };
}

/** Arguments of {@link conv}. */
export interface ConvSpec {
  /** Output channels. */
  filters: number;
  /** Square kernel size. */
  kernelSize: number;
  /** Stride (default 1). */
  stride?: number;
  /** Add a bias. */
  useBias: boolean;
  /** Kernel initializer object (e.g. from `resolveInitializer`). */
  kernelInitializer: Initializer;
}

/**
 * A convolution with PyTorch's symmetric padding `(k - 1) / 2`. For stride 1 that is tfjs's
 * `'same'`; for a strided k > 1 conv tfjs's `'same'` pads (0, 1) on even sizes, which shifts
 * every output by one pixel against torch and against the option-A shortcut's `x[::2]`, so the
 * padding is explicit (a `ZeroPadding2D` named `<name>_pad`) followed by a `'valid'` conv.
 *
 * @example
 * ```ts
 * const x = tf.input({ shape: [8, 8, 3] });
 * const spec = { filters: 4, kernelSize: 3, stride: 2, useBias: false, kernelInitializer: tf.initializers.heNormal({}) };
 * const y = conv(x, 'down', spec); // layers down_pad (1 pixel each side) and down
 * if (y.shape.join() !== ',4,4,4') throw new Error(String(y.shape));
 * ```
 */
export function conv(x: tf.SymbolicTensor, name: string, spec: ConvSpec): tf.SymbolicTensor {
  const stride = spec.stride ?? 1;
  const pad = (spec.kernelSize - 1) / 2;
  let input = x;
  let padding: 'same' | 'valid' = 'same';
  if (stride > 1 && spec.kernelSize > 1) {
    input = applyLayer(
      tf.layers.zeroPadding2d({
        padding: [
          [Math.floor(pad), Math.ceil(pad)],
          [Math.floor(pad), Math.ceil(pad)],
        ],
        name: `${name}_pad`,
      }),
      x,
    );
    padding = 'valid';
  }
  return applyLayer(
    tf.layers.conv2d({
      filters: spec.filters,
      kernelSize: spec.kernelSize,
      strides: stride,
      padding,
      useBias: spec.useBias,
      kernelInitializer: spec.kernelInitializer,
      name,
    }),
    input,
  );
}
