/**
 * Rewrites the metadata table in README.md from the registry (between the table markers).
 *   cd packages/activations && npx tsx --conditions=source scripts/readme-table.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { activationTable } from '../src/index.js';

const path = new URL('../README.md', import.meta.url);
const readme = readFileSync(path, 'utf8');
const start = '<!-- activation-table:start -->';
const end = '<!-- activation-table:end -->';
const i = readme.indexOf(start);
const j = readme.indexOf(end);
if (i < 0 || j < i) throw new Error(`README.md lacks the ${start} ... ${end} markers`);
writeFileSync(path, `${readme.slice(0, i + start.length)}\n\n${activationTable()}\n\n${readme.slice(j)}`);
console.log('README.md table updated');
