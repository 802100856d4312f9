import { InvalidArgumentError, Registry, checkInteger, checkOneOf } from '@gradflow/core';
import { resolveInit, type InitializerSpec } from './init.js';

/** What the sequence kernels and the weight converters need to know about a cell type. */
export interface CellTypeSpec {
  /** Number of gate blocks G: the kernels are `[in, G*units]` and `[units, G*units]`. */
  readonly gates: number;
  /** Number of state tensors carried between steps: 1 (`h`) or 2 (`h`, `c`). */
  readonly states: 1 | 2;
  /** Gate block order of gradflow's (and PyTorch's) weights. */
  readonly gateOrder: readonly string[];
  /** Gate block order of the Keras weights. */
  readonly kerasGateOrder: readonly string[];
  /** One line of equations, for docs. */
  readonly equations: string;
  /** Where the cell comes from. */
  readonly reference: string;
  /** The `torch.nn` module with the same weights, or null. */
  readonly torchModule: string;
}

/**
 * The cell types: the single source of truth from which `CellType`, the cell factories'
 * validation, the weight converters and the README table are derived.
 *
 * @example
 * ```ts
 * const { gates, states, gateOrder, kerasGateOrder } = CELL_TYPES.lstm;
 * // 4 gate blocks, state (h, c); PyTorch orders them i,f,g,o and Keras i,f,c,o.
 * if (gates !== 4 || states !== 2) throw new Error('lstm');
 * if (gateOrder.join() !== 'i,f,g,o' || kerasGateOrder.join() !== 'i,f,c,o') throw new Error('gate order');
 * ```
 */
export const CELL_TYPES = {
  simple_rnn: {
    gates: 1,
    states: 1,
    gateOrder: ['a'],
    kerasGateOrder: ['a'],
    equations: 'h_t = act(W x_t + U h_{t-1} + b), act = tanh (default) or relu',
    reference: 'Elman 1990',
    torchModule: "nn.RNN(nonlinearity='tanh' or 'relu')",
  },
  irnn: {
    gates: 1,
    states: 1,
    gateOrder: ['a'],
    kerasGateOrder: ['a'],
    equations: 'h_t = relu(W x_t + U h_{t-1} + b), U = I and b = 0 at init, W ~ N(0, 0.001^2)',
    reference: 'Le, Jaitly & Hinton 2015',
    torchModule: "nn.RNN(nonlinearity='relu')",
  },
  gru: {
    gates: 3,
    states: 1,
    gateOrder: ['r', 'z', 'n'],
    kerasGateOrder: ['z', 'r', 'h'],
    equations:
      'r,z = sigmoid(W x_t + b + U h_{t-1} + b_U); resetAfter true: n = tanh(W_n x_t + b_n + r*(U_n h_{t-1} + b_Un)); resetAfter false (Cho): n = tanh(W_n x_t + U_n (r*h_{t-1}) + b_n); h_t = (1-z)*n + z*h_{t-1}',
    reference: 'Cho et al. 2014; resetAfter as in PyTorch and Keras 3',
    torchModule: 'nn.GRU (resetAfter: true only)',
  },
  lstm: {
    gates: 4,
    states: 2,
    gateOrder: ['i', 'f', 'g', 'o'],
    kerasGateOrder: ['i', 'f', 'c', 'o'],
    equations:
      'i,f,o = sigmoid(.), g = tanh(.); c_t = f*c_{t-1} + i*g; h_t = o*tanh(c_t); forget bias 1 at init',
    reference: 'Hochreiter & Schmidhuber 1997; forget bias 1: Jozefowicz et al. 2015',
    torchModule: 'nn.LSTM',
  },
} as const satisfies Record<string, CellTypeSpec>;

/** A cell type name: `'simple_rnn' | 'irnn' | 'gru' | 'lstm'`. */
export type CellType = keyof typeof CELL_TYPES;

/**
 * {@link CELL_TYPES} as a `Registry` from `@gradflow/core`: `get` throws `UnknownNameError`
 * with a did-you-mean suggestion, `has` and `list` answer without throwing.
 *
 * @example
 * ```ts
 * if (cellTypes.get('gru').gates !== 3) throw new Error('a GRU has 3 gate blocks');
 * if (cellTypes.has('transformer')) throw new Error('not a cell type');
 * let message = '';
 * try {
 *   cellTypes.get('lstn');
 * } catch (e) {
 *   message = (e as Error).message; // names the closest type, 'lstm'
 * }
 * if (!message.includes('lstm')) throw new Error(message);
 * ```
 */
export const cellTypes = new Registry<CellTypeSpec>('recurrent cell type', CELL_TYPES, {
  hint: 'see listCellTypes()',
});

/**
 * Names of the cell types, in registry order.
 *
 * @example
 * ```ts
 * const types = listCellTypes(); // ['simple_rnn', 'irnn', 'gru', 'lstm']
 * if (types.join() !== 'simple_rnn,irnn,gru,lstm') throw new Error(types.join());
 * ```
 */
export function listCellTypes(): CellType[] {
  return cellTypes.list() as CellType[];
}

/**
 * The state nonlinearities an Elman cell ({@link simpleRnnCell}) accepts, as in
 * `torch.nn.RNN(nonlinearity=...)`.
 *
 * @example
 * ```ts
 * for (const activation of SIMPLE_ACTIVATIONS) {
 *   const cell = simpleRnnCell({ units: 4, activation }); // 'tanh' or 'relu'
 *   if (cell.activation !== activation) throw new Error(activation);
 * }
 * ```
 */
export const SIMPLE_ACTIVATIONS = ['tanh', 'relu'] as const;
/** `'tanh' | 'relu'`: the state nonlinearity of a simple RNN cell. */
export type SimpleActivation = (typeof SIMPLE_ACTIVATIONS)[number];

/**
 * A recurrent cell as plain, JSON-serializable data: the cell factories return it, a
 * `RecurrentLayer` runs it over a sequence and stores it in its config.
 */
export interface CellConfig {
  type: CellType;
  units: number;
  /** simple_rnn / irnn only: the state nonlinearity. */
  activation?: SimpleActivation;
  /** gru only: true = PyTorch / Keras 3 equations (default), false = Cho et al. 2014. */
  resetAfter?: boolean;
  /** lstm only: initialise the forget-gate bias to 1 (default true). */
  unitForgetBias?: boolean;
  kernelInitializer: InitializerSpec;
  recurrentInitializer: InitializerSpec;
  biasInitializer: InitializerSpec;
}

/** Options every cell factory takes. */
export interface CellOptions {
  /** Hidden size H. */
  units: number;
  /** Initializer of the input kernel `[in, G*H]` (default `glorot_uniform`). */
  kernelInitializer?: InitializerSpec;
  /** Initializer of the recurrent kernel, applied to each `[H, H]` gate block (default `orthogonal`). */
  recurrentInitializer?: InitializerSpec;
  /** Initializer of the biases (default `zeros`). */
  biasInitializer?: InitializerSpec;
}

/** Options of {@link simpleRnnCell}. */
export interface SimpleRnnCellOptions extends CellOptions {
  /** The state nonlinearity (default `'tanh'`). */
  activation?: SimpleActivation;
}
/** Options of {@link gruCell}. */
export interface GruCellOptions extends CellOptions {
  /** true (default): PyTorch / Keras 3 equations with a recurrent bias; false: Cho et al. 2014. */
  resetAfter?: boolean;
}
/** Options of {@link lstmCell}. */
export interface LstmCellOptions extends CellOptions {
  /** Initialise the forget-gate bias to 1 (default true). */
  unitForgetBias?: boolean;
}

function base(type: CellType, options: CellOptions, defaults: Partial<CellOptions> = {}): CellConfig {
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentError(`${type} cell options`, options, 'an object with at least { units }');
  }
  const cell: CellConfig = {
    type,
    units: checkInteger(`${type} units`, options.units),
    kernelInitializer: options.kernelInitializer ?? defaults.kernelInitializer ?? 'glorot_uniform',
    recurrentInitializer: options.recurrentInitializer ?? defaults.recurrentInitializer ?? 'orthogonal',
    biasInitializer: options.biasInitializer ?? defaults.biasInitializer ?? 'zeros',
  };
  // Unknown initializer names and options fail here, not later when the layer is built.
  resolveInit(cell.kernelInitializer);
  resolveInit(cell.recurrentInitializer);
  resolveInit(cell.biasInitializer);
  return cell;
}

function checkBoolean(argument: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new InvalidArgumentError(argument, value, 'true or false');
  return value;
}

/**
 * Elman cell `h_t = act(W x_t + U h_{t-1} + b)` with `act` tanh (default) or relu
 * (`torch.nn.RNN`, `tf.layers.simpleRNN`).
 *
 * @example
 * ```ts
 * const cell = simpleRnnCell({ units: 64, activation: 'relu' }); // plain data, JSON-serializable
 * if (cell.type !== 'simple_rnn' || cell.recurrentInitializer !== 'orthogonal') throw new Error(JSON.stringify(cell));
 * const layer = recurrentLayer({ cell }); // runs it over [batch, time, features]
 * if (layer.units !== 64) throw new Error(String(layer.units));
 * ```
 */
export function simpleRnnCell(options: SimpleRnnCellOptions): CellConfig {
  const cell = base('simple_rnn', options);
  return {
    ...cell,
    activation: checkOneOf('simple_rnn activation', options.activation ?? 'tanh', SIMPLE_ACTIVATIONS),
  };
}

/**
 * IRNN (Le et al. 2015): a ReLU Elman cell whose recurrent kernel starts as the identity and
 * whose input kernel starts at N(0, 0.001^2), so the state is carried unchanged at init.
 *
 * @example
 * ```ts
 * const layer = recurrentLayer({ cell: irnnCell({ units: 8 }) });
 * const x = tf.randomNormal([2, 5, 3]);
 * const h = layer.apply(x) as tf.Tensor; // [2, 8]
 * // U = I at init: the recurrent kernel is the identity.
 * const isIdentity = tf.tidy(() => layer.slots[0]!.recurrentKernel.read().sub(tf.eye(8)).abs().max().dataSync()[0] === 0);
 * if (!isIdentity) throw new Error('recurrent kernel is not the identity');
 * tf.dispose([x, h]);
 * layer.dispose();
 * ```
 */
export function irnnCell(options: CellOptions): CellConfig {
  const cell = base('irnn', options, {
    kernelInitializer: { name: 'normal', mean: 0, std: 0.001 },
    recurrentInitializer: 'identity',
  });
  return { ...cell, activation: 'relu' };
}

/**
 * Gated recurrent unit. `resetAfter: true` (default) applies the reset gate after the
 * recurrent matmul, `n = tanh(W_n x + b_n + r * (U_n h + b_Un))`, as PyTorch and Keras 3 do,
 * with a separate recurrent bias; `resetAfter: false` is Cho et al. 2014,
 * `n = tanh(W_n x + U_n (r * h) + b_n)`, with one bias.
 *
 * @example
 * ```ts
 * const gru = recurrentLayer({ cell: gruCell({ units: 16 }), returnSequences: true });
 * const x = tf.randomNormal([4, 10, 8]); // [batch, time, features]
 * const y = gru.apply(x) as tf.Tensor;
 * if (y.shape.join() !== '4,10,16') throw new Error(String(y.shape));
 * // The Cho et al. variant has no separate recurrent bias:
 * if (gruCell({ units: 16, resetAfter: false }).resetAfter !== false) throw new Error('resetAfter');
 * tf.dispose([x, y]);
 * gru.dispose();
 * ```
 */
export function gruCell(options: GruCellOptions): CellConfig {
  const cell = base('gru', options);
  return { ...cell, resetAfter: checkBoolean('gru resetAfter', options.resetAfter ?? true) };
}

/**
 * LSTM without peepholes; the forget-gate bias starts at 1 (`unitForgetBias`, Jozefowicz et
 * al. 2015), which keeps the cell state — and its gradient — alive through time at init.
 *
 * @example
 * ```ts
 * const lstm = recurrentLayer({ cell: lstmCell({ units: 4 }), returnState: true });
 * const x = tf.randomNormal([2, 6, 3]);
 * const [out, h, c] = lstm.apply(x) as tf.Tensor[]; // output [2, 4], final h and c [2, 4]
 * // Bias blocks are i, f, g, o: the forget block starts at 1.
 * const forget = tf.tidy(() => lstm.slots[0]!.bias.read().slice([4], [4]).dataSync());
 * if (!forget.every((b) => b === 1)) throw new Error(String(forget));
 * tf.dispose([x, out!, h!, c!]);
 * lstm.dispose();
 * ```
 */
export function lstmCell(options: LstmCellOptions): CellConfig {
  const cell = base('lstm', options);
  return { ...cell, unitForgetBias: checkBoolean('lstm unitForgetBias', options.unitForgetBias ?? true) };
}

export const CELL_FACTORIES: Record<
  CellType,
  (options: CellOptions & Record<string, unknown>) => CellConfig
> = {
  simple_rnn: simpleRnnCell,
  irnn: irnnCell,
  gru: gruCell,
  lstm: lstmCell,
};

/**
 * Validates a cell config (e.g. one read back from JSON) and fills its defaults; a bad type,
 * size or option is a typed error.
 *
 * @example
 * ```ts
 * const cell = normalizeCell(JSON.parse('{ "type": "lstm", "units": 32 }'));
 * if (!cell.unitForgetBias || cell.kernelInitializer !== 'glorot_uniform') throw new Error(JSON.stringify(cell));
 * let message = '';
 * try {
 *   normalizeCell({ type: 'gru', units: 0 }); // InvalidArgumentError: units must be a positive integer
 * } catch (e) {
 *   message = (e as Error).message;
 * }
 * if (!message.includes('units')) throw new Error(`expected a units error, got '${message}'`);
 * ```
 */
export function normalizeCell(cell: unknown): CellConfig {
  if (cell === null || typeof cell !== 'object') {
    throw new InvalidArgumentError(
      'cell',
      cell,
      `a cell config from one of ${listCellTypes()
        .map((t) => `${camel(t)}Cell()`)
        .join(', ')}`,
    );
  }
  const { type, ...rest } = cell as { type?: unknown };
  const spec = cellTypes.get(type as string);
  void spec;
  return CELL_FACTORIES[type as CellType](rest as CellOptions & Record<string, unknown>);
}

function camel(name: string): string {
  return name.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
}

/** The fused kernel that runs a cell: the Elman cells differ only by their activation. */
export type KernelKind = 'tanh' | 'relu' | 'gru' | 'gru_cho' | 'lstm';

/**
 * The fused kernel that runs `cell`: the activation for Elman cells, `'gru'` (reset after) or
 * `'gru_cho'` for GRUs, `'lstm'` for LSTMs. It is what {@link runSequenceKernel} takes as `kind`.
 *
 * @example
 * ```ts
 * if (kernelKind(irnnCell({ units: 4 })) !== 'relu') throw new Error('IRNN runs the relu kernel');
 * if (kernelKind(gruCell({ units: 4, resetAfter: false })) !== 'gru_cho') throw new Error('Cho GRU');
 * ```
 */
export function kernelKind(cell: CellConfig): KernelKind {
  switch (cell.type) {
    case 'simple_rnn':
    case 'irnn':
      return cell.activation ?? 'tanh';
    case 'gru':
      return (cell.resetAfter ?? true) ? 'gru' : 'gru_cho';
    case 'lstm':
      return 'lstm';
  }
}

/** Whether the cell has a separate recurrent bias (only the reset-after GRU needs one). */
export function hasRecurrentBias(cell: CellConfig): boolean {
  return kernelKind(cell) === 'gru';
}

const FACTORY_NAMES: Record<CellType, string> = {
  simple_rnn: 'simpleRnnCell',
  irnn: 'irnnCell',
  gru: 'gruCell',
  lstm: 'lstmCell',
};

/**
 * The cell registry as a Markdown table (the README's table is this output, checked by a test
 * so it cannot drift).
 *
 * @example
 * ```ts
 * const table = cellTable();
 * if (!table.includes('| `gru` | `gruCell` | 3 | h |')) throw new Error(table);
 * ```
 */
export function cellTable(): string {
  const rows = listCellTypes().map((type) => {
    const spec: CellTypeSpec = cellTypes.get(type);
    const order = (o: readonly string[]) => o.join(',');
    const cell = (text: string) => text.replace(/\|/g, '\\|');
    return `| \`${type}\` | \`${FACTORY_NAMES[type]}\` | ${spec.gates} | ${spec.states === 2 ? 'h, c' : 'h'} | ${order(spec.gateOrder)} / ${order(spec.kerasGateOrder)} | ${cell(spec.equations)} | ${cell(spec.torchModule)} | ${cell(spec.reference)} |`;
  });
  return [
    '| type | factory | gates | states | gate order gradflow=PyTorch / Keras | equations | PyTorch | reference |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
