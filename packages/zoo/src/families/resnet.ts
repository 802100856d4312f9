import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError } from '@gradflow/core';
import { activationLayer } from '@gradflow/activations';
import { normLayer } from '@gradflow/normalization';
import { residualInits, residualStage, stem } from '@gradflow/residual';
import type {
  ResidualBlockName,
  ResidualInit,
  ShortcutKind,
  SqueezeExcitationOptions,
  StemOptions,
} from '@gradflow/residual';
import {
  buildGuarded,
  checkBoolean,
  checkInputShape,
  checkOptionKeys,
  headOptions,
  imageHead,
  requireShape,
} from '../options.js';
import type { ModelOptions } from '../options.js';

/** A ResNet variant as data (timm style); `buildResNet` turns it into a model. */
export interface ResNetVariant {
  readonly family: 'resnet';
  /** `cifar`: 3x3 stem, no pool, option-A-sized stages (He et al. 2015 sec. 4.2); `imagenet`: torchvision layout. */
  readonly layout: 'cifar' | 'imagenet';
  readonly block: ResidualBlockName;
  /** Blocks per stage. */
  readonly layers: readonly number[];
  /** Branch width of each stage (bottleneck output is 4x). */
  readonly widths: readonly number[];
  readonly stem: Readonly<Omit<StemOptions, 'activation' | 'norm' | 'kernelInitializer' | 'name' | 'preact'>>;
  readonly shortcut: ShortcutKind;
  /** ResNet-D: average-pool before the 1x1 shortcut conv. */
  readonly avgDown?: boolean;
  readonly se?: SqueezeExcitationOptions | null;
  /** The same network without shortcuts (He et al. 2015's "plain" baselines). */
  readonly plain?: boolean;
}

/** Options of the ResNet family, on top of the common ones. */
export interface ResNetOptions extends ModelOptions {
  /** Residual init scheme: `'default'`, `'zero_gamma'`, `'fixup'`, `'skipinit'`, `'rezero'` (see @gradflow/residual). */
  init?: ResidualInit;
  /** Remove every shortcut (the plain twin); default: the variant's. */
  plain?: boolean;
  /** Stochastic depth: maximum drop-path rate, linearly increasing over the blocks (Huang et al. 2016). Default 0. */
  dropPath?: number;
  /** Squeeze-excitation in every block (`{ ratio }`), or `null` to remove it; default: the variant's. */
  se?: SqueezeExcitationOptions | null;
  /** Shortcut of the blocks that change shape: `'projection'` or `'option_a'`; default: the variant's. */
  shortcut?: ShortcutKind;
  /** Where a bottleneck block strides: `'3x3'` (v1.5, default) or `'1x1'` (v1). */
  strideIn?: '1x1' | '3x3';
}

export const RESNET_OPTIONS = ['init', 'plain', 'dropPath', 'se', 'shortcut', 'strideIn'] as const;

/** The spatial down-sampling a variant applies before its last stage, and what that requires of the input. */
export function resnetConstraint(
  v: ResNetVariant,
  shortcut: ShortcutKind,
): { divisor: number; rule: string } {
  const stages = v.layers.length - 1;
  if (shortcut === 'option_a' && v.layout === 'cifar') {
    const divisor = 2 ** stages;
    return {
      divisor,
      rule: `height and width divisible by ${divisor} (option-A shortcuts subsample by exactly 2 in ${stages} stages)`,
    };
  }
  return { divisor: 1, rule: 'height and width >= 1' };
}

/**
 * Builds a ResNet from a variant row (`CIFAR_RESNETS`, `IMAGENET_RESNETS`, … or your own): stem, residual stages of @gradflow/residual blocks, head. `defaults` are the input shape and classes used when `options` gives none.
 *
 * @example
 * ```ts
 * const resnet8 = { ...CIFAR_RESNETS.resnet20, layers: [1, 1, 1] }; // one block per stage
 * const model = buildResNet('resnet8', resnet8, { inputShape: [8, 8, 3] }, { inputShape: [32, 32, 3], numClasses: 10 });
 * const y = model.predict(tf.zeros([1, 8, 8, 3])) as tf.Tensor;
 * if (y.shape.join() !== '1,10') throw new Error(`got [${y.shape}]`);
 * y.dispose();
 * model.dispose();
 * ```
 */
export function buildResNet(
  name: string,
  v: ResNetVariant,
  options: ResNetOptions,
  defaults: { inputShape: readonly number[]; numClasses: number },
): tf.LayersModel {
  checkOptionKeys(name, options, RESNET_OPTIONS);
  const inputShape = checkInputShape(
    name,
    options.inputShape ?? defaults.inputShape,
    3,
    '[height, width, channels]',
  );
  const head = headOptions(options, defaults);
  const shortcut = options.shortcut ?? v.shortcut;
  const plain = checkBoolean('plain', options.plain, v.plain ?? false);
  const preact = v.block.startsWith('preact');
  const { divisor, rule } = resnetConstraint(v, shortcut);
  const [h, w] = inputShape as [number, number, number];
  requireShape(h % divisor === 0 && w % divisor === 0, name, inputShape, rule, `got ${h}x${w}`);
  const dropPath = options.dropPath ?? 0;
  if (typeof dropPath !== 'number' || !(dropPath >= 0 && dropPath < 1))
    throw new InvalidArgumentError('dropPath', dropPath, 'a number in [0, 1)');
  const totalBlocks = v.layers.reduce((a, b) => a + b, 0);
  const activation = options.activation ?? 'relu';
  const norm = options.norm;
  const kernelInitializer = options.kernelInitializer ?? 'he_normal';
  const init = options.init ?? 'default';
  // The stem and the final norm follow the scheme: Fixup / SkipInit / ReZero networks have no norm by default.
  const outerNorm = norm ?? residualInits.get(init).defaultNorm;
  const se = options.se === undefined ? (v.se ?? null) : options.se;

  const input = tf.input({ shape: inputShape, name: 'input' });
  return buildGuarded(input, () => {
    let x = stem(input, {
      ...v.stem,
      preact,
      activation,
      kernelInitializer,
      norm: outerNorm,
      name: 'stem',
    });
    let blockIndex = 0;
    v.layers.forEach((blocks, i) => {
      const rates = Array.from({ length: blocks }, (_, j) =>
        totalBlocks > 1 ? (dropPath * (blockIndex + j)) / (totalBlocks - 1) : 0,
      );
      blockIndex += blocks;
      x = residualStage(x, {
        block: v.block,
        blocks,
        filters: v.widths[i]!,
        stride: i === 0 ? 1 : 2,
        shortcut,
        avgDown: v.avgDown ?? false,
        activation,
        kernelInitializer,
        init,
        plain,
        se,
        totalBlocks,
        ...(norm === undefined ? {} : { norm }),
        ...(options.strideIn === undefined ? {} : { strideIn: options.strideIn }),
        ...(dropPath > 0 ? { dropPath: rates } : {}),
        name: `stage${i + 1}`,
      });
    });
    if (preact) {
      // Pre-activation networks end with the norm-act their last block did not apply.
      const n = normLayer(outerNorm, { name: 'final_norm' });
      if (n) x = n.apply(x) as tf.SymbolicTensor;
      x = activationLayer(activation, { name: 'final_act' }).apply(x) as tf.SymbolicTensor;
    }
    const output = imageHead(x, head);
    return tf.model({ inputs: input, outputs: output, name: options.name ?? name });
  });
}
