import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

/** One `@example` code block of an exported symbol. */
export interface DocExample {
  packageName: string;
  symbol: string;
  file: string;
  code: string;
}

/** A public symbol of a package and whether its TSDoc is complete. */
export interface SymbolDoc {
  packageName: string;
  symbol: string;
  kind: 'value' | 'type';
  documented: boolean;
  examples: string[];
}

export const PACKAGES_DIR = new URL('../../../packages/', import.meta.url);

/** Published packages (everything in packages/ that is not private). */
export function publishedPackages(): { name: string; dir: string }[] {
  return readdirSync(PACKAGES_DIR)
    .map((d) => ({
      dir: join(PACKAGES_DIR.pathname, d),
      pkg: JSON.parse(readFileSync(join(PACKAGES_DIR.pathname, d, 'package.json'), 'utf8')) as {
        name: string;
        private?: boolean;
      },
    }))
    .filter(({ pkg }) => !pkg.private)
    .map(({ dir, pkg }) => ({ name: pkg.name, dir }));
}

function codeBlocks(text: string): string[] {
  return [...text.matchAll(/```(?:ts|typescript|js)?\n([\s\S]*?)```/g)].map((m) => m[1]!.trim());
}

/**
 * The public symbols of one package (the exports of `src/index.ts`, followed through
 * re-exports) with their TSDoc status and `@example` blocks, read with the TypeScript checker.
 */
export function packageSymbols(name: string, dir: string): SymbolDoc[] {
  const entry = join(dir, 'src', 'index.ts');
  const program = ts.createProgram([entry], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    customConditions: ['source'],
    noEmit: true,
    skipLibCheck: true,
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(entry);
  const moduleSymbol = source && checker.getSymbolAtLocation(source);
  if (!moduleSymbol) return [];
  return checker.getExportsOfModule(moduleSymbol).map((exported) => {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const isValue = Boolean(symbol.flags & ts.SymbolFlags.Value);
    const docs = ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim();
    const tags = symbol.getJsDocTags(checker);
    const examples = tags
      .filter((t) => t.name === 'example')
      .flatMap((t) => codeBlocks(ts.displayPartsToString(t.text)));
    return {
      packageName: name,
      symbol: exported.name,
      kind: isValue ? 'value' : 'type',
      documented: docs.length > 0,
      examples,
    };
  });
}

/** Every `@example` of every published package, with the file it came from. */
export function allExamples(): DocExample[] {
  return publishedPackages().flatMap(({ name, dir }) =>
    packageSymbols(name, dir).flatMap((s) =>
      s.examples.map((code) => ({
        packageName: name,
        symbol: s.symbol,
        file: relative(process.cwd(), dir),
        code,
      })),
    ),
  );
}

/**
 * An example as a runnable module: its own `import` lines are hoisted; when it has none, every
 * export of its package and `tf` are put in scope, as a reader of the docs would have them.
 */
export function exampleModule(example: DocExample, exportNames: string[]): string {
  const lines = example.code.split('\n');
  const imports = lines.filter((l) => /^\s*import\s/.test(l));
  const body = lines.filter((l) => !/^\s*import\s/.test(l)).join('\n');
  const header = [
    ...(imports.some((l) => l.includes("'@tensorflow/tfjs'"))
      ? []
      : ["import * as tf from '@tensorflow/tfjs';"]),
    ...(imports.length > 0
      ? imports
      : [`import { ${exportNames.join(', ')} } from '${example.packageName}';`]),
  ];
  return `${header.join('\n')}\n\nexport default async function run(): Promise<void> {\n${body}\n}\nvoid tf;\n`;
}
