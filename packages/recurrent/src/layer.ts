import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, ShapeError, checkInteger } from '@gradflow/core';
import {
  CELL_TYPES,
  gruCell,
  hasRecurrentBias,
  irnnCell,
  kernelKind,
  lstmCell,
  normalizeCell,
  simpleRnnCell,
  type CellConfig,
  type CellOptions,
  type GruCellOptions,
  type KernelKind,
  type LstmCellOptions,
  type SimpleRnnCellOptions,
} from './cells.js';
import {
  initializerFromJson,
  initializerToJson,
  perGateInitializer,
  resolveInit,
  type InitializerSpec,
} from './init.js';
import { GATES, STATES, runSequenceKernel } from './kernels.js';
import { probeSink } from './probe-state.js';

type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;
type LayerVariable = ReturnType<tf.layers.Layer['addWeight']>;
type Kwargs = Record<string, unknown>;

/** How the layer runs its cell over a sequence. */
export interface SequenceOptions {
  /** Stacked layers (like `num_layers` of `torch.nn.GRU`); layer l+1 reads layer l's sequence. Default 1. */
  numLayers?: number;
  /** Run a second cell backwards over time and concatenate both (`[fwd, bwd]` on the feature axis). Default false. */
  bidirectional?: boolean;
  /** Output the whole sequence `[B, T, D*H]` instead of the last state `[B, D*H]`. Default false. */
  returnSequences?: boolean;
  /**
   * Also output the final states: `[output, ...states]`, states ordered per stacked layer, then
   * per direction (forward, backward), then `h` (and `c` for LSTM), each `[B, H]`. Default false.
   */
  returnState?: boolean;
}

/** Options of {@link RecurrentLayer}: a cell and how to run it over the sequence. */
export interface RecurrentLayerOptions extends SequenceOptions {
  /** The cell, from `simpleRnnCell`, `irnnCell`, `gruCell` or `lstmCell`. */
  cell: CellConfig;
  name?: string;
  trainable?: boolean;
  inputShape?: (number | null)[];
  batchInputShape?: (number | null)[];
}

/** One stacked layer and direction's weights. */
export interface WeightSlot {
  depth: number;
  direction: 'forward' | 'backward';
  inputSize: number;
  kernel: LayerVariable;
  recurrentKernel: LayerVariable;
  bias: LayerVariable;
  recurrentBias: LayerVariable | null;
}

function checkBool(argument: string, value: unknown, fallback: boolean): boolean {
  const v = value ?? fallback;
  if (typeof v !== 'boolean') throw new InvalidArgumentError(argument, value, 'true or false');
  return v;
}

function snakeCase(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  return value.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

function first<T>(v: T | T[] | null | undefined): T | undefined {
  if (v === null || v === undefined) return undefined;
  return Array.isArray(v) ? v[0] : v;
}

/**
 * A cell run over a sequence, with stacking, bidirectionality, initial states, masking and
 * returned states: the counterpart of `torch.nn.RNN/GRU/LSTM` and of Keras's recurrent layers.
 * Input `[B, T, in]`; initial states (optional) are passed as extra inputs,
 * `layer.apply([x, h0, ...])`, in the order of `returnState`'s states.
 *
 * Masking follows PyTorch's packed sequences: at a masked step the state is carried unchanged
 * and the output is 0, so right-padded batches give the same final states as
 * `pack_padded_sequence`, in both directions.
 *
 * Each direction of each stacked layer is one fused kernel call (see `runSequenceKernel`), so
 * training is many times faster than tfjs-layers' op-by-op loop.
 *
 * @example
 * ```ts
 * const layer = new RecurrentLayer({ cell: gruCell({ units: 16 }), bidirectional: true, returnState: true });
 * const x = tf.randomNormal([2, 12, 8]); // [batch, time, features]
 * const h0 = tf.zeros([2, 16]); // initial states: one per direction (see layer.stateNames())
 * const [y, hForward, hBackward] = layer.apply([x, h0, h0]) as tf.Tensor[];
 * if (y!.shape.join() !== '2,32') throw new Error(String(y!.shape)); // [forward, backward] concatenated
 * if (layer.stateNames().join() !== 'l0 forward h,l0 backward h') throw new Error(layer.stateNames().join());
 * tf.dispose([x, h0, y!, hForward!, hBackward!]);
 * layer.dispose();
 * ```
 */
export class RecurrentLayer extends tf.layers.Layer {
  static className = 'GradflowRecurrent';
  readonly cell: CellConfig;
  readonly numLayers: number;
  readonly bidirectional: boolean;
  readonly returnSequences: boolean;
  readonly returnState: boolean;
  readonly kind: KernelKind;
  /** Weights per stacked layer and direction (filled by `build`). */
  slots: WeightSlot[] = [];

  constructor(options: RecurrentLayerOptions) {
    if (options === null || typeof options !== 'object') {
      throw new InvalidArgumentError('recurrent layer options', options, 'an object with a cell');
    }
    const { cell, numLayers, bidirectional, returnSequences, returnState, ...layerArgs } = options;
    super(layerArgs as LayerArgs);
    // A config read back by tf.loadLayersModel has its string values camel-cased
    // ('simple_rnn' -> 'simpleRnn', 'glorot_uniform' -> 'glorotUniform'): undo that.
    const raw = (cell ?? null) as (CellConfig & Record<string, unknown>) | null;
    const init = (v: unknown) => initializerFromJson(typeof v === 'string' ? snakeCase(v) : v);
    this.cell = normalizeCell(
      raw === null || typeof raw !== 'object'
        ? raw
        : {
            ...raw,
            type: snakeCase(raw.type) as CellConfig['type'],
            ...(raw.kernelInitializer !== undefined
              ? { kernelInitializer: init(raw.kernelInitializer) }
              : {}),
            ...(raw.recurrentInitializer !== undefined
              ? { recurrentInitializer: init(raw.recurrentInitializer) }
              : {}),
            ...(raw.biasInitializer !== undefined ? { biasInitializer: init(raw.biasInitializer) } : {}),
          },
    );
    this.numLayers = checkInteger('numLayers', numLayers ?? 1);
    this.bidirectional = checkBool('bidirectional', bidirectional, false);
    this.returnSequences = checkBool('returnSequences', returnSequences, false);
    this.returnState = checkBool('returnState', returnState, false);
    this.kind = kernelKind(this.cell);
    this.supportsMasking = true;
  }

  get units(): number {
    return this.cell.units;
  }
  get directions(): number {
    return this.bidirectional ? 2 : 1;
  }
  /** Number of state tensors per layer and direction: 1 (h) or 2 (h, c). */
  get stateCount(): number {
    return STATES[this.kind];
  }
  /** Total number of initial / returned state tensors. */
  get stateTensorCount(): number {
    return this.numLayers * this.directions * this.stateCount;
  }
  /** Feature size of the input, once built. */
  inputSize: number | null = null;

  /** Describes the state tensors in order, e.g. `l0 forward h`. */
  stateNames(): string[] {
    const names: string[] = [];
    for (let l = 0; l < this.numLayers; l++) {
      for (let d = 0; d < this.directions; d++) {
        for (const s of this.stateCount === 2 ? ['h', 'c'] : ['h'])
          names.push(`l${l} ${d === 0 ? 'forward' : 'backward'} ${s}`);
      }
    }
    return names;
  }

  private checkSequenceShape(shape: readonly (number | null)[], what = 'recurrent layer input'): void {
    if (shape.length !== 3) {
      throw new ShapeError(
        `${this.name}: ${what}`,
        shape,
        `[batch, time, features] (rank 3)${this.inputSize ? ` with features ${this.inputSize}` : ''}`,
      );
    }
    if (shape[1] === 0)
      throw new ShapeError(
        `${this.name}: ${what}`,
        shape,
        '[batch, time >= 1, features]: the sequence is empty',
      );
    const f = shape[2];
    if (f === null || f === undefined || f < 1) {
      throw new ShapeError(
        `${this.name}: ${what}`,
        shape,
        '[batch, time, features] with a known feature size',
      );
    }
    if (this.inputSize !== null && f !== this.inputSize) {
      throw new ShapeError(
        `${this.name}: ${what}`,
        shape,
        `[batch, time, ${this.inputSize}] (the layer was built for ${this.inputSize} features)`,
      );
    }
  }

  private checkStateShapes(shapes: readonly (readonly (number | null)[])[], batch: number | null): void {
    if (shapes.length === 0) return;
    const names = this.stateNames();
    if (shapes.length !== names.length) {
      throw new ShapeError(
        `${this.name}: initial state list`,
        shapes,
        `${names.length} tensor(s) of shape [batch, ${this.units}] (${names.join(', ')})`,
      );
    }
    shapes.forEach((s, i) => {
      const ok = s.length === 2 && s[1] === this.units && (batch === null || s[0] === null || s[0] === batch);
      if (!ok)
        throw new ShapeError(
          `${this.name}: initial state ${i} (${names[i]})`,
          s,
          `[${batch ?? 'batch'}, ${this.units}]`,
        );
    });
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shapes = (Array.isArray(inputShape[0]) ? inputShape : [inputShape]) as tf.Shape[];
    const xShape = shapes[0]!;
    this.checkSequenceShape(xShape);
    this.checkStateShapes(shapes.slice(1), xShape[0] ?? null);
    this.inputSize = xShape[2]!;
    const H = this.units;
    const G = GATES[this.kind];
    const lstmForget = this.kind === 'lstm' && (this.cell.unitForgetBias ?? true);
    const biasInit = resolveInit(this.cell.biasInitializer);
    const biasWithForget = {
      apply: (shape: number[], dtype?: tf.DataType) =>
        tf.tidy(() => {
          const b = biasInit.apply(shape, dtype);
          if (!lstmForget) return b;
          return tf.concat([tf.slice(b, [0], [H]), tf.ones([H]), tf.slice(b, [2 * H], [2 * H])]);
        }),
    };
    const recurrentInit = perGateInitializer(this.cell.recurrentInitializer, G);
    const kernelInit = resolveInit(this.cell.kernelInitializer);
    type Init = Parameters<tf.layers.Layer['addWeight']>[3];
    this.slots = [];
    for (let l = 0; l < this.numLayers; l++) {
      const inputSize = l === 0 ? this.inputSize : this.directions * H;
      for (let d = 0; d < this.directions; d++) {
        const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
        const kernel = this.addWeight(`kernel${sfx}`, [inputSize, G * H], 'float32', kernelInit as Init);
        const recurrentKernel = this.addWeight(
          `recurrent_kernel${sfx}`,
          [H, G * H],
          'float32',
          recurrentInit as Init,
        );
        const bias = this.addWeight(`bias${sfx}`, [G * H], 'float32', biasWithForget as Init);
        const recurrentBias = hasRecurrentBias(this.cell)
          ? this.addWeight(
              `recurrent_bias${sfx}`,
              [G * H],
              'float32',
              resolveInit(this.cell.biasInitializer) as Init,
            )
          : null;
        this.slots.push({
          depth: l,
          direction: d === 0 ? 'forward' : 'backward',
          inputSize,
          kernel,
          recurrentKernel,
          bias,
          recurrentBias,
        });
      }
    }
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    const shapes = (Array.isArray(inputShape[0]) ? inputShape : [inputShape]) as tf.Shape[];
    const xShape = shapes[0]!;
    this.checkSequenceShape(xShape);
    const features = this.directions * this.units;
    const out: tf.Shape = this.returnSequences ? [xShape[0]!, xShape[1]!, features] : [xShape[0]!, features];
    if (!this.returnState) return out;
    return [out, ...this.stateNames().map((): tf.Shape => [xShape[0]!, this.units])];
  }

  override computeMask(
    _inputs: tf.Tensor | tf.Tensor[],
    mask?: tf.Tensor | tf.Tensor[],
  ): tf.Tensor | tf.Tensor[] {
    const m = this.returnSequences ? (first(mask) ?? null) : null;
    if (!this.returnState) return m as tf.Tensor;
    return [m, ...this.stateNames().map(() => null)] as unknown as tf.Tensor[];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    return tf.tidy(() => {
      const list = Array.isArray(inputs) ? inputs : [inputs];
      const x = list[0]!;
      const initial = list.slice(1);
      this.checkSequenceShape(x.shape, 'input');
      const [B, T] = x.shape as [number, number, number];
      this.checkStateShapes(
        initial.map((s) => s.shape),
        B,
      );
      const maskTensor = first(kwargs.mask as tf.Tensor | tf.Tensor[] | undefined);
      let mask: Float32Array | null = null;
      if (maskTensor) {
        if (maskTensor.size !== B * T)
          throw new ShapeError(`${this.name}: mask`, maskTensor.shape, `[${B}, ${T}]`);
        mask = tf.tidy(() => tf.cast(maskTensor, 'float32').dataSync() as Float32Array);
      }
      const H = this.units;
      const S = this.stateCount;
      const finals: tf.Tensor[] = [];
      let seq: tf.Tensor = x;
      let slot = 0;
      let last: tf.Tensor[] = [];
      for (let l = 0; l < this.numLayers; l++) {
        const outs: tf.Tensor[] = [];
        last = [];
        for (let d = 0; d < this.directions; d++, slot++) {
          const w = this.slots[slot]!;
          const h0 = initial[slot * S] ?? tf.zeros([B, H]);
          const c0 = S === 2 ? (initial[slot * S + 1] ?? tf.zeros([B, H])) : null;
          const r = runSequenceKernel(
            {
              x: seq,
              kernel: w.kernel.read(),
              recurrentKernel: w.recurrentKernel.read(),
              bias: w.bias.read(),
              recurrentBias: w.recurrentBias ? w.recurrentBias.read() : null,
              h0,
              c0,
            },
            { kind: this.kind, reverse: d === 1, mask, probe: probeSink(this.name, l, w.direction) },
          );
          outs.push(r.output);
          last.push(r.h);
          finals.push(r.h);
          if (r.c) finals.push(r.c);
        }
        seq = outs.length === 1 ? outs[0]! : tf.concat(outs, 2);
      }
      const y = this.returnSequences ? seq : last.length === 1 ? last[0]! : tf.concat(last, 1);
      return this.returnState ? [y, ...finals] : y;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    const cell = {
      ...this.cell,
      kernelInitializer: initializerToJson(this.cell.kernelInitializer),
      recurrentInitializer: initializerToJson(this.cell.recurrentInitializer),
      biasInitializer: initializerToJson(this.cell.biasInitializer),
    };
    return {
      ...super.getConfig(),
      cell: cell as unknown as tf.serialization.ConfigDict,
      numLayers: this.numLayers,
      bidirectional: this.bidirectional,
      returnSequences: this.returnSequences,
      returnState: this.returnState,
    };
  }
}

/**
 * A `RecurrentLayer` (the same as `new RecurrentLayer(options)`).
 *
 * @example
 * ```ts
 * const model = tf.sequential({
 *   layers: [
 *     recurrentLayer({ cell: lstmCell({ units: 8 }), inputShape: [null, 3] }), // any sequence length
 *     tf.layers.dense({ units: 1 }),
 *   ],
 * });
 * const x = tf.randomNormal([4, 7, 3]);
 * const y = model.predict(x) as tf.Tensor;
 * if (y.shape.join() !== '4,1') throw new Error(String(y.shape));
 * tf.dispose([x, y]);
 * model.dispose();
 * ```
 */
export function recurrentLayer(options: RecurrentLayerOptions): RecurrentLayer {
  return new RecurrentLayer(options);
}

/**
 * Functional builder: runs `options.cell` over the symbolic sequence `x` (with optional
 * symbolic `initialState`) and returns the output, or `[output, ...states]` with `returnState`.
 *
 * @example
 * ```ts
 * const x = tf.input({ shape: [null, 8] });
 * const y = recurrent(x, { cell: lstmCell({ units: 32 }), numLayers: 2, name: 'encoder' }) as tf.SymbolicTensor;
 * const model = tf.model({ inputs: x, outputs: tf.layers.dense({ units: 2 }).apply(y) as tf.SymbolicTensor });
 * // Per stacked layer: (inputs + units + 1 bias) x 4 gates x 32 units.
 * const params = (8 + 32 + 1) * 4 * 32 + (32 + 32 + 1) * 4 * 32;
 * if (model.getLayer('encoder').countParams() !== params) throw new Error('params');
 * model.dispose();
 * ```
 */
export function recurrent(
  x: tf.SymbolicTensor,
  options: RecurrentLayerOptions & { initialState?: tf.SymbolicTensor[] },
): tf.SymbolicTensor | tf.SymbolicTensor[] {
  const { initialState, ...rest } = options;
  const layer = new RecurrentLayer(rest);
  return layer.apply(initialState && initialState.length > 0 ? [x, ...initialState] : x) as
    tf.SymbolicTensor | tf.SymbolicTensor[];
}

type LayerOnly = SequenceOptions & Omit<RecurrentLayerOptions, 'cell' | keyof SequenceOptions>;

/**
 * `RecurrentLayer` over `simpleRnnCell` (options of both in one object).
 *
 * @example
 * ```ts
 * const rnn = simpleRnnLayer({ units: 8, activation: 'relu', returnSequences: true });
 * const x = tf.randomNormal([2, 5, 3]);
 * const y = rnn.apply(x) as tf.Tensor;
 * if (y.shape.join() !== '2,5,8' || tf.tidy(() => y.min().dataSync()[0]!) < 0) throw new Error('relu states');
 * tf.dispose([x, y]);
 * rnn.dispose();
 * ```
 */
export function simpleRnnLayer(options: SimpleRnnCellOptions & LayerOnly): RecurrentLayer {
  const { units, activation, kernelInitializer, recurrentInitializer, biasInitializer, ...rest } = options;
  return new RecurrentLayer({
    ...rest,
    cell: simpleRnnCell(
      defined({ units, activation, kernelInitializer, recurrentInitializer, biasInitializer }),
    ),
  });
}

/**
 * `RecurrentLayer` over `irnnCell`.
 *
 * @example
 * ```ts
 * const irnn = irnnLayer({ units: 4, name: 'irnn' });
 * // At init the state is carried unchanged: an input of zeros keeps h0.
 * const x = tf.zeros([1, 20, 2]);
 * const h0 = tf.tensor2d([[1, 2, 3, 4]]);
 * const h = irnn.apply([x, h0]) as tf.Tensor;
 * if (h.dataSync().join() !== '1,2,3,4') throw new Error(String(h.dataSync()));
 * tf.dispose([x, h0, h]);
 * irnn.dispose();
 * ```
 */
export function irnnLayer(options: CellOptions & LayerOnly): RecurrentLayer {
  const { units, kernelInitializer, recurrentInitializer, biasInitializer, ...rest } = options;
  return new RecurrentLayer({
    ...rest,
    cell: irnnCell(defined({ units, kernelInitializer, recurrentInitializer, biasInitializer })),
  });
}

/**
 * `RecurrentLayer` over `gruCell`.
 *
 * @example
 * ```ts
 * const gru = gruLayer({ units: 16, numLayers: 2, returnSequences: true });
 * const x = tf.randomNormal([3, 9, 4]);
 * const y = gru.apply(x) as tf.Tensor;
 * if (y.shape.join() !== '3,9,16' || gru.slots.length !== 2) throw new Error(String(y.shape));
 * tf.dispose([x, y]);
 * gru.dispose();
 * ```
 */
export function gruLayer(options: GruCellOptions & LayerOnly): RecurrentLayer {
  const { units, resetAfter, kernelInitializer, recurrentInitializer, biasInitializer, ...rest } = options;
  return new RecurrentLayer({
    ...rest,
    cell: gruCell(defined({ units, resetAfter, kernelInitializer, recurrentInitializer, biasInitializer })),
  });
}

/**
 * `RecurrentLayer` over `lstmCell`.
 *
 * @example
 * ```ts
 * const lstm = lstmLayer({ units: 8, returnState: true });
 * const x = tf.randomNormal([2, 5, 3]);
 * const [last, h, c] = lstm.apply(x) as tf.Tensor[];
 * // Without returnSequences the output is the last hidden state.
 * if (tf.tidy(() => last!.sub(h!).abs().max().dataSync()[0]) !== 0) throw new Error('output != h');
 * tf.dispose([x, last!, h!, c!]);
 * lstm.dispose();
 * ```
 */
export function lstmLayer(options: LstmCellOptions & LayerOnly): RecurrentLayer {
  const { units, unitForgetBias, kernelInitializer, recurrentInitializer, biasInitializer, ...rest } =
    options;
  return new RecurrentLayer({
    ...rest,
    cell: lstmCell(
      defined({ units, unitForgetBias, kernelInitializer, recurrentInitializer, biasInitializer }),
    ),
  });
}

function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

export type { InitializerSpec };
export { CELL_TYPES };
