import './register.js';

export {
  unet,
  unetGraph,
  unetOptionsMarkdownTables,
  encoderStage,
  decoderStage,
  doubleConv,
  attentionGate,
  UPSAMPLINGS,
  upsamplings,
  DOWNSAMPLINGS,
  downsamplings,
  MATCHES,
  matches,
} from './unet.js';
export type {
  UNetOptions,
  UNetPartsOptions,
  EncoderStageOptions,
  DecoderStageOptions,
  DoubleConvOptions,
  AttentionGateOptions,
  Upsampling,
  Downsampling,
  Match,
} from './unet.js';
export { BilinearUpsample2D } from './layers/bilinear-upsample.js';
export type { BilinearUpsample2DArgs } from './layers/bilinear-upsample.js';
export { NearestUpsample2D } from './layers/nearest-upsample.js';
export type { NearestUpsample2DArgs } from './layers/nearest-upsample.js';
export { UNET_CLASSES } from './register.js';
