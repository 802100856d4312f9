import * as tf from '@tensorflow/tfjs';
import { Rng, checkInteger } from '@gradflow/core';
import {
  isInitializer,
  resolveInitializer,
  type Initializer,
  type InitializerLike,
} from '@gradflow/initializers';
import { deserializeInitializer, serializeInitializer } from './serialize.js';
import {
  checkRate,
  checkSeed,
  isTraining,
  oneShape,
  oneTensor,
  seedFromName,
  type LayerArgs,
} from './util.js';

/** Constructor arguments of {@link DropConnectDense}: tfjs layer args plus the dense layer's and the rate. */
export interface DropConnectDenseArgs extends LayerArgs {
  /** Output features. */
  units: number;
  /** Probability of dropping each kernel entry in training, in [0, 1). */
  rate: number;
  /** Add a bias (default true; the bias is never dropped). */
  useBias?: boolean;
  /** Kernel initializer, by name or value (default `glorot_uniform`). */
  kernelInitializer?: InitializerLike | tf.serialization.ConfigDict;
  /** Bias initializer (default `zeros`). */
  biasInitializer?: InitializerLike | tf.serialization.ConfigDict;
  /** Seed of the mask stream (default: derived from the layer name). */
  seed?: number;
}

function toInitializer(spec: unknown, fallback: InitializerLike): Initializer {
  if (spec === undefined || spec === null) return resolveInitializer(fallback);
  if (isInitializer(spec)) return spec;
  if (typeof spec === 'object' && 'className' in spec) return deserializeInitializer(spec);
  return resolveInitializer(spec as InitializerLike);
}

/**
 * DropConnect (Wan et al. 2013): a dense layer whose kernel entries are dropped independently
 * with probability `rate` in training, `y = x (M ⊙ W) / (1 - rate) + b`, and which is a plain
 * dense layer `y = x W + b` at inference. The `1/(1 - rate)` ("inverted") scaling keeps the
 * expected pre-activation equal in both modes; the paper's Gaussian moment-matching inference
 * is not implemented. The input's last axis is the feature axis (any rank >= 2).
 *
 * @example
 * ```ts
 * const layer = new DropConnectDense({ units: 3, rate: 0.5, seed: 0 });
 * const x = tf.ones([2, 4]);
 * const train = layer.apply(x, { training: true }) as tf.Tensor; // dropped kernel entries
 * const y = layer.apply(x) as tf.Tensor; // inference: the plain dense layer x W + b
 * const [kernel, bias] = layer.getWeights();
 * const error = tf.tidy(() => tf.sub(y, tf.add(tf.matMul(x, kernel!), bias!)).abs().max().dataSync()[0]!);
 * if (error > 1e-6) throw new Error('not x W + b');
 * if (train.shape.join() !== '2,3') throw new Error(String(train.shape));
 * tf.dispose([x, train, y]);
 * ```
 */
export class DropConnectDense extends tf.layers.Layer {
  static className = 'DropConnectDense';
  readonly units: number;
  readonly rate: number;
  readonly useBias: boolean;
  readonly seed: number | undefined;
  private readonly kernelInitializer: Initializer;
  private readonly biasInitializer: Initializer;
  private readonly rng: Rng;
  private kernel: tf.LayerVariable | null = null;
  private bias: tf.LayerVariable | null = null;

  constructor(args: DropConnectDenseArgs) {
    super(args);
    this.units = checkInteger('DropConnectDense units', args.units);
    this.rate = checkRate('DropConnectDense rate', args.rate);
    this.useBias = args.useBias ?? true;
    this.seed = checkSeed(args.seed);
    this.kernelInitializer = toInitializer(args.kernelInitializer, 'glorot_uniform');
    this.biasInitializer = toInitializer(args.biasInitializer, 'zeros');
    this.rng = new Rng(this.seed ?? seedFromName(this.name));
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = oneShape(inputShape);
    const inDim = shape[shape.length - 1];
    checkInteger('DropConnectDense input features (last axis)', inDim);
    this.kernel = this.addWeight('kernel', [inDim!, this.units], 'float32', this.kernelInitializer);
    if (this.useBias) this.bias = this.addWeight('bias', [this.units], 'float32', this.biasInitializer);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = oneShape(inputShape);
    return [...shape.slice(0, -1), this.units];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    const x = oneTensor(inputs, 'DropConnectDense');
    const kernel = this.kernel!.read();
    const mask =
      isTraining(kwargs) && this.rate > 0
        ? this.rng.fill(kernel.size, (r) => (r.uniform() < 1 - this.rate ? 1 / (1 - this.rate) : 0))
        : null;
    return tf.tidy(() => {
      const w = mask ? tf.mul(kernel, tf.tensor(mask, kernel.shape)) : kernel;
      const inDim = x.shape[x.shape.length - 1]!;
      const flat = x.rank === 2 ? x : tf.reshape(x, [-1, inDim]);
      let y: tf.Tensor = tf.matMul(flat as tf.Tensor2D, w as tf.Tensor2D);
      if (this.bias) y = tf.add(y, this.bias.read());
      return x.rank === 2 ? y : tf.reshape(y, [...x.shape.slice(0, -1), this.units]);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = {
      units: this.units,
      rate: this.rate,
      useBias: this.useBias,
      kernelInitializer: serializeInitializer(this.kernelInitializer),
      biasInitializer: serializeInitializer(this.biasInitializer),
    };
    if (this.seed !== undefined) config['seed'] = this.seed;
    return { ...super.getConfig(), ...config };
  }
}
