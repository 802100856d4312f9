import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exampleModule, packageSymbols, publishedPackages } from '../src/examples.js';

// Every `@example` in the packages' TSDoc runs here, so the documentation cannot rot: the code
// a reader copies is code that ran in CI against the current sources.
const OUT = fileURLToPath(new URL('../.examples/', import.meta.url));
rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });

const packages = publishedPackages().map(({ name, dir }) => ({ name, symbols: packageSymbols(name, dir) }));

describe.each(packages)('$name', ({ name, symbols }) => {
  const values = symbols.filter((s) => s.kind === 'value').map((s) => s.symbol);
  const examples = symbols.flatMap((s, k) => s.examples.map((code, i) => ({ symbol: s.symbol, code, i, k })));

  it('documents every public symbol with TSDoc', () => {
    expect(symbols.filter((s) => !s.documented).map((s) => s.symbol)).toEqual([]);
  });

  it('gives every public function, class and constant an @example', () => {
    expect(symbols.filter((s) => s.kind === 'value' && s.examples.length === 0).map((s) => s.symbol)).toEqual(
      [],
    );
  });

  it.each(examples)('@example of $symbol (#$i) runs', async ({ symbol, code, i, k }) => {
    // The symbol's index keeps names unique on case-insensitive file systems (recurrentLayer vs RecurrentLayer).
    const file = join(OUT, `${name.replace('@gradflow/', '')}-${k}-${symbol}-${i}.ts`);
    writeFileSync(file, exampleModule({ packageName: name, symbol, file, code }, values));
    const { default: run } = (await import(/* @vite-ignore */ file)) as { default: () => Promise<void> };
    await run();
  });
});
