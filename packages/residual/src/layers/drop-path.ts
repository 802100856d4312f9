import * as tf from '@tensorflow/tfjs';
import { Rng } from '@gradflow/core';
import { checkRate, checkSeed, isTraining, oneTensor, seedFromName, type LayerArgs } from './util.js';

/** Constructor arguments of {@link DropPath}: tfjs layer args plus the rate and seed. */
export interface DropPathArgs extends LayerArgs {
  /** Probability of dropping the whole branch for a sample, in [0, 1). */
  rate: number;
  /** Seed of the layer's mask stream (default: derived from the layer name). */
  seed?: number;
}

/**
 * Stochastic depth / drop-path (Huang et al. 2016; timm's `DropPath`): in training, each sample's
 * input is zeroed with probability `rate` and the survivors are scaled by `1 / (1 - rate)`, so
 * the expectation is unchanged; at inference the layer is the identity. Put it on a residual
 * branch just before the addition, never on the shortcut.
 *
 * Masks come from a seeded CPU stream owned by the layer (`@gradflow/core`'s `Rng`), so they
 * are the same on every backend and reproducible run to run.
 *
 * @example
 * ```ts
 * const layer = new DropPath({ rate: 0.5, seed: 1 });
 * const x = tf.ones([8, 3]);
 * const train = layer.apply(x, { training: true }) as tf.Tensor; // each row all 0 or all 2
 * const rows = train.arraySync() as number[][];
 * if (!rows.every((r) => r.every((v) => v === r[0]) && (r[0] === 0 || r[0] === 2))) throw new Error(String(rows));
 * const infer = layer.apply(x) as tf.Tensor; // the identity at inference
 * if (tf.tidy(() => infer.sum().dataSync()[0]) !== 24) throw new Error('identity');
 * tf.dispose([x, train, infer]);
 * ```
 */
export class DropPath extends tf.layers.Layer {
  static className = 'DropPath';
  readonly rate: number;
  readonly seed: number | undefined;
  private readonly rng: Rng;

  constructor(args: DropPathArgs) {
    super(args);
    this.rate = checkRate('DropPath rate', args.rate);
    this.seed = checkSeed(args.seed);
    this.rng = new Rng(this.seed ?? seedFromName(this.name));
    this.supportsMasking = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    const x = oneTensor(inputs, 'DropPath');
    if (!isTraining(kwargs) || this.rate === 0) return x;
    const batch = x.shape[0] ?? 1;
    const keep = 1 - this.rate;
    const values = this.rng.fill(batch, (r) => (r.uniform() < keep ? 1 / keep : 0));
    return tf.tidy(() => tf.mul(x, tf.tensor(values, [batch, ...x.shape.slice(1).map(() => 1)])));
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = { rate: this.rate };
    if (this.seed !== undefined) config['seed'] = this.seed;
    return { ...super.getConfig(), ...config };
  }
}
