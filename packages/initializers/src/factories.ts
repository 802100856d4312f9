import type { SeedArgs } from './base.js';
import {
  Constant,
  Normal,
  Ones,
  TruncNormal,
  Uniform,
  Zeros,
  type ConstantArgs,
  type NormalArgs,
  type TruncNormalArgs,
  type UniformArgs,
} from './basic.js';
import {
  Dirac,
  Identity,
  Orthogonal,
  type DiracArgs,
  type IdentityArgs,
  type OrthogonalArgs,
} from './structured.js';
import {
  GlorotNormal,
  GlorotTruncatedNormal,
  GlorotUniform,
  HeNormal,
  HeTruncatedNormal,
  HeUniform,
  LecunNormal,
  LecunTruncatedNormal,
  LecunUniform,
  VarianceScaling,
  type GlorotArgs,
  type KaimingArgs,
  type VarianceScalingArgs,
} from './variance-scaling.js';

// Typed shortcuts, one per registry name (camelCase of it; a test keeps the two in step), in
// the style of `tf.initializers.*`: `heNormal({ mode: 'fan_out' })` is
// `resolveInitializer({ name: 'he_normal', mode: 'fan_out' })`.

export const zeros = (): Zeros => new Zeros();
export const ones = (): Ones => new Ones();
export const constant = (args: ConstantArgs = {}): Constant => new Constant(args);
export const normal = (args: NormalArgs = {}): Normal => new Normal(args);
export const uniform = (args: UniformArgs = {}): Uniform => new Uniform(args);
export const truncNormal = (args: TruncNormalArgs = {}): TruncNormal => new TruncNormal(args);
export const varianceScaling = (args: VarianceScalingArgs = {}): VarianceScaling => new VarianceScaling(args);
export const glorotNormal = (args: GlorotArgs = {}): GlorotNormal => new GlorotNormal(args);
export const glorotTruncatedNormal = (args: GlorotArgs = {}): GlorotTruncatedNormal =>
  new GlorotTruncatedNormal(args);
export const glorotUniform = (args: GlorotArgs = {}): GlorotUniform => new GlorotUniform(args);
export const xavierNormal = glorotNormal;
export const xavierUniform = glorotUniform;
export const heNormal = (args: KaimingArgs = {}): HeNormal => new HeNormal(args);
export const heTruncatedNormal = (args: KaimingArgs = {}): HeTruncatedNormal => new HeTruncatedNormal(args);
export const heUniform = (args: KaimingArgs = {}): HeUniform => new HeUniform(args);
export const kaimingNormal = heNormal;
export const kaimingUniform = heUniform;
export const lecunNormal = (args: SeedArgs = {}): LecunNormal => new LecunNormal(args);
export const lecunTruncatedNormal = (args: SeedArgs = {}): LecunTruncatedNormal =>
  new LecunTruncatedNormal(args);
export const lecunUniform = (args: SeedArgs = {}): LecunUniform => new LecunUniform(args);
export const orthogonal = (args: OrthogonalArgs = {}): Orthogonal => new Orthogonal(args);
export const identity = (args: IdentityArgs = {}): Identity => new Identity(args);
export const eye = identity;
export const dirac = (args: DiracArgs = {}): Dirac => new Dirac(args);
