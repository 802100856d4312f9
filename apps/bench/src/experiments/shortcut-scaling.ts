import * as tf from '@tensorflow/tfjs';
import { lineChart, type SeriesPoint } from '../report/charts.js';
import { crossEntropy, sampler, tailMean, train } from '../train.js';
import type { Experiment } from '../types.js';
import {
  convDeviation,
  convScale,
  firstBatch,
  firstToLast,
  gradientProfile,
  loadMnist,
  pick,
  probeLogits,
} from './common.js';
import { smallResNet } from './models.js';

const ARMS = [
  { label: 'identity shortcut', shortcutScale: 1 },
  { label: '0.5 x shortcut', shortcutScale: 0.5 },
] as const;

export const shortcutScalingExperiment: Experiment = {
  id: 'shortcut_scaling',
  title: '5. Shortcut scaling: identity vs 0.5 x',
  citation: 'He et al. 2016 ("Identity mappings in deep residual networks"), Table 1 (ResNet-110, CIFAR-10)',
  claim:
    'Scaling the shortcut by a constant 0.5 multiplies the gradient along the shortcut path by 0.5 per block, so it vanishes with depth: ' +
    "the paper's ResNet-110 error rises from 6.61% (identity) to 12.35% (constant scaling 0.5), with higher training loss.",
  rule:
    "Held if the 0.5-scaled net's input-side/output-side gradient-norm ratio at init is at least 10x smaller than the identity net's, " +
    'and its training loss (mean of the last 20 steps) is higher.',
  async run({ mode, seed, progress }) {
    const depth = pick(mode, 56, 110);
    const { size, width } = convScale(mode);
    const steps = pick(mode, 120, 200);
    const batchSize = 32;
    const data = loadMnist(seed, { size });
    const probeBatch = firstBatch(data, 64);
    const bar = progress.start('shortcut scaling', ARMS.length * steps);
    const rows: (string | number)[][] = [];
    const lossPoints: SeriesPoint[] = [];
    const gradPoints: SeriesPoint[] = [];
    const results: Record<
      string,
      { firstToLast: number; finalLoss: number; losses: number[]; status: string }
    > = {};
    try {
      for (const arm of ARMS) {
        const model = smallResNet(depth, {
          inputShape: [size, size, 1],
          width,
          numClasses: 10,
          shortcutScale: arm.shortcutScale,
        });
        const report = await probeLogits(model, probeBatch);
        const profile = gradientProfile(report);
        const losses = train(model, sampler(data.x, data.y, batchSize, seed), {
          steps,
          optimizer: tf.train.momentum(0.05, 0.9),
          loss: crossEntropy,
          bar,
        });
        model.dispose();
        results[arm.label] = {
          firstToLast: firstToLast(profile),
          finalLoss: tailMean(losses, 20),
          losses,
          status: report.verdict.status,
        };
        rows.push([arm.label, report.verdict.status, firstToLast(profile), losses[0]!, tailMean(losses, 20)]);
        losses.forEach((l, i) => lossPoints.push({ series: arm.label, x: i + 1, y: l }));
        profile.forEach((p, i) => gradPoints.push({ series: arm.label, x: i + 1, y: p.gradNorm }));
      }
    } finally {
      tf.dispose([probeBatch.x, probeBatch.y]);
      data.dispose();
    }
    bar.finish();
    const identity = results[ARMS[0].label]!;
    const scaled = results[ARMS[1].label]!;
    const held = scaled.firstToLast * 10 <= identity.firstToLast && scaled.finalLoss > identity.finalLoss;
    return {
      setup: `ResNet-${depth} (BatchNorm, option-A shortcuts, width ${width}) on MNIST ${size}x${size}, batch ${batchSize}, SGD momentum 0.9 lr 0.05, ${steps} steps.`,
      deviations: [
        `${convDeviation({ size, width })}; ${depth} layers; ${steps} steps instead of 64k; one seed; training loss instead of test error.`,
      ],
      verdict: held ? 'held' : 'did not hold',
      finding:
        `Gradient norm ratio first/last layer at init: identity ${identity.firstToLast.toPrecision(2)}, 0.5x ${scaled.firstToLast.toExponential(1)}; ` +
        `training loss (last 20): identity ${identity.finalLoss.toFixed(3)}, 0.5x ${scaled.finalLoss.toFixed(3)}.`,
      tables: [
        {
          caption: 'Probe at init and training loss',
          columns: ['shortcut', 'probe verdict', 'grad norm first/last', 'loss step 1', 'loss (last 20)'],
          rows,
        },
      ],
      charts: [
        lineChart('shortcut_grad_norms', 'Weight-gradient norm per layer at init (log)', gradPoints, {
          x: 'layer (input → output)',
          y: '||dL/dW||',
          logY: true,
        }),
        lineChart('shortcut_loss', 'Training loss', lossPoints, { x: 'step', y: 'cross-entropy' }),
      ],
      data: results,
    };
  },
};
