// The baseline the issue measures against: stock tfjs wasm plus a naive (direct-loop, scalar JS)
// Conv2DBackpropFilter / depthwise backprops on the wasm heap, the obvious way to fill the gap.
import * as tf from '@tensorflow/tfjs';

interface Heap {
  wasm: { HEAPF32: Float32Array };
  dataIdMap: { get(id: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

function view(b: Heap, t: tf.TensorInfo): Float32Array {
  const size = t.shape.reduce((p, d) => p * d, 1);
  const off = b.dataIdMap.get(t.dataId).memoryOffset;
  return b.wasm.HEAPF32.subarray(off / 4, off / 4 + size);
}

type Args = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: Record<string, unknown> };

function filterGrad({ inputs, backend, attrs }: Args, depthwise: boolean): tf.TensorInfo {
  const b = backend as Heap;
  const x = inputs.x as tf.TensorInfo;
  const dy = inputs.dy as tf.TensorInfo;
  const fs = attrs.filterShape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    fs,
    attrs.strides as number,
    (attrs.dilations as number | undefined) ?? 1,
    attrs.pad as 'same',
    undefined,
    depthwise,
  );
  const out = b.makeOutput([...fs], 'float32');
  const xv = view(b, x);
  const dyv = view(b, dy);
  const dw = view(b, out);
  dw.fill(0);
  const {
    batchSize: N,
    inHeight: H,
    inWidth: W,
    inChannels: C,
    outHeight: OH,
    outWidth: OW,
    outChannels: CO,
  } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dwd } = info;
  const { top, left } = info.padInfo;
  const mult = depthwise ? fs[3] : 1;
  for (let kh = 0; kh < fs[0]; kh++)
    for (let kw = 0; kw < fs[1]; kw++)
      for (let n = 0; n < N; n++)
        for (let oh = 0; oh < OH; oh++) {
          const ih = oh * sh - top + kh * dh;
          if (ih < 0 || ih >= H) continue;
          for (let ow = 0; ow < OW; ow++) {
            const iw = ow * sw - left + kw * dwd;
            if (iw < 0 || iw >= W) continue;
            const xo = ((n * H + ih) * W + iw) * C;
            const yo = ((n * OH + oh) * OW + ow) * CO;
            if (depthwise) {
              for (let c = 0; c < C; c++)
                for (let q = 0; q < mult; q++)
                  dw[((kh * fs[1] + kw) * C + c) * mult + q]! += xv[xo + c]! * dyv[yo + c * mult + q]!;
            } else {
              for (let c = 0; c < C; c++) {
                const xval = xv[xo + c]!;
                const base = ((kh * fs[1] + kw) * C + c) * CO;
                for (let o = 0; o < CO; o++) dw[base + o]! += xval * dyv[yo + o]!;
              }
            }
          }
        }
  return out;
}

function depthwiseInputGrad({ inputs, backend, attrs }: Args): tf.TensorInfo {
  const b = backend as Heap;
  const dy = inputs.dy as tf.TensorInfo;
  const f = inputs.filter as tf.TensorInfo;
  const xs = attrs.inputShape as [number, number, number, number];
  const fs = f.shape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(
    xs,
    fs,
    attrs.strides as number,
    (attrs.dilations as number | undefined) ?? 1,
    attrs.pad as 'same',
    undefined,
    true,
  );
  const out = b.makeOutput([...xs], 'float32');
  const dx = view(b, out);
  const dyv = view(b, dy);
  const wv = view(b, f);
  dx.fill(0);
  const {
    batchSize: N,
    inHeight: H,
    inWidth: W,
    inChannels: C,
    outHeight: OH,
    outWidth: OW,
    outChannels: CO,
  } = info;
  const mult = fs[3];
  for (let n = 0; n < N; n++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++)
        for (let kh = 0; kh < fs[0]; kh++) {
          const ih = oh * info.strideHeight - info.padInfo.top + kh * info.dilationHeight;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < fs[1]; kw++) {
            const iw = ow * info.strideWidth - info.padInfo.left + kw * info.dilationWidth;
            if (iw < 0 || iw >= W) continue;
            for (let c = 0; c < C; c++)
              for (let q = 0; q < mult; q++)
                dx[((n * H + ih) * W + iw) * C + c]! +=
                  wv[((kh * fs[1] + kw) * C + c) * mult + q]! *
                  dyv[((n * OH + oh) * OW + ow) * CO + c * mult + q]!;
          }
        }
  return out;
}

const NAIVE: tf.KernelConfig[] = [
  {
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: ((a: Args) => filterGrad(a, false)) as unknown as tf.KernelFunc,
  },
  {
    kernelName: 'DepthwiseConv2dNativeBackpropFilter',
    backendName: 'wasm',
    kernelFunc: ((a: Args) => filterGrad(a, true)) as unknown as tf.KernelFunc,
  },
  {
    kernelName: 'DepthwiseConv2dNativeBackpropInput',
    backendName: 'wasm',
    kernelFunc: depthwiseInputGrad as unknown as tf.KernelFunc,
  },
];

export function registerNaive(): void {
  for (const k of NAIVE) if (!tf.getKernel(k.kernelName, 'wasm')) tf.registerKernel(k);
}

export function unregisterNaive(): void {
  for (const k of NAIVE)
    if (tf.getKernel(k.kernelName, 'wasm')?.kernelFunc === k.kernelFunc)
      tf.unregisterKernel(k.kernelName, 'wasm');
}
