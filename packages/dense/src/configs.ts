import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, Registry, ShapeError, checkInteger } from '@gradflow/core';
import { denseBlock, transition, transitionChannels, type DenseCommonOptions } from './dense-block.js';
import {
  applyLayer,
  checkActivation,
  checkName,
  checkNorm,
  initializer,
  isNoNorm,
  nhwc,
  normAct,
} from './parts.js';

/** A DenseNet variant as data (timm/torchvision style). */
export interface DenseNetConfig {
  /** Growth rate k. */
  readonly growthRate: number;
  /** Dense layers per block. */
  readonly blockConfig: readonly number[];
  /** Channels of the stem conv. */
  readonly initFeatures: number;
  /** DenseNet-B 1x1 bottleneck (true for every -BC variant). */
  readonly bottleneck: boolean;
  /** `bn_size`: bottleneck width multiplier. */
  readonly bottleneckWidth: number;
  /** Transition compression θ (0.5 for -C, 1 for plain DenseNet). */
  readonly compression: number;
  /** `imagenet`: conv 7x7/2 + norm + act + max-pool 3x3/2; `cifar`: one 3x3 conv. */
  readonly stem: 'imagenet' | 'cifar';
}

/**
 * The named DenseNet variants (torchvision's ImageNet networks and the paper's CIFAR ones): the
 * single source of truth for {@link denseNets}, {@link DenseNetName} and the README table.
 *
 * @example
 * ```ts
 * const { growthRate, blockConfig } = DENSENET_CONFIGS.densenet121;
 * if (growthRate !== 32 || blockConfig.join() !== '6,12,24,16') throw new Error('densenet121');
 * ```
 */
export const DENSENET_CONFIGS = {
  densenet121: {
    growthRate: 32,
    blockConfig: [6, 12, 24, 16],
    initFeatures: 64,
    bottleneck: true,
    bottleneckWidth: 4,
    compression: 0.5,
    stem: 'imagenet',
  },
  densenet161: {
    growthRate: 48,
    blockConfig: [6, 12, 36, 24],
    initFeatures: 96,
    bottleneck: true,
    bottleneckWidth: 4,
    compression: 0.5,
    stem: 'imagenet',
  },
  densenet169: {
    growthRate: 32,
    blockConfig: [6, 12, 32, 32],
    initFeatures: 64,
    bottleneck: true,
    bottleneckWidth: 4,
    compression: 0.5,
    stem: 'imagenet',
  },
  densenet201: {
    growthRate: 32,
    blockConfig: [6, 12, 48, 32],
    initFeatures: 64,
    bottleneck: true,
    bottleneckWidth: 4,
    compression: 0.5,
    stem: 'imagenet',
  },
  densenet_bc_100_12: {
    growthRate: 12,
    blockConfig: [16, 16, 16],
    initFeatures: 24,
    bottleneck: true,
    bottleneckWidth: 4,
    compression: 0.5,
    stem: 'cifar',
  },
  densenet_bc_250_24: {
    growthRate: 24,
    blockConfig: [41, 41, 41],
    initFeatures: 48,
    bottleneck: true,
    bottleneckWidth: 4,
    compression: 0.5,
    stem: 'cifar',
  },
  densenet_bc_190_40: {
    growthRate: 40,
    blockConfig: [31, 31, 31],
    initFeatures: 80,
    bottleneck: true,
    bottleneckWidth: 4,
    compression: 0.5,
    stem: 'cifar',
  },
  densenet_40_12: {
    growthRate: 12,
    blockConfig: [12, 12, 12],
    initFeatures: 16,
    bottleneck: false,
    bottleneckWidth: 4,
    compression: 1,
    stem: 'cifar',
  },
} as const satisfies Record<string, DenseNetConfig>;

/** A named DenseNet variant: a key of {@link DENSENET_CONFIGS}, e.g. `'densenet121'`. */
export type DenseNetName = keyof typeof DENSENET_CONFIGS;

/**
 * {@link DENSENET_CONFIGS} as a `Registry` from `@gradflow/core`: `get` throws `UnknownNameError`
 * with a did-you-mean suggestion; `register` adds your own variant.
 *
 * @example
 * ```ts
 * if (denseNets.get('densenet169').blockConfig[3] !== 32) throw new Error('densenet169');
 * if (denseNets.has('densenet122')) throw new Error('no such variant');
 * let message = '';
 * try {
 *   denseNets.get('densenet212');
 * } catch (e) {
 *   message = (e as Error).message; // suggests 'densenet201'
 * }
 * if (!message.includes('densenet201')) throw new Error(message);
 * ```
 */
export const denseNets = new Registry<DenseNetConfig>('DenseNet config', DENSENET_CONFIGS, {
  hint: 'see listDenseNets()',
});

/**
 * Names of the registered DenseNet variants, in registry order.
 *
 * @example
 * ```ts
 * const names = listDenseNets();
 * if (names[0] !== 'densenet121' || !names.includes('densenet_bc_100_12')) throw new Error(names.join());
 * ```
 */
export function listDenseNets(): string[] {
  return denseNets.list();
}

/**
 * A config by name, or the config itself (validated; a bad field throws `InvalidArgumentError`).
 *
 * @example
 * ```ts
 * const config = getDenseNetConfig('densenet_bc_100_12');
 * if (config.growthRate !== 12 || config.stem !== 'cifar') throw new Error(JSON.stringify(config));
 * // A custom config passes through after validation.
 * const mine = getDenseNetConfig({ ...config, blockConfig: [4, 4, 4] });
 * if (mine.blockConfig.length !== 3) throw new Error('custom');
 * ```
 */
export function getDenseNetConfig(spec: DenseNetName | DenseNetConfig): DenseNetConfig {
  return typeof spec === 'string' ? denseNets.get(spec) : checkConfig(spec);
}

function checkConfig(config: DenseNetConfig): DenseNetConfig {
  if (config === null || typeof config !== 'object')
    throw new InvalidArgumentError('DenseNet config', config, 'a config name or object');
  checkInteger('growthRate', config.growthRate);
  checkInteger('initFeatures', config.initFeatures);
  checkInteger('bottleneckWidth', config.bottleneckWidth);
  if (!Array.isArray(config.blockConfig) || config.blockConfig.length === 0) {
    throw new InvalidArgumentError('blockConfig', config.blockConfig, 'a non-empty array of layer counts');
  }
  config.blockConfig.forEach((n, i) => checkInteger(`blockConfig[${i}]`, n));
  if (!(config.compression > 0 && config.compression <= 1))
    throw new InvalidArgumentError('compression', config.compression, 'a number in (0, 1]');
  if (config.stem !== 'imagenet' && config.stem !== 'cifar')
    throw new InvalidArgumentError('stem', config.stem, "'imagenet' or 'cifar'");
  return config;
}

/** Options of {@link denseNetConfig}. */
export interface DenseNetDepthOptions {
  /** DenseNet-B bottleneck layers (2 convs per layer; default true). */
  bottleneck?: boolean;
  /** θ (default 0.5 with the bottleneck, i.e. -BC; 1 without). */
  compression?: number;
  /** Number of dense blocks (default 3, the CIFAR/SVHN networks). */
  blocks?: number;
}

/**
 * The CIFAR DenseNet of a given depth L and growth rate k (Huang et al. 2017, sec. 3): L counts
 * the stem conv, `blocks - 1` transition convs, the classifier, and 2 convs per layer with the
 * bottleneck (1 without), so each block has `(L - blocks - 1) / (2 · blocks)` layers
 * (`(L - 4) / 6` for DenseNet-BC with 3 blocks). The stem has `2k` channels for -BC, 16 otherwise.
 *
 * @example
 * ```ts
 * const config = denseNetConfig(100, 12); // DenseNet-BC-100-12
 * if (config.blockConfig.join() !== '16,16,16' || config.initFeatures !== 24) throw new Error('BC-100-12');
 * ```
 */
export function denseNetConfig(
  depth: number,
  growthRate: number,
  options: DenseNetDepthOptions = {},
): DenseNetConfig {
  checkInteger('depth', depth);
  checkInteger('growthRate', growthRate);
  const bottleneck = options.bottleneck ?? true;
  const blocks = checkInteger('blocks', options.blocks ?? 3);
  const compression = options.compression ?? (bottleneck ? 0.5 : 1);
  const convsPerLayer = bottleneck ? 2 : 1;
  const perBlock = (depth - blocks - 1) / (convsPerLayer * blocks);
  if (!Number.isInteger(perBlock) || perBlock < 1) {
    const step = convsPerLayer * blocks;
    throw new InvalidArgumentError(
      'depth',
      depth,
      `${blocks + 1} + ${step}·n for n >= 1 (${bottleneck ? 'bottleneck' : 'plain'} layers, ${blocks} blocks)`,
      `e.g. ${blocks + 1 + step * 16} or ${blocks + 1 + step * 12}`,
    );
  }
  return checkConfig({
    growthRate,
    blockConfig: Array.from({ length: blocks }, () => perBlock),
    initFeatures: bottleneck ? 2 * growthRate : 16,
    bottleneck,
    bottleneckWidth: 4,
    compression,
    stem: 'cifar',
  });
}

/** What one dense block of a config receives and emits (see {@link denseNetChannels}). */
export interface DenseNetStagePlan {
  /** 1-based block index. */
  block: number;
  /** Channels entering the block. */
  inChannels: number;
  /** Channels leaving the block: `inChannels + layers · k`. */
  outChannels: number;
  /** Channels after the following transition (null after the last block). */
  transitionChannels: number | null;
}

/**
 * Channel plan of a config: what each block receives and emits (pure arithmetic).
 *
 * @example
 * ```ts
 * const plan = denseNetChannels('densenet121');
 * // block 1: 64 -> 64 + 6·32 = 256, transition to 128; the last block ends at 1024 channels.
 * if (plan[0]!.outChannels !== 256 || plan[0]!.transitionChannels !== 128) throw new Error('block 1');
 * if (plan[3]!.outChannels !== 1024 || plan[3]!.transitionChannels !== null) throw new Error('block 4');
 * ```
 */
export function denseNetChannels(spec: DenseNetName | DenseNetConfig): DenseNetStagePlan[] {
  const config = getDenseNetConfig(spec);
  let c = config.initFeatures;
  return config.blockConfig.map((layers, i) => {
    const out = c + layers * config.growthRate;
    const last = i === config.blockConfig.length - 1;
    const t = last ? null : transitionChannels(out, config.compression);
    const plan = { block: i + 1, inChannels: c, outChannels: out, transitionChannels: t };
    c = t ?? out;
    return plan;
  });
}

/** Options of {@link denseNetFeatures}. */
export interface DenseNetFeaturesOptions extends DenseCommonOptions {
  /** Dropout after every 3x3 conv (default 0; 0.2 in the paper without augmentation). */
  dropout?: number;
}

/**
 * The convolutional body of a DenseNet (torchvision's `features` plus the final norm-act):
 * stem, dense blocks `block<i>`, transitions `transition<i>`, `final_norm`, `final_act`.
 * Add global pooling and a classifier on top.
 *
 * @example
 * ```ts
 * const x = tf.input({ shape: [224, 224, 3] });
 * const f = denseNetFeatures(x, 'densenet121'); // [7, 7, 1024]
 * ```
 */
export function denseNetFeatures(
  x: tf.SymbolicTensor,
  spec: DenseNetName | DenseNetConfig,
  options: DenseNetFeaturesOptions = {},
): tf.SymbolicTensor {
  const shape = nhwc(x, 'DenseNet');
  const config = getDenseNetConfig(spec);
  const prefix = options.name === undefined ? '' : `${checkName(options.name, 'densenet')}_`;
  const { name: _name, dropout, ...parts } = options;
  const activation = parts.activation ?? 'relu';
  checkActivation(activation);
  const norm = parts.norm ?? 'batch_norm';
  const normChannels = checkNorm(norm);
  const kernelInitializer = initializer(parts.kernelInitializer ?? 'he_normal');
  const useBias = parts.useBias ?? isNoNorm(norm);
  // Spatial size needed: the stem divides by 4 (imagenet) and every transition by 2.
  const reduction = (config.stem === 'imagenet' ? 4 : 1) * 2 ** (config.blockConfig.length - 1);
  for (const size of [shape.height, shape.width]) {
    if (size !== null && size < reduction) {
      throw new ShapeError(
        'DenseNet input',
        x.shape,
        `height and width >= ${reduction} for ${config.blockConfig.length} blocks with a ${config.stem} stem`,
      );
    }
  }
  const common = { activation, norm, kernelInitializer, useBias };
  // Validate every norm's channel count once, before any layer exists.
  const plan = denseNetChannels(config);
  if (config.stem === 'imagenet') normChannels(config.initFeatures, `${prefix}stem_norm`);
  for (const stage of plan) {
    for (let i = 0; i < config.blockConfig[stage.block - 1]!; i++) {
      normChannels(
        stage.inChannels + i * config.growthRate,
        `${prefix}block${stage.block}_layer${i + 1}_norm1`,
      );
    }
    if (config.bottleneck)
      normChannels(config.bottleneckWidth * config.growthRate, `${prefix}block${stage.block}_norm2`);
    normChannels(
      stage.outChannels,
      stage.transitionChannels === null ? `${prefix}final_norm` : `${prefix}transition${stage.block}_norm`,
    );
  }
  if (dropout !== undefined && !(dropout >= 0 && dropout < 1))
    throw new InvalidArgumentError('dropout', dropout, 'a finite number in [0, 1)');

  let h: tf.SymbolicTensor;
  if (config.stem === 'imagenet') {
    h = applyLayer(tf.layers.zeroPadding2d({ padding: 3, name: `${prefix}stem_pad` }), x);
    h = applyLayer(
      tf.layers.conv2d({
        filters: config.initFeatures,
        kernelSize: 7,
        strides: 2,
        useBias,
        kernelInitializer,
        name: `${prefix}stem_conv`,
      }),
      h,
    );
    h = normAct(h, common, `${prefix}stem`);
    h = applyLayer(tf.layers.zeroPadding2d({ padding: 1, name: `${prefix}stem_pool_pad` }), h);
    h = applyLayer(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, name: `${prefix}stem_pool` }), h);
  } else {
    h = applyLayer(
      tf.layers.conv2d({
        filters: config.initFeatures,
        kernelSize: 3,
        padding: 'same',
        useBias,
        kernelInitializer,
        name: `${prefix}stem_conv`,
      }),
      x,
    );
  }
  config.blockConfig.forEach((layers, i) => {
    h = denseBlock(h, {
      ...common,
      layers,
      growthRate: config.growthRate,
      bottleneck: config.bottleneck,
      bottleneckWidth: config.bottleneckWidth,
      dropout: dropout ?? 0,
      name: `${prefix}block${i + 1}`,
    });
    if (i < config.blockConfig.length - 1)
      h = transition(h, { ...common, compression: config.compression, name: `${prefix}transition${i + 1}` });
  });
  return normAct(h, common, `${prefix}final`);
}

/**
 * The configuration table of the README, generated from {@link DENSENET_CONFIGS}.
 *
 * @example
 * ```ts
 * const table = denseNetsMarkdownTable();
 * if (!table.startsWith('| name |') || !table.includes('`densenet121`')) throw new Error(table);
 * ```
 */
export function denseNetsMarkdownTable(): string {
  const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  const lines = [
    row(['name', 'k', 'layers per block', 'bottleneck', 'stem', 'θ']),
    row(Array(6).fill('---')),
  ];
  for (const [name, c] of denseNets) {
    lines.push(
      row([
        `\`${name}\``,
        c.growthRate,
        c.blockConfig.join(', '),
        c.bottleneck ? `yes (${c.bottleneckWidth}k)` : 'no',
        `${c.stem}, ${c.initFeatures}`,
        c.compression,
      ]),
    );
  }
  return lines.join('\n');
}
