import * as tf from '@tensorflow/tfjs';
import { DuplicateNameError, UnknownNameError } from '@gradflow/core';
import { describe, expect, it } from 'vitest';
import { DATASETS, getDataset, listDatasets, loadDataset, registerDataset } from './registry.js';

describe('dataset registry', () => {
  it('lists every dataset from one table, filters by kind and availability', () => {
    expect(listDatasets()).toEqual(Object.keys(DATASETS));
    expect(listDatasets({ kind: 'sequence' })).toEqual(['adding_problem', 'copy_task']);
    expect(listDatasets({ available: true })).toContain('mnist');
    expect(getDataset('mnist').reference).toBe('LeCun et al. 1998');
  });

  it('suggests names for unknown datasets', () => {
    let error: unknown;
    try {
      getDataset('mnsit');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnknownNameError);
    expect((error as Error).message).toBe(
      "unknown dataset 'mnsit'; did you mean 'mnist'? see listDatasets()",
    );
    expect(() => loadDataset('fashion-mnist' as 'mnist')).toThrow("did you mean 'fashion_mnist'?");
    expect(() => registerDataset('mnist', DATASETS.mnist)).toThrow(DuplicateNameError);
  });

  it('loads each available dataset as a train/test pair with consistent info', () => {
    const before = tf.memory().numTensors;
    for (const name of listDatasets({ available: true })) {
      const options =
        name === 'mnist'
          ? { limit: 100 }
          : name === 'fashion_mnist'
            ? { limit: { train: 50, test: 10 } }
            : { trainSize: 20, testSize: 5, T: 12 };
      const d = loadDataset(name as 'adding_problem', options);
      expect(d.info.name).toBe(name);
      expect(d.train.x.shape.slice(1)).toEqual([...d.info.inputShape]);
      expect(d.test.x.shape.slice(1)).toEqual([...d.info.inputShape]);
      expect(d.train.size).toBeGreaterThan(d.test.size);
      d.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    const adding = loadDataset('adding_problem', { T: 30, trainSize: 10, testSize: 4, seed: 1 });
    expect(adding.train.x.shape).toEqual([10, 30, 2]);
    expect(adding.info).toMatchObject({ baselineMse: 1 / 6 });
    // Train and test are different draws.
    expect([...adding.train.x.dataSync()].slice(0, 8)).not.toEqual([...adding.test.x.dataSync()].slice(0, 8));
    adding.dispose();
    const b = loadDataset('blobs', { trainSize: 30, testSize: 10, centers: 2 });
    expect((b.info as unknown as { centers: number[][] }).centers).toHaveLength(2);
    b.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
