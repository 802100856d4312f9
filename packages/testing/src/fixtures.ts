import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';

/** A tensor as the fixture generators write it: `{ shape, data }` with `data` flattened row-major. */
export interface FixtureTensor {
  shape: number[];
  data: number[];
}

/**
 * Reads a JSON fixture written by a package's generator script (`scripts/*.py`), resolved
 * relative to the calling test file: `loadFixture(import.meta.url, '../fixtures/x.json')`.
 * Non-finite numbers are stored as the strings "NaN", "Infinity", "-Infinity".
 */
export function loadFixture<T = unknown>(from: string, relativePath: string): T {
  const text = readFileSync(new URL(relativePath, from), 'utf8');
  return JSON.parse(text, (_key, value) => {
    if (value === 'NaN') return Number.NaN;
    if (value === 'Infinity') return Number.POSITIVE_INFINITY;
    if (value === '-Infinity') return Number.NEGATIVE_INFINITY;
    return value;
  }) as T;
}

/** A fixture tensor as a tf.Tensor (float32). */
export function fixtureTensor(t: FixtureTensor): tf.Tensor {
  return tf.tensor(t.data, t.shape, 'float32');
}
