import * as tf from '@tensorflow/tfjs';
import { Rng, ShapeError, checkFinite, checkInteger } from '@gradflow/core';
import { checkSeed, isTraining, oneTensor, seedFromName, type LayerArgs } from './util.js';

/** Constructor arguments of {@link DropBlock2D}: tfjs layer args plus block size, keep probability and seed. */
export interface DropBlockArgs extends LayerArgs {
  /** Side of the square blocks that are dropped (default 7, the paper's ImageNet value). */
  blockSize?: number;
  /** Probability of keeping a unit, in (0, 1] (default 0.9). 1 makes the layer the identity. */
  keepProb?: number;
  /** Seed of the mask stream (default: derived from the layer name). */
  seed?: number;
}

/**
 * DropBlock (Ghiasi et al. 2018) for NHWC feature maps. In training, block centres are drawn
 * with probability `gamma = (1 - keepProb) / blockSize² · HW / ((H - blockSize + 1)(W - blockSize + 1))`
 * inside the region where a whole block fits, each is grown to a `blockSize × blockSize` square of
 * zeros (independently per channel), and the output is rescaled by `count(M) / sum(M)` so its
 * expectation is unchanged. At inference it is the identity. A block larger than the feature
 * map is clipped to the map.
 *
 * @example
 * ```ts
 * const layer = new DropBlock2D({ blockSize: 3, keepProb: 0.8, seed: 0 });
 * const x = tf.ones([1, 8, 8, 2]);
 * const train = layer.apply(x, { training: true }) as tf.Tensor; // 3x3 squares of zeros, rest rescaled
 * if (train.shape.join() !== '1,8,8,2') throw new Error(String(train.shape));
 * const infer = layer.apply(x) as tf.Tensor; // the identity at inference
 * if (tf.tidy(() => infer.min().dataSync()[0]) !== 1) throw new Error('identity');
 * tf.dispose([x, train, infer]);
 * ```
 */
export class DropBlock2D extends tf.layers.Layer {
  static className = 'DropBlock2D';
  readonly blockSize: number;
  readonly keepProb: number;
  readonly seed: number | undefined;
  private readonly rng: Rng;

  constructor(args: DropBlockArgs = {}) {
    super(args);
    this.blockSize = checkInteger('DropBlock2D blockSize', args.blockSize ?? 7);
    this.keepProb = checkFinite('DropBlock2D keepProb', args.keepProb ?? 0.9, {
      min: 0,
      minExclusive: true,
      max: 1,
    });
    this.seed = checkSeed(args.seed);
    this.rng = new Rng(this.seed ?? seedFromName(this.name));
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = Array.isArray(inputShape[0]) ? (inputShape[0] as tf.Shape) : (inputShape as tf.Shape);
    if (shape.length !== 4)
      throw new ShapeError('DropBlock2D input', shape, '[batch, height, width, channels]');
    this.built = true;
  }

  /** The 0/1 mask for an input of `shape` (exposed for tests; draws from the layer's stream). */
  sampleMask(shape: readonly number[]): tf.Tensor4D {
    const [b, h, w, c] = shape as [number, number, number, number];
    const bs = Math.min(this.blockSize, h, w);
    const vh = h - bs + 1;
    const vw = w - bs + 1;
    const gamma = ((1 - this.keepProb) / (bs * bs)) * ((h * w) / (vh * vw));
    const seeds = this.rng.fill(b * vh * vw * c, (r) => (r.uniform() < gamma ? 1 : 0));
    return tf.tidy(() => {
      // Seeds mark block corners; padding by bs-1 and a valid bs×bs max-pool grows each corner
      // into the block below-right of it, which always lies inside the map.
      const corners = tf.pad(tf.tensor4d(seeds, [b, vh, vw, c]), [
        [0, 0],
        [bs - 1, bs - 1],
        [bs - 1, bs - 1],
        [0, 0],
      ]);
      const dropped = tf.maxPool(corners, bs, 1, 'valid');
      return tf.sub(1, dropped) as tf.Tensor4D;
    });
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    const x = oneTensor(inputs, 'DropBlock2D');
    if (!isTraining(kwargs) || this.keepProb === 1) return x;
    const mask = this.sampleMask(x.shape);
    return tf.tidy(() => {
      const scale = tf.div(mask.size, tf.maximum(tf.sum(mask), 1e-7));
      const out = tf.mul(tf.mul(x, mask), scale);
      mask.dispose();
      return out;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = { blockSize: this.blockSize, keepProb: this.keepProb };
    if (this.seed !== undefined) config['seed'] = this.seed;
    return { ...super.getConfig(), ...config };
  }
}
