import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, ShapeError, checkInteger } from '@gradflow/core';

type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

/** Constructor arguments of {@link BilinearUpsample2D}: tfjs layer args plus the factor. */
export interface BilinearUpsample2DArgs extends LayerArgs {
  /** Integer upsampling factor along height and width (default 2). */
  factor?: number;
}

/**
 * Bilinear upsampling by an integer factor with half-pixel centers: PyTorch's
 * `F.interpolate(x, scale_factor=s, mode='bilinear', align_corners=False)` and TF2's
 * `tf.image.resize`, in NHWC.
 *
 * Why not tfjs's `UpSampling2D({ interpolation: 'bilinear' })`: it resizes without half-pixel
 * centers (TF1's legacy grid: output 1 of a 2x upsampling is x0 + 0.5 (x1 - x0), PyTorch's is
 * x0 + 0.25 (x1 - x0)), which shifts the image by a quarter pixel; and tfjs 4.22's
 * `resizeBilinear(…, halfPixelCenters = true)` has the right forward pass but a gradient
 * computed for the legacy grid. This layer is separable interpolation built from slice, concat,
 * multiply and reshape, whose gradients are exact.
 *
 * @example
 * ```ts
 * const layer = new BilinearUpsample2D({ factor: 2 });
 * const x = tf.tensor4d([0, 1], [1, 1, 2, 1]); // one row: 0, 1
 * const y = layer.apply(x) as tf.Tensor; // [1, 2, 4, 1]; each row 0, 0.25, 0.75, 1 as PyTorch
 * const row = Array.from(y.dataSync().slice(0, 4));
 * if (row.join() !== '0,0.25,0.75,1') throw new Error(row.join());
 * tf.dispose([x, y]);
 * ```
 */
export class BilinearUpsample2D extends tf.layers.Layer {
  static className = 'BilinearUpsample2D';
  readonly factor: number;

  constructor(args: BilinearUpsample2DArgs = {}) {
    super(args);
    this.factor = checkInteger('BilinearUpsample2D factor', args.factor ?? 2);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    if (shape.length !== 4)
      throw new ShapeError('BilinearUpsample2D input', shape, '[batch, height, width, channels]');
    const up = (d: number | null | undefined) => (d == null ? null : d * this.factor);
    return [shape[0] ?? null, up(shape[1]), up(shape[2]), shape[3] ?? null];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!x || x.rank !== 4)
      throw new InvalidArgumentError('BilinearUpsample2D input', x?.shape, 'one rank-4 NHWC tensor');
    return tf.tidy(() => upsampleAxis(upsampleAxis(x, 1, this.factor), 2, this.factor));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), factor: this.factor };
  }
}

/**
 * Output j along `axis` samples the input at `(j + 0.5) / s - 0.5`: for j = s·i + r that is
 * `i + d_r` with `d_r = (r + 0.5) / s - 0.5` in (-0.5, 0.5), i.e. a fixed blend of x[i] and its
 * neighbour x[i ± 1] (edges replicated, which equals PyTorch's clamping of the source index).
 */
function upsampleAxis(x: tf.Tensor, axis: number, s: number): tf.Tensor {
  if (s === 1) return x;
  const n = x.shape[axis]!;
  const take = (begin: number, size: number) => {
    const b = [0, 0, 0, 0];
    const z = [...x.shape];
    b[axis] = begin;
    z[axis] = size;
    return tf.slice(x, b, z);
  };
  const prev = n === 1 ? x : tf.concat([take(0, 1), take(0, n - 1)], axis);
  const next = n === 1 ? x : tf.concat([take(1, n - 1), take(n - 1, 1)], axis);
  const phases: tf.Tensor[] = [];
  for (let r = 0; r < s; r++) {
    const d = (r + 0.5) / s - 0.5;
    if (d === 0) phases.push(x);
    else if (d < 0) phases.push(tf.add(tf.mul(x, 1 + d), tf.mul(prev, -d)));
    else phases.push(tf.add(tf.mul(x, 1 - d), tf.mul(next, d)));
  }
  const stacked = tf.stack(phases, axis + 1);
  const shape = [...x.shape];
  shape[axis] = n * s;
  return tf.reshape(stacked, shape);
}
