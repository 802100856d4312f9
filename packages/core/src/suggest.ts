/**
 * Levenshtein distance (insertions, deletions, substitutions), the measure behind "did you mean".
 *
 * @example
 * ```ts
 * editDistance('kitten', 'sitting'); // 3
 * if (editDistance('relu', 'rleu') !== 2) throw new Error('unexpected');
 * ```
 */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * The known names closest to `name` (ignoring case and separators): those at the smallest edit
 * distance, provided it is within about a third of the name's length; at most `max` of them.
 *
 * @example
 * ```ts
 * suggestNames('Leaky-ReLU', ['leaky_relu', 'relu', 'elu']); // ['leaky_relu']
 * suggestNames('softmaxx', ['relu', 'tanh']); // [] (nothing close enough)
 * if (suggestNames('gelu_tahn', ['gelu_tanh', 'gelu'])[0] !== 'gelu_tanh') throw new Error('unexpected');
 * ```
 */
export function suggestNames(name: string, known: readonly string[], max = 3): string[] {
  const normalize = (s: string) => s.toLowerCase().replace(/[-_\s]/g, '');
  const target = normalize(name);
  const limit = Math.max(2, Math.ceil(target.length / 3));
  const scored = known.map((candidate) => ({
    candidate,
    distance: editDistance(target, normalize(candidate)),
  }));
  const best = Math.min(...scored.map(({ distance }) => distance));
  if (best > limit) return [];
  return scored
    .filter(({ distance }) => distance === best)
    .slice(0, max)
    .map(({ candidate }) => candidate);
}
