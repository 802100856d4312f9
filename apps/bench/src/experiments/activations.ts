import * as tf from '@tensorflow/tfjs';
import { createModel } from '@gradflow/zoo';
import { lineChart, type SeriesPoint } from '../report/charts.js';
import { crossEntropy, sampler, tailMean, train } from '../train.js';
import type { Experiment } from '../types.js';
import { firstBatch, firstToLast, gradientProfile, loadMnist, pick, probeLogits } from './common.js';

/** The arms: activation, the init that goes with it, and a norm. */
const ARMS = [
  { label: 'sigmoid', activation: 'sigmoid', kernelInitializer: 'glorot_uniform', norm: 'none' },
  { label: 'tanh', activation: 'tanh', kernelInitializer: 'glorot_uniform', norm: 'none' },
  { label: 'relu (He)', activation: 'relu', kernelInitializer: 'he_normal', norm: 'none' },
  { label: 'selu (LeCun)', activation: 'selu', kernelInitializer: 'lecun_normal', norm: 'none' },
  { label: 'sigmoid + BN', activation: 'sigmoid', kernelInitializer: 'glorot_uniform', norm: 'batch_norm' },
] as const;

export const activationsExperiment: Experiment = {
  id: 'activations',
  title: '1. Activations in a 20-layer MLP',
  citation: 'Glorot & Bengio 2010; Klambauer et al. 2017; Ioffe & Szegedy 2015',
  claim:
    "Deep sigmoid nets train poorly: the back-propagated gradient shrinks towards the input (sigmoid' <= 1/4) and units saturate; " +
    'ReLU with He init and SELU with LeCun init keep gradients at a similar scale across depth; BatchNorm makes the sigmoid net trainable.',
  rule:
    'Held if (a) the probe at init calls the sigmoid net "vanishing" or "saturated" and both ReLU+He and SELU+LeCun "healthy", and ' +
    "(b) after training, the sigmoid net's loss (mean of the last 20 steps) is above those of ReLU+He, SELU+LeCun and sigmoid+BN.",
  async run({ mode, seed, progress }) {
    const depth = 20;
    const width = pick(mode, 64, 128);
    const steps = pick(mode, 200, 2000);
    const batchSize = 64;
    const data = loadMnist(seed, { flatten: true });
    const probeBatch = firstBatch(data, 256);
    const bar = progress.start('activations', ARMS.length * steps);
    const rows: (string | number)[][] = [];
    const gradPoints: SeriesPoint[] = [];
    const lossPoints: SeriesPoint[] = [];
    const results: Record<
      string,
      { status: string; firstToLast: number; finalLoss: number; profile: number[]; losses: number[] }
    > = {};
    try {
      for (const arm of ARMS) {
        const model = createModel('mlp', {
          depth,
          width,
          activation: arm.activation,
          kernelInitializer: arm.kernelInitializer,
          norm: arm.norm,
          inputShape: [784],
          numClasses: 10,
          classifierActivation: 'linear',
        });
        const report = await probeLogits(model, probeBatch);
        const profile = gradientProfile(report);
        const losses = train(model, sampler(data.x, data.y, batchSize, seed), {
          steps,
          optimizer: tf.train.momentum(0.01, 0.9),
          loss: crossEntropy,
          bar,
        });
        model.dispose();
        const finalLoss = tailMean(losses, 20);
        results[arm.label] = {
          status: report.verdict.status,
          firstToLast: firstToLast(profile),
          finalLoss,
          profile: profile.map((p) => p.gradNorm),
          losses,
        };
        rows.push([arm.label, report.verdict.status, firstToLast(profile), losses[0]!, finalLoss]);
        profile.forEach((p, i) => gradPoints.push({ series: arm.label, x: i + 1, y: p.gradNorm }));
        losses.forEach((l, i) => lossPoints.push({ series: arm.label, x: i + 1, y: l }));
      }
    } finally {
      tf.dispose([probeBatch.x, probeBatch.y]);
      data.dispose();
    }
    bar.finish();
    const r = (label: (typeof ARMS)[number]['label']) => results[label]!;
    const initOk =
      ['vanishing', 'saturated'].includes(r('sigmoid').status) &&
      r('relu (He)').status === 'healthy' &&
      r('selu (LeCun)').status === 'healthy';
    const trainOk = (['relu (He)', 'selu (LeCun)', 'sigmoid + BN'] as const).every(
      (l) => r('sigmoid').finalLoss > r(l).finalLoss,
    );
    return {
      setup: `${depth} hidden layers of width ${width}, MNIST (8,000 training digits of the mnist package, normalised), batch ${batchSize}, SGD momentum 0.9 lr 0.01, ${steps} steps; probe on 256 digits at init.`,
      deviations: [
        'MNIST instead of Shapeset/CIFAR-10/ImageNet; far fewer steps; one seed.',
        'Glorot & Bengio used the "standard" U[-1/sqrt(n), 1/sqrt(n)] init for their sigmoid nets; here sigmoid and tanh get Glorot uniform, a stronger baseline.',
      ],
      verdict: initOk && trainOk ? 'held' : 'did not hold',
      finding:
        `Gradient norm ratio first/last layer at init: sigmoid ${r('sigmoid').firstToLast.toExponential(1)} (${r('sigmoid').status}), ` +
        `ReLU+He ${r('relu (He)').firstToLast.toPrecision(2)} (${r('relu (He)').status}), SELU+LeCun ${r('selu (LeCun)').firstToLast.toPrecision(2)} (${r('selu (LeCun)').status}); ` +
        `final loss sigmoid ${r('sigmoid').finalLoss.toFixed(3)} vs ReLU ${r('relu (He)').finalLoss.toFixed(3)}, SELU ${r('selu (LeCun)').finalLoss.toFixed(3)}, sigmoid+BN ${r('sigmoid + BN').finalLoss.toFixed(3)}.`,
      tables: [
        {
          caption: 'Probe verdict at init and training loss',
          columns: ['arm', 'probe verdict', 'grad norm first/last', 'loss step 1', 'loss (last 20)'],
          rows,
        },
      ],
      charts: [
        lineChart('activations_grad_norms', 'Weight-gradient norm per layer at init (log)', gradPoints, {
          x: 'layer (input → output)',
          y: '||dL/dW||',
          logY: true,
        }),
        lineChart('activations_loss', 'Training loss', lossPoints, { x: 'step', y: 'cross-entropy' }),
      ],
      data: results,
    };
  },
};
