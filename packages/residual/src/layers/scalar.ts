import * as tf from '@tensorflow/tfjs';
import { checkFinite } from '@gradflow/core';
import { oneTensor, type LayerArgs } from './util.js';

/** Constructor arguments of {@link ScalarScale} and {@link ScalarBias}. */
export interface ScalarArgs extends LayerArgs {
  /** Initial value of the learnable scalar. */
  initialValue?: number;
}

/**
 * `y = alpha * x` with one learnable scalar `alpha` (weight shape `[1]`, broadcast over the
 * input). The multiplier of Fixup (init 1) and the branch gate of SkipInit and ReZero (init 0).
 *
 * @example
 * ```ts
 * const gate = new ScalarScale({ initialValue: 0.5 });
 * const x = tf.tensor2d([[2, 4]]);
 * const y = gate.apply(x) as tf.Tensor;
 * if (y.dataSync().join() !== '1,2') throw new Error(String(y.dataSync()));
 * if (gate.countParams() !== 1) throw new Error('one scalar');
 * tf.dispose([x, y]);
 * ```
 */
export class ScalarScale extends tf.layers.Layer {
  static className = 'ScalarScale';
  readonly initialValue: number;
  private scale: tf.LayerVariable | null = null;

  constructor(args: ScalarArgs = {}) {
    super(args);
    this.initialValue = checkFinite('ScalarScale initialValue', args.initialValue ?? 1);
  }

  override build(): void {
    this.scale = this.addWeight(
      'scale',
      [1],
      'float32',
      tf.initializers.constant({ value: this.initialValue }),
    );
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = oneTensor(inputs, 'ScalarScale');
    return tf.tidy(() => tf.mul(x, this.scale!.read()));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), initialValue: this.initialValue };
  }
}

/**
 * `y = x + b` with one learnable scalar `b` (weight shape `[1]`): Fixup's scalar biases (init 0).
 *
 * @example
 * ```ts
 * const bias = new ScalarBias({ initialValue: 1 });
 * const x = tf.tensor2d([[2, 4]]);
 * const y = bias.apply(x) as tf.Tensor;
 * if (y.dataSync().join() !== '3,5') throw new Error(String(y.dataSync()));
 * tf.dispose([x, y]);
 * ```
 */
export class ScalarBias extends tf.layers.Layer {
  static className = 'ScalarBias';
  readonly initialValue: number;
  private bias: tf.LayerVariable | null = null;

  constructor(args: ScalarArgs = {}) {
    super(args);
    this.initialValue = checkFinite('ScalarBias initialValue', args.initialValue ?? 0);
  }

  override build(): void {
    this.bias = this.addWeight(
      'bias',
      [1],
      'float32',
      tf.initializers.constant({ value: this.initialValue }),
    );
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = oneTensor(inputs, 'ScalarBias');
    return tf.tidy(() => tf.add(x, this.bias!.read()));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), initialValue: this.initialValue };
  }
}
