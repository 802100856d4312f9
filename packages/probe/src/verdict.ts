import { computeFans } from '@gradflow/core';
import type { Thresholds } from './thresholds.js';
import type { Evidence, LayerReport, ProbeStatus, RecurrentProfile, Verdict } from './types.js';

/** What {@link diagnose} needs besides the layer reports. */
export interface DiagnoseContext {
  /** The thresholds to judge by (e.g. `DEFAULT_THRESHOLDS` with overrides). */
  thresholds: Thresholds;
  /** Names of the layers that produce model outputs (excluded from saturation / dead checks). */
  outputLayers: Set<string>;
  /** The model has residual sums (Add layers). */
  hasShortcuts: boolean;
  /** Gradient-through-time profiles of recurrent layers (`report.recurrent`). */
  recurrent: RecurrentProfile[];
  /** Receives update/weight remarks (they are not statuses). */
  notes?: string[];
}

const fmt = (v: number) =>
  Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(2) : v.toPrecision(3);

function kernelOf(l: LayerReport) {
  return l.weights.find((w) => w.shape.length >= 2) ?? null;
}

const NORM_CLASSES = /Normalization|Norm$/;
const RECURRENT_CLASSES = new Set(['SimpleRNN', 'GRU', 'LSTM', 'RNN']);

/**
 * The verdict from per-layer statistics. Statuses are checked in this order, the first that
 * applies wins: nonfinite, exploding, dead, saturated, vanishing, healthy. Dead and saturated
 * come before vanishing because they are its usual causes and name the layer to fix.
 *
 * @example
 * ```ts
 * const model = tf.sequential({
 *   layers: [
 *     tf.layers.dense({ inputShape: [4], units: 8, activation: 'relu' }),
 *     tf.layers.dense({ units: 8, activation: 'relu' }),
 *     tf.layers.dense({ units: 3, activation: 'softmax' }),
 *   ],
 * });
 * const x = tf.randomNormal([16, 4]);
 * const labels = tf.tensor1d(Array.from({ length: 16 }, (_, i) => i % 3), 'int32');
 * const y = tf.oneHot(labels, 3);
 * labels.dispose();
 * const report = await probe(model, { x, y }, { loss: 'categorical_crossentropy' });
 * // Judge the same statistics again with other thresholds, without another pass.
 * const verdict = diagnose(report.layers, {
 *   thresholds: { ...DEFAULT_THRESHOLDS, vanishingRatio: 1e-6 },
 *   outputLayers: new Set([report.layers[2]!.name]),
 *   hasShortcuts: false,
 *   recurrent: report.recurrent,
 * });
 * if (verdict.status === 'vanishing') throw new Error('nothing vanishes by a factor of 1e6 in 3 layers');
 * tf.dispose([x, y]);
 * model.dispose();
 * ```
 */
export function diagnose(layers: LayerReport[], ctx: DiagnoseContext): Verdict {
  const th = ctx.thresholds;
  const evidence: Evidence[] = [];
  const hidden = layers.filter((l) => !ctx.outputLayers.has(l.name));
  const weighted = layers.filter((l) => kernelOf(l) !== null);
  const hasNorm = layers.some((l) => NORM_CLASSES.test(l.className));
  const simpleRnn = layers.find((l) => l.className === 'SimpleRNN');
  const saturating = hidden.filter((l) => l.activation?.kind === 'sigmoid' || l.activation?.kind === 'tanh');
  const deep = weighted.length >= 8;

  // Initialisation scale: kernel RMS against fan-in scaling (He for ReLU-like, LeCun otherwise).
  const initRemarks: { layer: LayerReport; rms: number; expected: number }[] = [];
  for (const l of weighted) {
    const k = kernelOf(l)!;
    if (RECURRENT_CLASSES.has(l.className)) continue;
    const size = k.shape.reduce((a, b) => a * b, 1);
    const { fanIn } = computeFans(k.shape);
    if (fanIn <= 0 || size === 0) continue;
    const gain2 = l.activation?.kind === 'relu' ? 2 : 1;
    const expected = Math.sqrt(gain2 / fanIn);
    initRemarks.push({ layer: l, rms: k.norm / Math.sqrt(size), expected });
  }
  const tooSmall = initRemarks.filter((r) => r.rms < 0.25 * r.expected);
  const tooLarge = initRemarks.filter((r) => r.rms > 4 * r.expected);

  for (const l of layers) {
    if (l.updateToWeight === null) continue;
    if (l.updateToWeight > th.updateRatioHigh) {
      ctx.notes?.push(
        `${l.name}: update/weight ${fmt(l.updateToWeight)} > ${fmt(th.updateRatioHigh)} (aim for ~1e-3): lower the learning rate`,
      );
    } else if (l.updateToWeight > 0 && l.updateToWeight < th.updateRatioLow) {
      ctx.notes?.push(
        `${l.name}: update/weight ${fmt(l.updateToWeight)} < ${fmt(th.updateRatioLow)} (aim for ~1e-3): this layer barely learns`,
      );
    }
  }

  const done = (
    status: ProbeStatus,
    firstBadLayer: string | null,
    summary: string,
    advice: string[],
  ): Verdict => ({
    status,
    firstBadLayer,
    summary,
    evidence,
    advice,
  });

  // 1. Non-finite values.
  const forwardBad = layers.find((l) => l.nonFinite.weights > 0 || l.nonFinite.activations > 0);
  if (forwardBad) {
    const nf = forwardBad.nonFinite;
    evidence.push({
      metric: 'non-finite activations',
      value: nf.activations,
      threshold: 0,
      layer: forwardBad.name,
    });
    if (nf.weights > 0)
      evidence.push({
        metric: 'non-finite weights',
        value: nf.weights,
        threshold: 0,
        layer: forwardBad.name,
      });
    return done(
      'nonfinite',
      forwardBad.name,
      `${forwardBad.name} is the first layer with non-finite ${nf.weights > 0 ? 'weights' : 'outputs'} (${nf.weights > 0 ? nf.weights : nf.activations} values)`,
      [
        nf.weights > 0
          ? `the weights of ${forwardBad.name} are already NaN/Infinity: training diverged; restore a checkpoint and lower the learning rate`
          : `inspect ${forwardBad.name}: its output is NaN/Infinity on finite inputs (log or sqrt of <= 0, division by zero, overflow)`,
        'lower the learning rate and clip gradients (tf.clipByGlobalNorm in a custom loop)',
        "use a norm with a positive epsilon (norm: 'batch_norm' / 'layer_norm' from @gradflow/normalization)",
      ],
    );
  }
  const backwardBad = [...layers]
    .reverse()
    .find((l) => l.nonFinite.outputGrads > 0 || l.nonFinite.weightGrads > 0);
  if (backwardBad) {
    evidence.push({
      metric: 'non-finite gradient values',
      value: backwardBad.nonFinite.outputGrads + backwardBad.nonFinite.weightGrads,
      threshold: 0,
      layer: backwardBad.name,
    });
    return done(
      'nonfinite',
      backwardBad.name,
      `the backward pass turns non-finite at ${backwardBad.name} (the deepest layer with a non-finite gradient; forward values are finite)`,
      [
        `inspect the layers consuming ${backwardBad.name}'s output: a derivative there is infinite (sqrt at 0, log at 0, pow with negative base)`,
        'clip gradients (tf.clipByGlobalNorm) and lower the learning rate',
      ],
    );
  }

  // Depth profiles over the weighted layers.
  const refCandidates = weighted.filter((l) => !ctx.outputLayers.has(l.name));
  const ref = refCandidates[refCandidates.length - 1] ?? weighted[weighted.length - 1];
  const refIndex = ref ? weighted.indexOf(ref) : -1;
  const depthOk = weighted.length >= th.minDepth && ref !== undefined;
  const refSignal = ref?.outputGradRms ?? null;
  const backward: { l: LayerReport; ratio: number }[] = [];
  if (depthOk && refSignal !== null && refSignal > 0) {
    for (const l of weighted.slice(0, refIndex)) {
      if (l.outputGradRms === null) continue;
      backward.push({ l, ratio: l.outputGradRms / refSignal });
    }
  }
  const first = weighted[0];
  const forward: { l: LayerReport; ratio: number }[] = [];
  if (depthOk && first?.activation && first.activation.rms > 0) {
    for (const l of weighted.slice(1)) {
      if (l.activation) forward.push({ l, ratio: l.activation.rms / first.activation.rms });
    }
  }

  const adviceInitLarge = tooLarge
    .slice(0, 3)
    .map(
      (r) =>
        `${r.layer.name}: weight std ${fmt(r.rms)} vs ${fmt(r.expected)} from fan-in scaling: kernelInitializer: '${r.layer.activation?.kind === 'relu' ? 'he_normal' : 'glorot_uniform'}' (@gradflow/initializers)`,
    );
  const adviceInitSmall = tooSmall
    .slice(0, 3)
    .map(
      (r) =>
        `${r.layer.name}: weight std ${fmt(r.rms)} vs ${fmt(r.expected)} from fan-in scaling: kernelInitializer: '${r.layer.activation?.kind === 'relu' ? 'he_normal' : 'glorot_uniform'}' (@gradflow/initializers)`,
    );
  const adviceNorm = hasNorm
    ? []
    : ["add norm: 'batch_norm' after each conv/dense (@gradflow/normalization normLayer)"];
  const adviceResidual =
    deep && !ctx.hasShortcuts
      ? [
          'use @gradflow/residual basicBlock: identity shortcuts carry the gradient past the stack (He et al. 2016)',
        ]
      : [];
  const adviceRnn = simpleRnn
    ? [
        `gruCell instead of simpleRnnCell for ${simpleRnn.name} (@gradflow/recurrent), or lstmCell with forget-gate bias 1`,
      ]
    : [];

  // 2. Exploding.
  const bigBack = backward.filter((b) => b.ratio > th.explodingRatio);
  const bigFwd = forward.filter((f) => f.ratio > th.explodingActivationRatio);
  const rnnBig = ctx.recurrent.filter((r) => r.firstToLast > th.explodingRatio);
  if (bigBack.length > 0 || bigFwd.length > 0 || rnnBig.length > 0) {
    let firstBad: string;
    let summary: string;
    if (bigBack.length > 0) {
      const b = bigBack[0]!;
      const worst = Math.max(...bigBack.map((x) => x.ratio));
      evidence.push({
        metric: 'backprop signal RMS ratio to last hidden layer',
        value: b.ratio,
        threshold: th.explodingRatio,
        layer: b.l.name,
      });
      evidence.push({
        metric: 'largest backprop signal ratio',
        value: worst,
        threshold: th.explodingRatio,
        layer: null,
      });
      firstBad = b.l.name;
      summary = `gradients grow ${fmt(worst)}x from ${ref!.name} back to ${b.l.name}`;
    } else if (bigFwd.length > 0) {
      const f = bigFwd[0]!;
      evidence.push({
        metric: `activation RMS ratio to ${first!.name}`,
        value: f.ratio,
        threshold: th.explodingActivationRatio,
        layer: f.l.name,
      });
      firstBad = f.l.name;
      summary = `activations grow ${fmt(f.ratio)}x from ${first!.name} to ${f.l.name} in the forward pass`;
    } else {
      const r = rnnBig[0]!;
      evidence.push({
        metric: '|dL/dh_0| / |dL/dh_T|',
        value: r.firstToLast,
        threshold: th.explodingRatio,
        layer: r.layer,
      });
      firstBad = r.layer;
      summary = `the gradient through time grows ${fmt(r.firstToLast)}x from the last to the first step of ${r.layer}`;
    }
    for (const r of tooLarge.slice(0, 3)) {
      evidence.push({
        metric: 'kernel std / fan-in std',
        value: r.rms / r.expected,
        threshold: 4,
        layer: r.layer.name,
      });
    }
    return done('exploding', firstBad, summary, [
      ...adviceInitLarge,
      ...(tooLarge.length === 0
        ? [
            "kernelInitializer: 'he_normal' for ReLU layers, 'glorot_uniform' for tanh (@gradflow/initializers)",
          ]
        : []),
      ...adviceNorm,
      ...(ctx.hasShortcuts
        ? ['zero-init the last norm of each residual branch (zeroInitResidual / Fixup in @gradflow/residual)']
        : []),
      ...adviceRnn.map((a) => `${a}; recurrentInitializer: 'orthogonal'`),
      'clip gradients (tf.clipByGlobalNorm in a custom loop) and lower the learning rate',
    ]);
  }

  // 3. Dead ReLUs.
  const dead = hidden.filter(
    (l) =>
      l.activation?.deadFraction != null &&
      l.activation.deadFraction >= th.deadFraction &&
      l.activation.samplesPerUnit >= th.minDeadSamples,
  );
  if (dead.length > 0) {
    const d = dead[0]!;
    for (const l of dead.slice(0, 5)) {
      evidence.push({
        metric: 'dead unit fraction',
        value: l.activation!.deadFraction!,
        threshold: th.deadFraction,
        layer: l.name,
      });
    }
    return done(
      'dead',
      d.name,
      `${fmt(100 * d.activation!.deadFraction!)}% of the units of ${d.name} output zero on every example (${dead.length} such layer(s))`,
      [
        `check the biases of ${d.name}: biasInitializer: 'zeros' (negative biases switch ReLUs off for good)`,
        "activation: 'leaky_relu' or 'elu' (no zero-gradient half line; @gradflow/activations)",
        "kernelInitializer: 'he_normal' (@gradflow/initializers)",
        ...(hasNorm ? [] : ["add norm: 'batch_norm' before the ReLU (@gradflow/normalization)"]),
        'lower the learning rate: one large step can push every pre-activation negative',
      ],
    );
  }

  // 4. Saturation.
  const sat = saturating.filter((l) => (l.activation!.saturatedFraction ?? 0) >= th.saturatedFraction);
  if (sat.length > 0) {
    const s = sat[0]!;
    for (const l of sat.slice(0, 5)) {
      evidence.push({
        metric: 'saturated unit fraction',
        value: l.activation!.saturatedFraction!,
        threshold: th.saturatedFraction,
        layer: l.name,
      });
    }
    return done(
      'saturated',
      s.name,
      `${fmt(100 * s.activation!.saturatedFraction!)}% of the ${s.activation!.activation ?? s.activation!.kind} units of ${s.name} are saturated (f' < ${th.saturationDerivativeRatio} of its maximum) in ${sat.length} layer(s)`,
      [
        "activation: 'relu' with kernelInitializer: 'he_normal' (@gradflow/activations, @gradflow/initializers)",
        ...adviceInitLarge,
        "if tanh must stay: kernelInitializer: 'glorot_uniform' (Glorot & Bengio 2010); prefer tanh to sigmoid in hidden layers",
        ...adviceNorm.map((a) => a.replace('after each conv/dense', 'before each saturating activation')),
      ],
    );
  }

  // 5. Vanishing.
  const small = backward.filter((b) => b.ratio < th.vanishingRatio);
  const rnnSmall = ctx.recurrent.filter((r) => r.firstToLast < th.vanishingRatio);
  const allZero = depthOk && weighted.every((l) => (l.gradNorm ?? 0) === 0);
  if (small.length > 0 || rnnSmall.length > 0 || allZero) {
    let firstBad: string;
    let summary: string;
    if (small.length > 0) {
      const b = small[0]!;
      const worst = Math.min(...small.map((x) => x.ratio));
      evidence.push({
        metric: 'backprop signal RMS ratio to last hidden layer',
        value: b.ratio,
        threshold: th.vanishingRatio,
        layer: b.l.name,
      });
      evidence.push({
        metric: 'smallest backprop signal ratio',
        value: worst,
        threshold: th.vanishingRatio,
        layer: null,
      });
      const gradRatio = b.l.gradRms !== null && ref?.gradRms ? b.l.gradRms / ref.gradRms : null;
      if (gradRatio !== null) {
        evidence.push({
          metric: 'weight-gradient RMS ratio to last hidden layer',
          value: gradRatio,
          threshold: null,
          layer: b.l.name,
        });
      }
      firstBad = b.l.name;
      summary = `gradients shrink ${fmt(1 / Math.max(worst, Number.MIN_VALUE))}x from ${ref!.name} back to the input side (below ${fmt(th.vanishingRatio)} from ${b.l.name} on)`;
    } else if (rnnSmall.length > 0) {
      const r = rnnSmall[0]!;
      evidence.push({
        metric: '|dL/dh_0| / |dL/dh_T|',
        value: r.firstToLast,
        threshold: th.vanishingRatio,
        layer: r.layer,
      });
      firstBad = r.layer;
      summary = `the gradient through time fades ${fmt(1 / Math.max(r.firstToLast, Number.MIN_VALUE))}x from the last to the first step of ${r.layer}`;
    } else {
      evidence.push({
        metric: 'weight-gradient norm of every weighted layer',
        value: 0,
        threshold: null,
        layer: null,
      });
      firstBad = weighted[0]!.name;
      summary =
        'the loss has zero gradient with respect to every weight (a saturated output: softmax/sigmoid probabilities clipped at 0 or 1?)';
    }
    for (const l of saturating.slice(0, 3)) {
      if (l.activation?.saturatedFraction != null) {
        evidence.push({
          metric: 'saturated unit fraction',
          value: l.activation.saturatedFraction,
          threshold: th.saturatedFraction,
          layer: l.name,
        });
      }
    }
    for (const r of tooSmall.slice(0, 3)) {
      evidence.push({
        metric: 'kernel std / fan-in std',
        value: r.rms / r.expected,
        threshold: 0.25,
        layer: r.layer.name,
      });
    }
    return done('vanishing', firstBad, summary, [
      ...(saturating.length > 0
        ? [
            `${saturating.length} hidden layer(s) use sigmoid/tanh (f' <= 1/4 for sigmoid): activation: 'relu' with kernelInitializer: 'he_normal' (@gradflow/activations, @gradflow/initializers)`,
          ]
        : []),
      ...adviceInitSmall,
      ...adviceNorm,
      ...adviceResidual,
      ...adviceRnn,
    ]);
  }

  if (backward.length > 0) {
    const lo = backward.reduce((a, b) => (b.ratio < a.ratio ? b : a));
    const hi = backward.reduce((a, b) => (b.ratio > a.ratio ? b : a));
    evidence.push({
      metric: 'smallest backprop signal ratio',
      value: lo.ratio,
      threshold: th.vanishingRatio,
      layer: lo.l.name,
    });
    evidence.push({
      metric: 'largest backprop signal ratio',
      value: hi.ratio,
      threshold: th.explodingRatio,
      layer: hi.l.name,
    });
  }
  return done(
    'healthy',
    null,
    depthOk
      ? `gradient signal within [${fmt(th.vanishingRatio)}, ${fmt(th.explodingRatio)}] of the last hidden layer across ${weighted.length} weighted layers; no dead, saturated or non-finite layer`
      : `too shallow for a depth profile (${weighted.length} weighted layer(s)); no dead, saturated or non-finite layer`,
    [],
  );
}
