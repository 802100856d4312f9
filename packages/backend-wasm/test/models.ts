// Plain tf.layers models for the end-to-end tests and the bench (not the zoo: this package sits below it).
import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError } from '@gradflow/core';

function convBn(
  x: tf.SymbolicTensor,
  filters: number,
  stride: number,
  name: string,
  relu = true,
): tf.SymbolicTensor {
  let y = tf.layers
    .conv2d({
      filters,
      kernelSize: 3,
      strides: stride,
      padding: 'same',
      useBias: false,
      name: `${name}_conv`,
    })
    .apply(x) as tf.SymbolicTensor;
  y = tf.layers.batchNormalization({ name: `${name}_bn` }).apply(y) as tf.SymbolicTensor;
  return relu ? (tf.layers.reLU({ name: `${name}_relu` }).apply(y) as tf.SymbolicTensor) : y;
}

/** CIFAR ResNet (He et al. 2016, 6n+2 layers; n=3 is ResNet-20) with 1x1 projection shortcuts. */
export function resnetCifar(
  n = 3,
  inputShape: [number, number, number] = [32, 32, 3],
  classes = 10,
): tf.LayersModel {
  const input = tf.input({ shape: inputShape });
  let x = convBn(input, 16, 1, 'stem');
  [16, 32, 64].forEach((filters, stage) => {
    for (let b = 0; b < n; b++) {
      const stride = stage > 0 && b === 0 ? 2 : 1;
      const name = `stage${stage + 1}_block${b + 1}`;
      let y = convBn(x, filters, stride, `${name}_1`);
      y = convBn(y, filters, 1, `${name}_2`, false);
      let shortcut = x;
      if (stride !== 1 || (x.shape[3] as number) !== filters) {
        shortcut = tf.layers
          .conv2d({ filters, kernelSize: 1, strides: stride, useBias: false, name: `${name}_proj` })
          .apply(x) as tf.SymbolicTensor;
        shortcut = tf.layers
          .batchNormalization({ name: `${name}_proj_bn` })
          .apply(shortcut) as tf.SymbolicTensor;
      }
      x = tf.layers.add({ name: `${name}_add` }).apply([y, shortcut]) as tf.SymbolicTensor;
      x = tf.layers.reLU({ name: `${name}_out` }).apply(x) as tf.SymbolicTensor;
    }
  });
  x = tf.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({ units: classes, activation: 'softmax', name: 'fc' })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: `resnet${6 * n + 2}` });
}

/** A small U-Net: two down levels (conv-BN-ReLU, max-pool), transposed-conv up path with skips. */
export function smallUnet(size = 16, channels = 1, base = 8): tf.LayersModel {
  const input = tf.input({ shape: [size, size, channels] });
  const block = (x: tf.SymbolicTensor, filters: number, name: string): tf.SymbolicTensor =>
    convBn(convBn(x, filters, 1, `${name}a`), filters, 1, `${name}b`);
  const d1 = block(input, base, 'down1');
  const p1 = tf.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }).apply(d1) as tf.SymbolicTensor;
  const d2 = block(p1, base * 2, 'down2');
  const p2 = tf.layers.maxPooling2d({ poolSize: 2, name: 'pool2' }).apply(d2) as tf.SymbolicTensor;
  const mid = block(p2, base * 4, 'mid');
  const up = (
    x: tf.SymbolicTensor,
    skip: tf.SymbolicTensor,
    filters: number,
    name: string,
  ): tf.SymbolicTensor => {
    const u = tf.layers
      .conv2dTranspose({ filters, kernelSize: 2, strides: 2, padding: 'same', name: `${name}_up` })
      .apply(x) as tf.SymbolicTensor;
    const c = tf.layers.concatenate({ name: `${name}_cat` }).apply([u, skip]) as tf.SymbolicTensor;
    return block(c, filters, name);
  };
  const u2 = up(mid, d2, base * 2, 'up2');
  const u1 = up(u2, d1, base, 'up1');
  const out = tf.layers
    .conv2d({ filters: channels, kernelSize: 1, activation: 'sigmoid', name: 'head' })
    .apply(u1) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: 'unet_small' });
}

/**
 * CIFAR DenseNet-BC (Huang et al. 2017): a 3x3 stem of 2k channels, three dense blocks of
 * (depth − 4) / 6 bottleneck layers (BN-ReLU-conv1x1 to 4k, BN-ReLU-conv3x3 to k, concatenated
 * onto the block's input), transitions halving channels (compression 0.5) and size (2x2 average
 * pooling), then BN-ReLU, global pooling and a softmax. depth 100, k 12 is DenseNet-BC-100.
 */
export function densenetBC(
  depth = 100,
  growth = 12,
  inputShape: [number, number, number] = [32, 32, 3],
  classes = 10,
): tf.LayersModel {
  const perBlock = (depth - 4) / 6;
  if (!Number.isInteger(perBlock) || perBlock < 1)
    throw new InvalidArgumentError('depth', depth, 'a depth of 6n + 4 with n >= 1');
  const bnRelu = (x: tf.SymbolicTensor, name: string): tf.SymbolicTensor =>
    tf.layers
      .reLU({ name: `${name}_relu` })
      .apply(tf.layers.batchNormalization({ name: `${name}_bn` }).apply(x)) as tf.SymbolicTensor;
  const conv = (x: tf.SymbolicTensor, filters: number, kernelSize: number, name: string): tf.SymbolicTensor =>
    tf.layers
      .conv2d({ filters, kernelSize, padding: 'same', useBias: false, name })
      .apply(x) as tf.SymbolicTensor;
  const input = tf.input({ shape: inputShape });
  let x = conv(input, 2 * growth, 3, 'stem');
  for (let block = 1; block <= 3; block++) {
    for (let l = 1; l <= perBlock; l++) {
      const name = `block${block}_layer${l}`;
      let y = conv(bnRelu(x, `${name}_1`), 4 * growth, 1, `${name}_conv1`);
      y = conv(bnRelu(y, `${name}_2`), growth, 3, `${name}_conv2`);
      x = tf.layers.concatenate({ name: `${name}_cat` }).apply([x, y]) as tf.SymbolicTensor;
    }
    if (block < 3) {
      const name = `transition${block}`;
      x = conv(bnRelu(x, name), Math.floor((x.shape[3] as number) / 2), 1, `${name}_conv`);
      x = tf.layers.averagePooling2d({ poolSize: 2, name: `${name}_pool` }).apply(x) as tf.SymbolicTensor;
    }
  }
  x = tf.layers.globalAveragePooling2d({ name: 'pool' }).apply(bnRelu(x, 'final')) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({ units: classes, activation: 'softmax', name: 'fc' })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: `densenet_bc_${depth}` });
}

/** A tiny conv net touching every kernel this package adds (strided conv, depthwise, dense). */
export function tinyConvNet(): tf.LayersModel {
  const input = tf.input({ shape: [9, 9, 2] });
  let x = tf.layers
    .conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', name: 'c1' })
    .apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ name: 'bn1' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.reLU({ name: 'r1' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers
    .depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'valid', name: 'dw' })
    .apply(x) as tf.SymbolicTensor;
  x = tf.layers.flatten({ name: 'flat' }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 3, activation: 'softmax', name: 'fc' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: 'tiny' });
}
