import wt from 'node:worker_threads';
const Orig = wt.MessageChannel;
(globalThis as any).MessageChannel = (wt as any).MessageChannel = class extends Orig { constructor() { super(); console.log('MessageChannel created', new Error().stack?.split('\n').slice(2, 6).join(' | ')); } };
const { useWasmBackend } = await import('./src/index.js');
await useWasmBackend({ threads: 2 });
console.log('done');
setTimeout(() => process.exit(0), 1500);
