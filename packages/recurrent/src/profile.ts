import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, StateError } from '@gradflow/core';
import { startProbe, stopProbe, type ProbeEntry } from './probe-state.js';

/** Hidden states and their gradients through time, for one stacked layer and direction. */
export interface SequenceProfileTrack {
  /** The recurrent layer's name. */
  layer: string;
  /** Index in the layer's stack (0 = reads the input). */
  depth: number;
  direction: 'forward' | 'backward';
  /** h_t for t = 0..T-1 (time order), each `[B*H]` row-major. */
  hidden: Float32Array[];
  /** d loss / d h_t for t = 0..T-1, each `[B*H]`: the total derivative, through the output at t and through every later step. */
  grads: Float32Array[];
  /** ||d loss / d h_t|| (Frobenius norm over batch and units) per timestep. */
  gradNorms: number[];
  /** ||h_t|| per timestep. */
  hiddenNorms: number[];
}

/** What {@link sequenceGradientProfile} returns: plain arrays, no tensors. */
export interface SequenceGradientProfile {
  /** The top track (last recurrent kernel run in the forward pass, i.e. the deepest layer's forward direction unless bidirectional). */
  hidden: Float32Array[];
  /** ||d loss / d h_t|| of the top track per timestep. */
  gradNorms: number[];
  /** Every recurrent kernel call, in forward execution order. */
  tracks: SequenceProfileTrack[];
}

function norm(v: Float32Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  return Math.sqrt(s);
}

/**
 * Runs `target` (a `RecurrentLayer` or any model containing them) on `x`, backpropagates
 * `lossFn(output)` and returns, for every recurrent layer and direction, the hidden state h_t
 * and the gradient d loss / d h_t at every timestep — the gradient-through-time profile that
 * shows whether a recurrence vanishes (norms shrinking towards t = 0) or explodes.
 *
 * No weight changes; no tensor outlives the call (the profile is plain typed arrays).
 *
 * @example
 * ```ts
 * // Loss on the last state only: the gradient reaching earlier steps shows what gets through.
 * const rnn = simpleRnnLayer({ units: 8 });
 * const x = tf.randomNormal([4, 30, 2]);
 * const target = tf.zeros([4, 8]);
 * tf.dispose(rnn.apply(x) as tf.Tensor); // build the weights first
 * const { gradNorms } = sequenceGradientProfile(rnn, x, (y) => tf.losses.meanSquaredError(target, y as tf.Tensor));
 * // gradNorms[t]: how much the loss still "hears" the state at step t
 * if (gradNorms.length !== 30) throw new Error(String(gradNorms.length));
 * if (!(gradNorms[0]! < gradNorms[29]!)) throw new Error('a tanh RNN forgets: the gradient shrinks going back in time');
 * tf.dispose([x, target]);
 * rnn.dispose();
 * ```
 */
export function sequenceGradientProfile(
  target: tf.layers.Layer | tf.LayersModel,
  x: tf.Tensor | tf.Tensor[],
  lossFn: (output: tf.Tensor | tf.Tensor[]) => tf.Scalar,
): SequenceGradientProfile {
  if (typeof lossFn !== 'function')
    throw new InvalidArgumentError('lossFn', lossFn, 'a function (output) => scalar tf.Tensor');
  const variables = target.trainableWeights.map((w) => w.read() as tf.Variable);
  if (variables.length === 0) {
    throw new StateError(
      `'${target.name}' has no trainable weights to backpropagate to; build it (apply it once) and keep it trainable`,
    );
  }
  const entries: ProbeEntry[] = startProbe();
  try {
    const { value, grads } = tf.variableGrads(() => {
      const loss = lossFn(target.apply(x, { training: true }) as tf.Tensor | tf.Tensor[]);
      if (!(loss instanceof tf.Tensor) || loss.rank !== 0) {
        throw new InvalidArgumentError(
          'lossFn result',
          loss instanceof tf.Tensor ? loss.shape : loss,
          'a scalar tf.Tensor',
        );
      }
      return loss;
    }, variables);
    tf.dispose([value, ...Object.values(grads)]);
  } finally {
    stopProbe();
  }
  if (entries.length === 0) {
    throw new StateError(
      `'${target.name}' ran no gradflow recurrent layer; sequenceGradientProfile needs a RecurrentLayer in the forward pass`,
    );
  }
  const tracks = entries.map((e): SequenceProfileTrack => {
    const T = e.hidden.length;
    const grads = Array.from(
      { length: T },
      (_v, t) => e.grads[t] ?? new Float32Array(e.hidden[t]?.length ?? 0),
    );
    return {
      layer: e.layer,
      depth: e.depth,
      direction: e.direction,
      hidden: e.hidden,
      grads,
      gradNorms: grads.map(norm),
      hiddenNorms: e.hidden.map(norm),
    };
  });
  const top = [...tracks].reverse().find((t) => t.direction === 'forward') ?? tracks[tracks.length - 1]!;
  return { hidden: top.hidden, gradNorms: top.gradNorms, tracks };
}
