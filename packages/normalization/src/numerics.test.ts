import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  backendsUnderTest,
  expectAllClose,
  fixtureTensor,
  loadFixture,
  setBackend,
  type FixtureTensor,
} from '@gradflow/testing';
import { BatchNorm, GroupNorm, InstanceNorm, LayerNorm, RMSNorm, WeightStandardizedConv2d } from './index.js';

type Grads = { y: FixtureTensor; dx: FixtureTensor; dgamma?: FixtureTensor; dbeta?: FixtureTensor };
type Steps = { running_mean: FixtureTensor; running_var: FixtureTensor; num_batches_tracked?: number }[];
interface Fixtures {
  inputs: {
    x: FixtureTensor[];
    x_eval: FixtureTensor;
    dy: FixtureTensor;
    gamma: FixtureTensor;
    beta: FixtureTensor;
  };
  batch_norm: { train: Grads; steps: Steps; eval: Grads };
  batch_norm_cumulative: { train: Grads; steps: Steps; eval: Grads };
  batch_norm_rank2: Grads & {
    x: FixtureTensor;
    dy: FixtureTensor;
    running_mean: FixtureTensor;
    running_var: FixtureTensor;
  };
  group_norm: { groups: number; train: Grads };
  instance_norm: { train: Grads; steps: Steps; eval: Grads };
  instance_norm_plain: { train: Grads };
  layer_norm: Grads & { gamma: FixtureTensor; beta: FixtureTensor };
  layer_norm_hwc: Grads & { gamma: FixtureTensor; beta: FixtureTensor };
  rms_norm: { epsilon: number; y: FixtureTensor; dx: FixtureTensor; dgamma: FixtureTensor };
  ws_conv: {
    epsilon: number;
    x: FixtureTensor;
    kernel: FixtureTensor;
    bias: FixtureTensor;
    same: {
      dy: FixtureTensor;
      y: FixtureTensor;
      dx: FixtureTensor;
      dkernel: FixtureTensor;
      dbias: FixtureTensor;
    };
    valid: {
      dy: FixtureTensor;
      y: FixtureTensor;
      dx: FixtureTensor;
      dkernel: FixtureTensor;
      dbias: FixtureTensor;
    };
  };
}

const fx = loadFixture<Fixtures>(import.meta.url, '../fixtures/norms.json');

/**
 * Tolerance: 1e-5 relative, plus an absolute floor of 2e-6 × the largest magnitude of the
 * expected tensor. The references are float64; the layers run in float32, where x − μ and the
 * gradient's g − mean(g) − x̂·mean(g·x̂) cancel: an element that ends up near 0 carries the
 * rounding error of O(max|·|) intermediates (float32 ulp 6e-8 × a few ops), so a purely relative
 * test would fail on it for reasons that are not errors. The worst error observed over all
 * tensors here is 5.6e-7 × max|expected| (RMSNorm dγ, a sum of 100 products per entry).
 */
function close(actual: tf.Tensor, expected: FixtureTensor, what: string): void {
  const scale = expected.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  expect(actual.shape).toEqual(expected.shape);
  expectAllClose(actual, expected.data, { rtol: 1e-5, atol: 2e-6 * scale }, what);
}

function weight(layer: tf.layers.Layer, suffix: string): tf.LayerVariable {
  const w = layer.weights.find((v) => v.name.endsWith(`/${suffix}`));
  if (!w) throw new Error(`no weight ${suffix} in ${layer.weights.map((v) => v.name).join(', ')}`);
  return w;
}

function setWeight(layer: tf.layers.Layer, suffix: string, value: FixtureTensor): void {
  const t = fixtureTensor(value);
  weight(layer, suffix).write(t);
  t.dispose();
}

/** Output and gradients of sum(layer(x) · dy) w.r.t. x and every trainable weight. */
function run(layer: tf.layers.Layer, x: FixtureTensor, dy: FixtureTensor, training: boolean) {
  const x0 = fixtureTensor(x);
  const xv = tf.variable(x0);
  x0.dispose();
  const dyt = fixtureTensor(dy);
  const vars = layer.trainableWeights.map((w) => w.read() as tf.Variable);
  let y: tf.Tensor | undefined;
  const { value, grads } = tf.variableGrads(() => {
    y = tf.keep(layer.apply(xv, { training }) as tf.Tensor);
    return tf.sum(tf.mul(y, dyt)) as tf.Scalar;
  }, [xv, ...vars]);
  const out = { y: y!, dx: grads[xv.name]!, named: new Map<string, tf.Tensor>() };
  layer.trainableWeights.forEach((w, i) => out.named.set(w.name.split('/').pop()!, grads[vars[i]!.name]!));
  tf.dispose([xv, dyt, value]);
  return out;
}

function checkGrads(result: ReturnType<typeof run>, expected: Grads, what: string): void {
  close(result.y, expected.y, `${what} y`);
  close(result.dx, expected.dx, `${what} dx`);
  if (expected.dgamma) close(result.named.get('gamma')!, expected.dgamma, `${what} dgamma`);
  if (expected.dbeta) close(result.named.get('beta')!, expected.dbeta, `${what} dbeta`);
  tf.dispose([result.y, result.dx, ...result.named.values()]);
}

/** Builds the layer the way a model does (symbolic apply), so its weights are named `layer/w`. */
function buildOn(layer: tf.layers.Layer, x: FixtureTensor): void {
  layer.apply(tf.input({ batchShape: x.shape }));
}

for (const backend of backendsUnderTest()) {
  describe(`against PyTorch 1.13 on ${backend}`, () => {
    let before = 0;
    beforeAll(async () => {
      await setBackend(backend);
      before = tf.memory().numTensors;
    });
    afterAll(() => {
      expect(tf.memory().numTensors).toBe(before);
    });

    const { inputs } = fx;

    for (const key of ['batch_norm', 'batch_norm_cumulative'] as const) {
      it(`${key}: training values and gradients, running stats over 3 steps, eval`, () => {
        const c = fx[key];
        const bn = new BatchNorm({ momentum: key === 'batch_norm' ? 0.1 : null });
        buildOn(bn, inputs.x[0]!);
        setWeight(bn, 'gamma', inputs.gamma);
        setWeight(bn, 'beta', inputs.beta);
        checkGrads(run(bn, inputs.x[0]!, inputs.dy, true), c.train, `${key} train`);
        // Fresh running statistics, then three training calls.
        const fresh = new BatchNorm({ momentum: key === 'batch_norm' ? 0.1 : null });
        buildOn(fresh, inputs.x[0]!);
        setWeight(fresh, 'gamma', inputs.gamma);
        setWeight(fresh, 'beta', inputs.beta);
        inputs.x.forEach((x, i) => {
          const xt = fixtureTensor(x);
          tf.dispose(fresh.apply(xt, { training: true }) as tf.Tensor);
          xt.dispose();
          const step = c.steps[i]!;
          close(weight(fresh, 'moving_mean').read(), step.running_mean, `${key} step ${i} running mean`);
          close(weight(fresh, 'moving_variance').read(), step.running_var, `${key} step ${i} running var`);
          if (key === 'batch_norm_cumulative')
            expect(weight(fresh, 'num_batches_tracked').read().dataSync()[0]).toBe(step.num_batches_tracked);
        });
        checkGrads(run(fresh, inputs.x_eval, inputs.dy, false), c.eval, `${key} eval`);
        bn.dispose();
        fresh.dispose();
      });
    }

    it('batch_norm with decay 0.9 equals momentum 0.1; channel axis 1 (NCHW) equals NHWC', () => {
      const c = fx.batch_norm;
      const bn = new BatchNorm({ decay: 0.9, axis: 1 });
      const nchw = (t: FixtureTensor): FixtureTensor => {
        const x = fixtureTensor(t);
        const y = tf.transpose(x, [0, 3, 1, 2]);
        const out = { shape: y.shape, data: Array.from(y.dataSync()) };
        tf.dispose([x, y]);
        return out;
      };
      buildOn(bn, nchw(inputs.x[0]!));
      setWeight(bn, 'gamma', inputs.gamma);
      setWeight(bn, 'beta', inputs.beta);
      const r = run(bn, nchw(inputs.x[0]!), nchw(inputs.dy), true);
      close(r.y, nchw(c.train.y), 'nchw y');
      close(r.dx, nchw(c.train.dx), 'nchw dx');
      close(r.named.get('gamma')!, c.train.dgamma!, 'nchw dgamma');
      tf.dispose([r.y, r.dx, ...r.named.values()]);
      close(weight(bn, 'moving_mean').read(), c.steps[0]!.running_mean, 'nchw running mean');
      close(weight(bn, 'moving_variance').read(), c.steps[0]!.running_var, 'nchw running var');
      bn.dispose();
    });

    it('batch_norm on rank 2 (BatchNorm1d)', () => {
      const c = fx.batch_norm_rank2;
      const bn = new BatchNorm();
      buildOn(bn, c.x);
      setWeight(bn, 'gamma', inputs.gamma);
      setWeight(bn, 'beta', inputs.beta);
      checkGrads(run(bn, c.x, c.dy, true), c, 'rank2');
      close(weight(bn, 'moving_mean').read(), c.running_mean, 'rank2 running mean');
      close(weight(bn, 'moving_variance').read(), c.running_var, 'rank2 running var');
      bn.dispose();
    });

    it('group_norm', () => {
      const gn = new GroupNorm({ groups: fx.group_norm.groups });
      buildOn(gn, inputs.x[0]!);
      setWeight(gn, 'gamma', inputs.gamma);
      setWeight(gn, 'beta', inputs.beta);
      checkGrads(run(gn, inputs.x[0]!, inputs.dy, true), fx.group_norm.train, 'group_norm');
      checkGrads(run(gn, inputs.x[0]!, inputs.dy, false), fx.group_norm.train, 'group_norm eval');
      gn.dispose();
    });

    it('instance_norm with affine and trackRunningStats; plain', () => {
      const c = fx.instance_norm;
      const layer = new InstanceNorm({ affine: true, trackRunningStats: true });
      buildOn(layer, inputs.x[0]!);
      setWeight(layer, 'gamma', inputs.gamma);
      setWeight(layer, 'beta', inputs.beta);
      checkGrads(run(layer, inputs.x[0]!, inputs.dy, true), c.train, 'instance train');
      const fresh = new InstanceNorm({ affine: true, trackRunningStats: true });
      buildOn(fresh, inputs.x[0]!);
      setWeight(fresh, 'gamma', inputs.gamma);
      setWeight(fresh, 'beta', inputs.beta);
      inputs.x.forEach((x, i) => {
        const xt = fixtureTensor(x);
        tf.dispose(fresh.apply(xt, { training: true }) as tf.Tensor);
        xt.dispose();
        close(
          weight(fresh, 'moving_mean').read(),
          c.steps[i]!.running_mean,
          `instance step ${i} running mean`,
        );
        close(
          weight(fresh, 'moving_variance').read(),
          c.steps[i]!.running_var,
          `instance step ${i} running var`,
        );
      });
      checkGrads(run(fresh, inputs.x_eval, inputs.dy, false), c.eval, 'instance eval');
      const plain = new InstanceNorm();
      buildOn(plain, inputs.x[0]!);
      expect(plain.weights).toHaveLength(0);
      checkGrads(
        run(plain, inputs.x[0]!, inputs.dy, true),
        fx.instance_norm_plain.train,
        'instance plain train',
      );
      checkGrads(
        run(plain, inputs.x[0]!, inputs.dy, false),
        fx.instance_norm_plain.train,
        'instance plain eval',
      );
      layer.dispose();
      fresh.dispose();
      plain.dispose();
    });

    for (const [key, axis] of [
      ['layer_norm', -1],
      ['layer_norm_hwc', [1, 2, 3]],
    ] as const) {
      it(`${key} (axis ${JSON.stringify(axis)})`, () => {
        const c = fx[key];
        const ln = new LayerNorm({ axis: axis as number | number[] });
        buildOn(ln, inputs.x[0]!);
        setWeight(ln, 'gamma', c.gamma);
        setWeight(ln, 'beta', c.beta);
        checkGrads(run(ln, inputs.x[0]!, inputs.dy, true), c, key);
        ln.dispose();
      });
    }

    it('rms_norm (paper formula)', () => {
      const c = fx.rms_norm;
      const rms = new RMSNorm({ epsilon: c.epsilon });
      buildOn(rms, inputs.x[0]!);
      setWeight(rms, 'gamma', inputs.gamma);
      expect(rms.weights.map((w) => w.name.split('/').pop())).toEqual(['gamma']);
      checkGrads(run(rms, inputs.x[0]!, inputs.dy, true), c, 'rms');
      rms.dispose();
    });

    for (const padding of ['same', 'valid'] as const) {
      it(`weightStandardizedConv2d (${padding})`, () => {
        const c = fx.ws_conv;
        const conv = new WeightStandardizedConv2d({ filters: 4, kernelSize: 3, padding, epsilon: c.epsilon });
        buildOn(conv, c.x);
        setWeight(conv, 'kernel', c.kernel);
        setWeight(conv, 'bias', c.bias);
        // On wasm the kernel gradient runs on @gradflow/backend-wasm's Conv2DBackpropFilter.
        const r = run(conv, c.x, c[padding].dy, true);
        close(r.y, c[padding].y, `ws ${padding} y`);
        close(r.dx, c[padding].dx, `ws ${padding} dx`);
        close(r.named.get('kernel')!, c[padding].dkernel, `ws ${padding} dkernel`);
        close(r.named.get('bias')!, c[padding].dbias, `ws ${padding} dbias`);
        tf.dispose([r.y, r.dx, ...r.named.values()]);
        conv.dispose();
      });
    }
  });
}
