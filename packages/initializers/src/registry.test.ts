import * as tf from '@tensorflow/tfjs';
import { DuplicateNameError, InvalidArgumentError, UnknownNameError } from '@gradflow/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { isInitializer, setInitializerSeed } from './base.js';
import { INITIALIZER_CLASSES } from './register.js';
import {
  INITIALIZERS,
  getInitializerSpec,
  listInitializers,
  registerInitializer,
  resolveInitializer,
  type InitializerName,
} from './registry.js';

/** A shape each initializer accepts. */
function shapeFor(name: string): number[] {
  if (name === 'dirac') return [3, 3, 4, 4];
  if (name === 'identity' || name === 'eye') return [5, 5];
  return [3, 3, 4, 6];
}

/** Non-default options for each entry, so config round-trips are not vacuous. */
const OPTIONS: Partial<Record<InitializerName, Record<string, unknown>>> = {
  constant: { value: 0.5 },
  normal: { mean: 1, std: 0.1, seed: 3 },
  uniform: { a: -0.5, b: 0.25, seed: 3 },
  trunc_normal: { mean: 0.1, std: 0.02, a: -0.02, b: 0.3, seed: 3 },
  variance_scaling: { scale: 0.3, mode: 'fan_out', distribution: 'uniform', seed: 3 },
  glorot_normal: { gain: 2, seed: 3 },
  xavier_uniform: { gain: 0.5 },
  he_normal: { a: 0.1, mode: 'fan_out', nonlinearity: 'leaky_relu', seed: 3 },
  kaiming_uniform: { a: Math.sqrt(5), seed: 9 },
  he_truncated_normal: { nonlinearity: 'conv_transpose2d' },
  orthogonal: { gain: 1.5, seed: 3 },
  identity: { gain: 2 },
  dirac: { groups: 2 },
};

/** The values `init` makes for `shape`, without keeping the tensor. */
function values(init: { apply(shape: number[]): tf.Tensor }, shape: number[]): number[] {
  const t = init.apply(shape);
  const v = [...t.dataSync()];
  t.dispose();
  return v;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('registry', () => {
  it('lists every name, with aliases resolving to the same class and semantics', () => {
    expect(listInitializers()).toEqual(Object.keys(INITIALIZERS));
    for (const [name, spec] of Object.entries(INITIALIZERS)) {
      if ('aliasOf' in spec) expect(spec.cls, name).toBe(getInitializerSpec(spec.aliasOf).cls);
    }
    expect(getInitializerSpec('kaiming_normal').cls).toBe(getInitializerSpec('he_normal').cls);
    expect(getInitializerSpec('xavier_uniform').cls).toBe(getInitializerSpec('glorot_uniform').cls);
    // Every class in the registry is registered with tfjs, and vice versa.
    expect(new Set(Object.values(INITIALIZERS).map((s) => s.cls))).toEqual(new Set(INITIALIZER_CLASSES));
  });

  it('resolves names, {name, ...options} and instances', () => {
    const byName = resolveInitializer('he_uniform');
    expect(isInitializer(byName)).toBe(true);
    const own = tf.initializers.glorotUniform({});
    expect(resolveInitializer(own)).toBe(own);
    const withOptions = resolveInitializer({ name: 'kaiming_normal', mode: 'fan_out', nonlinearity: 'relu' });
    expect(withOptions.getConfig()).toEqual({ a: 0, mode: 'fan_out', nonlinearity: 'relu', seed: null });
  });

  it('unknown names get suggestions; bad specs and duplicates are typed errors', () => {
    let error: unknown;
    try {
      resolveInitializer('he_norml' as InitializerName);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnknownNameError);
    expect((error as Error).message).toBe(
      "unknown initializer 'he_norml'; did you mean 'he_normal'? see listInitializers()",
    );
    // tfjs's camelCase identifiers point at ours.
    expect(() => resolveInitializer('heNormal' as InitializerName)).toThrow("did you mean 'he_normal'");
    expect(() => resolveInitializer({ name: 'glorot_uniformm' as InitializerName })).toThrow(
      UnknownNameError,
    );
    for (const bad of [null, undefined, 3, [], {}, { name: 4 }]) {
      expect(() => resolveInitializer(bad as never)).toThrow(InvalidArgumentError);
    }
    expect(() => resolveInitializer({ name: 'zeros', value: 1 })).toThrow(
      "invalid zeros option: got 'value', expected no options",
    );
    expect(() => registerInitializer('zeros', INITIALIZERS.ones)).toThrow(DuplicateNameError);
  });
});

describe('serialization', () => {
  it.each(Object.keys(INITIALIZERS))('%s: getConfig round-trips through its registered class', (name) => {
    const init = resolveInitializer({ name: name as InitializerName, ...OPTIONS[name as InitializerName] });
    const className = init.getClassName();
    const entry = tf.serialization.SerializationMap.getMap().classNameMap[className];
    expect(entry, className).toBeDefined();
    const config = init.getConfig();
    const [cls, fromConfig] = entry!;
    const copy = fromConfig(cls, JSON.parse(JSON.stringify(config))) as typeof init;
    expect(copy.getConfig()).toEqual(config);
    expect(copy.getClassName()).toBe(className);
    // A fresh instance from the config makes the same values as the original's first call.
    const a = init.apply(shapeFor(name));
    const b = copy.apply(shapeFor(name));
    if (config.seed !== null && config.seed !== undefined) expect(b.arraySync()).toEqual(a.arraySync());
    expect(b.shape).toEqual(shapeFor(name));
    tf.dispose([a, b]);
  });

  it('a saved model reloads with the same initializer configs (tfjs camel-cases string values on load)', async () => {
    const input = tf.input({ shape: [8] });
    const d1 = tf.layers.dense({
      units: 6,
      kernelInitializer: resolveInitializer({
        name: 'variance_scaling',
        mode: 'fan_avg',
        distribution: 'truncated_normal',
        seed: 1,
      }),
    });
    const d2 = tf.layers.dense({
      units: 5,
      kernelInitializer: resolveInitializer({
        name: 'kaiming_uniform',
        mode: 'fan_out',
        nonlinearity: 'leaky_relu',
        a: 0.1,
      }),
    });
    const model = tf.model({ inputs: input, outputs: d2.apply(d1.apply(input)) as tf.SymbolicTensor });
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    expect(JSON.stringify(artifacts!.modelTopology)).toContain('"class_name":"GradflowVarianceScaling"');
    const reloaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
    const configs = (m: tf.LayersModel) =>
      m.layers.slice(1).map((l) => (l.getConfig() as { kernelInitializer: unknown }).kernelInitializer);
    expect(configs(reloaded)).toEqual(configs(model));
    model.dispose();
    reloaded.dispose();
  });
});

describe('seeding', () => {
  it('a seeded instance is reproducible and advances per call', () => {
    const before = tf.memory().numTensors;
    const first = resolveInitializer({ name: 'he_normal', seed: 42 });
    const again = resolveInitializer({ name: 'he_normal', seed: 42 });
    const a1 = values(first, [4, 4]);
    const a2 = values(first, [4, 4]);
    expect(values(again, [4, 4])).toEqual(a1);
    expect(a2).not.toEqual(a1);
    (first as unknown as { reset(): void }).reset();
    expect(values(first, [4, 4])).toEqual(a1);
    expect(values(resolveInitializer({ name: 'he_normal', seed: 43 }), [4, 4])).not.toEqual(a1);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('two layers sharing one seeded initializer get different weights; rebuilding gives the same ones', () => {
    const build = () => {
      const init = resolveInitializer({ name: 'orthogonal', seed: 5 });
      const model = tf.sequential({
        layers: [
          tf.layers.dense({ inputShape: [4], units: 4, kernelInitializer: init }),
          tf.layers.dense({ units: 4, kernelInitializer: init }),
        ],
      });
      const kernels = [
        model.layers[0]!.getWeights()[0]!.arraySync(),
        model.layers[1]!.getWeights()[0]!.arraySync(),
      ];
      model.dispose();
      return kernels;
    };
    const [k1, k2] = build();
    expect(k1).not.toEqual(k2);
    expect(build()).toEqual([k1, k2]);
  });

  it('unseeded initializers draw from a global generator that setInitializerSeed resets', () => {
    setInitializerSeed(11);
    const a = values(resolveInitializer('glorot_uniform'), [3, 3]);
    const b = values(resolveInitializer('glorot_uniform'), [3, 3]);
    expect(a).not.toEqual(b);
    setInitializerSeed(11);
    expect(values(resolveInitializer('glorot_uniform'), [3, 3])).toEqual(a);
    expect(() => setInitializerSeed(Number.NaN)).toThrow(InvalidArgumentError);
  });

  it('dtypes: float32 always, int32 only for integral initializers', () => {
    const z = resolveInitializer('zeros').apply([2, 2], 'int32');
    expect(z.dtype).toBe('int32');
    z.dispose();
    expect(() => resolveInitializer('he_normal').apply([2, 2], 'int32')).toThrow(
      'makes float32 tensors, not int32',
    );
    expect(() => resolveInitializer('ones').apply([2, 2], 'bool')).toThrow(
      'makes float32 tensors or int32 ones, not bool',
    );
  });
});

describe('typed factories (init.*)', () => {
  it('exist for every registry name (camelCase) and build its class', async () => {
    const { init } = await import('./index.js');
    const factories = init as unknown as Record<string, () => unknown>;
    const camel = (s: string) => s.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
    expect(Object.keys(factories).sort()).toEqual(Object.keys(INITIALIZERS).map(camel).sort());
    for (const [name, spec] of Object.entries(INITIALIZERS)) {
      expect(factories[camel(name)]!(), name).toBeInstanceOf(spec.cls);
    }
    expect(init.heNormal({ mode: 'fan_out' }).getConfig()).toEqual(
      resolveInitializer({ name: 'he_normal', mode: 'fan_out' }).getConfig(),
    );
  });
});
