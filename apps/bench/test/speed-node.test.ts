import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createModel } from '@gradflow/zoo';
import { trainingStepGflop } from '../src/speed/flops.js';
import { measureModel, speedModel } from '../src/speed/measure.js';
import { SPEED_MODELS } from '../src/speed/models.js';
import { measureInNode } from '../src/speed/suite.js';

// The worker is spawned the way `pnpm bench` spawns it: Node with tsx's loader and the source condition.
const TSX = [
  '--import',
  pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href,
  '--conditions=source',
];

describe('speed suite, Node path', () => {
  it('times a training step of the mlp in a fresh worker process on gradflow wasm (1 thread)', async () => {
    const m = await measureInNode('gradflow_wasm_1t', 'mlp', 1, 1, { execArgv: TSX, timeoutMs: 110_000 });
    expect(m.note).toBeUndefined();
    expect(m.msPerStep).toBeGreaterThan(0);
    expect(m.examplesPerSecond).toBeGreaterThan(0);
    expect(m.examplesPerSecond).toBeCloseTo((1000 * speedModel('mlp').batch) / m.msPerStep!, 6);
    expect(m.gflopPerStep).toBeGreaterThan(0);
  });

  it('the worker reports an unknown model as a note instead of crashing', async () => {
    const m = await measureInNode('tfjs_cpu', 'no_such_model', 1, 0, { execArgv: TSX, timeoutMs: 60_000 });
    expect(m.examplesPerSecond).toBeUndefined();
    expect(m.note).toMatch(/unknown speed model no_such_model/);
  });

  it('measureModel (shared with the browser page) trains in-process and disposes every tensor it made', async () => {
    await tf.setBackend('cpu');
    const before = tf.memory().numTensors;
    const m = await measureModel('mlp', 1, 0);
    expect(tf.memory().numTensors).toBe(before);
    expect(m.note).toBeUndefined();
    expect(m.examplesPerSecond).toBeGreaterThan(0);
    // 20 dense layers of 256 (+ input 784 and the 10-way head): 3 x 2 FLOPs per MAC x batch 64.
    const macs = 784 * 256 + 19 * 256 * 256 + 256 * 10;
    expect(m.gflopPerStep).toBeCloseTo((6 * macs * 64) / 1e9, 6);
    expect(() => speedModel('resnet9000')).toThrow(/unknown speed model resnet9000/);
  });

  it('measureModel takes a batch override and reports it (tfjs cpu on conv nets in --full)', async () => {
    await tf.setBackend('cpu');
    const m = await measureModel('mlp', 1, 0, 4);
    expect(m.batch).toBe(4);
    expect(m.examplesPerSecond).toBeCloseTo(4000 / m.msPerStep!, 6);
    // GFLOP/step stays the row's (batch 64), so the report's columns stay comparable.
    expect(m.gflopPerStep).toBeCloseTo((await measureModel('mlp', 1, 0)).gflopPerStep, 9);
  });

  it('counts the recurrent projections of @gradflow/recurrent layers (cell given as an object)', () => {
    for (const [zoo, gates] of [
      ['gru_classifier', 3],
      ['lstm_classifier', 4],
    ] as const) {
      const model = createModel(zoo, { units: 128, inputShape: [100, 32], numClasses: 10 });
      const macs = 100 * gates * 128 * (32 + 128) + 128 * 10;
      expect(trainingStepGflop(model, 32)).toBeCloseTo((6 * macs * 32) / 1e9, 9);
      model.dispose();
    }
  });

  it('every PyTorch twin the suite asks for is defined in torch/speed_reference.py', () => {
    const script = readFileSync(new URL('../torch/speed_reference.py', import.meta.url), 'utf8');
    const twins = SPEED_MODELS.filter((m) => m.torch);
    expect(twins.map((m) => m.id)).toContain('unet');
    for (const m of twins) expect(script, m.id).toContain(`"${m.torch}": (`);
  });
});
