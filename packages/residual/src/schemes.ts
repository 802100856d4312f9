import { Registry } from '@gradflow/core';
import type { NormLike } from './parts.js';

/** What a residual init scheme changes in a block; every scheme is a row of {@link RESIDUAL_INITS}. */
export interface ResidualInitSpec {
  /** One line for docs and error messages. */
  readonly description: string;
  /** The paper that defines it. */
  readonly reference: string;
  /** Norm used when the caller passes no `norm`. */
  readonly defaultNorm: NormLike;
  /** Whether the scheme needs a norm in the branch, accepts one, or is defined without one. */
  readonly norm: 'required' | 'optional' | 'forbidden';
  /** Defined for pre-activation (v2) blocks. */
  readonly preact: boolean;
  /** Initialize the gamma of the branch's last norm to 0. */
  readonly zeroLastGamma: boolean;
  /** Fixup: scalar biases, a scalar multiplier, scaled branch init, zero last conv. */
  readonly fixup: boolean;
  /** Initial value of a learnable scalar multiplying the branch output (null: none). */
  readonly branchScale: number | null;
  /** Keep the post-addition activation of v1 blocks (ReZero's block is exactly x + alpha F(x)). */
  readonly postActivation: boolean;
}

/**
 * Residual init schemes, selected with the `init` option of every block. Each one makes the
 * block (close to) the identity at initialization, so a deep stack starts as a shallow one.
 *
 * @example
 * ```ts
 * const { branchScale, postActivation } = RESIDUAL_INITS.rezero; // x + alpha F(x), alpha = 0
 * if (branchScale !== 0 || postActivation) throw new Error('rezero');
 * ```
 */
export const RESIDUAL_INITS = {
  default: {
    description: 'the kernel initializer everywhere, norm gammas 1',
    reference: 'He et al. 2015',
    defaultNorm: 'batch_norm',
    norm: 'optional',
    preact: true,
    zeroLastGamma: false,
    fixup: false,
    branchScale: null,
    postActivation: true,
  },
  zero_gamma: {
    description: "gamma of the branch's last norm initialized to 0 (block = shortcut at init)",
    reference: 'Goyal et al. 2017, Accurate, Large Minibatch SGD, sec. 5.1',
    defaultNorm: 'batch_norm',
    norm: 'required',
    preact: false,
    zeroLastGamma: true,
    fixup: false,
    branchScale: null,
    postActivation: true,
  },
  fixup: {
    description: 'no norm; scalar biases and multiplier; branch init scaled by L^(-1/(2m-2)); last conv 0',
    reference: 'Zhang, Dauphin, Ma 2019, Fixup Initialization',
    defaultNorm: 'none',
    norm: 'forbidden',
    preact: false,
    zeroLastGamma: false,
    fixup: true,
    branchScale: null,
    postActivation: true,
  },
  skipinit: {
    description: 'learnable scalar on the branch, initialized to 0; no norm unless one is passed',
    reference: 'De & Smith 2020, Batch Normalization Biases Residual Blocks Towards the Identity',
    defaultNorm: 'none',
    norm: 'optional',
    preact: true,
    zeroLastGamma: false,
    fixup: false,
    branchScale: 0,
    postActivation: true,
  },
  rezero: {
    description: 'x + alpha * F(x) with alpha initialized to 0 and no activation after the sum',
    reference: 'Bachlechner et al. 2020, ReZero is All You Need',
    defaultNorm: 'none',
    norm: 'optional',
    preact: true,
    zeroLastGamma: false,
    fixup: false,
    branchScale: 0,
    postActivation: false,
  },
} as const satisfies Record<string, ResidualInitSpec>;

/** A residual init scheme name: a key of {@link RESIDUAL_INITS}. */
export type ResidualInit = keyof typeof RESIDUAL_INITS;

/**
 * {@link RESIDUAL_INITS} as a `Registry` from `@gradflow/core`.
 *
 * @example
 * ```ts
 * if (residualInits.get('fixup').norm !== 'forbidden') throw new Error('Fixup trains without norms');
 * if (residualInits.has('warmup')) throw new Error('not a scheme');
 * ```
 */
export const residualInits = new Registry<ResidualInitSpec>('residual init scheme', RESIDUAL_INITS, {
  hint: 'see listResidualInits()',
});

/**
 * Names of the residual init schemes.
 *
 * @example
 * ```ts
 * const names = listResidualInits();
 * if (names.join() !== 'default,zero_gamma,fixup,skipinit,rezero') throw new Error(names.join());
 * ```
 */
export function listResidualInits(): string[] {
  return residualInits.list();
}

/** How a block's shortcut is built when the block changes the shape (stride or channels). */
export interface ShortcutSpec {
  /** One line for docs. */
  readonly description: string;
  /** Whether the shortcut has trainable weights. */
  readonly parameters: boolean;
}

/**
 * The shortcut kinds, selected with the `shortcut` option of every block.
 *
 * @example
 * ```ts
 * if (SHORTCUTS.option_a.parameters || !SHORTCUTS.projection.parameters) throw new Error('parameters');
 * ```
 */
export const SHORTCUTS = {
  projection: {
    description: '1x1 conv with the stride, then norm (He et al. 2015 option B)',
    parameters: true,
  },
  option_a: {
    description: 'x[::s, ::s] and zero channel padding, parameter-free (CIFAR option A)',
    parameters: false,
  },
  identity: { description: 'identity only: a block that changes the shape is an error', parameters: false },
} as const satisfies Record<string, ShortcutSpec>;

/** A shortcut kind: `'projection' | 'option_a' | 'identity'`. */
export type ShortcutKind = keyof typeof SHORTCUTS;

/**
 * {@link SHORTCUTS} as a `Registry` from `@gradflow/core`.
 *
 * @example
 * ```ts
 * if (shortcuts.list().join() !== 'projection,option_a,identity') throw new Error(shortcuts.list().join());
 * ```
 */
export const shortcuts = new Registry<ShortcutSpec>('shortcut', SHORTCUTS, { hint: 'see SHORTCUTS' });

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

/**
 * The init-scheme table of the README, generated from {@link RESIDUAL_INITS}.
 *
 * @example
 * ```ts
 * const table = residualInitsMarkdownTable();
 * if (!table.includes('| `fixup` |')) throw new Error(table);
 * ```
 */
export function residualInitsMarkdownTable(): string {
  const lines = [
    row(['`init`', 'what changes', 'default norm', 'norm', 'pre-activation', 'reference']),
    row(Array(6).fill('---')),
  ];
  for (const [name, s] of residualInits) {
    const norm = typeof s.defaultNorm === 'string' ? `\`${s.defaultNorm}\`` : 'none';
    lines.push(row([`\`${name}\``, s.description, norm, s.norm, s.preact ? 'yes' : 'no', s.reference]));
  }
  return lines.join('\n');
}

/**
 * The shortcut table of the README, generated from {@link SHORTCUTS}.
 *
 * @example
 * ```ts
 * const table = shortcutsMarkdownTable();
 * if (!table.includes('| `option_a` |') || !table.includes('| no |')) throw new Error(table);
 * ```
 */
export function shortcutsMarkdownTable(): string {
  const lines = [
    row(['`shortcut`', 'used when the block changes the shape', 'parameters']),
    row(Array(3).fill('---')),
  ];
  for (const [name, s] of shortcuts)
    lines.push(row([`\`${name}\``, s.description, s.parameters ? 'yes' : 'no']));
  return lines.join('\n');
}
