import { useWasmBackend } from './src/index.js';
await useWasmBackend({ threads: 2 });
console.log('done');
setTimeout(() => {
  const hs = (process as any)._getActiveHandles();
  console.log(hs.map((h: any) => h.constructor?.name + ' ref=' + (h.hasRef ? h.hasRef() : '?')));
  const rs = (process as any).getActiveResourcesInfo?.();
  console.log(rs);
  process.exit(0);
}, 2000).unref?.();
setTimeout(() => {}, 2500);
