import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, ShapeError, checkInteger } from '@gradflow/core';

type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

/** Constructor arguments of {@link NearestUpsample2D}: tfjs layer args plus the factor. */
export interface NearestUpsample2DArgs extends LayerArgs {
  /** Integer upsampling factor along height and width (default 2). */
  factor?: number;
}

/**
 * Nearest-neighbour upsampling by an integer factor (every pixel repeated `factor x factor`
 * times), in NHWC: PyTorch's `F.interpolate(x, scale_factor=s, mode='nearest')` and tfjs's
 * `UpSampling2D` forward pass.
 *
 * Why not tfjs's `UpSampling2D`: its gradient kernel on the cpu backend (tfjs-backend-cpu 4.22
 * `ResizeNearestNeighborGrad`) reads the wrong image for every batch element after the first,
 * so training on cpu silently uses wrong gradients. This layer is a reshape and a broadcast
 * multiply, whose gradient (a sum over the broadcast axes) is exact on every backend.
 *
 * @example
 * ```ts
 * const layer = new NearestUpsample2D({ factor: 2 });
 * const x = tf.tensor4d([1, 2], [1, 1, 2, 1]);
 * const y = layer.apply(x) as tf.Tensor; // [1, 2, 4, 1]: every pixel becomes a 2x2 patch
 * if (Array.from(y.dataSync()).join() !== '1,1,2,2,1,1,2,2') throw new Error(String(y.dataSync()));
 * tf.dispose([x, y]);
 * ```
 */
export class NearestUpsample2D extends tf.layers.Layer {
  static className = 'NearestUpsample2D';
  readonly factor: number;

  constructor(args: NearestUpsample2DArgs = {}) {
    super(args);
    this.factor = checkInteger('NearestUpsample2D factor', args.factor ?? 2);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    if (shape.length !== 4)
      throw new ShapeError('NearestUpsample2D input', shape, '[batch, height, width, channels]');
    const up = (d: number | null | undefined) => (d == null ? null : d * this.factor);
    return [shape[0] ?? null, up(shape[1]), up(shape[2]), shape[3] ?? null];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!x || x.rank !== 4)
      throw new InvalidArgumentError('NearestUpsample2D input', x?.shape, 'one rank-4 NHWC tensor');
    const [b, h, w, c] = x.shape as [number, number, number, number];
    const s = this.factor;
    return tf.tidy(() =>
      tf.reshape(tf.mul(tf.reshape(x, [b, h, 1, w, 1, c]), tf.ones([1, 1, s, 1, s, 1])), [
        b,
        h * s,
        w * s,
        c,
      ]),
    );
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), factor: this.factor };
  }
}
