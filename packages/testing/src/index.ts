export { backendsUnderTest, setBackend, withBackend } from './backends.js';
export type { BackendName } from './backends.js';
export { compareClose, expectAllClose, finiteDifferenceGradient, expectNoLeak } from './numerics.js';
export type { Tolerance } from './numerics.js';
export { runLayerContract } from './layer-contract.js';
export type { LayerContractOptions, LayerContractResult, BackendRun } from './layer-contract.js';
export { loadFixture, fixtureTensor } from './fixtures.js';
export type { FixtureTensor } from './fixtures.js';
