import type * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, Registry } from '@gradflow/core';
import { BatchNorm, type BatchNormOptions } from './batch-norm.js';
import { GroupNorm, InstanceNorm, type GroupNormOptions, type InstanceNormOptions } from './group-norm.js';
import { LayerNorm, RMSNorm, type AxesNormOptions } from './layer-norm.js';
import type { InitializerLike } from './init.js';
import type { NormLayerBase } from './base.js';

/** One entry of the norm registry: how to build the layer and what to tell users about it. */
export interface NormSpec {
  /** The layer class it builds. */
  layer: string;
  /** One line for the docs table. */
  summary: string;
  /** The PyTorch module the fixtures compare it with. */
  pytorch: string;
  /** Where training and inference calls differ (as in PyTorch). */
  trainVsEval: string;
  /** Options accepted in the `{ name, ...options }` form (besides `name`). */
  options: readonly string[];
  create: (options: Record<string, unknown>) => NormLayerBase;
}

const AFFINE = ['axis', 'epsilon', 'center', 'scale', 'gammaInitializer', 'betaInitializer'] as const;

/**
 * Every normalization, by registry name: the single source of `NormName`, `listNorms()` and the
 * README table. Each entry says which layer it builds, its PyTorch counterpart, where training
 * and inference differ, and the options its `{ name, ...options }` form accepts.
 *
 * @example
 * ```ts
 * const entry = NORMS.group_norm;
 * if (entry.pytorch !== 'nn.GroupNorm') throw new Error(entry.pytorch);
 * if (!entry.options.includes('groups')) throw new Error('group_norm takes groups');
 * // Options a spec may carry besides `name`:
 * const accepted: readonly string[] = NORMS.batch_norm.options; // ['axis', 'epsilon', ..., 'momentum', 'decay', 'onNonFinite']
 * if (!accepted.includes('decay')) throw new Error('batch_norm takes decay');
 * ```
 */
export const NORMS = {
  batch_norm: {
    layer: 'BatchNorm',
    summary: 'per-channel batch statistics; running mean / unbiased variance for inference',
    pytorch: 'nn.BatchNorm2d',
    trainVsEval: 'training: batch statistics, updates running ones; inference: running statistics',
    options: [...AFFINE, 'momentum', 'decay', 'onNonFinite'],
    create: (o) => new BatchNorm(o as BatchNormOptions),
  },
  frozen_batch_norm: {
    layer: 'BatchNorm (frozen: true)',
    summary:
      'BatchNorm fixed at its running statistics; γ, β not trainable (fine-tuning, detection backbones)',
    pytorch: 'torchvision.ops.FrozenBatchNorm2d',
    trainVsEval: 'none: always running statistics, never updated',
    options: [...AFFINE],
    create: (o) => new BatchNorm({ ...(o as BatchNormOptions), frozen: true }),
  },
  layer_norm: {
    layer: 'LayerNorm',
    summary: 'per-sample statistics over `axis` (default the channels); γ, β of that shape',
    pytorch: 'nn.LayerNorm',
    trainVsEval: 'none',
    options: [...AFFINE],
    create: (o) => new LayerNorm(o as AxesNormOptions),
  },
  group_norm: {
    layer: 'GroupNorm',
    summary:
      'per-sample statistics over spatial axes and each group of channels (`groups`, default 32, or `groupSize`)',
    pytorch: 'nn.GroupNorm',
    trainVsEval: 'none',
    options: [...AFFINE, 'groups', 'groupSize'],
    create: (o) => new GroupNorm(o as GroupNormOptions),
  },
  instance_norm: {
    layer: 'InstanceNorm',
    summary:
      'per-sample, per-channel statistics over spatial axes; `affine` and `trackRunningStats` off by default',
    pytorch: 'nn.InstanceNorm2d',
    trainVsEval: 'none, unless trackRunningStats (then as batch_norm)',
    options: [
      'axis',
      'epsilon',
      'affine',
      'trackRunningStats',
      'momentum',
      'decay',
      'onNonFinite',
      'gammaInitializer',
      'betaInitializer',
    ],
    create: (o) => new InstanceNorm(o as InstanceNormOptions),
  },
  rms_norm: {
    layer: 'RMSNorm',
    summary: 'x / √(mean(x²) + ε) · γ over `axis`, no centring, no β by default',
    pytorch: 'formula (nn.RMSNorm in torch ≥ 2.4)',
    trainVsEval: 'none',
    options: [...AFFINE],
    create: (o) => new RMSNorm(o as AxesNormOptions),
  },
} as const satisfies Record<string, NormSpec>;

/** A registered norm name: `'batch_norm' | 'frozen_batch_norm' | 'layer_norm' | 'group_norm' | 'instance_norm' | 'rms_norm'`. */
export type NormName = keyof typeof NORMS;

/** A norm by name, with options, or none. */
export type NormLike = NormName | { name: NormName; [option: string]: unknown } | 'none' | null;

/** Options a block passes to {@link normLayer}; they override the same keys of the spec. */
export interface NormLayerOptions {
  /** Layer name (deterministic names make probe reports readable). */
  name?: string;
  /** Initializer of γ, e.g. `'zeros'` for the last norm of a residual branch. */
  gammaInitializer?: InitializerLike;
  /** Channel axis (batch_norm, group_norm, instance_norm) or normalized axis (layer_norm, rms_norm). */
  axis?: number;
}

const norms = new Registry<NormSpec>('norm', NORMS, { hint: 'see listNorms()' });

/**
 * The registered norm names, in registry order.
 *
 * @example
 * ```ts
 * const names = listNorms(); // ['batch_norm', 'frozen_batch_norm', 'layer_norm', ...]
 * if (!names.includes('rms_norm')) throw new Error(names.join(', '));
 * ```
 */
export function listNorms(): NormName[] {
  return norms.list() as NormName[];
}

/**
 * The registry entry of `name` (throws `UnknownNameError` with suggestions).
 *
 * @example
 * ```ts
 * import { UnknownNameError } from '@gradflow/core';
 * import { getNorm, type NormName } from '@gradflow/normalization';
 *
 * if (getNorm('layer_norm').trainVsEval !== 'none') throw new Error('layer_norm has no train/eval difference');
 * try {
 *   getNorm('batchnorm' as NormName);
 *   throw new Error('expected UnknownNameError');
 * } catch (e) {
 *   if (!(e instanceof UnknownNameError)) throw e; // the message suggests 'batch_norm'
 * }
 * ```
 */
export function getNorm(name: NormName): NormSpec {
  return norms.get(name);
}

/**
 * Builds the normalization layer `spec` names, or returns null for `'none'` / `null`, so blocks
 * can take `norm` as an option (timm's `norm_layer`). Options in the spec object are the layer's
 * options; `options` (from the block: name, γ initializer, axis) override them. Unknown option
 * names, and a γ initializer for a norm without γ, are `InvalidArgumentError`s.
 *
 * @example
 * ```ts
 * const x = tf.input({ shape: [16, 16, 32] });
 * // By name, with a block's deterministic name and a zero γ (last norm of a residual branch):
 * const bn = normLayer('batch_norm', { name: 'stage1_block1_bn2', gammaInitializer: 'zeros' })!;
 * // With options:
 * const gn = normLayer({ name: 'group_norm', groups: 8 })!;
 * const y = gn.apply(bn.apply(x)) as tf.SymbolicTensor;
 * if (y.shape.join() !== [null, 16, 16, 32].join()) throw new Error(String(y.shape));
 * // No norm at all:
 * if (normLayer('none') !== null || normLayer(null) !== null) throw new Error('expected null');
 * tf.model({ inputs: x, outputs: y }).dispose();
 * ```
 */
export function normLayer(spec: NormLike, options: NormLayerOptions = {}): tf.layers.Layer | null {
  if (spec === null || spec === 'none') return null;
  let name: unknown;
  let own: Record<string, unknown> = {};
  if (typeof spec === 'string') {
    name = spec;
  } else if (typeof spec === 'object' && spec !== null && !Array.isArray(spec)) {
    ({ name, ...own } = spec);
  } else {
    throw new InvalidArgumentError(
      'norm',
      spec,
      "a norm name, { name, ...options }, 'none' or null",
      'see listNorms()',
    );
  }
  const entry = norms.get(name as string);
  for (const key of Object.keys(own)) {
    if (!entry.options.includes(key)) {
      throw new InvalidArgumentError(`option of ${String(name)}`, key, `one of ${entry.options.join(', ')}`);
    }
  }
  const merged: Record<string, unknown> = { ...own };
  if (options.name !== undefined) merged.name = options.name;
  if (options.axis !== undefined) merged.axis = options.axis;
  if (options.gammaInitializer !== undefined) merged.gammaInitializer = options.gammaInitializer;
  if (merged.gammaInitializer !== undefined) {
    const noGamma = name === 'instance_norm' ? merged.affine !== true : merged.scale === false;
    if (noGamma) {
      throw new InvalidArgumentError(
        'gammaInitializer',
        merged.gammaInitializer instanceof Object && !('name' in merged.gammaInitializer)
          ? 'an Initializer'
          : merged.gammaInitializer,
        `a norm with γ (${name === 'instance_norm' ? 'affine: true' : 'scale: true'})`,
        `${String(name)} is configured without γ`,
      );
    }
  }
  return entry.create(merged);
}

/**
 * The README's table of norms (Markdown), generated from {@link NORMS}: one row per name with
 * its layer, summary, PyTorch reference, training-vs-inference behaviour and options.
 *
 * @example
 * ```ts
 * const table = normsMarkdownTable();
 * if (!table.startsWith('| name | layer |')) throw new Error(table);
 * if (!table.includes('| `rms_norm` | RMSNorm |')) throw new Error('rms_norm row missing');
 * ```
 */
export function normsMarkdownTable(): string {
  const rows = listNorms().map((n) => {
    const e = NORMS[n];
    return `| \`${n}\` | ${e.layer} | ${e.summary} | ${e.pytorch} | ${e.trainVsEval} | ${e.options.map((o) => `\`${o}\``).join(', ')} |`;
  });
  return [
    '| name | layer | what it does | PyTorch reference | training vs inference | options |',
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
