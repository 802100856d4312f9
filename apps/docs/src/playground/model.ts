import * as tf from '@tensorflow/tfjs';
import { activationLayer, type ActivationLike } from '@gradflow/activations';
import { resolveInitializer, type InitializerLike } from '@gradflow/initializers';
import { normLayer, type NormLike } from '@gradflow/normalization';

export const SHORTCUTS = ['none', 'residual', 'residual_unscaled'] as const;
export type Shortcut = (typeof SHORTCUTS)[number];

export interface PlaygroundModelOptions {
  depth: number;
  width: number;
  activation: ActivationLike;
  initializer: InitializerLike;
  norm: NormLike;
  /**
   * 'none': a plain stack. 'residual': h + branch(h) / sqrt(depth) around every hidden layer —
   * the branch scaling of Stable ResNet (Hayou et al. 2021), which keeps the signal's variance
   * bounded at any depth without normalization. 'residual_unscaled': h + branch(h), whose variance
   * doubles per ReLU block when nothing normalizes it — the probe calls it exploding.
   */
  shortcut: Shortcut;
  inputSize: number;
  classes: number;
}

/**
 * The playground's network: an input projection, `depth` hidden blocks (dense → norm →
 * activation, with an identity shortcut around each when `shortcut` is 'residual') and a linear
 * classifier. Layer names (`hidden7_dense`) are what the probe reports.
 */
export function playgroundModel(o: PlaygroundModelOptions): tf.LayersModel {
  const input = tf.input({ shape: [o.inputSize] });
  const dense = (name: string, units = o.width) =>
    tf.layers.dense({ units, kernelInitializer: resolveInitializer(o.initializer), name });
  // A linear stem: the first hidden block sees a zero-centred projection of the input.
  let h = dense('stem_dense').apply(input) as tf.SymbolicTensor;
  for (let i = 1; i <= o.depth; i++) {
    let y = dense(`hidden${i}_dense`).apply(h) as tf.SymbolicTensor;
    const norm = normLayer(o.norm, { name: `hidden${i}_norm` });
    if (norm) y = norm.apply(y) as tf.SymbolicTensor;
    y = activationLayer(o.activation, { name: `hidden${i}_act` }).apply(y) as tf.SymbolicTensor;
    if (o.shortcut === 'residual') {
      y = tf.layers
        .rescaling({ scale: 1 / Math.sqrt(o.depth), name: `hidden${i}_scale` })
        .apply(y) as tf.SymbolicTensor;
    }
    h =
      o.shortcut === 'none'
        ? y
        : (tf.layers.add({ name: `hidden${i}_add` }).apply([h, y]) as tf.SymbolicTensor);
  }
  const logits = dense('classifier', o.classes).apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits, name: 'playground' });
}
