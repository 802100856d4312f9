import * as tf from '@tensorflow/tfjs';
import { calculateGain, lsuv } from '@gradflow/initializers';
import { createModel } from '@gradflow/zoo';
import { lineChart, type SeriesPoint } from '../report/charts.js';
import { crossEntropy, sampler, tailMean, train } from '../train.js';
import type { Experiment } from '../types.js';
import { firstBatch, firstToLast, gradientProfile, loadMnist, pick, probeLogits } from './common.js';

const ARMS = [
  { label: 'Xavier (Glorot normal)', kernelInitializer: 'glorot_normal', lsuv: false },
  { label: 'Kaiming (He normal)', kernelInitializer: 'he_normal', lsuv: false },
  {
    label: 'orthogonal (gain √2)',
    kernelInitializer: { name: 'orthogonal', gain: calculateGain('relu') },
    lsuv: false,
  },
  { label: 'LSUV', kernelInitializer: 'orthogonal', lsuv: true },
] as const;

export const initializationExperiment: Experiment = {
  id: 'initialization',
  title: '2. Initialization of a 30-layer ReLU MLP',
  citation: 'He et al. 2015 ("Delving deep into rectifiers"), Fig. 3; Mishkin & Matas 2015; Saxe et al. 2014',
  claim:
    "With ReLU, Xavier init (Var = 1/n) halves the signal's second moment at every layer, so a 30-layer net stalls; Kaiming init (Var = 2/n) converges. " +
    'Orthogonal with the ReLU gain and LSUV also train.',
  rule:
    "Held if the Xavier net's loss after training (mean of the last 20 steps) is at least 0.9x its first-step loss (no real progress) " +
    "while the Kaiming net's is below 0.5x its first-step loss.",
  async run({ mode, seed, progress }) {
    const depth = 30;
    const width = pick(mode, 64, 128);
    const steps = pick(mode, 400, 2000);
    const batchSize = 64;
    const data = loadMnist(seed, { flatten: true });
    const probeBatch = firstBatch(data, 256);
    const bar = progress.start('initialization', ARMS.length * steps);
    const rows: (string | number)[][] = [];
    const gradPoints: SeriesPoint[] = [];
    const lossPoints: SeriesPoint[] = [];
    const results: Record<
      string,
      { status: string; firstToLast: number; firstLoss: number; finalLoss: number; losses: number[] }
    > = {};
    try {
      for (const arm of ARMS) {
        const model = createModel('mlp', {
          depth,
          width,
          activation: 'relu',
          kernelInitializer: arm.kernelInitializer,
          inputShape: [784],
          numClasses: 10,
          classifierActivation: 'linear',
        });
        if (arm.lsuv) lsuv(model, probeBatch.x, { tol: 0.1, maxIter: 10 });
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
          firstLoss: losses[0]!,
          finalLoss,
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
    const xavier = results[ARMS[0].label]!;
    const kaiming = results[ARMS[1].label]!;
    const held = xavier.finalLoss >= 0.9 * xavier.firstLoss && kaiming.finalLoss < 0.5 * kaiming.firstLoss;
    return {
      setup: `${depth} ReLU layers of width ${width} on MNIST (flattened, normalised), batch ${batchSize}, SGD momentum 0.9 lr 0.01, ${steps} steps; LSUV on 256 digits (tol 0.1).`,
      deviations: ['An MLP on MNIST instead of a 30-layer conv net on ImageNet; far fewer steps; one seed.'],
      verdict: held ? 'held' : 'did not hold',
      finding:
        `Loss first step → last 20 steps: Xavier ${xavier.firstLoss.toFixed(3)} → ${xavier.finalLoss.toFixed(3)} (probe at init: ${xavier.status}), ` +
        `Kaiming ${kaiming.firstLoss.toFixed(3)} → ${kaiming.finalLoss.toFixed(3)} (${kaiming.status}).`,
      tables: [
        {
          caption: 'Probe verdict at init and training loss',
          columns: ['init', 'probe verdict', 'grad norm first/last', 'loss step 1', 'loss (last 20)'],
          rows,
        },
      ],
      charts: [
        lineChart('init_grad_norms', 'Weight-gradient norm per layer at init (log)', gradPoints, {
          x: 'layer (input → output)',
          y: '||dL/dW||',
          logY: true,
        }),
        lineChart('init_loss', 'Training loss', lossPoints, { x: 'step', y: 'cross-entropy' }),
      ],
      data: results,
    };
  },
};
