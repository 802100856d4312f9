import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, Registry, ShapeError, checkInteger } from '@gradflow/core';
import { activationLayer } from '@gradflow/activations';
import { normLayer } from '@gradflow/normalization';
import { BilinearUpsample2D } from './layers/bilinear-upsample.js';
import { NearestUpsample2D } from './layers/nearest-upsample.js';
import {
  applyLayer,
  checkActivation,
  checkName,
  checkNorm,
  type ChannelCheck,
  checkRate,
  initializer,
  isNoNorm,
  nhwc,
  type ActivationLike,
  type Initializer,
  type InitializerLike,
  type NormLike,
} from './parts.js';

/**
 * Upsampling of a decoder stage (registry: the source of the option's names and docs).
 *
 * @example
 * ```ts
 * if (Object.keys(UPSAMPLINGS).join() !== 'transposed,bilinear,nearest') throw new Error('upsamplings');
 * if (!UPSAMPLINGS.bilinear.description.includes('align_corners=False')) throw new Error('bilinear');
 * ```
 */
export const UPSAMPLINGS = {
  transposed: {
    description: '2x2 transposed conv, stride 2 (the paper\'s "up-convolution")',
    parameters: true,
  },
  bilinear: {
    description: 'bilinear x2 with half-pixel centers (PyTorch align_corners=False), then a 3x3 conv',
    parameters: true,
  },
  nearest: { description: 'nearest-neighbour x2, then a 3x3 conv', parameters: true },
} as const;
/** The `upsample` option of {@link decoderStage} and {@link unet}: a key of {@link UPSAMPLINGS}. */
export type Upsampling = keyof typeof UPSAMPLINGS;
/**
 * {@link UPSAMPLINGS} as a `Registry` from `@gradflow/core`: `get` throws `UnknownNameError`
 * with a did-you-mean suggestion.
 *
 * @example
 * ```ts
 * if (!upsamplings.get('nearest').parameters) throw new Error('the 3x3 conv after it has weights');
 * if (upsamplings.list().join() !== 'transposed,bilinear,nearest') throw new Error(upsamplings.list().join());
 * let message = '';
 * try {
 *   upsamplings.get('bilinar');
 * } catch (e) {
 *   message = (e as Error).message; // suggests 'bilinear'
 * }
 * if (!message.includes('bilinear')) throw new Error(message);
 * ```
 */
export const upsamplings = new Registry<{ description: string; parameters: boolean }>(
  'upsampling',
  UPSAMPLINGS,
);

/**
 * Downsampling of an encoder stage.
 *
 * @example
 * ```ts
 * if (DOWNSAMPLINGS.max_pool.parameters || !DOWNSAMPLINGS.strided_conv.parameters) throw new Error('parameters');
 * ```
 */
export const DOWNSAMPLINGS = {
  max_pool: { description: '2x2 max-pool, stride 2 (the paper)', parameters: false },
  strided_conv: {
    description: '3x3 conv, stride 2, padding 1 (all-convolutional, nnU-Net style)',
    parameters: true,
  },
} as const;
/** The `down` option of {@link encoderStage} and {@link unet}: a key of {@link DOWNSAMPLINGS}. */
export type Downsampling = keyof typeof DOWNSAMPLINGS;
/**
 * {@link DOWNSAMPLINGS} as a `Registry` from `@gradflow/core`.
 *
 * @example
 * ```ts
 * if (downsamplings.list().join() !== 'max_pool,strided_conv') throw new Error(downsamplings.list().join());
 * if (downsamplings.has('avg_pool')) throw new Error('not a downsampling');
 * ```
 */
export const downsamplings = new Registry<{ description: string; parameters: boolean }>(
  'downsampling',
  DOWNSAMPLINGS,
);

/**
 * How a decoder stage reconciles the upsampled map with a skip of another size.
 *
 * @example
 * ```ts
 * if (Object.keys(MATCHES).join() !== 'crop,pad') throw new Error(Object.keys(MATCHES).join());
 * ```
 */
export const MATCHES = {
  crop: { description: 'center-crop the larger map (the paper, valid convolutions)' },
  pad: { description: 'zero-pad the smaller map (common with odd sizes)' },
} as const;
/** The `match` option of {@link decoderStage} and {@link unet}: `'crop' | 'pad'`. */
export type Match = keyof typeof MATCHES;
/**
 * {@link MATCHES} as a `Registry` from `@gradflow/core`.
 *
 * @example
 * ```ts
 * if (!matches.get('pad').description.includes('zero-pad')) throw new Error('pad');
 * if (matches.has('resize')) throw new Error('not a match');
 * ```
 */
export const matches = new Registry<{ description: string }>('skip matching', MATCHES);

/** Parts shared by every U-Net builder. */
export interface UNetPartsOptions {
  /** Activation by name (default `'relu'`). */
  activation?: ActivationLike;
  /** Norm after each 3x3 conv, by name or `'none'` (default `'none'`, as the paper; `'batch_norm'` is common). */
  norm?: NormLike;
  /** Conv kernel initializer (default `'he_normal'`, as the paper). */
  kernelInitializer?: InitializerLike;
  /** Biases of the 3x3 convs (default: only without a norm). */
  useBias?: boolean;
}

interface Parts {
  activation: ActivationLike;
  norm: NormLike;
  kernelInitializer: Initializer;
  useBias: boolean;
  normChannels: ChannelCheck;
}

function resolveParts(options: UNetPartsOptions): Parts {
  const activation = options.activation ?? 'relu';
  checkActivation(activation);
  const norm = options.norm ?? 'none';
  const normChannels = checkNorm(norm);
  const kernelInitializer = initializer(options.kernelInitializer ?? 'he_normal');
  const useBias = options.useBias ?? isNoNorm(norm);
  if (typeof useBias !== 'boolean') throw new InvalidArgumentError('useBias', useBias, 'true or false');
  return { activation, norm, kernelInitializer, useBias, normChannels };
}

function conv(
  x: tf.SymbolicTensor,
  name: string,
  filters: number,
  kernelSize: number,
  useBias: boolean,
  init: Initializer,
): tf.SymbolicTensor {
  return applyLayer(
    tf.layers.conv2d({ filters, kernelSize, padding: 'same', useBias, kernelInitializer: init, name }),
    x,
  );
}

function maybeNorm(x: tf.SymbolicTensor, spec: NormLike, name: string): tf.SymbolicTensor {
  const layer = isNoNorm(spec) ? null : normLayer(spec, { name });
  return layer ? applyLayer(layer, x) : x;
}

function buildDoubleConv(x: tf.SymbolicTensor, filters: number, p: Parts, name: string): tf.SymbolicTensor {
  let h = x;
  for (const k of [1, 2]) {
    h = conv(h, `${name}_conv${k}`, filters, 3, p.useBias, p.kernelInitializer);
    h = maybeNorm(h, p.norm, `${name}_norm${k}`);
    h = applyLayer(activationLayer(p.activation, { name: `${name}_act${k}` }), h);
  }
  return h;
}

/** Options of {@link doubleConv}. */
export interface DoubleConvOptions extends UNetPartsOptions {
  /** Output channels of both convs. */
  filters: number;
  /** Layer name prefix (default `'double_conv'`). */
  name?: string;
}

/**
 * `(conv 3x3 - [norm] - act) x 2`, 'same' padding: the unit of every U-Net level.
 * Layers: `<name>_conv1`, `_norm1`, `_act1`, `_conv2`, `_norm2`, `_act2`.
 *
 * @example
 * ```ts
 * const x = tf.input({ shape: [16, 16, 3] });
 * const y = doubleConv(x, { filters: 8, norm: 'batch_norm', name: 'level1' }); // [16, 16, 8]
 * if (y.shape.join() !== ',16,16,8') throw new Error(String(y.shape));
 * ```
 */
export function doubleConv(x: tf.SymbolicTensor, options: DoubleConvOptions): tf.SymbolicTensor {
  nhwc(x, 'double conv');
  const filters = checkInteger('filters', options?.filters);
  const name = checkName(options.name, 'double_conv');
  const parts = resolveParts(options);
  parts.normChannels(filters, `${name}_norm1`);
  return buildDoubleConv(x, filters, parts, name);
}

/** Options of {@link encoderStage}. */
export interface EncoderStageOptions extends UNetPartsOptions {
  /** Output channels of the double conv. */
  filters: number;
  /** Downsampling after the double conv (default `'max_pool'`). */
  down?: Downsampling;
  name?: string;
}

/**
 * One level of the contracting path: double conv (the skip), then 2x downsampling.
 *
 * @example
 * ```ts
 * const x = tf.input({ shape: [16, 16, 3] });
 * const { skip, output } = encoderStage(x, { filters: 8, name: 'enc1' }); // skip [16, 16, 8], output [8, 8, 8]
 * if (skip.shape.join() !== ',16,16,8' || output.shape.join() !== ',8,8,8') throw new Error(String(output.shape));
 * ```
 */
export function encoderStage(
  x: tf.SymbolicTensor,
  options: EncoderStageOptions,
): { skip: tf.SymbolicTensor; output: tf.SymbolicTensor } {
  const shape = nhwc(x, 'encoder stage');
  const filters = checkInteger('filters', options?.filters);
  const name = checkName(options.name, 'encoder');
  const down = options.down ?? 'max_pool';
  downsamplings.get(down);
  for (const [axis, size] of [
    ['height', shape.height],
    ['width', shape.width],
  ] as const) {
    if (size !== null && size < 2)
      throw new ShapeError('encoder stage input', x.shape, `${axis} >= 2 (the stage halves it)`);
  }
  const parts = resolveParts(options);
  parts.normChannels(filters, `${name}_norm1`);
  const skip = buildDoubleConv(x, filters, parts, name);
  let output: tf.SymbolicTensor;
  if (down === 'max_pool') {
    output = applyLayer(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `${name}_pool` }), skip);
  } else {
    const padded = applyLayer(tf.layers.zeroPadding2d({ padding: 1, name: `${name}_down_pad` }), skip);
    output = applyLayer(
      tf.layers.conv2d({
        filters,
        kernelSize: 3,
        strides: 2,
        padding: 'valid',
        kernelInitializer: parts.kernelInitializer,
        name: `${name}_down`,
      }),
      padded,
    );
  }
  return { skip, output };
}

/** Options of {@link attentionGate} (its inner activation is always ReLU, as the paper). */
export interface AttentionGateOptions extends Omit<UNetPartsOptions, 'activation'> {
  /** Channels of the intermediate map F_int (default: half the skip's channels, at least 1). */
  interChannels?: number;
  /** Layer name prefix (default `'attention'`). */
  name?: string;
}

/**
 * Additive attention gate (Oktay et al. 2018, Attention U-Net): `α = σ(ψ(relu(W_x x + W_g g)))`,
 * output `x · α` with one coefficient per pixel. `gate` is the decoder's upsampled map at the
 * skip's resolution (the common simplification of the paper's strided `W_x`; the gate's output
 * is the same shape and needs no resampling). Layers: `<name>_theta`, `_phi`, (norms
 * `_theta_norm`, `_phi_norm`, `_psi_norm`), `_add`, `_act`, `_psi`, `_gate`, `_mul`.
 *
 * @example
 * ```ts
 * const skip = tf.input({ shape: [8, 8, 16] });
 * const gate = tf.input({ shape: [8, 8, 32] });
 * const gated = attentionGate(skip, gate, { interChannels: 8, name: 'att1' }); // same shape as skip
 * if (gated.shape.join() !== ',8,8,16') throw new Error(String(gated.shape));
 * ```
 */
export function attentionGate(
  skip: tf.SymbolicTensor,
  gate: tf.SymbolicTensor,
  options: AttentionGateOptions = {},
): tf.SymbolicTensor {
  const s = nhwc(skip, 'attention gate skip');
  const g = nhwc(gate, 'attention gate gating signal');
  if (s.height !== g.height || s.width !== g.width) {
    throw new ShapeError(
      'attention gate gating signal',
      gate.shape,
      `the skip's spatial size [${s.height}, ${s.width}]`,
    );
  }
  const inter = checkInteger(
    'interChannels',
    options.interChannels ?? Math.max(1, Math.floor(s.channels / 2)),
  );
  const name = checkName(options.name, 'attention');
  const parts = resolveParts({ ...options, activation: 'relu' });
  checkAttentionNorms(parts, inter, name);
  return buildAttention(skip, gate, inter, parts, name);
}

function checkAttentionNorms(parts: Parts, inter: number, name: string): void {
  parts.normChannels(inter, `${name}_theta_norm`);
  parts.normChannels(1, `${name}_psi_norm`);
}

function buildAttention(
  skip: tf.SymbolicTensor,
  gate: tf.SymbolicTensor,
  inter: number,
  p: Parts,
  name: string,
): tf.SymbolicTensor {
  const proj = (x: tf.SymbolicTensor, filters: number, suffix: string) =>
    maybeNorm(
      applyLayer(
        tf.layers.conv2d({
          filters,
          kernelSize: 1,
          useBias: true,
          kernelInitializer: p.kernelInitializer,
          name: `${name}_${suffix}`,
        }),
        x,
      ),
      p.norm,
      `${name}_${suffix}_norm`,
    );
  const theta = proj(skip, inter, 'theta');
  const phi = proj(gate, inter, 'phi');
  let a = applyLayer(tf.layers.add({ name: `${name}_add` }), [theta, phi]);
  a = applyLayer(activationLayer('relu', { name: `${name}_act` }), a);
  a = proj(a, 1, 'psi');
  a = applyLayer(activationLayer('sigmoid', { name: `${name}_gate` }), a);
  return applyLayer(tf.layers.multiply({ name: `${name}_mul` }), [skip, a]);
}

/** Options of {@link decoderStage}. */
export interface DecoderStageOptions extends UNetPartsOptions {
  /** Output channels of the upsampling and of the double conv. */
  filters: number;
  /** Upsampling (default `'transposed'`). */
  upsample?: Upsampling;
  /** Reconcile sizes when the upsampled map and the skip differ (default `'crop'`). */
  match?: Match;
  /** Gate the skip with an attention gate (Oktay et al. 2018); `{ interChannels }` to size it. */
  attention?: boolean | { interChannels?: number };
  /** Layer name prefix (default `'decoder'`). */
  name?: string;
}

interface Crop {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

function split(d: number): [number, number] {
  return [Math.floor(d / 2), d - Math.floor(d / 2)];
}

/**
 * One level of the expanding path: upsample `x` 2x to `filters` channels, crop or pad to the
 * skip's size, optionally gate the skip, concatenate `[skip, up]`, double conv.
 *
 * @example
 * ```ts
 * const bottom = tf.input({ shape: [4, 4, 32] });
 * const skip = tf.input({ shape: [8, 8, 16] });
 * const y = decoderStage(bottom, skip, { filters: 16, upsample: 'bilinear', attention: true, name: 'dec1' });
 * if (y.shape.join() !== ',8,8,16') throw new Error(String(y.shape));
 * ```
 */
export function decoderStage(
  x: tf.SymbolicTensor,
  skip: tf.SymbolicTensor,
  options: DecoderStageOptions,
): tf.SymbolicTensor {
  const xs = nhwc(x, 'decoder stage');
  const ss = nhwc(skip, 'decoder stage skip');
  const filters = checkInteger('filters', options?.filters);
  const name = checkName(options.name, 'decoder');
  const upsample = options.upsample ?? 'transposed';
  upsamplings.get(upsample);
  const match = options.match ?? 'crop';
  matches.get(match);
  const attention = options.attention ?? false;
  let inter: number | null = null;
  if (attention !== false) {
    if (attention !== true && (attention === null || typeof attention !== 'object')) {
      throw new InvalidArgumentError('attention', attention, 'true, false or { interChannels }');
    }
    inter = checkInteger(
      'attention.interChannels',
      (attention === true ? undefined : attention.interChannels) ?? Math.max(1, Math.floor(ss.channels / 2)),
    );
  }
  const parts = resolveParts(options);
  parts.normChannels(filters, `${name}_norm1`);
  if (inter !== null) checkAttentionNorms(parts, inter, `${name}_att`);

  // Size reconciliation, decided before any layer exists.
  const upH = xs.height === null ? null : 2 * xs.height;
  const upW = xs.width === null ? null : 2 * xs.width;
  const skipCrop: Crop = { top: 0, bottom: 0, left: 0, right: 0 };
  const upCrop: Crop = { top: 0, bottom: 0, left: 0, right: 0 };
  const upPad: Crop = { top: 0, bottom: 0, left: 0, right: 0 };
  const skipPad: Crop = { top: 0, bottom: 0, left: 0, right: 0 };
  for (const [a, b, lo, hi] of [
    [upH, ss.height, 'top', 'bottom'],
    [upW, ss.width, 'left', 'right'],
  ] as const) {
    if (a === null || b === null || a === b) continue;
    const [l, h] = split(Math.abs(a - b));
    const target = match === 'crop' ? (b > a ? skipCrop : upCrop) : b > a ? upPad : skipPad;
    target[lo] = l;
    target[hi] = h;
  }

  let up: tf.SymbolicTensor;
  if (upsample === 'transposed') {
    up = applyLayer(
      tf.layers.conv2dTranspose({
        filters,
        kernelSize: 2,
        strides: 2,
        padding: 'valid',
        kernelInitializer: parts.kernelInitializer,
        name: `${name}_up`,
      }),
      x,
    );
  } else {
    const layer =
      upsample === 'bilinear'
        ? new BilinearUpsample2D({ factor: 2, name: `${name}_up` })
        : new NearestUpsample2D({ factor: 2, name: `${name}_up` });
    up = conv(applyLayer(layer, x), `${name}_up_conv`, filters, 3, true, parts.kernelInitializer);
  }
  const any = (c: Crop) => c.top + c.bottom + c.left + c.right > 0;
  const crop = (t: tf.SymbolicTensor, c: Crop, suffix: string) =>
    any(c)
      ? applyLayer(
          tf.layers.cropping2D({
            cropping: [
              [c.top, c.bottom],
              [c.left, c.right],
            ],
            name: `${name}_${suffix}`,
          }),
          t,
        )
      : t;
  const pad = (t: tf.SymbolicTensor, c: Crop, suffix: string) =>
    any(c)
      ? applyLayer(
          tf.layers.zeroPadding2d({
            padding: [
              [c.top, c.bottom],
              [c.left, c.right],
            ],
            name: `${name}_${suffix}`,
          }),
          t,
        )
      : t;
  let s = pad(crop(skip, skipCrop, 'skip_crop'), skipPad, 'skip_pad');
  up = pad(crop(up, upCrop, 'up_crop'), upPad, 'up_pad');
  if (inter !== null) s = buildAttention(s, up, inter, parts, `${name}_att`);
  const cat = applyLayer(tf.layers.concatenate({ axis: -1, name: `${name}_concat` }), [s, up]);
  return buildDoubleConv(cat, filters, parts, name);
}

/** Options of {@link unet} and {@link unetGraph}. */
export interface UNetOptions extends UNetPartsOptions {
  /** Number of down/up levels (default 4, the paper). */
  depth?: number;
  /** Channels of the first level; level i has `baseFilters · 2^(i-1)` (default 64). */
  baseFilters?: number;
  /** Upsampling of every decoder stage (default `'transposed'`). */
  upsample?: Upsampling;
  /** Downsampling of every encoder stage (default `'max_pool'`). */
  down?: Downsampling;
  /** Size reconciliation of every decoder stage (default `'crop'`). */
  match?: Match;
  /** Attention gates on every skip (Attention U-Net). */
  attention?: boolean | { interChannels?: number };
  /** Output channels of the 1x1 head (default 1). */
  numClasses?: number;
  /** Activation of the head (default none: logits). */
  outputActivation?: ActivationLike | null;
  /** Dropout after the bottleneck double conv, in [0, 1) (default 0; the paper used dropout there). */
  dropout?: number;
  /** Model name (default `'unet'`). */
  name?: string;
}

/**
 * A U-Net (Ronneberger et al. 2015) as a `tf.LayersModel`: `depth` encoder stages `enc1..`,
 * a `bottleneck`, decoder stages `dec<depth>..dec1`, and a 1x1 `head_conv`. With 'same'
 * convolutions the input height and width must be divisible by `2^depth` (a `ShapeError`
 * suggests the nearest valid sizes otherwise).
 *
 * @example
 * ```ts
 * const model = unet([128, 128, 3], { depth: 4, baseFilters: 32, norm: 'batch_norm', attention: true, numClasses: 2 });
 * ```
 */
export function unet(inputShape: readonly number[], options: UNetOptions = {}): tf.LayersModel {
  if (
    !Array.isArray(inputShape) ||
    inputShape.length !== 3 ||
    inputShape.some((d) => !Number.isInteger(d) || d <= 0)
  ) {
    throw new ShapeError('U-Net input', inputShape, '[height, width, channels] of positive integers');
  }
  const plan = planUNet(inputShape as [number, number, number], options);
  const input = tf.input({ shape: [...inputShape], name: `${plan.name}_input` });
  return tf.model({ inputs: input, outputs: buildUNet(input, plan), name: plan.name });
}

/**
 * The U-Net graph on an existing symbolic input (same options as {@link unet}), for embedding
 * a U-Net in a larger functional model. The input's height and width must be known.
 *
 * @example
 * ```ts
 * const image = tf.input({ shape: [16, 16, 1] });
 * const mask = unetGraph(image, { depth: 2, baseFilters: 4, numClasses: 1, outputActivation: 'sigmoid' });
 * const model = tf.model({ inputs: image, outputs: mask });
 * const y = model.predict(tf.zeros([1, 16, 16, 1])) as tf.Tensor;
 * if (y.shape.join() !== '1,16,16,1') throw new Error(String(y.shape));
 * tf.dispose(y);
 * model.dispose();
 * ```
 */
export function unetGraph(x: tf.SymbolicTensor, options: UNetOptions = {}): tf.SymbolicTensor {
  const { height, width, channels } = nhwc(x, 'U-Net');
  if (height === null || width === null) {
    throw new ShapeError(
      'U-Net input',
      x.shape,
      'known height and width (skip sizes are matched when the graph is built)',
    );
  }
  return buildUNet(x, planUNet([height, width, channels], options));
}

interface UNetPlan {
  name: string;
  depth: number;
  base: number;
  numClasses: number;
  dropout: number;
  upsample: Upsampling;
  down: Downsampling;
  match: Match;
  attention: boolean | { interChannels?: number };
  outAct: ActivationLike | null;
  parts: UNetPartsOptions;
  headInit: Initializer;
}

function planUNet(inputShape: [number, number, number], options: UNetOptions): UNetPlan {
  if (options === null || typeof options !== 'object')
    throw new InvalidArgumentError('U-Net options', options, 'an object');
  const [height, width] = inputShape;
  const depth = checkInteger('depth', options.depth ?? 4);
  const base = checkInteger('baseFilters', options.baseFilters ?? 64);
  const numClasses = checkInteger('numClasses', options.numClasses ?? 1);
  const dropout = checkRate('dropout', options.dropout ?? 0);
  const name = checkName(options.name ?? 'unet', 'unet');
  const unit = 2 ** depth;
  for (const [axis, size] of [
    ['height', height],
    ['width', width],
  ] as const) {
    if (size % unit !== 0) {
      const lower = Math.floor(size / unit) * unit;
      const nearest = [lower, lower + unit].filter((v) => v > 0).join(' or ');
      throw new ShapeError(
        'U-Net input',
        inputShape,
        `${axis} divisible by 2^depth = ${unit}`,
        `${axis} ${size} is not; use ${nearest}, or a smaller depth`,
      );
    }
  }
  const upsample = options.upsample ?? 'transposed';
  upsamplings.get(upsample);
  const down = options.down ?? 'max_pool';
  downsamplings.get(down);
  const match = options.match ?? 'crop';
  matches.get(match);
  const outAct = options.outputActivation ?? null;
  if (outAct !== null) checkActivation(outAct);
  const attention = options.attention ?? false;
  if (attention !== false && attention !== true && (attention === null || typeof attention !== 'object')) {
    throw new InvalidArgumentError('attention', attention, 'true, false or { interChannels }');
  }
  if (typeof attention === 'object' && attention.interChannels !== undefined)
    checkInteger('attention.interChannels', attention.interChannels);
  const norm = options.norm ?? 'none';
  const parts: UNetPartsOptions = {
    activation: options.activation ?? 'relu',
    norm,
    useBias: options.useBias ?? isNoNorm(norm),
    kernelInitializer: options.kernelInitializer ?? 'he_normal',
  };
  const resolved = resolveParts(parts);
  for (let i = 1; i <= depth + 1; i++)
    resolved.normChannels(base * 2 ** (i - 1), i > depth ? 'bottleneck_norm1' : `enc${i}_norm1`);
  if (attention !== false) {
    for (let i = 1; i <= depth; i++) {
      const inter =
        (attention === true ? undefined : attention.interChannels) ??
        Math.max(1, Math.floor((base * 2 ** (i - 1)) / 2));
      checkAttentionNorms(resolved, inter, `dec${i}_att`);
    }
  }
  return {
    name,
    depth,
    base,
    numClasses,
    dropout,
    upsample,
    down,
    match,
    attention,
    outAct,
    parts,
    headInit: resolved.kernelInitializer,
  };
}

function buildUNet(input: tf.SymbolicTensor, plan: UNetPlan): tf.SymbolicTensor {
  const { depth, base, parts } = plan;
  const skips: tf.SymbolicTensor[] = [];
  let h = input;
  for (let i = 1; i <= depth; i++) {
    const { skip, output } = encoderStage(h, {
      ...parts,
      filters: base * 2 ** (i - 1),
      down: plan.down,
      name: `enc${i}`,
    });
    skips.push(skip);
    h = output;
  }
  h = doubleConv(h, { ...parts, filters: base * 2 ** depth, name: 'bottleneck' });
  if (plan.dropout > 0)
    h = applyLayer(tf.layers.dropout({ rate: plan.dropout, name: 'bottleneck_dropout' }), h);
  for (let i = depth; i >= 1; i--) {
    h = decoderStage(h, skips[i - 1]!, {
      ...parts,
      filters: base * 2 ** (i - 1),
      upsample: plan.upsample,
      match: plan.match,
      attention: plan.attention,
      name: `dec${i}`,
    });
  }
  h = applyLayer(
    tf.layers.conv2d({
      filters: plan.numClasses,
      kernelSize: 1,
      kernelInitializer: plan.headInit,
      name: 'head_conv',
    }),
    h,
  );
  if (plan.outAct !== null) h = applyLayer(activationLayer(plan.outAct, { name: 'head_act' }), h);
  return h;
}

/**
 * The option tables of the README, generated from the registries.
 *
 * @example
 * ```ts
 * const tables = unetOptionsMarkdownTables();
 * if (!tables.includes('| `transposed` |') || !tables.includes('| `crop` |')) throw new Error(tables);
 * ```
 */
export function unetOptionsMarkdownTables(): string {
  const table = (option: string, reg: Registry<{ description: string }>) =>
    [
      `| \`${option}\` | what |`,
      '| --- | --- |',
      ...[...reg].map(([name, v]) => `| \`${name}\` | ${v.description} |`),
    ].join('\n');
  return [table('upsample', upsamplings), table('down', downsamplings), table('match', matches)].join('\n\n');
}
