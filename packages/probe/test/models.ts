import * as tf from '@tensorflow/tfjs';

export interface MlpOptions {
  depth: number;
  width: number;
  inputDim?: number;
  classes?: number;
  activation: 'sigmoid' | 'tanh' | 'relu';
  /** std of the normal kernel initializer */
  std: number;
  bias?: number;
  seed?: number;
  name?: string;
}

/** A deep MLP with named layers `dense_1..dense_depth` and a softmax head. */
export function mlp(o: MlpOptions): tf.LayersModel {
  const seed = o.seed ?? 1;
  const input = tf.input({ shape: [o.inputDim ?? 16], name: `${o.name ?? 'mlp'}_in` });
  let h: tf.SymbolicTensor = input;
  for (let i = 1; i <= o.depth; i++) {
    h = tf.layers
      .dense({
        units: o.width,
        activation: o.activation,
        kernelInitializer: tf.initializers.randomNormal({ mean: 0, stddev: o.std, seed: seed + i }),
        biasInitializer: tf.initializers.constant({ value: o.bias ?? 0 }),
        name: `${o.name ?? 'mlp'}_dense_${i}`,
      })
      .apply(h) as tf.SymbolicTensor;
  }
  const out = tf.layers
    .dense({
      units: o.classes ?? 4,
      activation: 'softmax',
      kernelInitializer: tf.initializers.glorotNormal({ seed: seed + 1000 }),
      name: `${o.name ?? 'mlp'}_head`,
    })
    .apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: o.name ?? 'mlp' });
}

/** A batch with one-hot labels. */
export function classificationBatch(n: number, inputDim: number, classes: number, seed = 3) {
  return tf.tidy(() => {
    const x = tf.randomNormal([n, inputDim], 0, 1, 'float32', seed);
    const labels = tf.tensor1d(
      Array.from({ length: n }, (_, i) => i % classes),
      'int32',
    );
    const y = tf.oneHot(labels, classes).cast('float32');
    return { x, y };
  });
}

/**
 * CIFAR ResNet (He et al. 2016, section 4.2) with 6n+2 layers: n basic blocks per stage,
 * 3 stages; `plain` drops the shortcuts. Tiny width and input so it runs fast on cpu.
 */
export function cifarResnet(o: {
  n: number;
  width: number;
  plain: boolean;
  size?: number;
  classes?: number;
  seed?: number;
}) {
  const seed = o.seed ?? 7;
  let k = 0;
  const init = () => tf.initializers.heNormal({ seed: seed + k++ });
  const size = o.size ?? 8;
  const input = tf.input({ shape: [size, size, 3], name: 'image' });
  const conv = (x: tf.SymbolicTensor, filters: number, stride: number, name: string) =>
    tf.layers
      .conv2d({
        filters,
        kernelSize: 3,
        strides: stride,
        padding: 'same',
        useBias: false,
        kernelInitializer: init(),
        name,
      })
      .apply(x) as tf.SymbolicTensor;
  const bn = (x: tf.SymbolicTensor, name: string) =>
    tf.layers.batchNormalization({ name }).apply(x) as tf.SymbolicTensor;
  const relu = (x: tf.SymbolicTensor, name: string) => tf.layers.reLU({ name }).apply(x) as tf.SymbolicTensor;
  let h = relu(bn(conv(input, o.width, 1, 'stem_conv'), 'stem_bn'), 'stem_relu');
  for (let s = 1; s <= 3; s++) {
    const filters = o.width * 2 ** (s - 1);
    for (let b = 1; b <= o.n; b++) {
      const stride = s > 1 && b === 1 ? 2 : 1;
      const p = `stage${s}_block${b}`;
      let r = relu(bn(conv(h, filters, stride, `${p}_conv1`), `${p}_bn1`), `${p}_relu1`);
      r = bn(conv(r, filters, 1, `${p}_conv2`), `${p}_bn2`);
      if (!o.plain) {
        let shortcut = h;
        if (stride !== 1 || (h.shape[3] ?? 0) !== filters) {
          shortcut = tf.layers
            .conv2d({
              filters,
              kernelSize: 1,
              strides: stride,
              useBias: false,
              kernelInitializer: init(),
              name: `${p}_proj`,
            })
            .apply(h) as tf.SymbolicTensor;
          shortcut = bn(shortcut, `${p}_proj_bn`);
        }
        r = tf.layers.add({ name: `${p}_add` }).apply([shortcut, r]) as tf.SymbolicTensor;
      }
      h = relu(r, `${p}_out`);
    }
  }
  const pooled = tf.layers.globalAveragePooling2d({ name: 'pool' }).apply(h) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({ units: o.classes ?? 4, activation: 'softmax', kernelInitializer: init(), name: 'fc' })
    .apply(pooled) as tf.SymbolicTensor;
  return tf.model({
    inputs: input,
    outputs: out,
    name: o.plain ? `plain${6 * o.n + 2}` : `resnet${6 * o.n + 2}`,
  });
}

/** Snapshot of every weight (trainable and not) as plain arrays. */
export function weightValues(model: tf.LayersModel): Float32Array[] {
  return model.weights.map((w) => w.read().dataSync() as Float32Array);
}
