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

export type CellType = keyof typeof CELL_TYPES;

export const cellTypes = new Registry<CellTypeSpec>('recurrent cell type', CELL_TYPES, {
  hint: 'see listCellTypes()',
});

/** Names of the cell types, in registry order. */
export function listCellTypes(): CellType[] {
  return cellTypes.list() as CellType[];
}

export const SIMPLE_ACTIVATIONS = ['tanh', 'relu'] as const;
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

export interface SimpleRnnCellOptions extends CellOptions {
  activation?: SimpleActivation;
}
export interface GruCellOptions extends CellOptions {
  resetAfter?: boolean;
}
export interface LstmCellOptions extends CellOptions {
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
 * const layer = recurrentLayer({ cell: simpleRnnCell({ units: 64, activation: 'relu' }) });
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
 */
export function gruCell(options: GruCellOptions): CellConfig {
  const cell = base('gru', options);
  return { ...cell, resetAfter: checkBoolean('gru resetAfter', options.resetAfter ?? true) };
}

/**
 * LSTM without peepholes; the forget-gate bias starts at 1 (`unitForgetBias`, Jozefowicz et
 * al. 2015), which keeps the cell state — and its gradient — alive through time at init.
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

/** Validates a cell config (e.g. one read back from JSON) and fills its defaults. */
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
