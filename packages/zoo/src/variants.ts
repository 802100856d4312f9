/**
 * Variant tables: every named model is a row of data (timm style). The architecture code in
 * `families/` turns a row into a model; nothing here creates a layer.
 */
import type { MlpVariant } from './families/mlp.js';
import type { DenseNetVariant } from './families/densenet.js';
import type { ResNetVariant } from './families/resnet.js';
import type { UNetVariant } from './families/unet.js';
import type { SequenceVariant } from './families/sequence.js';

const CIFAR_STEM = { filters: 16, kernelSize: 3, stride: 1, pool: false } as const;
const IMAGENET_STEM = { filters: 64, kernelSize: 7, stride: 2, pool: true } as const;
const DEEP_STEM = { filters: 64, deep: true, stride: 2, pool: true } as const;
const IMAGENET_WIDTHS = [64, 128, 256, 512] as const;
const CIFAR_WIDTHS = [16, 32, 64] as const;

const cifar = (n: number, plain = false): ResNetVariant => ({
  family: 'resnet',
  layout: 'cifar',
  block: 'basic',
  layers: [n, n, n],
  widths: CIFAR_WIDTHS,
  stem: CIFAR_STEM,
  shortcut: 'option_a',
  plain,
});

const imagenet = (
  block: 'basic' | 'bottleneck',
  layers: readonly number[],
  extra: Partial<ResNetVariant> = {},
): ResNetVariant => ({
  family: 'resnet',
  layout: 'imagenet',
  block,
  layers,
  widths: IMAGENET_WIDTHS,
  stem: IMAGENET_STEM,
  shortcut: 'projection',
  ...extra,
});

const L18 = [2, 2, 2, 2];
const L34 = [3, 4, 6, 3];
const L101 = [3, 4, 23, 3];
const L152 = [3, 8, 36, 3];

/**
 * CIFAR ResNets (He et al. 2015 sec. 4.2): depth 6n+2, option-A shortcuts, and their plain twins.
 *
 * @example
 * ```ts
 * if (CIFAR_RESNETS.resnet20.layers.join() !== '3,3,3') throw new Error('n = 3 blocks per stage');
 * if (!CIFAR_RESNETS.plain20.plain) throw new Error('plain twin has no shortcuts');
 * ```
 */
export const CIFAR_RESNETS = {
  resnet20: cifar(3),
  resnet32: cifar(5),
  resnet44: cifar(7),
  resnet56: cifar(9),
  resnet110: cifar(18),
  resnet1202: cifar(200),
  plain20: cifar(3, true),
  plain32: cifar(5, true),
  plain44: cifar(7, true),
  plain56: cifar(9, true),
  plain110: cifar(18, true),
  plain1202: cifar(200, true),
} as const satisfies Record<string, ResNetVariant>;

/**
 * ImageNet ResNets in torchvision's v1.5 layout (stride on the 3x3 conv of bottlenecks).
 *
 * @example
 * ```ts
 * if (IMAGENET_RESNETS.resnet50.block !== 'bottleneck') throw new Error('ResNet-50 uses bottlenecks');
 * console.log(IMAGENET_RESNETS.resnet50.layers); // [3, 4, 6, 3]
 * ```
 */
export const IMAGENET_RESNETS = {
  resnet18: imagenet('basic', L18),
  resnet34: imagenet('basic', L34),
  resnet50: imagenet('bottleneck', L34),
  resnet101: imagenet('bottleneck', L101),
  resnet152: imagenet('bottleneck', L152),
} as const satisfies Record<string, ResNetVariant>;

/**
 * Pre-activation ResNets (He et al. 2016): ImageNet layouts and the paper's CIFAR 110 / 164.
 *
 * @example
 * ```ts
 * console.log(Object.keys(PREACT_RESNETS)); // ['preact_resnet18', …, 'preact_resnet164']
 * if (PREACT_RESNETS.preact_resnet164.block !== 'preact_bottleneck') throw new Error('bottleneck');
 * ```
 */
export const PREACT_RESNETS = {
  preact_resnet18: imagenet('basic', L18, { block: 'preact_basic' }),
  preact_resnet34: imagenet('basic', L34, { block: 'preact_basic' }),
  preact_resnet50: imagenet('bottleneck', L34, { block: 'preact_bottleneck' }),
  preact_resnet101: imagenet('bottleneck', L101, { block: 'preact_bottleneck' }),
  preact_resnet152: imagenet('bottleneck', L152, { block: 'preact_bottleneck' }),
  preact_resnet110: { ...cifar(18), block: 'preact_basic' },
  preact_resnet164: { ...cifar(18), block: 'preact_bottleneck', shortcut: 'projection' },
} as const satisfies Record<string, ResNetVariant>;

/**
 * ResNet-D (He et al. 2019, Bag of Tricks): deep 3x3 stem and average-pool shortcuts.
 *
 * @example
 * ```ts
 * if (!RESNET_D.resnet50d.avgDown) throw new Error('ResNet-D average-pools before the shortcut conv');
 * ```
 */
export const RESNET_D = {
  resnet18d: imagenet('basic', L18, { stem: DEEP_STEM, avgDown: true }),
  resnet34d: imagenet('basic', L34, { stem: DEEP_STEM, avgDown: true }),
  resnet50d: imagenet('bottleneck', L34, { stem: DEEP_STEM, avgDown: true }),
  resnet101d: imagenet('bottleneck', L101, { stem: DEEP_STEM, avgDown: true }),
  resnet152d: imagenet('bottleneck', L152, { stem: DEEP_STEM, avgDown: true }),
} as const satisfies Record<string, ResNetVariant>;

/**
 * SE-ResNets (Hu et al. 2018): squeeze-excitation with ratio 16 in every block.
 *
 * @example
 * ```ts
 * console.log(Object.keys(SE_RESNETS)); // ['seresnet18', 'seresnet34', …]
 * for (const v of Object.values(SE_RESNETS)) if (!v.se) throw new Error('every SE-ResNet has squeeze-excitation');
 * ```
 */
export const SE_RESNETS = {
  seresnet18: imagenet('basic', L18, { se: { ratio: 16 } }),
  seresnet34: imagenet('basic', L34, { se: { ratio: 16 } }),
  seresnet50: imagenet('bottleneck', L34, { se: { ratio: 16 } }),
  seresnet101: imagenet('bottleneck', L101, { se: { ratio: 16 } }),
  seresnet152: imagenet('bottleneck', L152, { se: { ratio: 16 } }),
} as const satisfies Record<string, ResNetVariant>;

const mlp = (
  activation: MlpVariant['activation'],
  kernelInitializer: MlpVariant['kernelInitializer'],
  norm: MlpVariant['norm'] = 'none',
  depth = 20,
): MlpVariant => ({
  family: 'mlp',
  depth,
  width: 256,
  activation,
  kernelInitializer,
  norm,
});

/**
 * Deep MLPs, the vanishing-gradient teaching models: the same 20 x 256 stack with the
 * activation / init / norm pairs whose gradients vanish (sigmoid, tanh with Glorot) or flow
 * (ReLU with He, SELU with LeCun, BatchNorm).
 *
 * @example
 * ```ts
 * if (MLPS.mlp_sigmoid.depth !== 20 || MLPS.mlp_sigmoid.width !== 256) throw new Error('20 x 256');
 * if (MLPS.mlp_selu.kernelInitializer !== 'lecun_normal') throw new Error('SELU pairs with LeCun init');
 * ```
 */
export const MLPS = {
  mlp: mlp('relu', 'he_normal', 'none', 3),
  mlp_sigmoid: mlp('sigmoid', 'glorot_uniform'),
  mlp_tanh: mlp('tanh', 'glorot_uniform'),
  mlp_relu: mlp('relu', 'he_normal'),
  mlp_selu: mlp('selu', 'lecun_normal'),
  mlp_sigmoid_bn: mlp('sigmoid', 'glorot_uniform', 'batch_norm'),
} as const satisfies Record<string, MlpVariant>;

const seq = (cell: SequenceVariant['cell'], task: SequenceVariant['task']): SequenceVariant => ({
  family: 'sequence',
  cell,
  task,
  units: 128,
  numLayers: 1,
});

/**
 * Recurrent sequence classifiers (sequential MNIST, pixel by pixel) and regressors (the adding problem).
 *
 * @example
 * ```ts
 * if (SEQUENCE_MODELS.lstm_classifier.cell !== 'lstm') throw new Error('LSTM cell');
 * if (SEQUENCE_MODELS.gru_regressor.task !== 'regression') throw new Error('regressor');
 * ```
 */
export const SEQUENCE_MODELS = {
  rnn_classifier: seq('simple_rnn', 'classification'),
  irnn_classifier: seq('irnn', 'classification'),
  gru_classifier: seq('gru', 'classification'),
  lstm_classifier: seq('lstm', 'classification'),
  rnn_regressor: seq('simple_rnn', 'regression'),
  irnn_regressor: seq('irnn', 'regression'),
  gru_regressor: seq('gru', 'regression'),
  lstm_regressor: seq('lstm', 'regression'),
} as const satisfies Record<string, SequenceVariant>;

/**
 * DenseNets: rows of @gradflow/dense's DENSENET_CONFIGS (torchvision's ImageNet ones and DenseNet-BC-100, k = 12).
 *
 * @example
 * ```ts
 * if (DENSENETS.densenet_bc_100.config !== 'densenet_bc_100_12') throw new Error('k = 12');
 * ```
 */
export const DENSENETS = {
  densenet121: { family: 'densenet', config: 'densenet121' },
  densenet161: { family: 'densenet', config: 'densenet161' },
  densenet169: { family: 'densenet', config: 'densenet169' },
  densenet201: { family: 'densenet', config: 'densenet201' },
  densenet_bc_100: { family: 'densenet', config: 'densenet_bc_100_12' },
} as const satisfies Record<string, DenseNetVariant>;

/**
 * U-Nets (Ronneberger et al. 2015): the paper's, with BatchNorm, and with bilinear up-sampling.
 *
 * @example
 * ```ts
 * if (UNETS.unet_bilinear.upsample !== 'bilinear' || UNETS.unet.depth !== 4) throw new Error('variants');
 * ```
 */
export const UNETS = {
  unet: { family: 'unet', depth: 4, baseFilters: 64, upsample: 'transposed', norm: 'none' },
  unet_bn: { family: 'unet', depth: 4, baseFilters: 64, upsample: 'transposed', norm: 'batch_norm' },
  unet_bilinear: { family: 'unet', depth: 4, baseFilters: 64, upsample: 'bilinear', norm: 'none' },
} as const satisfies Record<string, UNetVariant>;
