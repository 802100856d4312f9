import type { Plan } from './graph.js';

/**
 * A residual block as found in the layer graph: an `Add` layer with two inputs. Of its two
 * inputs, the one computed by more layers (the longest path from the model input) is the
 * residual branch; the other is the shortcut. The block input is found by walking the shortcut
 * back (first input of each producer) until it reaches a tensor the branch also depends on:
 * when the shortcut tensor is itself such an ancestor the shortcut is the `identity`,
 * otherwise a `projection` (1x1 conv, pooling, ...).
 */
export interface ResidualBlock {
  block: string;
  branch: string;
  blockInput: string;
  shortcut: 'identity' | 'projection';
  outputId: number;
  branchId: number;
  stepIndex: number;
}

const cache = new WeakMap<Plan, readonly ResidualBlock[]>();

/** The residual blocks of `plan` (cached per plan, which is cached per model). */
export function findResidualBlocks(plan: Plan): readonly ResidualBlock[] {
  const hit = cache.get(plan);
  if (hit) return hit;
  const blocks = searchResidualBlocks(plan);
  cache.set(plan, blocks);
  return blocks;
}

function searchResidualBlocks(plan: Plan): ResidualBlock[] {
  const depth = new Map<number, number>();
  for (const id of plan.inputIds) depth.set(id, 0);
  const stepOf = (id: number) => plan.producer.get(id) ?? -1;
  plan.steps.forEach((step) => {
    const d = 1 + Math.max(0, ...step.inputIds.map((id) => depth.get(id) ?? 0));
    for (const id of step.outputIds) depth.set(id, d);
  });
  const ancestors = (id: number): Set<number> => {
    const seen = new Set<number>();
    const stack = [id];
    while (stack.length > 0) {
      const t = stack.pop()!;
      if (seen.has(t)) continue;
      seen.add(t);
      const s = stepOf(t);
      if (s >= 0) stack.push(...plan.steps[s]!.inputIds);
    }
    return seen;
  };
  const nameOf = (id: number) => {
    const s = stepOf(id);
    return s >= 0 ? plan.steps[s]!.name : 'input';
  };
  const blocks: ResidualBlock[] = [];
  plan.steps.forEach((step, index) => {
    if (step.layer.getClassName() !== 'Add' || step.inputIds.length !== 2) return;
    const [a, b] = step.inputIds as [number, number];
    const [branchId, shortcutId] = (depth.get(a) ?? 0) >= (depth.get(b) ?? 0) ? [a, b] : [b, a];
    const branchAncestors = ancestors(branchId);
    let cursor = shortcutId;
    let hops = 0;
    while (!branchAncestors.has(cursor)) {
      const s = stepOf(cursor);
      if (s < 0) break;
      cursor = plan.steps[s]!.inputIds[0]!;
      hops++;
    }
    blocks.push({
      block: step.name,
      branch: nameOf(branchId),
      blockInput: nameOf(cursor),
      shortcut: hops === 0 ? 'identity' : 'projection',
      outputId: step.outputIds[0]!,
      branchId,
      stepIndex: index,
    });
  });
  return blocks;
}
