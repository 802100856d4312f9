// Prints the README's initializer table from the registry: npx tsx --conditions=source scripts/readme-table.ts
import { initializerTable } from '../src/registry.js';

console.log(initializerTable());
