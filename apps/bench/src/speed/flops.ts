import type * as tf from '@tensorflow/tfjs';

type Shape = (number | null)[];

function dims(shape: Shape | Shape[]): number[] {
  const s = (Array.isArray(shape[0]) ? shape[0] : shape) as Shape;
  return s.slice(1).map((d) => d ?? 1);
}

const product = (xs: number[]) => xs.reduce((a, b) => a * b, 1);

/**
 * Forward multiply-adds of one example through `layer`, for the layer kinds that dominate
 * compute (conv, dense, recurrent). Elementwise layers (norms, activations) are not counted:
 * the GFLOP/s this feeds are the usual "useful FLOPs" convention of papers and PyTorch profilers.
 */
export function forwardMacs(layer: tf.layers.Layer): number {
  const config = layer.getConfig() as Record<string, unknown>;
  const out = dims(layer.outputShape as Shape | Shape[]);
  const inputs = layer.input;
  const input = dims((Array.isArray(inputs) ? inputs[0]! : inputs).shape);
  const kernel = (config.kernelSize as number[] | undefined) ?? [];
  switch (layer.getClassName()) {
    case 'Conv2D':
    case 'WeightStandardizedConv2d':
      return product(out) * product(kernel) * input[input.length - 1]!;
    case 'DepthwiseConv2D':
      return product(out) * product(kernel);
    case 'Conv2DTranspose':
      return product(input) * product(kernel) * out[out.length - 1]!;
    case 'Dense':
      return (product(out) / out[out.length - 1]!) * input[input.length - 1]! * out[out.length - 1]!;
    default:
      return recurrentMacs(layer, config, input);
  }
}

/**
 * Gates × (input + recurrent) projections per timestep, per stacked layer; ×2 for bidirectional
 * layers. Reads tfjs-style configs (`units`, `cell: 'gru'`) and @gradflow/recurrent's
 * (`cell: { type: 'gru', units }`, `numLayers`).
 */
function recurrentMacs(layer: tf.layers.Layer, config: Record<string, unknown>, input: number[]): number {
  const cell =
    typeof config.cell === 'object' && config.cell !== null ? (config.cell as Record<string, unknown>) : {};
  const gates = gateCount(layer.getClassName(), String(cell.type ?? config.cell ?? ''));
  if (gates === 0) return 0;
  const units = Number(cell.units ?? config.units ?? config.hiddenSize ?? 0);
  const [steps = 1, features = 1] = input;
  const directions = config.bidirectional ? 2 : 1;
  let macs = 0;
  let inputs = features;
  for (let i = 0; i < Number(config.numLayers ?? 1); i++) {
    macs += directions * steps * gates * units * (inputs + units);
    inputs = directions * units;
  }
  return macs;
}

function gateCount(className: string, cellType: string): number {
  const name = `${className} ${cellType}`.toLowerCase();
  if (name.includes('lstm')) return 4;
  if (name.includes('gru')) return 3;
  if (name.includes('rnn')) return 1;
  return 0;
}

/** FLOPs of one training step: forward + input gradient + weight gradient ≈ 3 × forward, 2 FLOPs per MAC. */
export function trainingStepGflop(model: tf.LayersModel, batch: number): number {
  const macs = model.layers.reduce((sum, layer) => sum + forwardMacs(layer), 0);
  return (3 * 2 * macs * batch) / 1e9;
}
