import type { Mode } from '../types.js';

/** A model the speed suite times: a zoo name, its input, batch, and its PyTorch twin. */
export interface SpeedModel {
  /** Row label. */
  id: string;
  /** Zoo model name and options. */
  zoo: string;
  options: Record<string, unknown>;
  inputShape: number[];
  batch: number;
  /** Name in torch/speed_reference.py, if it has one. */
  torch?: string;
  /** Included in --quick. */
  quick: boolean;
  /** A conv net: tfjs-cpu needs tens of seconds per training step, so --quick does not time it there. */
  conv: boolean;
}

export const SPEED_MODELS: readonly SpeedModel[] = [
  {
    id: 'resnet20',
    zoo: 'resnet20',
    options: {},
    inputShape: [32, 32, 3],
    batch: 32,
    torch: 'resnet20',
    quick: true,
    conv: true,
  },
  {
    id: 'resnet56',
    zoo: 'resnet56',
    options: {},
    inputShape: [32, 32, 3],
    batch: 32,
    torch: 'resnet56',
    quick: false,
    conv: true,
  },
  {
    id: 'resnet18',
    zoo: 'resnet18',
    options: {},
    inputShape: [64, 64, 3],
    batch: 16,
    torch: 'resnet18',
    quick: false,
    conv: true,
  },
  {
    id: 'densenet_bc_100',
    zoo: 'densenet_bc_100',
    options: {},
    inputShape: [32, 32, 3],
    // At batch 32 a step needs more than tfjs-wasm's 4 GiB heap (tfjs keeps every concatenation
    // and its BatchNorm/ReLU outputs for the backward pass) and aborts, stock or not; batch 8 peaks
    // at 1.1 GB. PyTorch runs the same batch.
    batch: 8,
    torch: 'densenet_bc_100',
    quick: false,
    conv: true,
  },
  {
    id: 'unet',
    zoo: 'unet',
    options: {},
    inputShape: [64, 64, 3],
    batch: 8,
    torch: 'unet',
    quick: true,
    conv: true,
  },
  {
    id: 'gru',
    zoo: 'gru_classifier',
    options: { units: 128 },
    inputShape: [100, 32],
    batch: 32,
    torch: 'gru',
    quick: true,
    conv: false,
  },
  {
    id: 'lstm',
    zoo: 'lstm_classifier',
    options: { units: 128 },
    inputShape: [100, 32],
    batch: 32,
    torch: 'lstm',
    quick: false,
    conv: false,
  },
  {
    id: 'mlp',
    zoo: 'mlp',
    options: { depth: 20, width: 256, activation: 'relu' },
    inputShape: [28, 28, 1],
    batch: 64,
    torch: 'mlp',
    quick: true,
    conv: false,
  },
];

export function speedModels(mode: Mode): SpeedModel[] {
  return SPEED_MODELS.filter((m) => mode === 'full' || m.quick);
}
