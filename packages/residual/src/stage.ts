import type * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, Registry, checkInteger } from '@gradflow/core';
import {
  buildBlock,
  planBlock,
  type BlockPlan,
  type BottleneckBlockOptions,
  type BranchName,
} from './blocks.js';
import { checkName, nhwc } from './parts.js';

/** A block type for {@link residualStage}: a branch layout and its ordering. */
export interface ResidualBlockSpec {
  /** The branch layout, a key of `BRANCHES`. */
  readonly branch: BranchName;
  /** Pre-activation (v2) ordering. */
  readonly preact: boolean;
  /** One line for docs. */
  readonly description: string;
}

/**
 * The block types {@link residualStage} accepts: a branch layout and its ordering.
 *
 * @example
 * ```ts
 * const { branch, preact } = RESIDUAL_BLOCKS.preact_bottleneck;
 * if (branch !== 'bottleneck' || !preact) throw new Error('preact_bottleneck');
 * ```
 */
export const RESIDUAL_BLOCKS = {
  basic: { branch: 'basic', preact: false, description: 'two 3x3 convs, post-activation (ResNet v1)' },
  bottleneck: {
    branch: 'bottleneck',
    preact: false,
    description: '1x1-3x3-1x1, post-activation (ResNet v1/v1.5)',
  },
  preact_basic: { branch: 'basic', preact: true, description: 'two 3x3 convs, pre-activation (ResNet v2)' },
  preact_bottleneck: {
    branch: 'bottleneck',
    preact: true,
    description: '1x1-3x3-1x1, pre-activation (ResNet v2)',
  },
} as const satisfies Record<string, ResidualBlockSpec>;

/** A block type name: a key of {@link RESIDUAL_BLOCKS}. */
export type ResidualBlockName = keyof typeof RESIDUAL_BLOCKS;

/**
 * {@link RESIDUAL_BLOCKS} as a `Registry` from `@gradflow/core`: `get` throws `UnknownNameError`
 * with a did-you-mean suggestion.
 *
 * @example
 * ```ts
 * if (residualBlocks.get('basic').preact) throw new Error('basic is post-activation');
 * let message = '';
 * try {
 *   residualBlocks.get('botleneck');
 * } catch (e) {
 *   message = (e as Error).message; // suggests 'bottleneck'
 * }
 * if (!message.includes('bottleneck')) throw new Error(message);
 * ```
 */
export const residualBlocks = new Registry<ResidualBlockSpec>('residual block', RESIDUAL_BLOCKS, {
  hint: 'see listResidualBlocks()',
});

/**
 * Names of the block types, in registry order.
 *
 * @example
 * ```ts
 * const names = listResidualBlocks();
 * if (names.join() !== 'basic,bottleneck,preact_basic,preact_bottleneck') throw new Error(names.join());
 * ```
 */
export function listResidualBlocks(): string[] {
  return residualBlocks.list();
}

/** Options of {@link residualStage}: every block option plus the block type and count. */
export interface ResidualStageOptions extends Omit<BottleneckBlockOptions, 'dropPath' | 'preact'> {
  /** Block type by name (`basic`, `bottleneck`, `preact_basic`, `preact_bottleneck`). */
  block: ResidualBlockName;
  /** Number of blocks in the stage. */
  blocks: number;
  /** Stride of the first block (default 1); the others have stride 1. */
  stride?: number;
  /** Drop-path rate for every block, or one rate per block (e.g. a linear schedule). */
  dropPath?: number | readonly number[];
  /** Stage name; blocks are named `<name>_block1`, `<name>_block2`, ... (default `stage`). */
  name?: string;
}

/**
 * A stage of `blocks` residual blocks: the first carries the stride and the shortcut that
 * changes the shape, the rest keep it. Every block is validated before the first layer is
 * created, so a bad option anywhere in the stage leaves nothing behind.
 *
 * @example
 * ```ts
 * const x = tf.input({ shape: [16, 16, 16] });
 * const y = residualStage(x, { block: 'basic', blocks: 3, filters: 32, stride: 2, shortcut: 'option_a', name: 'stage2' });
 * // stage2_block1_conv1 ... stage2_block3_out
 * if (y.shape.join() !== ',8,8,32') throw new Error(String(y.shape));
 * ```
 */
export function residualStage(x: tf.SymbolicTensor, options: ResidualStageOptions): tf.SymbolicTensor {
  if (options === null || typeof options !== 'object')
    throw new InvalidArgumentError('stage options', options, 'an object with { block, blocks, filters }');
  const spec = residualBlocks.get(options.block);
  const blocks = checkInteger('blocks', options.blocks);
  const name = checkName(options.name ?? 'stage', 'stage');
  const rates = options.dropPath;
  if (Array.isArray(rates) && rates.length !== blocks) {
    throw new InvalidArgumentError(
      'dropPath',
      rates,
      `a number or an array of ${blocks} rates (one per block)`,
    );
  }
  const { block: _block, blocks: _blocks, dropPath: _dropPath, name: _name, ...common } = options;
  const plans: BlockPlan[] = [];
  let shape = nhwc(x, 'residual stage');
  for (let i = 0; i < blocks; i++) {
    const rate = Array.isArray(rates) ? rates[i] : rates;
    const plan = planBlock(shape, spec.branch, {
      ...common,
      preact: spec.preact,
      stride: i === 0 ? (options.stride ?? 1) : 1,
      name: `${name}_block${i + 1}`,
      ...(rate === undefined ? {} : { dropPath: rate as number }),
    });
    plans.push(plan);
    shape = plan.output;
  }
  return plans.reduce((h, plan) => buildBlock(h, plan), x);
}

/**
 * The block-type table of the README, generated from {@link RESIDUAL_BLOCKS}.
 *
 * @example
 * ```ts
 * const table = residualBlocksMarkdownTable();
 * if (!table.includes('| `preact_basic` | basic | pre-activation |')) throw new Error(table);
 * ```
 */
export function residualBlocksMarkdownTable(): string {
  const lines = ['| `block` | branch | ordering | what |', '| --- | --- | --- | --- |'];
  for (const [name, s] of residualBlocks) {
    lines.push(
      `| \`${name}\` | ${s.branch} | ${s.preact ? 'pre-activation' : 'post-activation'} | ${s.description} |`,
    );
  }
  return lines.join('\n');
}
