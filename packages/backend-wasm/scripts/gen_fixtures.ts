// Writes fixtures/train-losses.json: the losses of each end-to-end task (test/tasks.ts) trained on
// the tfjs CPU backend, the reference the wasm training test compares with.
//   npx tsx --conditions=source scripts/gen_fixtures.ts
// The stock cpu Conv2DBackpropFilter reads every element through TensorBuffer.get (~5 MFLOP/s:
// ~45 s per ResNet-20 step), so this script swaps in a direct-loop JS version of the same sum
// (float64 accumulation), after checking it against the stock cpu kernel on a few shapes.
import * as tf from '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import { TASKS, trainTask } from '../test/tasks.js';

interface CpuBackend {
  data: { get(id: object): { values: Float32Array } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}
type Args = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: Record<string, unknown> };

function filterGrad({ inputs, backend, attrs }: Args): tf.TensorInfo {
  const b = backend as CpuBackend;
  const x = inputs.x as tf.TensorInfo;
  const dy = inputs.dy as tf.TensorInfo;
  const fs = attrs.filterShape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    fs,
    attrs.strides as number,
    1,
    attrs.pad as 'same',
    attrs.dimRoundingMode as undefined,
  );
  const xv = b.data.get(x.dataId).values;
  const dyv = b.data.get(dy.dataId).values;
  const {
    batchSize: N,
    inHeight: H,
    inWidth: W,
    inChannels: C,
    outHeight: OH,
    outWidth: OW,
    outChannels: CO,
  } = info;
  const acc = new Float64Array(fs[0] * fs[1] * C * CO);
  for (let kh = 0; kh < fs[0]; kh++)
    for (let kw = 0; kw < fs[1]; kw++)
      for (let n = 0; n < N; n++)
        for (let oh = 0; oh < OH; oh++) {
          const ih = oh * info.strideHeight - info.padInfo.top + kh;
          if (ih < 0 || ih >= H) continue;
          for (let ow = 0; ow < OW; ow++) {
            const iw = ow * info.strideWidth - info.padInfo.left + kw;
            if (iw < 0 || iw >= W) continue;
            const xo = ((n * H + ih) * W + iw) * C;
            const yo = ((n * OH + oh) * OW + ow) * CO;
            for (let c = 0; c < C; c++) {
              const xval = xv[xo + c] as number;
              const base = ((kh * fs[1] + kw) * C + c) * CO;
              for (let o = 0; o < CO; o++)
                acc[base + o] = (acc[base + o] as number) + xval * (dyv[yo + o] as number);
            }
          }
        }
  return b.makeTensorInfo([...fs], 'float32', Float32Array.from(acc));
}

await tf.setBackend('cpu');
const stock = tf.getKernel('Conv2DBackpropFilter', 'cpu');
if (!stock) throw new Error('no cpu Conv2DBackpropFilter');
for (const [shape, fs, s] of [
  [[2, 7, 7, 3], [3, 3, 3, 4], 1],
  [[1, 8, 8, 4], [3, 3, 4, 2], 2],
  [[2, 6, 6, 2], [1, 1, 2, 3], 2],
] as const) {
  const x = tf.randomUniform([...shape]);
  const dy = tf
    .conv2d(x as tf.Tensor4D, tf.zeros([...fs]) as tf.Tensor4D, s, 'same')
    .add(tf.randomUniform([1]));
  const attrs = { strides: s, pad: 'same', dataFormat: 'NHWC', filterShape: [...fs] };
  const a = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs) as tf.Tensor;
  const bInfo = filterGrad({ inputs: { x, dy }, backend: tf.backend(), attrs });
  const bT = tf.engine().makeTensorFromTensorInfo(bInfo);
  const err = tf.max(tf.abs(tf.sub(a, bT))).dataSync()[0] as number;
  if (err > 1e-4) throw new Error(`direct-loop filter gradient differs from the stock cpu kernel by ${err}`);
}
tf.unregisterKernel('Conv2DBackpropFilter', 'cpu');
tf.registerKernel({
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'cpu',
  kernelFunc: filterGrad as unknown as tf.KernelFunc,
});

const out: Record<string, number[]> = {};
for (const task of TASKS) {
  const t0 = Date.now();
  out[task.name] = await trainTask(task);
  console.log(task.name, out[task.name], `${((Date.now() - t0) / 1000).toFixed(0)} s`);
}
writeFileSync(new URL('../fixtures/train-losses.json', import.meta.url), `${JSON.stringify(out, null, 2)}\n`);
