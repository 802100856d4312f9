import * as tf from '@tensorflow/tfjs';
import { lineChart, type SeriesPoint } from '../report/charts.js';
import { crossEntropy, sampler, tailMean, train } from '../train.js';
import type { Experiment } from '../types.js';
import { convDeviation, convScale, firstBatch, loadMnist, pick, probeLogits } from './common.js';
import { smallResNet } from './models.js';

const ARMS = [
  { label: 'plain-20', depth: 20, plain: true },
  { label: 'plain-56', depth: 56, plain: true },
  { label: 'ResNet-20', depth: 20, plain: false },
  { label: 'ResNet-56', depth: 56, plain: false },
] as const;

export const depthExperiment: Experiment = {
  id: 'depth',
  title: '3. Depth and shortcuts: plain vs residual, 20 vs 56 layers',
  citation: 'He et al. 2015 ("Deep residual learning"), Fig. 6 (CIFAR-10)',
  claim:
    'The deeper plain net trains worse than the shallower one (plain-56 has higher training error than plain-20: degradation), ' +
    'while ResNet-56 trains no worse than ResNet-20. The plain nets have BatchNorm, so their gradients do not vanish: degradation is an optimisation problem.',
  rule:
    "Held if the training loss (mean of the last 20 steps) of plain-56 is above plain-20's and ResNet-56's is at most 1.1x ResNet-20's; " +
    'the probe verdicts at init are reported alongside and the plain nets are expected not to be called "vanishing".',
  async run({ mode, seed, progress }) {
    const { size, width } = convScale(mode);
    const steps = pick(mode, 120, 300);
    const batchSize = 32;
    const data = loadMnist(seed, { size });
    const probeBatch = firstBatch(data, 64);
    const bar = progress.start('depth', ARMS.length * steps);
    const rows: (string | number)[][] = [];
    const lossPoints: SeriesPoint[] = [];
    const results: Record<string, { status: string; finalLoss: number; losses: number[] }> = {};
    try {
      for (const arm of ARMS) {
        const model = smallResNet(arm.depth, {
          inputShape: [size, size, 1],
          width,
          plain: arm.plain,
          numClasses: 10,
        });
        const report = await probeLogits(model, probeBatch);
        const losses = train(model, sampler(data.x, data.y, batchSize, seed), {
          steps,
          optimizer: tf.train.momentum(0.05, 0.9),
          loss: crossEntropy,
          bar,
        });
        model.dispose();
        results[arm.label] = { status: report.verdict.status, finalLoss: tailMean(losses, 20), losses };
        rows.push([arm.label, report.verdict.status, losses[0]!, tailMean(losses, 20)]);
        losses.forEach((l, i) => lossPoints.push({ series: arm.label, x: i + 1, y: l }));
      }
    } finally {
      tf.dispose([probeBatch.x, probeBatch.y]);
      data.dispose();
    }
    bar.finish();
    const loss = (label: (typeof ARMS)[number]['label']) => results[label]!.finalLoss;
    const held = loss('plain-56') > loss('plain-20') && loss('ResNet-56') <= 1.1 * loss('ResNet-20');
    const plainVanishing = ['plain-20', 'plain-56'].filter((l) => results[l]!.status === 'vanishing');
    return {
      setup: `CIFAR-style ResNets (option-A shortcuts, BatchNorm) of width ${width}/${2 * width}/${4 * width} on MNIST at ${size}x${size}, batch ${batchSize}, SGD momentum 0.9 lr 0.05, ${steps} steps.`,
      deviations: [
        `${convDeviation({ size, width })}; ${steps} steps instead of 64k; one seed; training loss instead of training error.`,
      ],
      verdict: held ? 'held' : 'did not hold',
      finding:
        `Training loss (last 20 steps): plain-20 ${loss('plain-20').toFixed(3)}, plain-56 ${loss('plain-56').toFixed(3)}, ResNet-20 ${loss('ResNet-20').toFixed(3)}, ResNet-56 ${loss('ResNet-56').toFixed(3)}. ` +
        (plainVanishing.length === 0
          ? 'The probe does not call the plain BN nets vanishing.'
          : `The probe called ${plainVanishing.join(', ')} vanishing.`),
      tables: [
        {
          caption: 'Probe verdict at init and training loss',
          columns: ['model', 'probe verdict', 'loss step 1', 'loss (last 20)'],
          rows,
        },
      ],
      charts: [lineChart('depth_loss', 'Training loss', lossPoints, { x: 'step', y: 'cross-entropy' })],
      data: results,
    };
  },
};
