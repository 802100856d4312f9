import * as tf from '@tensorflow/tfjs';
import { Rng, ShapeError } from '@gradflow/core';
import {
  resolveActivation,
  type ActivationLike,
  type CanonicalActivationName,
  type ResolvedActivation,
} from './registry.js';
import type { ActivationParams } from './spec.js';

type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

/** Constructor arguments (and serialized config) of `GradflowActivation`. */
export interface GradflowActivationArgs extends LayerArgs {
  /** Activation name or alias (stored canonical). */
  activation: string;
  /** Parameters; missing ones take their defaults, and the config stores all of them. */
  params?: Record<string, number | boolean>;
}

/**
 * One serializable layer for every activation in `ACTIVATIONS`, with config
 * `{ activation, params }`. PReLU owns a learnable weight `alpha` (shape [1], or [channels] with
 * `per_channel`, channels = last axis); RReLU draws its slopes from a seeded `Rng` when called
 * with `training: true` and uses the mean slope otherwise. Registered with tfjs serialization,
 * so saved models load back. Usually created through {@link activationLayer}.
 *
 * @example
 * ```ts
 * const act = new GradflowActivation({ activation: 'prelu', params: { per_channel: true }, name: 'act' });
 * const model = tf.sequential({ layers: [tf.layers.dense({ units: 4, inputShape: [3] }), act] });
 * act.getWeights()[0]?.shape; // [4]: one learnable alpha per channel, initialised to 0.25
 * act.getConfig(); // { activation: 'prelu', params: { init: 0.25, per_channel: true }, name: 'act', ... }
 * const y = model.predict(tf.ones([2, 3])) as tf.Tensor;
 * if (y.shape.join() !== '2,4' || act.activation !== 'prelu') throw new Error('unexpected');
 * tf.dispose(y);
 * model.dispose();
 * ```
 */
export class GradflowActivation extends tf.layers.Layer {
  /** The tfjs serialization class name. */
  static className = 'GradflowActivation';
  /** Canonical activation name. */
  readonly activation: CanonicalActivationName;
  /** Every parameter of the activation, defaults filled in. */
  readonly params: ActivationParams;
  private readonly resolved: ResolvedActivation;
  private alpha: tf.LayerVariable | undefined;
  private readonly rng: Rng | undefined;

  constructor(args: GradflowActivationArgs) {
    super(args);
    // tfjs's model JSON camel-cases string values and keys on load ('leaky_relu' -> 'leakyRelu',
    // 'min_val' -> 'minVal'); registry names are snake_case, so map them back.
    const params = Object.fromEntries(Object.entries(args.params ?? {}).map(([k, v]) => [snakeCase(k), v]));
    this.resolved = resolveActivation({ ...params, name: snakeCase(args.activation) } as ActivationLike);
    this.activation = this.resolved.name;
    this.params = this.resolved.params;
    this.supportsMasking = true;
    this.rng = this.resolved.spec.stochastic ? new Rng(this.params.seed as number) : undefined;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    if (this.resolved.spec.learnable) {
      const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
      const channels = shape[shape.length - 1];
      let weightShape = [1];
      if (this.params.per_channel) {
        if (typeof channels !== 'number') {
          throw new ShapeError(
            `${this.name} input`,
            shape,
            'a known last (channel) dimension for per_channel prelu',
          );
        }
        weightShape = [channels];
      }
      this.alpha = this.addWeight(
        'alpha',
        weightShape,
        'float32',
        tf.initializers.constant({ value: this.params.init as number }),
      );
    }
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const alpha = this.alpha?.read();
      return this.resolved.spec.op(x, this.params, {
        training: kwargs.training ?? false,
        ...(this.rng ? { rng: this.rng } : {}),
        ...(alpha ? { alpha } : {}),
      });
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { activation: this.activation, params: { ...this.params }, ...super.getConfig() };
  }
}

function snakeCase(s: string): string {
  return typeof s === 'string' ? s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase() : s;
}

/** Options of {@link activationLayer}. */
export interface ActivationLayerOptions {
  /** Layer name (use deterministic names such as `stage2_block1_act`). */
  name?: string;
}

/**
 * The activation as a tf.layers layer (a {@link GradflowActivation}), for functional builders
 * and block options. The spec is validated here, so typos fail at model-build time.
 *
 * @example
 * ```ts
 * const input = tf.input({ shape: [8] });
 * const h = tf.layers.dense({ units: 16 }).apply(input) as tf.SymbolicTensor;
 * const y = activationLayer({ name: 'leaky_relu', slope: 0.2 }, { name: 'block1_act' }).apply(h) as tf.SymbolicTensor;
 * const model = tf.model({ inputs: input, outputs: y });
 * if (model.getLayer('block1_act').getConfig().activation !== 'leaky_relu') throw new Error('unexpected');
 * // eager use works too:
 * const out = activationLayer('relu6').apply(tf.tensor1d([-1, 3, 9])) as tf.Tensor; // [0, 3, 6]
 * tf.test_util.expectArraysClose(out.dataSync(), [0, 3, 6]);
 * tf.dispose(out);
 * model.dispose();
 * ```
 */
export function activationLayer(spec: ActivationLike, options: ActivationLayerOptions = {}): tf.layers.Layer {
  const { name, params } = resolveActivation(spec);
  return new GradflowActivation({
    activation: name,
    params: { ...params },
    ...(options.name ? { name: options.name } : {}),
  });
}
