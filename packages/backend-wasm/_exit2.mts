import { useWasmBackend } from './src/index.js';
await useWasmBackend({ threads: Number(process.argv[2]) });
console.log('done');
