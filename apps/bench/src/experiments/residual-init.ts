import * as tf from '@tensorflow/tfjs';
import { lineChart, type SeriesPoint } from '../report/charts.js';
import { crossEntropy, sampler, tailMean, train } from '../train.js';
import type { Experiment } from '../types.js';
import { convDeviation, convScale, firstBatch, loadMnist, pick, probeLogits } from './common.js';
import { smallResNet } from './models.js';

const ARMS = [
  { label: 'BatchNorm', norm: 'batch_norm', init: 'default' },
  { label: 'no norm', norm: 'none', init: 'default' },
  { label: 'BN + zero-γ', norm: 'batch_norm', init: 'zero_gamma' },
  { label: 'Fixup', norm: 'none', init: 'fixup' },
  { label: 'SkipInit', norm: 'none', init: 'skipinit' },
  { label: 'ReZero', norm: 'none', init: 'rezero' },
] as const;

type Label = (typeof ARMS)[number]['label'];

export const residualInitExperiment: Experiment = {
  id: 'residual_init',
  title: '4. Residual nets without normalization: zero-γ, Fixup, SkipInit, ReZero',
  citation:
    'Brock, De & Smith 2021 (signal propagation plots); De & Smith 2020 (SkipInit); Zhang et al. 2019 (Fixup); Bachlechner et al. 2020 (ReZero); Goyal et al. 2017',
  claim:
    "Without normalization a ResNet's activation variance grows exponentially with depth at init (each block adds its branch's variance), so it trains badly or diverges; " +
    'BatchNorm keeps the growth linear; down-weighting the residual branch at init (zero-γ, Fixup, SkipInit, ReZero) keeps the variance near constant and makes un-normalised ResNets trainable.',
  rule:
    "Held if, at init, the no-norm net's average channel variance grows by at least 100x from the first to the last residual block while Fixup's, SkipInit's and ReZero's grow by at most 10x; " +
    "and after the early training steps each of Fixup, SkipInit and ReZero has a finite loss below the no-norm net's (or the no-norm net's loss is not finite).",
  async run({ mode, seed, progress }) {
    const depth = 56;
    const { size, width } = convScale(mode);
    const steps = pick(mode, 100, 150);
    const batchSize = 32;
    const data = loadMnist(seed, { size });
    const probeBatch = firstBatch(data, 64);
    const bar = progress.start('residual init', ARMS.length * steps);
    const rows: (string | number)[][] = [];
    const varPoints: SeriesPoint[] = [];
    const lossPoints: SeriesPoint[] = [];
    const results: Record<
      string,
      { growth: number; variances: number[]; finalLoss: number; losses: number[]; status: string }
    > = {};
    try {
      for (const arm of ARMS) {
        const model = smallResNet(depth, {
          inputShape: [size, size, 1],
          width,
          norm: arm.norm,
          init: arm.init,
          numClasses: 10,
        });
        const report = await probeLogits(model, probeBatch);
        const variances = report.signalPropagation.map((b) => b.avgChannelVariance);
        const growth = variances[variances.length - 1]! / variances[0]!;
        const losses = train(model, sampler(data.x, data.y, batchSize, seed), {
          steps,
          optimizer: tf.train.momentum(0.05, 0.9),
          loss: crossEntropy,
          clipNorm: 10,
          bar,
        });
        model.dispose();
        results[arm.label] = {
          growth,
          variances,
          finalLoss: tailMean(losses, 10),
          losses,
          status: report.verdict.status,
        };
        rows.push([
          arm.label,
          report.verdict.status,
          variances[0]!,
          variances[variances.length - 1]!,
          growth,
          tailMean(losses, 10),
        ]);
        variances.forEach((v, i) => varPoints.push({ series: arm.label, x: i + 1, y: v }));
        losses.forEach((l, i) => lossPoints.push({ series: arm.label, x: i + 1, y: l }));
      }
    } finally {
      tf.dispose([probeBatch.x, probeBatch.y]);
      data.dispose();
    }
    bar.finish();
    const r = (label: Label) => results[label]!;
    const initOk =
      r('no norm').growth >= 100 &&
      (['Fixup', 'SkipInit', 'ReZero'] as const).every((l) => r(l).growth <= 10);
    const noNormLoss = r('no norm').finalLoss;
    const trainOk = (['Fixup', 'SkipInit', 'ReZero'] as const).every(
      (l) => Number.isFinite(r(l).finalLoss) && (!Number.isFinite(noNormLoss) || r(l).finalLoss < noNormLoss),
    );
    return {
      setup: `ResNet-${depth} (option-A shortcuts, width ${width}) on MNIST ${size}x${size}; signal propagation measured by the probe on 64 digits at init; then ${steps} steps of SGD momentum 0.9 lr 0.05 (gradient clipping at norm 10, so a diverging net shows as a high loss rather than NaN), batch ${batchSize}.`,
      deviations: [`${convDeviation({ size, width })}; only the first ${steps} training steps; one seed.`],
      verdict: initOk && trainOk ? 'held' : 'did not hold',
      finding:
        `Variance growth first → last block at init: no norm ${r('no norm').growth.toExponential(1)}x, BatchNorm ${r('BatchNorm').growth.toPrecision(2)}x, ` +
        `Fixup ${r('Fixup').growth.toPrecision(2)}x, SkipInit ${r('SkipInit').growth.toPrecision(2)}x, ReZero ${r('ReZero').growth.toPrecision(2)}x; ` +
        `loss after ${steps} steps: no norm ${noNormLoss.toFixed(3)}, Fixup ${r('Fixup').finalLoss.toFixed(3)}, SkipInit ${r('SkipInit').finalLoss.toFixed(3)}, ReZero ${r('ReZero').finalLoss.toFixed(3)}.`,
      tables: [
        {
          caption:
            'Signal propagation at init (average channel variance of block outputs) and early training loss',
          columns: [
            'variant',
            'probe verdict',
            'variance block 1',
            'variance last block',
            'growth',
            `loss (last 10 of ${steps})`,
          ],
          rows,
        },
      ],
      charts: [
        lineChart(
          'residual_init_signal',
          'Signal propagation at init: average channel variance per block (log)',
          varPoints,
          { x: 'residual block', y: 'avg channel variance', logY: true },
        ),
        lineChart('residual_init_loss', 'Early training loss', lossPoints, { x: 'step', y: 'cross-entropy' }),
      ],
      data: results,
    };
  },
};
