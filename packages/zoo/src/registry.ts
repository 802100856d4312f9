import type * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, Registry } from '@gradflow/core';
import { buildDenseNet } from './families/densenet.js';
import type { DenseNetOptions, DenseNetVariant } from './families/densenet.js';
import { buildMlp, mlpParams } from './families/mlp.js';
import type { MlpOptions, MlpVariant } from './families/mlp.js';
import { buildResNet } from './families/resnet.js';
import type { ResNetOptions, ResNetVariant } from './families/resnet.js';
import { buildSequenceModel, sequenceParams } from './families/sequence.js';
import type { SequenceModelOptions, SequenceVariant } from './families/sequence.js';
import { buildUNet } from './families/unet.js';
import type { UNetModelOptions, UNetVariant } from './families/unet.js';
import type { ModelOptions } from './options.js';
import {
  CIFAR_RESNETS,
  DENSENETS,
  IMAGENET_RESNETS,
  MLPS,
  PREACT_RESNETS,
  RESNET_D,
  SE_RESNETS,
  SEQUENCE_MODELS,
  UNETS,
} from './variants.js';

/** The architecture family a model belongs to (which builder makes it). */
export type ModelFamily = 'resnet' | 'densenet' | 'unet' | 'sequence' | 'mlp';

/** What `getModelInfo` tells about a model at its default configuration. */
export interface ModelInfo {
  /** Registry name. */
  readonly name: string;
  /** Architecture family. */
  readonly family: ModelFamily;
  /** One line for the README table. */
  readonly description: string;
  /** The paper that defines the architecture (and where the variant comes from). */
  readonly paper: string;
  /** Input shape (without the batch axis) when `inputShape` is not given. */
  readonly defaultInputShape: readonly number[];
  /** Outputs of the head when `numClasses` is not given. */
  readonly numClasses: number;
  /**
   * Trainable parameters at the defaults (conv/dense kernels and biases, norm γ/β; not the
   * BatchNorm moving statistics) — equal to `sum(p.numel() for p in model.parameters())` of the
   * PyTorch reference, see `fixtures/param_counts.json`.
   */
  readonly params: number;
  /** Blocks, activations, initializers and norms it is built from (by registry name). */
  readonly blocks: readonly string[];
  /** Activations it uses (by registry name). */
  readonly activations: readonly string[];
  /** Initializers it uses (by registry name). */
  readonly initializers: readonly string[];
  /** Norms it uses (by registry name). */
  readonly norms: readonly string[];
  /** The variant row (data) the model is built from. */
  readonly variant: Readonly<Record<string, unknown>>;
}

/** A registry entry: the info plus the builder of the family. */
export interface ModelSpec<Options extends ModelOptions = ModelOptions> extends Omit<ModelInfo, 'name'> {
  /** Builds the model (named `options.name ?? name`) with the given options. */
  build(name: string, options: Options): tf.LayersModel;
}

type Meta = Pick<ModelInfo, 'description' | 'paper' | 'params'>;

function resnetSpec(v: ResNetVariant, meta: Meta): ModelSpec<ResNetOptions> {
  const cifar = v.layout === 'cifar';
  const defaults = { inputShape: cifar ? [32, 32, 3] : [224, 224, 3], numClasses: cifar ? 10 : 1000 };
  return {
    family: 'resnet',
    ...meta,
    defaultInputShape: defaults.inputShape,
    numClasses: defaults.numClasses,
    blocks: [
      v.block,
      ...(v.stem.deep ? ['stem (deep, ResNet-C)'] : ['stem']),
      ...(v.se ? ['squeeze_excitation'] : []),
      `shortcut: ${v.plain ? 'none (plain)' : v.shortcut}${v.avgDown ? ' + avg-pool (ResNet-D)' : ''}`,
    ],
    activations: ['relu', ...(v.se ? ['sigmoid'] : [])],
    initializers: ['he_normal', 'glorot_uniform (head)'],
    norms: ['batch_norm'],
    variant: v as unknown as Record<string, unknown>,
    build: (name, options) => buildResNet(name, v, options, defaults),
  };
}

function denseNetSpec(v: DenseNetVariant, meta: Meta): ModelSpec<DenseNetOptions> {
  const cifar = v.config === 'densenet_bc_100_12';
  const defaults = { inputShape: cifar ? [32, 32, 3] : [224, 224, 3], numClasses: cifar ? 10 : 1000 };
  return {
    family: 'densenet',
    ...meta,
    defaultInputShape: defaults.inputShape,
    numClasses: defaults.numClasses,
    blocks: [
      'dense_block (BN-ReLU-conv1x1-BN-ReLU-conv3x3)',
      'transition (compression 0.5)',
      cifar ? 'stem (3x3 conv)' : 'stem (7x7 conv, max-pool)',
    ],
    activations: ['relu'],
    initializers: ['he_normal', 'glorot_uniform (head)'],
    norms: ['batch_norm'],
    variant: v as unknown as Record<string, unknown>,
    build: (name, options) => buildDenseNet(name, v, options, defaults),
  };
}

function unetSpec(v: UNetVariant, meta: Meta): ModelSpec<UNetModelOptions> {
  const defaults = { inputShape: [256, 256, 1], numClasses: 2 };
  return {
    family: 'unet',
    ...meta,
    defaultInputShape: defaults.inputShape,
    numClasses: defaults.numClasses,
    blocks: ['double_conv', 'encoder_stage (max-pool)', `decoder_stage (${v.upsample})`],
    activations: ['relu'],
    initializers: ['he_normal'],
    norms: v.norm === 'none' ? [] : [v.norm],
    variant: v as unknown as Record<string, unknown>,
    build: (name, options) => buildUNet(name, v, options, defaults),
  };
}

function mlpSpec(v: MlpVariant, meta: Omit<Meta, 'params'>): ModelSpec<MlpOptions> {
  const defaults = { inputShape: [784], numClasses: 10 };
  const name = (x: unknown) => (typeof x === 'string' ? x : JSON.stringify(x));
  return {
    family: 'mlp',
    ...meta,
    params: mlpParams(v, 784, 10),
    defaultInputShape: defaults.inputShape,
    numClasses: defaults.numClasses,
    blocks: ['dense'],
    activations: [name(v.activation), 'softmax (head)'],
    initializers: [name(v.kernelInitializer), 'zeros (biases)'],
    norms: v.norm === 'none' || v.norm === null ? [] : [name(v.norm)],
    variant: v as unknown as Record<string, unknown>,
    build: (n, options) => buildMlp(n, v, options, defaults),
  };
}

const CELL_INITS: Record<SequenceVariant['cell'], string[]> = {
  simple_rnn: ['glorot_uniform (input)', 'orthogonal (recurrent)', 'zeros (bias)'],
  irnn: ['normal(0, 0.001) (input)', 'identity (recurrent)', 'zeros (bias)'],
  gru: ['glorot_uniform (input)', 'orthogonal (recurrent)', 'zeros (bias)'],
  lstm: ['glorot_uniform (input)', 'orthogonal (recurrent)', 'zeros + forget bias 1'],
};

function sequenceSpec(v: SequenceVariant, meta: Omit<Meta, 'params'>): ModelSpec<SequenceModelOptions> {
  const classification = v.task === 'classification';
  // Classifiers: sequential MNIST read pixel by pixel (Le et al. 2015); regressors: the adding problem with T = 100.
  const defaults = { inputShape: classification ? [784, 1] : [100, 2], numClasses: classification ? 10 : 1 };
  return {
    family: 'sequence',
    ...meta,
    params: sequenceParams(v, defaults.inputShape[1]!, defaults.numClasses),
    defaultInputShape: defaults.inputShape,
    numClasses: defaults.numClasses,
    blocks: [`recurrent (${v.cell})`],
    activations: v.cell === 'simple_rnn' ? ['tanh'] : v.cell === 'irnn' ? ['relu'] : ['sigmoid', 'tanh'],
    initializers: CELL_INITS[v.cell],
    norms: [],
    variant: v as unknown as Record<string, unknown>,
    build: (n, options) => buildSequenceModel(n, v, options, defaults),
  };
}

const HE_2015 = 'He, Zhang, Ren, Sun 2015, Deep Residual Learning for Image Recognition';
const HE_2016 = 'He, Zhang, Ren, Sun 2016, Identity Mappings in Deep Residual Networks';
const TORCHVISION = `${HE_2015}; torchvision v1.5 layout`;
const BAG =
  'He, Zhang, Zhang, Zhang, Xie, Li 2019, Bag of Tricks for Image Classification with CNNs (ResNet-D)';
const SE = 'Hu, Shen, Sun 2018, Squeeze-and-Excitation Networks';
const DENSE = 'Huang, Liu, van der Maaten, Weinberger 2017, Densely Connected Convolutional Networks';
const UNET = 'Ronneberger, Fischer, Brox 2015, U-Net';

/**
 * Every model by registry name: the single source of truth for `createModel`, `listModels`,
 * `getModelInfo`, the README table and the zoo-wide test. `params` are checked against
 * `fixtures/param_counts.json` (torchvision / the generator's torch modules) by the tests.
 *
 * @example
 * ```ts
 * const resnets = Object.keys(MODELS).filter((name) => name.startsWith('resnet'));
 * if (MODELS.resnet20.params !== 269_722) throw new Error('ResNet-20 has 0.27M parameters');
 * console.log(resnets); // ['resnet20', 'resnet32', …]
 * ```
 */
export const MODELS = {
  resnet20: resnetSpec(CIFAR_RESNETS.resnet20, {
    description: 'CIFAR ResNet-20, option-A shortcuts',
    paper: HE_2015,
    params: 269_722,
  }),
  resnet32: resnetSpec(CIFAR_RESNETS.resnet32, {
    description: 'CIFAR ResNet-32, option-A shortcuts',
    paper: HE_2015,
    params: 464_154,
  }),
  resnet44: resnetSpec(CIFAR_RESNETS.resnet44, {
    description: 'CIFAR ResNet-44, option-A shortcuts',
    paper: HE_2015,
    params: 658_586,
  }),
  resnet56: resnetSpec(CIFAR_RESNETS.resnet56, {
    description: 'CIFAR ResNet-56, option-A shortcuts',
    paper: HE_2015,
    params: 853_018,
  }),
  resnet110: resnetSpec(CIFAR_RESNETS.resnet110, {
    description: 'CIFAR ResNet-110, option-A shortcuts',
    paper: HE_2015,
    params: 1_727_962,
  }),
  resnet1202: resnetSpec(CIFAR_RESNETS.resnet1202, {
    description: 'CIFAR ResNet-1202, option-A shortcuts',
    paper: HE_2015,
    params: 19_421_274,
  }),
  plain20: resnetSpec(CIFAR_RESNETS.plain20, {
    description: 'ResNet-20 without shortcuts (plain baseline)',
    paper: HE_2015,
    params: 269_722,
  }),
  plain32: resnetSpec(CIFAR_RESNETS.plain32, {
    description: 'ResNet-32 without shortcuts (plain baseline)',
    paper: HE_2015,
    params: 464_154,
  }),
  plain44: resnetSpec(CIFAR_RESNETS.plain44, {
    description: 'ResNet-44 without shortcuts (plain baseline)',
    paper: HE_2015,
    params: 658_586,
  }),
  plain56: resnetSpec(CIFAR_RESNETS.plain56, {
    description: 'ResNet-56 without shortcuts (plain baseline)',
    paper: HE_2015,
    params: 853_018,
  }),
  plain110: resnetSpec(CIFAR_RESNETS.plain110, {
    description: 'ResNet-110 without shortcuts (plain baseline)',
    paper: HE_2015,
    params: 1_727_962,
  }),
  plain1202: resnetSpec(CIFAR_RESNETS.plain1202, {
    description: 'ResNet-1202 without shortcuts (plain baseline)',
    paper: HE_2015,
    params: 19_421_274,
  }),
  resnet18: resnetSpec(IMAGENET_RESNETS.resnet18, {
    description: 'ResNet-18 (basic blocks)',
    paper: TORCHVISION,
    params: 11_689_512,
  }),
  resnet34: resnetSpec(IMAGENET_RESNETS.resnet34, {
    description: 'ResNet-34 (basic blocks)',
    paper: TORCHVISION,
    params: 21_797_672,
  }),
  resnet50: resnetSpec(IMAGENET_RESNETS.resnet50, {
    description: 'ResNet-50 v1.5 (bottlenecks)',
    paper: TORCHVISION,
    params: 25_557_032,
  }),
  resnet101: resnetSpec(IMAGENET_RESNETS.resnet101, {
    description: 'ResNet-101 v1.5 (bottlenecks)',
    paper: TORCHVISION,
    params: 44_549_160,
  }),
  resnet152: resnetSpec(IMAGENET_RESNETS.resnet152, {
    description: 'ResNet-152 v1.5 (bottlenecks)',
    paper: TORCHVISION,
    params: 60_192_808,
  }),
  preact_resnet18: resnetSpec(PREACT_RESNETS.preact_resnet18, {
    description: 'pre-activation ResNet-18',
    paper: HE_2016,
    params: 11_687_720,
  }),
  preact_resnet34: resnetSpec(PREACT_RESNETS.preact_resnet34, {
    description: 'pre-activation ResNet-34',
    paper: HE_2016,
    params: 21_795_880,
  }),
  preact_resnet50: resnetSpec(PREACT_RESNETS.preact_resnet50, {
    description: 'pre-activation ResNet-50',
    paper: HE_2016,
    params: 25_549_352,
  }),
  preact_resnet101: resnetSpec(PREACT_RESNETS.preact_resnet101, {
    description: 'pre-activation ResNet-101',
    paper: HE_2016,
    params: 44_541_480,
  }),
  preact_resnet152: resnetSpec(PREACT_RESNETS.preact_resnet152, {
    description: 'pre-activation ResNet-152',
    paper: HE_2016,
    params: 60_185_128,
  }),
  preact_resnet110: resnetSpec(PREACT_RESNETS.preact_resnet110, {
    description: 'CIFAR pre-activation ResNet-110 (basic, option A)',
    paper: HE_2016,
    params: 1_727_962,
  }),
  preact_resnet164: resnetSpec(PREACT_RESNETS.preact_resnet164, {
    description: 'CIFAR pre-activation ResNet-164 (bottleneck, projection)',
    paper: HE_2016,
    params: 1_703_258,
  }),
  resnet18d: resnetSpec(RESNET_D.resnet18d, {
    description: 'ResNet-18-D (deep stem, avg-pool shortcuts)',
    paper: BAG,
    params: 11_708_744,
  }),
  resnet34d: resnetSpec(RESNET_D.resnet34d, {
    description: 'ResNet-34-D (deep stem, avg-pool shortcuts)',
    paper: BAG,
    params: 21_816_904,
  }),
  resnet50d: resnetSpec(RESNET_D.resnet50d, {
    description: 'ResNet-50-D (deep stem, avg-pool shortcuts)',
    paper: BAG,
    params: 25_576_264,
  }),
  resnet101d: resnetSpec(RESNET_D.resnet101d, {
    description: 'ResNet-101-D (deep stem, avg-pool shortcuts)',
    paper: BAG,
    params: 44_568_392,
  }),
  resnet152d: resnetSpec(RESNET_D.resnet152d, {
    description: 'ResNet-152-D (deep stem, avg-pool shortcuts)',
    paper: BAG,
    params: 60_212_040,
  }),
  seresnet18: resnetSpec(SE_RESNETS.seresnet18, {
    description: 'SE-ResNet-18 (SE ratio 16)',
    paper: SE,
    params: 11_778_592,
  }),
  seresnet34: resnetSpec(SE_RESNETS.seresnet34, {
    description: 'SE-ResNet-34 (SE ratio 16)',
    paper: SE,
    params: 21_958_868,
  }),
  seresnet50: resnetSpec(SE_RESNETS.seresnet50, {
    description: 'SE-ResNet-50 (SE ratio 16)',
    paper: SE,
    params: 28_088_024,
  }),
  seresnet101: resnetSpec(SE_RESNETS.seresnet101, {
    description: 'SE-ResNet-101 (SE ratio 16)',
    paper: SE,
    params: 49_326_872,
  }),
  seresnet152: resnetSpec(SE_RESNETS.seresnet152, {
    description: 'SE-ResNet-152 (SE ratio 16)',
    paper: SE,
    params: 66_821_848,
  }),
  densenet121: denseNetSpec(DENSENETS.densenet121, {
    description: 'DenseNet-121 (k = 32)',
    paper: DENSE,
    params: 7_978_856,
  }),
  densenet161: denseNetSpec(DENSENETS.densenet161, {
    description: 'DenseNet-161 (k = 48)',
    paper: DENSE,
    params: 28_681_000,
  }),
  densenet169: denseNetSpec(DENSENETS.densenet169, {
    description: 'DenseNet-169 (k = 32)',
    paper: DENSE,
    params: 14_149_480,
  }),
  densenet201: denseNetSpec(DENSENETS.densenet201, {
    description: 'DenseNet-201 (k = 32)',
    paper: DENSE,
    params: 20_013_928,
  }),
  densenet_bc_100: denseNetSpec(DENSENETS.densenet_bc_100, {
    description: 'CIFAR DenseNet-BC-100 (k = 12)',
    paper: DENSE,
    params: 769_162,
  }),
  unet: unetSpec(UNETS.unet, {
    description: 'U-Net, depth 4, 64 filters, transposed-conv up-sampling, no norm',
    paper: UNET,
    params: 31_030_658,
  }),
  unet_bn: unetSpec(UNETS.unet_bn, {
    description: 'U-Net with BatchNorm after every 3x3 conv',
    paper: `${UNET}; Ioffe & Szegedy 2015`,
    params: 31_036_546,
  }),
  unet_bilinear: unetSpec(UNETS.unet_bilinear, {
    description: 'U-Net with bilinear up-sampling + 3x3 conv',
    paper: UNET,
    params: 34_512_258,
  }),
  mlp: mlpSpec(MLPS.mlp, {
    description: '3 x 256 ReLU MLP with He init',
    paper: 'Rumelhart, Hinton, Williams 1986; He et al. 2015 (init)',
  }),
  mlp_sigmoid: mlpSpec(MLPS.mlp_sigmoid, {
    description: '20 x 256 sigmoid MLP, Glorot init: gradients vanish',
    paper: 'Glorot & Bengio 2010',
  }),
  mlp_tanh: mlpSpec(MLPS.mlp_tanh, {
    description: '20 x 256 tanh MLP, Glorot init',
    paper: 'Glorot & Bengio 2010',
  }),
  mlp_relu: mlpSpec(MLPS.mlp_relu, {
    description: '20 x 256 ReLU MLP, He init',
    paper: 'He, Zhang, Ren, Sun 2015, Delving Deep into Rectifiers',
  }),
  mlp_selu: mlpSpec(MLPS.mlp_selu, {
    description: '20 x 256 SELU MLP, LeCun normal init (self-normalizing)',
    paper: 'Klambauer et al. 2017',
  }),
  mlp_sigmoid_bn: mlpSpec(MLPS.mlp_sigmoid_bn, {
    description: '20 x 256 sigmoid MLP with BatchNorm',
    paper: 'Ioffe & Szegedy 2015',
  }),
  rnn_classifier: sequenceSpec(SEQUENCE_MODELS.rnn_classifier, {
    description: 'tanh RNN (128) classifier, pixel-by-pixel MNIST',
    paper: 'Elman 1990; Le et al. 2015 (task)',
  }),
  irnn_classifier: sequenceSpec(SEQUENCE_MODELS.irnn_classifier, {
    description: 'IRNN (128) classifier, pixel-by-pixel MNIST',
    paper: 'Le, Jaitly, Hinton 2015',
  }),
  gru_classifier: sequenceSpec(SEQUENCE_MODELS.gru_classifier, {
    description: 'GRU (128) classifier, pixel-by-pixel MNIST',
    paper: 'Cho et al. 2014',
  }),
  lstm_classifier: sequenceSpec(SEQUENCE_MODELS.lstm_classifier, {
    description: 'LSTM (128) classifier, pixel-by-pixel MNIST',
    paper: 'Hochreiter & Schmidhuber 1997',
  }),
  rnn_regressor: sequenceSpec(SEQUENCE_MODELS.rnn_regressor, {
    description: 'tanh RNN (128) regressor, adding problem T = 100',
    paper: 'Elman 1990; Hochreiter & Schmidhuber 1997 (task)',
  }),
  irnn_regressor: sequenceSpec(SEQUENCE_MODELS.irnn_regressor, {
    description: 'IRNN (128) regressor, adding problem T = 100',
    paper: 'Le, Jaitly, Hinton 2015',
  }),
  gru_regressor: sequenceSpec(SEQUENCE_MODELS.gru_regressor, {
    description: 'GRU (128) regressor, adding problem T = 100',
    paper: 'Cho et al. 2014',
  }),
  lstm_regressor: sequenceSpec(SEQUENCE_MODELS.lstm_regressor, {
    description: 'LSTM (128) regressor, adding problem T = 100',
    paper: 'Hochreiter & Schmidhuber 1997',
  }),
} as const satisfies Record<string, ModelSpec<never>>;

/** A built-in model's registry name (`'resnet20'`, `'densenet121'`, `'unet'`, `'mlp'`, …). */
export type ModelName = keyof typeof MODELS;

const models = new Registry<ModelSpec<never>>('model', MODELS, { hint: 'see listModels()' });

/** Options accepted by a model (by name): the common `ModelOptions` plus its family's. */
export type OptionsOf<N extends ModelName> = Parameters<(typeof MODELS)[N]['build']>[1];

/**
 * Builds a model by name. Every block option is passed through (activation, norm, kernel
 * initializer, residual init scheme, plain, ...). Throws `UnknownNameError` ("did you mean")
 * for unknown names and `ShapeError` (saying the constraint) for inputs the model cannot take.
 *
 * @example
 * ```ts
 * const model = createModel('resnet20', { inputShape: [8, 8, 3], numClasses: 4, init: 'zero_gamma' });
 * const x = tf.zeros([2, 8, 8, 3]);
 * const y = model.predict(x) as tf.Tensor;
 * if (y.shape.join() !== '2,4') throw new Error(`got [${y.shape}]`);
 * tf.dispose([x, y]);
 * model.dispose();
 *
 * const mlp = createModel('mlp_sigmoid', { inputShape: [16], depth: 3, width: 8, kernelInitializer: 'he_normal' });
 * if (mlp.layers.filter((l) => l.name.startsWith('dense')).length !== 3) throw new Error('3 hidden layers');
 * mlp.dispose();
 * ```
 */
export function createModel<N extends string>(
  name: N,
  options?: N extends ModelName ? OptionsOf<N> : ModelOptions & Record<string, unknown>,
): tf.LayersModel {
  const spec = models.get(name) as unknown as ModelSpec<ModelOptions>;
  const opts: unknown = options ?? {};
  if (opts === null || typeof opts !== 'object')
    throw new InvalidArgumentError(`options of '${name}'`, opts, 'an object (or nothing)');
  return spec.build(name, opts as ModelOptions);
}

/** Filter of `listModels`: a glob (`'resnet*'`, `'*_classifier'`) or fields to match. */
export type ModelFilter = string | { family?: ModelFamily; pattern?: string };

function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

/**
 * Registered model names, in registry order, optionally filtered.
 *
 * @example
 * ```ts
 * const cifar = listModels('resnet*');
 * const sequence = listModels({ family: 'sequence' });
 * if (!cifar.includes('resnet20') || !sequence.includes('lstm_classifier')) throw new Error('missing models');
 * ```
 */
export function listModels(filter?: ModelFilter): string[] {
  const f = typeof filter === 'string' ? { pattern: filter } : (filter ?? {});
  const re = f.pattern === undefined ? null : globToRegExp(f.pattern);
  return models
    .list()
    .filter(
      (n) => (re === null || re.test(n)) && (f.family === undefined || models.get(n).family === f.family),
    );
}

/**
 * Paper, parameter count, default input shape and parts of a model; throws `UnknownNameError`.
 *
 * @example
 * ```ts
 * const info = getModelInfo('resnet20');
 * if (info.family !== 'resnet' || info.defaultInputShape.join() !== '32,32,3') throw new Error('CIFAR input');
 * console.log(info.paper, info.params); // 'He, Zhang, Ren, Sun 2015, Deep Residual …' 269722
 * ```
 */
export function getModelInfo(name: string): ModelInfo {
  const { build: _build, ...info } = models.get(name);
  return { name, ...info };
}

/**
 * Adds a model (a new variant row with its builder) to the registry.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { MLPS, buildMlp, createModel, getModelInfo, registerModel } from '@gradflow/zoo';
 *
 * const { name: _name, ...base } = getModelInfo('mlp');
 * const variant = { ...MLPS.mlp, activation: 'elu' as const };
 * registerModel(
 *   'mlp_elu',
 *   {
 *     ...base,
 *     description: '3 x 256 ELU MLP with He init',
 *     activations: ['elu'],
 *     variant,
 *     build: (name, options) => buildMlp(name, variant, options, { inputShape: [784], numClasses: 10 }),
 *   },
 *   { override: true },
 * );
 * const model = createModel('mlp_elu', { inputShape: [8], width: 4 });
 * const y = model.predict(tf.ones([1, 8])) as tf.Tensor;
 * if (y.shape.join() !== '1,10') throw new Error(`got [${y.shape}]`);
 * y.dispose();
 * model.dispose();
 * ```
 */
export function registerModel(
  name: string,
  spec: ModelSpec<never>,
  options: { override?: boolean } = {},
): void {
  models.register(name, spec, options);
}

/**
 * The README's model table, derived from the registry (a test keeps the README in sync).
 *
 * @example
 * ```ts
 * const table = modelsMarkdownTable();
 * if (table.split('\n').length !== listModels().length + 2) throw new Error('one row per model');
 * if (!table.includes('| `resnet20` | resnet |')) throw new Error('resnet20 row');
 * ```
 */
export function modelsMarkdownTable(): string {
  const rows = listModels().map((name) => {
    const info = getModelInfo(name);
    const params = info.params.toLocaleString('en-US');
    return `| \`${name}\` | ${info.family} | ${info.description} | ${params} | [${info.defaultInputShape.join(', ')}] → ${info.numClasses} |`;
  });
  return [
    '| name | family | what | trainable params | default input → outputs |',
    '|---|---|---|---:|---|',
    ...rows,
  ].join('\n');
}
