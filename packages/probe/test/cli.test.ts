import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError } from '@gradflow/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModelFile, parseArgs, runCli, saveModelFile } from '../src/cli.js';
import { fromJSON } from '../src/index.js';
import { mlp } from './models.js';

let dir: string;
let modelPath: string;
let mnistPath: string;

function capture() {
  const io = {
    out: '',
    err: '',
    stdout: (s: string) => void (io.out += s),
    stderr: (s: string) => void (io.err += s),
    color: false,
  };
  return io;
}

describe('gradflow-probe CLI', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
    dir = await mkdtemp(join(tmpdir(), 'gradflow-probe-'));
    const model = mlp({
      depth: 6,
      width: 12,
      activation: 'sigmoid',
      std: 0.05,
      inputDim: 6,
      classes: 3,
      name: 'tiny',
    });
    modelPath = await saveModelFile(model, join(dir, 'tiny'));
    const digits = tf.sequential({ name: 'digits' });
    digits.add(tf.layers.dense({ inputShape: [784], units: 16, activation: 'relu', name: 'd1' }));
    digits.add(tf.layers.dense({ units: 10, activation: 'softmax', name: 'out' }));
    digits.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy' });
    mnistPath = await saveModelFile(digits, join(dir, 'digits'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('parses options and rejects bad ones with typed errors', () => {
    expect(parseArgs(['m.json'])).toMatchObject({
      target: 'm.json',
      batch: 32,
      data: 'random',
      format: 'table',
      out: null,
    });
    expect(
      parseArgs(['m.json', '--batch', '4', '--format=json', '--data', 'mnist', '--training', '--jacobian']),
    ).toMatchObject({
      batch: 4,
      format: 'json',
      data: 'mnist',
      training: true,
      jacobian: true,
    });
    expect(() => parseArgs(['m.json', '--format', 'xml'])).toThrow(InvalidArgumentError);
    expect(() => parseArgs(['m.json', '--batch', '0'])).toThrow(InvalidArgumentError);
    expect(() => parseArgs([])).toThrow(InvalidArgumentError);
    expect(() => parseArgs(['a', 'b'])).toThrow(InvalidArgumentError);
    expect(() => parseArgs(['m.json', '--bogus'])).toThrow(InvalidArgumentError);
  });

  it('a saved model.json round-trips through loadModelFile', async () => {
    const m = await loadModelFile(modelPath);
    expect(m.layers.map((l) => l.name)).toContain('tiny_dense_1');
    m.dispose();
  });

  it('probes a saved tiny model: JSON on stdout, exit code 1 for a vanishing model', async () => {
    const io = capture();
    const code = await runCli([modelPath, '--batch', '8', '--format', 'json'], io);
    expect(io.err).toBe('');
    const report = fromJSON(io.out);
    expect(report.verdict.status).toBe('vanishing');
    expect(report.lossName).toBe('categorical_crossentropy');
    expect(report.batchSize).toBe(8);
    expect(code).toBe(1);
  });

  it('table to stdout and HTML to a file', async () => {
    const io = capture();
    await runCli([modelPath, '--batch', '4'], io);
    expect(io.out).toContain('verdict: VANISHING');
    const out = join(dir, 'report.html');
    const io2 = capture();
    await runCli([modelPath, '--batch', '4', '--format', 'html', '--out', out], io2);
    expect(io2.err).toContain('wrote');
    const html = await readFile(out, 'utf8');
    expect(html).toContain('<svg');
  });

  it('--data mnist feeds MNIST digits through @gradflow/data', async () => {
    const io = capture();
    const code = await runCli([mnistPath, '--batch', '6', '--data', 'mnist', '--format', 'json'], io);
    expect(io.err).toBe('');
    const report = fromJSON(io.out);
    expect(report.batchSize).toBe(6);
    expect(report.lossName).toBe('compiled');
    expect([0, 1]).toContain(code);
    const bad = capture();
    expect(await runCli([modelPath, '--data', 'mnist'], bad)).toBe(2);
    expect(bad.err).toContain('for --data mnist');
  });

  it('a zoo name without @gradflow/zoo installed: a typed error that says to install it', async () => {
    const io = capture();
    expect(await runCli(['resnet20'], io)).toBe(2);
    expect(io.err).toContain('npm install @gradflow/zoo');
    const missing = capture();
    expect(await runCli([join(dir, 'nope', 'model.json')], missing)).toBe(2);
    expect(missing.err).toContain('no model file');
  });

  it('--backend wasm', async () => {
    const io = capture();
    await runCli([modelPath, '--batch', '4', '--format', 'json', '--backend', 'wasm'], io);
    expect(io.err).toBe('');
    expect(fromJSON(io.out).backend).toBe('wasm');
    await tf.setBackend('cpu');
  });

  it('the executable runs (tsx, source condition)', async () => {
    const { stdout } = await promisify(execFile)(
      'npx',
      ['tsx', '--conditions=source', 'src/cli.ts', modelPath, '--batch', '4', '--format', 'json'],
      { cwd: join(import.meta.dirname, '..'), env: { ...process.env, NO_COLOR: '1' } },
    ).catch((e: { stdout: string; code: number }) => {
      // exit code 1 = a problem was found; the report is still on stdout
      if (e.code === 1) return { stdout: e.stdout };
      throw e;
    });
    expect(fromJSON(stdout).verdict.status).toBe('vanishing');
  });
});
