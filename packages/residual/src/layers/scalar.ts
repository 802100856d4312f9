import * as tf from '@tensorflow/tfjs';
import { checkFinite } from '@gradflow/core';
import { oneTensor, type LayerArgs } from './util.js';

export interface ScalarArgs extends LayerArgs {
  /** Initial value of the learnable scalar. */
  initialValue?: number;
}

/**
 * `y = alpha * x` with one learnable scalar `alpha` (weight shape `[1]`, broadcast over the
 * input). The multiplier of Fixup (init 1) and the branch gate of SkipInit and ReZero (init 0).
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

/** `y = x + b` with one learnable scalar `b` (weight shape `[1]`): Fixup's scalar biases (init 0). */
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
