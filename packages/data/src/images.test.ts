import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, MissingResourceError } from '@gradflow/core';
import { describe, expect, it } from 'vitest';
import {
  DEBIAN_FASHION_MNIST_DIR,
  fashionMnist,
  fashionMnistDir,
  hasFashionMnist,
  mnist,
  parseIdx,
} from './images.js';

function momentsOf(t: tf.Tensor): { mean: number; std: number } {
  const data = t.dataSync();
  let s = 0;
  let s2 = 0;
  for (const v of data) {
    s += v;
    s2 += v * v;
  }
  const mean = s / data.length;
  return { mean, std: Math.sqrt(s2 / data.length - mean * mean) };
}

describe('mnist()', () => {
  it('splits the 10,000 digits 8,000/2,000, stratified, as [N,28,28,1] and one-hot labels', () => {
    const before = tf.memory().numTensors;
    const { train, test, info } = mnist({ seed: 3 });
    expect(train.x.shape).toEqual([8000, 28, 28, 1]);
    expect(test.x.shape).toEqual([2000, 28, 28, 1]);
    expect(train.y.shape).toEqual([8000, 10]);
    expect(train.y.dtype).toBe('float32');
    expect(info.inputShape).toEqual([28, 28, 1]);
    // Stratified: every class appears in test about in proportion (the package ships 863..1127 per class).
    const testCounts = tf.tidy(() => test.y.sum(0).arraySync() as number[]);
    expect(testCounts.reduce((a, b) => a + b, 0)).toBe(2000);
    for (const c of testCounts) expect(c).toBeGreaterThanOrEqual(170);
    // Standardized with the train split's statistics: train mean 0, std 1; test close.
    const trainMoments = momentsOf(train.x);
    expect(trainMoments.mean).toBeCloseTo(0, 5);
    expect(trainMoments.std).toBeCloseTo(1, 4);
    expect(Math.abs(momentsOf(test.x).mean)).toBeLessThan(0.05);
    expect(info.mean).toBeGreaterThan(0.1);
    expect(info.mean).toBeLessThan(0.16);
    expect(info.std).toBeGreaterThan(0.28);
    expect(info.std).toBeLessThan(0.34);
    train.dispose();
    test.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('is deterministic per seed, differs between seeds, and never mixes train into test', () => {
    const a = mnist({ seed: 1, limit: 500, normalize: false, labels: 'int', flatten: true });
    const b = mnist({ seed: 1, limit: 500, normalize: false, labels: 'int', flatten: true });
    const c = mnist({ seed: 2, limit: 500, normalize: false, labels: 'int', flatten: true });
    expect(a.train.x.shape).toEqual([400, 784]);
    expect(a.test.x.shape).toEqual([100, 784]);
    expect(a.train.y.dtype).toBe('int32');
    expect(a.info.mean).toBe(0);
    expect(a.info.std).toBe(1);
    expect([...a.train.x.dataSync()]).toEqual([...b.train.x.dataSync()]);
    expect([...a.train.y.dataSync()]).toEqual([...b.train.y.dataSync()]);
    expect([...a.train.y.dataSync()]).not.toEqual([...c.train.y.dataSync()]);
    // Pixels in [0, 1] without normalization.
    const px = Array.from(a.train.x.dataSync());
    expect(px.reduce((m, v) => Math.min(m, v), Infinity)).toBe(0);
    expect(px.reduce((m, v) => Math.max(m, v), -Infinity)).toBeLessThanOrEqual(1);
    // No image of the test split is in the train split.
    const key = (data: Float32Array | Int32Array | Uint8Array, i: number) =>
      Array.from(data.subarray(i * 784, i * 784 + 784)).join(',');
    const trainKeys = new Set(
      Array.from({ length: 400 }, (_, i) => key(a.train.x.dataSync() as Float32Array, i)),
    );
    const testData = a.test.x.dataSync() as Float32Array;
    for (let i = 0; i < 100; i++) expect(trainKeys.has(key(testData, i))).toBe(false);
    for (const d of [a, b, c]) d.dispose();
  });

  it('accepts given normalization statistics and rejects bad options with typed errors', () => {
    const d = mnist({ limit: 100, normalize: { mean: 0.5, std: 0.5 } });
    expect(d.info.mean).toBe(0.5);
    expect(Array.from(d.train.x.dataSync()).reduce((m, v) => Math.min(m, v), Infinity)).toBe(-1);
    d.dispose();
    const before = tf.memory().numTensors;
    expect(() => mnist({ testFraction: 1 })).toThrow(InvalidArgumentError);
    expect(() => mnist({ testFraction: 0 })).toThrow('invalid testFraction');
    expect(() => mnist({ limit: 20000 })).toThrow('expected an integer in [20, 10000]');
    expect(() => mnist({ labels: 'onehot2' as 'int' })).toThrow("expected 'onehot' or 'int'");
    expect(() => mnist({ normalize: { mean: 0, std: 0 } })).toThrow('invalid normalize.std');
    expect(() => mnist({ seed: Number.NaN })).toThrow('invalid seed');
    expect(tf.memory().numTensors).toBe(before);
  });
});

function idx(shape: number[], data: Uint8Array): Uint8Array {
  const header = new Uint8Array(4 + 4 * shape.length);
  header.set([0, 0, 8, shape.length]);
  const view = new DataView(header.buffer);
  shape.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(header.length + data.length);
  out.set(header);
  out.set(data, header.length);
  return out;
}

function writeFakeFashion(dir: string, nTrain: number, nTest: number, gzip: boolean): void {
  const put = (name: string, bytes: Uint8Array) =>
    writeFileSync(join(dir, gzip ? `${name}.gz` : name), gzip ? gzipSync(bytes) : bytes);
  const images = (n: number, offset: number) =>
    Uint8Array.from({ length: n * 784 }, (_, i) => (i + offset) % 256);
  const labels = (n: number) => Uint8Array.from({ length: n }, (_, i) => i % 10);
  put('train-images-idx3-ubyte', idx([nTrain, 28, 28], images(nTrain, 0)));
  put('train-labels-idx1-ubyte', idx([nTrain], labels(nTrain)));
  put('t10k-images-idx3-ubyte', idx([nTest, 28, 28], images(nTest, 7)));
  put('t10k-labels-idx1-ubyte', idx([nTest], labels(nTest)));
}

describe('fashionMnist()', () => {
  it('parses idx files, gzipped or not, and rejects malformed ones', () => {
    const plain = idx([2, 3], Uint8Array.of(1, 2, 3, 4, 5, 6));
    expect(parseIdx(plain)).toEqual({ shape: [2, 3], data: Uint8Array.of(1, 2, 3, 4, 5, 6) });
    expect(parseIdx(new Uint8Array(gzipSync(plain))).shape).toEqual([2, 3]);
    expect(() => parseIdx(plain.subarray(0, plain.length - 1))).toThrow('invalid idx file length');
    expect(() => parseIdx(Uint8Array.of(0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0))).toThrow('data type');
    expect(() => parseIdx(Uint8Array.of(1, 2, 3))).toThrow(InvalidArgumentError);
  });

  it('reads a folder of idx files with the official split, scaled to [0, 1] then standardized', () => {
    for (const gzip of [true, false]) {
      const dir = mkdtempSync(join(tmpdir(), 'gradflow-fmnist-'));
      writeFakeFashion(dir, 30, 10, gzip);
      expect(hasFashionMnist(dir)).toBe(true);
      const raw = fashionMnist({ dir, normalize: false, labels: 'int' });
      expect(raw.train.x.shape).toEqual([30, 28, 28, 1]);
      expect(raw.test.x.shape).toEqual([10, 28, 28, 1]);
      expect(raw.train.x.dataSync()[1]).toBeCloseTo(1 / 255, 7);
      expect(raw.test.x.dataSync()[0]).toBeCloseTo(7 / 255, 7);
      expect([...raw.train.y.dataSync()].slice(0, 11)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0]);
      expect(raw.info.classNames[9]).toBe('Ankle boot');
      raw.dispose();
      const limited = fashionMnist({ dir, limit: { train: 12, test: 3 } });
      expect(limited.train.size).toBe(12);
      expect(limited.test.size).toBe(3);
      expect(momentsOf(limited.train.x).mean).toBeCloseTo(0, 5);
      limited.dispose();
    }
  });

  it('throws MissingResourceError that says how to install the files', () => {
    const empty = mkdtempSync(join(tmpdir(), 'gradflow-empty-'));
    expect(hasFashionMnist(empty)).toBe(false);
    const before = tf.memory().numTensors;
    let error: unknown;
    try {
      fashionMnist({ dir: empty });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MissingResourceError);
    expect((error as Error).message).toContain('apt-get install dataset-fashion-mnist');
    expect((error as Error).message).toContain('never downloads');
    expect(tf.memory().numTensors).toBe(before);
    expect(() => fashionMnist({ dir: empty, limit: { train: 0 } })).toThrow(InvalidArgumentError);
  });

  it("loads Debian's files when dataset-fashion-mnist is installed, else says how to install it", () => {
    // fashionMnistDir() is Debian's folder unless GRADFLOW_FASHION_MNIST_DIR points elsewhere.
    expect(fashionMnistDir()).toBe(process.env.GRADFLOW_FASHION_MNIST_DIR ?? DEBIAN_FASHION_MNIST_DIR);
    if (hasFashionMnist()) {
      const d = fashionMnist({ limit: { train: 2000, test: 500 } });
      expect(d.train.x.shape).toEqual([2000, 28, 28, 1]);
      // Published Fashion-MNIST pixel statistics: mean 0.286, std 0.353 (over the full train set).
      expect(d.info.mean).toBeGreaterThan(0.26);
      expect(d.info.mean).toBeLessThan(0.31);
      expect(d.info.std).toBeGreaterThan(0.33);
      expect(d.info.std).toBeLessThan(0.38);
      d.dispose();
    } else {
      expect(() => fashionMnist()).toThrow(MissingResourceError);
    }
  });
});
