import * as tf from '@tensorflow/tfjs';
import { checkInteger } from '@gradflow/core';
import { oneShape, oneTensor, type LayerArgs } from './util.js';

/** Constructor arguments of {@link OptionAShortcut}. */
export interface OptionAShortcutArgs extends LayerArgs {
  /** Spatial subsampling step (takes every `stride`-th row and column, starting at 0). */
  stride: number;
  /** Zero channels added before the input's channels. */
  padBefore: number;
  /** Zero channels added after the input's channels. */
  padAfter: number;
}

/**
 * The parameter-free "option A" shortcut of He et al. 2015 (the CIFAR ResNets):
 * `x[:, ::s, ::s, :]` followed by zero channels on both sides, as in the reference
 * implementations (`F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, p, p))`).
 *
 * @example
 * ```ts
 * const shortcut = new OptionAShortcut({ stride: 2, padBefore: 4, padAfter: 4 });
 * const x = tf.ones([1, 4, 4, 8]);
 * const y = shortcut.apply(x) as tf.Tensor; // [1, 2, 2, 16]: 4 zero channels each side
 * const total = tf.tidy(() => y.sum().dataSync()[0]); // 2 * 2 * 8 ones kept
 * if (y.shape.join() !== '1,2,2,16' || total !== 32) throw new Error(String(y.shape));
 * tf.dispose([x, y]);
 * ```
 */
export class OptionAShortcut extends tf.layers.Layer {
  static className = 'OptionAShortcut';
  readonly stride: number;
  readonly padBefore: number;
  readonly padAfter: number;

  constructor(args: OptionAShortcutArgs) {
    super(args);
    this.stride = checkInteger('OptionAShortcut stride', args.stride);
    this.padBefore = checkInteger('OptionAShortcut padBefore', args.padBefore, 0);
    this.padAfter = checkInteger('OptionAShortcut padAfter', args.padAfter, 0);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [b, h, w, c] = oneShape(inputShape);
    const sub = (d: number | null | undefined) => (d == null ? null : Math.ceil(d / this.stride));
    return [b ?? null, sub(h), sub(w), c == null ? null : c + this.padBefore + this.padAfter];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = oneTensor(inputs, 'OptionAShortcut') as tf.Tensor4D;
    return tf.tidy(() => {
      const sub = subsample(x, this.stride);
      if (this.padBefore === 0 && this.padAfter === 0) return sub === x ? tf.clone(x) : sub;
      return tf.pad(sub, [
        [0, 0],
        [0, 0],
        [0, 0],
        [this.padBefore, this.padAfter],
      ]);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), stride: this.stride, padBefore: this.padBefore, padAfter: this.padAfter };
  }
}

/**
 * `x[:, ::s, ::s, :]` from ops that all have gradients in tfjs 4.22 (`stridedSlice` has none):
 * pad H and W up to multiples of s, view as `[b, H/s, s, W/s, s, c]`, keep index 0 of both
 * `s` axes.
 */
function subsample(x: tf.Tensor4D, s: number): tf.Tensor4D {
  if (s === 1) return x;
  const [b, h, w, c] = x.shape;
  const oh = Math.ceil(h / s);
  const ow = Math.ceil(w / s);
  const padded =
    oh * s === h && ow * s === w
      ? x
      : tf.pad(x, [
          [0, 0],
          [0, oh * s - h],
          [0, ow * s - w],
          [0, 0],
        ]);
  const picked = tf.slice(tf.reshape(padded, [b, oh, s, ow, s, c]), [0, 0, 0, 0, 0, 0], [b, oh, 1, ow, 1, c]);
  return tf.reshape(picked, [b, oh, ow, c]);
}
