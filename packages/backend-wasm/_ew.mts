import * as tf from '@tensorflow/tfjs';
import { useWasmBackend } from './src/index.js';
const threads = Number(process.argv[2] ?? 1);
await useWasmBackend({ threads });
const a = tf.randomNormal([32, 32, 32, 16]), b = tf.randomNormal([32, 32, 32, 16]), c = tf.randomNormal([16]);
const w = tf.randomNormal([3, 3, 16, 16]);
function t(label: string, f: () => tf.Tensor, reps = 50) {
  for (let i = 0; i < 10; i++) f().dispose();
  const ts: number[] = [];
  for (let r = 0; r < 7; r++) { const t0 = performance.now(); for (let i = 0; i < reps; i++) f().dispose(); ts.push((performance.now() - t0) / reps * 1000); }
  ts.sort((x, y) => x - y);
  console.log(`${threads}T ${label.padEnd(30)} ${ts[3].toFixed(0)} us`);
}
console.log('start');
t('add full 2MB', () => tf.add(a, b));
t('add per-channel', () => tf.add(a, c));
t('relu', () => tf.relu(a));
t('conv xnnpack 32x32x16', () => tf.conv2d(a as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'), 5);
t('conv then add', () => { const y = tf.conv2d(a as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'); const z = tf.add(y, b); y.dispose(); return z; }, 5);
