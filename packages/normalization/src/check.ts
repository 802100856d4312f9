import { InvalidArgumentError } from '@gradflow/core';
import type { InitializerLike } from './init.js';
import { getNorm, normLayer, type NormLike, type NormName } from './registry.js';

/**
 * Whether a norm spec means "no normalization" (`'none'` or `null`).
 *
 * @example
 * ```ts
 * if (!isNoNorm('none') || isNoNorm('batch_norm')) throw new Error('unexpected');
 * ```
 */
export function isNoNorm(spec: NormLike | undefined): boolean {
  return spec === null || spec === 'none';
}

/** Checks that a norm accepts a channel count (GroupNorm's groups must divide it); throws otherwise. */
export type NormChannelCheck = (channels: number, where: string) => void;

/**
 * Validates a norm spec before a block creates any layer — the name through the registry (with
 * its did-you-mean error) and the options by constructing a layer that is never applied, so it
 * owns no weights — and returns a check of the channel counts the norm will see. Block builders
 * call it first, so a bad norm leaves no half-built graph behind.
 *
 * @example
 * ```ts
 * const check = normChecker({ name: 'group_norm', groups: 4 });
 * check(16, 'stage1_conv1'); // fine: 4 divides 16
 * let threw = false;
 * try {
 *   check(6, 'stage1_conv2');
 * } catch {
 *   threw = true;
 * }
 * if (!threw) throw new Error('4 groups cannot divide 6 channels');
 * ```
 */
export function normChecker(spec: NormLike, gammaInitializer?: InitializerLike): NormChannelCheck {
  if (isNoNorm(spec)) return () => undefined;
  if (typeof spec === 'string') getNorm(spec as NormName);
  else if (spec !== null && typeof spec === 'object' && typeof spec.name === 'string')
    getNorm(spec.name as NormName);
  const probe = normLayer(
    spec,
    gammaInitializer === undefined
      ? { name: '__gradflow_probe_norm' }
      : { name: '__gradflow_probe_norm', gammaInitializer },
  );
  const config = probe?.getConfig() ?? {};
  const groupSize = typeof config['groupSize'] === 'number' ? config['groupSize'] : null;
  const groups = typeof config['groups'] === 'number' ? config['groups'] : null;
  return (channels, where) => {
    const g = groupSize ?? groups;
    if (g !== null && channels % g !== 0) {
      throw new InvalidArgumentError(
        groupSize !== null ? 'norm groupSize' : 'norm groups',
        g,
        `a divisor of the ${channels} channels of ${where}`,
        `pass a norm whose groups divide every normalized channel count`,
      );
    }
  };
}
