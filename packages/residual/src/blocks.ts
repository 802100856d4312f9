import * as tf from '@tensorflow/tfjs';
import {
  InvalidArgumentError,
  Registry,
  ShapeError,
  checkFinite,
  checkInteger,
  checkOneOf,
} from '@gradflow/core';
import { DropPath } from './layers/drop-path.js';
import { OptionAShortcut } from './layers/option-a.js';
import { ScalarBias, ScalarScale } from './layers/scalar.js';
import {
  activation,
  applyLayer,
  checkActivation,
  checkName,
  checkNorm,
  checkRate,
  conv,
  initializer,
  isNoNorm,
  nhwc,
  norm,
  type ActivationLike,
  type Initializer,
  type InitializerLike,
  type NormLike,
} from './parts.js';
import { ScaledInitializer } from './scaled-initializer.js';
import {
  residualInits,
  shortcuts,
  type ResidualInit,
  type ResidualInitSpec,
  type ShortcutKind,
} from './schemes.js';
import { checkSqueezeExcitation, squeezeExcitation, type SqueezeExcitationOptions } from './se.js';

/** Options every residual block accepts. */
export interface ResidualBlockOptions {
  /** Width of the branch (basic: output channels; bottleneck: inner width, output `filters * expansion`). */
  filters: number;
  /** Spatial stride of the block (default 1). */
  stride?: number;
  /** Shortcut used when the block changes the shape (default `'projection'`); identity otherwise. */
  shortcut?: ShortcutKind;
  /** ResNet-D: a strided projection shortcut becomes avg-pool(stride) then a stride-1 1x1 conv. */
  avgDown?: boolean;
  /** Pre-activation ordering (He et al. 2016, "v2"): norm-act-conv, no activation after the sum. */
  preact?: boolean;
  /** Activation by name or `{ name, ...params }` (default `'relu'`). */
  activation?: ActivationLike;
  /** Norm by name, `{ name, ...options }`, or `'none'` (default: the init scheme's, `batch_norm` for `default`). */
  norm?: NormLike;
  /** Conv kernel initializer (default `'he_normal'`). */
  kernelInitializer?: InitializerLike;
  /** Conv biases (default: only when no norm follows and the scheme is not Fixup). */
  useBias?: boolean;
  /** Squeeze-excitation on the branch output (Hu et al. 2018); `ratio` must divide its channels. */
  se?: SqueezeExcitationOptions | null;
  /** Stochastic-depth rate of the branch in [0, 1) (default 0; identity at inference). */
  dropPath?: number;
  /** The same block without the shortcut: the control arm of every depth experiment. */
  plain?: boolean;
  /**
   * Constant factor on the shortcut (default 1). He et al. 2016 (Table 1, "constant scaling")
   * show that 0.5 hampers training: along the shortcut path the gradient shrinks by 0.5 per block.
   */
  shortcutScale?: number;
  /** Residual init scheme (default `'default'`); see `RESIDUAL_INITS`. */
  init?: ResidualInit;
  /** Number of residual branches in the whole network, `L` in Fixup's `L^(-1/(2m-2))`. */
  totalBlocks?: number;
  /** Prefix of every layer name (`stage2_block3` gives `stage2_block3_conv1`, ...). */
  name?: string;
  /** Seed of the drop-path mask stream (default: derived from the layer name). */
  seed?: number;
}

/** Options of {@link bottleneckBlock}: a block's options plus the expansion and the stride position. */
export interface BottleneckBlockOptions extends ResidualBlockOptions {
  /** Output channels are `filters * expansion` (default 4). */
  expansion?: number;
  /**
   * Which conv carries the stride: `'3x3'` (ResNet v1.5, torchvision, default) or `'1x1'`
   * (ResNet v1 as in He et al. 2015 and Keras applications).
   */
  strideIn?: '1x1' | '3x3';
}

interface ConvPlan {
  kernelSize: number;
  filters: number;
  stride: number;
}

/** A branch layout: the convs of the residual branch, from the block options. */
export interface BranchSpec {
  /** One line for docs. */
  readonly description: string;
  /** The branch's convs (kernel size, filters, stride), in order. */
  readonly convs: (
    o: Required<Pick<BottleneckBlockOptions, 'filters' | 'stride' | 'expansion' | 'strideIn'>>,
  ) => ConvPlan[];
  /** Output channels of the branch divided by `filters`. */
  readonly expansion: (o: BottleneckBlockOptions) => number;
}

/**
 * The residual branch layouts (basic and bottleneck), as data: {@link planBlock} reads the convs
 * of a block from here.
 *
 * @example
 * ```ts
 * const convs = BRANCHES.bottleneck.convs({ filters: 64, stride: 2, expansion: 4, strideIn: '3x3' });
 * // v1.5: 1x1 (64), 3x3 stride 2 (64), 1x1 (256)
 * if (convs.map((c) => `${c.kernelSize}/${c.stride}/${c.filters}`).join() !== '1/1/64,3/2/64,1/1/256')
 *   throw new Error(JSON.stringify(convs));
 * ```
 */
export const BRANCHES = {
  basic: {
    description: '3x3 conv, 3x3 conv (He et al. 2015, fig. 5 left)',
    convs: ({ filters, stride }) => [
      { kernelSize: 3, filters, stride },
      { kernelSize: 3, filters, stride: 1 },
    ],
    expansion: () => 1,
  },
  bottleneck: {
    description: '1x1 conv, 3x3 conv, 1x1 conv to filters * expansion (He et al. 2015, fig. 5 right)',
    convs: ({ filters, stride, expansion, strideIn }) => [
      { kernelSize: 1, filters, stride: strideIn === '1x1' ? stride : 1 },
      { kernelSize: 3, filters, stride: strideIn === '3x3' ? stride : 1 },
      { kernelSize: 1, filters: filters * expansion, stride: 1 },
    ],
    expansion: (o) => o.expansion ?? 4,
  },
} as const satisfies Record<string, BranchSpec>;

/** A branch layout name: `'basic' | 'bottleneck'`. */
export type BranchName = keyof typeof BRANCHES;
const branches = new Registry<BranchSpec>('residual branch', BRANCHES);

/** Static description of an input: what validation needs, so whole stages validate up front. */
export interface FeatureShape {
  /** Height, or null when unknown. */
  height: number | null;
  /** Width, or null when unknown. */
  width: number | null;
  /** Channels (always known). */
  channels: number;
}

/** Everything a block needs, validated; building from a plan cannot fail on user input. */
export interface BlockPlan {
  name: string;
  branch: BranchName;
  convs: ConvPlan[];
  inChannels: number;
  outChannels: number;
  stride: number;
  preact: boolean;
  plain: boolean;
  init: ResidualInit;
  scheme: ResidualInitSpec;
  norm: NormLike;
  activation: ActivationLike;
  kernelInitializer: Initializer;
  useBias: boolean;
  se: Required<SqueezeExcitationOptions> | null;
  dropPath: number;
  shortcut: ShortcutKind;
  shortcutScale: number;
  avgDown: boolean;
  totalBlocks: number | null;
  seed: number | undefined;
  output: FeatureShape;
}

function checkBoolean(argument: string, value: unknown): boolean {
  if (value !== undefined && typeof value !== 'boolean')
    throw new InvalidArgumentError(argument, value, 'true or false');
  return value ?? false;
}

/**
 * Validates block options against an input shape and resolves every part by name. Throws a
 * typed `GradflowError` for anything that cannot be built; creates no layer and no tensor.
 *
 * @example
 * ```ts
 * const plan = planBlock({ height: 16, width: 16, channels: 16 }, 'basic', { filters: 32, stride: 2, name: 'b1' });
 * if (plan.output.height !== 8 || plan.output.channels !== 32) throw new Error(JSON.stringify(plan.output));
 * // Nothing was built yet; a bad option throws here, before any layer exists.
 * let threw = false;
 * try {
 *   planBlock({ height: 16, width: 16, channels: 16 }, 'basic', { filters: 32, se: { ratio: 5 } });
 * } catch {
 *   threw = true; // InvalidArgumentError: 5 does not divide 32
 * }
 * if (!threw) throw new Error('expected an error');
 * ```
 */
export function planBlock(
  input: FeatureShape,
  branch: BranchName,
  options: BottleneckBlockOptions,
): BlockPlan {
  if (options === null || typeof options !== 'object')
    throw new InvalidArgumentError('block options', options, 'an object with at least { filters }');
  const spec = branches.get(branch);
  const name = checkName(options.name, `${branch}_block`);
  const filters = checkInteger('filters', options.filters);
  const stride = checkInteger('stride', options.stride ?? 1);
  const expansion = checkInteger('expansion', spec.expansion(options));
  const strideIn = checkOneOf('strideIn', options.strideIn ?? '3x3', ['1x1', '3x3'] as const);
  const preact = checkBoolean('preact', options.preact);
  const plain = checkBoolean('plain', options.plain);
  const avgDown = checkBoolean('avgDown', options.avgDown);
  const init = (options.init ?? 'default') as ResidualInit;
  const scheme = residualInits.get(init);
  const shortcutChoice = options.shortcut ?? 'projection';
  shortcuts.get(shortcutChoice);
  const act = options.activation ?? 'relu';
  checkActivation(act);

  if (options.norm !== undefined && scheme.norm === 'forbidden' && !isNoNorm(options.norm)) {
    throw new InvalidArgumentError(
      'norm',
      options.norm,
      "'none' with init 'fixup'",
      'Fixup replaces normalization; drop the norm option',
    );
  }
  const normSpec = options.norm ?? scheme.defaultNorm;
  if (scheme.norm === 'required' && isNoNorm(normSpec)) {
    throw new InvalidArgumentError(
      'norm',
      normSpec,
      `a norm: init '${init}' initializes the gamma of the branch's last norm`,
    );
  }
  const normChannels = checkNorm(normSpec, scheme.zeroLastGamma ? 'zeros' : undefined);
  const kernelInitializer = initializer(options.kernelInitializer ?? 'he_normal');
  if (options.useBias !== undefined) checkBoolean('useBias', options.useBias);
  const useBias = options.useBias ?? (isNoNorm(normSpec) && !scheme.fixup);

  if (preact && !scheme.preact) {
    throw new InvalidArgumentError(
      'init',
      init,
      `one of ${residualInits
        .list()
        .filter((n) => residualInits.get(n).preact)
        .map((n) => `'${n}'`)
        .join(', ')} for pre-activation blocks`,
      `'${init}' needs a norm or conv after the branch's last conv`,
    );
  }
  if (plain && init !== 'default') {
    throw new InvalidArgumentError(
      'init',
      init,
      "'default' for plain blocks",
      'the residual init schemes act on the branch/shortcut sum a plain block does not have',
    );
  }
  const dropPath = checkRate('dropPath', options.dropPath ?? 0);
  if (plain && dropPath > 0) {
    throw new InvalidArgumentError(
      'dropPath',
      dropPath,
      '0 for plain blocks',
      'dropping a block without a shortcut drops the whole signal',
    );
  }
  const shortcutScale = checkFinite('shortcutScale', options.shortcutScale ?? 1, {
    min: 0,
    minExclusive: true,
  });
  if (plain && shortcutScale !== 1) {
    throw new InvalidArgumentError(
      'shortcutScale',
      shortcutScale,
      '1 for plain blocks',
      'a plain block has no shortcut to scale',
    );
  }
  let totalBlocks: number | null = null;
  if (scheme.fixup) {
    if (options.totalBlocks === undefined) {
      throw new InvalidArgumentError(
        'totalBlocks',
        undefined,
        "the number of residual branches L of the whole network (init 'fixup' scales by L^(-1/(2m-2)))",
      );
    }
    totalBlocks = checkInteger('totalBlocks', options.totalBlocks);
  } else if (options.totalBlocks !== undefined) {
    checkInteger('totalBlocks', options.totalBlocks);
  }

  const convs = spec.convs({ filters, stride, expansion, strideIn });
  const outChannels = convs[convs.length - 1]!.filters;
  const se = options.se == null ? null : checkSqueezeExcitation(options.se, outChannels, act);

  const changes = stride !== 1 || input.channels !== outChannels;
  const shortcut: ShortcutKind = plain || !changes ? 'identity' : shortcutChoice;
  if (!plain && changes && shortcut === 'identity') {
    throw new ShapeError(
      `block '${name}' input`,
      [input.height, input.width, input.channels],
      `[H, W, ${outChannels}] and stride 1 for an identity shortcut`,
      `use shortcut 'projection' or 'option_a' (stride ${stride}, ${input.channels} -> ${outChannels} channels)`,
    );
  }
  if (shortcut === 'option_a') {
    if (outChannels < input.channels) {
      throw new ShapeError(
        `block '${name}' input`,
        [input.height, input.width, input.channels],
        `at most ${outChannels} channels for an option-A shortcut`,
        "zero padding cannot remove channels; use shortcut 'projection'",
      );
    }
    for (const [axis, size] of [
      ['height', input.height],
      ['width', input.width],
    ] as const) {
      if (size !== null && size % stride !== 0) {
        throw new ShapeError(
          `block '${name}' input`,
          [input.height, input.width, input.channels],
          `${axis} divisible by the stride ${stride} for an option-A shortcut`,
          `${axis} ${size} cannot be subsampled exactly; use shortcut 'projection' or pad the input`,
        );
      }
    }
  }

  // Every norm of the block, with the channels it will normalize.
  if (preact) {
    normChannels(input.channels, `${name}_norm1`);
    convs.slice(0, -1).forEach((c, i) => normChannels(c.filters, `${name}_norm${i + 2}`));
  } else {
    convs.forEach((c, i) => normChannels(c.filters, `${name}_norm${i + 1}`));
    if (shortcut === 'projection') normChannels(outChannels, `${name}_shortcut_norm`);
  }

  const down = (d: number | null) => (d === null ? null : Math.floor((d - 1) / stride) + 1);
  return {
    name,
    branch,
    convs,
    inChannels: input.channels,
    outChannels,
    stride,
    preact,
    plain,
    init,
    scheme,
    norm: normSpec,
    activation: act,
    kernelInitializer,
    useBias,
    se,
    dropPath,
    shortcut,
    shortcutScale,
    avgDown,
    totalBlocks,
    seed: options.seed,
    output: { height: down(input.height), width: down(input.width), channels: outChannels },
  };
}

function maybeNorm(
  x: tf.SymbolicTensor,
  plan: BlockPlan,
  name: string,
  gamma?: InitializerLike,
): tf.SymbolicTensor {
  const layer = norm(plan.norm, name, gamma);
  return layer ? applyLayer(layer, x) : x;
}

/**
 * Builds the layers of a validated plan on `x`.
 *
 * @example
 * ```ts
 * const x = tf.input({ shape: [16, 16, 16] });
 * const plan = planBlock({ height: 16, width: 16, channels: 16 }, 'basic', { filters: 32, stride: 2, name: 'b1' });
 * const y = buildBlock(x, plan);
 * if (y.shape.join() !== ',8,8,32') throw new Error(String(y.shape));
 * ```
 */
export function buildBlock(x: tf.SymbolicTensor, plan: BlockPlan): tf.SymbolicTensor {
  const p = plan.name;
  const { scheme, convs } = plan;
  const act = (suffix: string, h: tf.SymbolicTensor) =>
    applyLayer(activation(plan.activation, `${p}_${suffix}`), h);
  const last = convs.length - 1;
  const fixupScale = plan.totalBlocks === null ? 1 : plan.totalBlocks ** (-1 / (2 * convs.length - 2));
  const convInit = (i: number): Initializer => {
    if (!scheme.fixup) return plan.kernelInitializer;
    if (i === last) return tf.initializers.zeros();
    return new ScaledInitializer({ initializer: plan.kernelInitializer, scale: fixupScale });
  };

  // Pre-activation: the shared norm-act before the branch (and before a projection shortcut).
  let pre = x;
  if (plan.preact) pre = act('act1', maybeNorm(x, plan, `${p}_norm1`));
  const biased = scheme.fixup ? applyLayer(new ScalarBias({ name: `${p}_bias1a` }), x) : null;

  let h = plan.preact ? pre : (biased ?? x);
  convs.forEach((c, i) => {
    const k = i + 1;
    if (plan.preact && i > 0) h = act(`act${k}`, maybeNorm(h, plan, `${p}_norm${k}`));
    if (scheme.fixup && i > 0) h = applyLayer(new ScalarBias({ name: `${p}_bias${k}a` }), h);
    h = conv(h, `${p}_conv${k}`, {
      filters: c.filters,
      kernelSize: c.kernelSize,
      stride: c.stride,
      useBias: plan.useBias,
      kernelInitializer: convInit(i),
    });
    if (!plan.preact) {
      h = maybeNorm(h, plan, `${p}_norm${k}`, scheme.zeroLastGamma && i === last ? 'zeros' : undefined);
      if (i < last) {
        if (scheme.fixup) h = applyLayer(new ScalarBias({ name: `${p}_bias${k}b` }), h);
        h = act(`act${k}`, h);
      }
    }
  });

  if (plan.se)
    h = squeezeExcitation(h, { ...plan.se, name: `${p}_se`, kernelInitializer: plan.kernelInitializer });
  if (scheme.fixup) {
    h = applyLayer(new ScalarScale({ name: `${p}_scale`, initialValue: 1 }), h);
    h = applyLayer(new ScalarBias({ name: `${p}_bias${convs.length}b` }), h);
  }
  if (scheme.branchScale !== null)
    h = applyLayer(new ScalarScale({ name: `${p}_alpha`, initialValue: scheme.branchScale }), h);
  if (plan.dropPath > 0) {
    h = applyLayer(
      new DropPath({
        name: `${p}_drop_path`,
        rate: plan.dropPath,
        ...(plan.seed === undefined ? {} : { seed: plan.seed }),
      }),
      h,
    );
  }

  if (plan.plain) return plan.preact ? h : act('out', h);

  let shortcut: tf.SymbolicTensor = x;
  if (plan.shortcut === 'projection') {
    let s = plan.preact ? pre : (biased ?? x);
    let stride = plan.stride;
    if (plan.avgDown && stride > 1) {
      s = applyLayer(
        tf.layers.averagePooling2d({
          poolSize: stride,
          strides: stride,
          padding: 'same',
          name: `${p}_shortcut_pool`,
        }),
        s,
      );
      stride = 1;
    }
    s = conv(s, `${p}_shortcut_conv`, {
      filters: plan.outChannels,
      kernelSize: 1,
      stride,
      useBias: plan.useBias,
      kernelInitializer: plan.kernelInitializer,
    });
    shortcut = plan.preact ? s : maybeNorm(s, plan, `${p}_shortcut_norm`);
  } else if (plan.shortcut === 'option_a') {
    const extra = plan.outChannels - plan.inChannels;
    shortcut = applyLayer(
      new OptionAShortcut({
        name: `${p}_shortcut`,
        stride: plan.stride,
        padBefore: Math.floor(extra / 2),
        padAfter: extra - Math.floor(extra / 2),
      }),
      biased ?? x,
    );
  }

  if (plan.shortcutScale !== 1) {
    shortcut = applyLayer(
      tf.layers.rescaling({ scale: plan.shortcutScale, name: `${p}_shortcut_scale` }),
      shortcut,
    );
  }
  const sum = applyLayer(tf.layers.add({ name: `${p}_add` }), [shortcut, h]);
  return !plan.preact && scheme.postActivation ? act('out', sum) : sum;
}

function residualBlock(
  x: tf.SymbolicTensor,
  branch: BranchName,
  options: BottleneckBlockOptions,
): tf.SymbolicTensor {
  const shape = nhwc(x, `${branch} block`);
  return buildBlock(x, planBlock(shape, branch, options));
}

/**
 * The basic residual block: two 3x3 convs (ResNet-18/34, the CIFAR ResNets), post-activation
 * (v1) or with `preact: true` pre-activation (v2). Every part is chosen by name.
 *
 * @example
 * ```ts
 * const x = tf.input({ shape: [32, 32, 16] });
 * const y = basicBlock(x, { filters: 32, stride: 2, shortcut: 'option_a', name: 'stage2_block1' });
 * // layers stage2_block1_conv1, _norm1, _act1, _conv2, _norm2, _shortcut, _add, _out
 * ```
 */
export function basicBlock(x: tf.SymbolicTensor, options: ResidualBlockOptions): tf.SymbolicTensor {
  return residualBlock(x, 'basic', options);
}

/**
 * The bottleneck block: 1x1 reduce, 3x3, 1x1 expand to `filters * expansion` (ResNet-50 and up).
 * `strideIn: '3x3'` is ResNet v1.5 (torchvision), `'1x1'` the original v1.
 *
 * @example
 * ```ts
 * const x = tf.input({ shape: [16, 16, 64] });
 * const y = bottleneckBlock(x, { filters: 64, stride: 2, avgDown: true, se: { ratio: 16 }, name: 'stage2_block1' });
 * if (y.shape.join() !== ',8,8,256') throw new Error(String(y.shape)); // filters * expansion 4
 * ```
 */
export function bottleneckBlock(x: tf.SymbolicTensor, options: BottleneckBlockOptions): tf.SymbolicTensor {
  return residualBlock(x, 'bottleneck', options);
}
