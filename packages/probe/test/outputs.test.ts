import * as tf from '@tensorflow/tfjs';
import { UnsupportedError } from '@gradflow/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatNumber, formatTable, fromJSON, probe, SCHEMA_VERSION, toHTML, toJSON } from '../src/index.js';
import type { ProbeReport } from '../src/index.js';
import { cifarResnet, classificationBatch, mlp } from './models.js';

let vanishing: ProbeReport;
let resnet: ProbeReport;
let recurrent: ProbeReport;

describe('report outputs', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
    const m = mlp({ depth: 8, width: 16, activation: 'sigmoid', std: 0.05, name: 'sig' });
    const b = classificationBatch(8, 16, 4);
    vanishing = await probe(m, b, { loss: 'categorical_crossentropy' });
    const r = cifarResnet({ n: 2, width: 4, plain: false });
    const rb = tf.tidy(() => ({
      x: tf.randomNormal([4, 8, 8, 3], 0, 1, 'float32', 1),
      y: tf.oneHot(tf.tensor1d([0, 1, 2, 3], 'int32'), 4).cast('float32'),
    }));
    resnet = await probe(r, rb, { loss: 'categorical_crossentropy', training: true, jacobian: true });
    const rnn = tf.sequential();
    rnn.add(tf.layers.simpleRNN({ inputShape: [5, 2], units: 3, name: 'rnn' }));
    rnn.add(tf.layers.dense({ units: 1, name: 'head' }));
    const xs = tf.randomNormal([2, 5, 2]);
    const ys = tf.randomNormal([2, 1]);
    recurrent = await probe(rnn, { x: xs, y: ys }, { loss: 'mse' });
    tf.dispose([b.x, b.y, rb.x, rb.y, xs, ys]);
  });

  it('formatNumber', () => {
    expect(formatNumber(null)).toBe('-');
    expect(formatNumber(NaN)).toBe('NaN');
    expect(formatNumber(Infinity)).toBe('Inf');
    expect(formatNumber(0)).toBe('0');
    expect(formatNumber(1.23456)).toBe('1.23');
    expect(formatNumber(1.5e-7)).toBe('1.50e-7');
    expect(formatNumber(123456)).toBe('1.23e+5');
  });

  it('formatTable: aligned rows, verdict, colour only when asked', () => {
    const plain = formatTable(vanishing, { color: false });
    expect(plain).not.toContain('\x1b[');
    const lines = plain.split('\n');
    const header = lines[1]!;
    const rows = lines.slice(2, 2 + vanishing.layers.length);
    expect(rows).toHaveLength(9);
    // every row as wide as the header: the columns are aligned
    for (const r of rows) expect(r.length).toBe(header.length);
    expect(plain).toContain('verdict: VANISHING');
    expect(plain).toContain(`first bad layer: ${vanishing.verdict.firstBadLayer}`);
    const coloured = formatTable(vanishing, { color: true });
    expect(coloured).toContain('\x1b[31m');
    expect(coloured.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '')).toBe(plain);
    expect(formatTable(resnet, { color: false })).toContain('signal propagation');
    expect(formatTable(recurrent, { color: false })).toContain('gradient through time rnn');
  });

  it('toJSON / fromJSON round trip with a schema version and non-finite numbers as strings', () => {
    const withNaN: ProbeReport = {
      ...vanishing,
      loss: NaN,
      layers: vanishing.layers.map((l, i) => (i === 0 ? { ...l, gradNorm: Infinity } : l)),
    };
    const text = toJSON(withNaN);
    const raw = JSON.parse(text) as Record<string, unknown>;
    expect(raw.schemaVersion).toBe(SCHEMA_VERSION);
    expect(raw.loss).toBe('NaN');
    expect((raw.layers as { gradNorm: unknown }[])[0]!.gradNorm).toBe('Infinity');
    const back = fromJSON(text);
    expect(back.loss).toBeNaN();
    expect(back.layers[0]!.gradNorm).toBe(Infinity);
    expect(back.layers[1]).toEqual(vanishing.layers[1]);
    expect(back.verdict).toEqual(vanishing.verdict);
    expect(fromJSON(toJSON(resnet))).toEqual(resnet);
    expect(() => fromJSON(JSON.stringify({ ...raw, schemaVersion: 99 }))).toThrow(UnsupportedError);
  });

  it('toHTML: self-contained page with the log-scale gradient-flow chart and the signal-propagation plot', () => {
    const html = toHTML(resnet);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect((html.match(/<svg /g) ?? []).length).toBe(2);
    expect(html).toContain('Gradient flow per layer');
    expect(html).toContain('Signal propagation per residual block');
    expect(html).toContain('stage1_block1_add');
    expect(html).toContain('Jacobian');
    const v = toHTML(vanishing);
    expect(v).toContain('stroke-dasharray');
    expect(v).toContain('class="bad"');
    expect(toHTML(recurrent)).toContain('Gradient through time');
    const evil: ProbeReport = { ...vanishing, model: { ...vanishing.model, name: '<img src=x>' } };
    expect(toHTML(evil)).not.toContain('<img src=x>');
  });
});
