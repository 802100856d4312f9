import type { ModelMeasurement } from '../speed/measure.js';

/** What the browser page reports about its wasm backend after `setUp`. */
export interface BrowserBackendInfo {
  crossOriginIsolated: boolean;
  hardwareConcurrency: number;
  simd: boolean;
  threads: boolean;
  threadCount: number;
  kernelVariant: string | null;
  /** Threads gradflow's own kernels split over (WasmBackendInfo.kernelThreads). */
  kernelThreads: number;
}

/**
 * The page's API, installed on `globalThis.gradflowSpeed` by entry.ts and driven from Node with
 * playwright (browser/run.ts). One page sets up once: a wasm module's thread count is fixed.
 */
export interface BrowserSpeedApi {
  setUp(threads: number): Promise<BrowserBackendInfo>;
  measure(modelId: string, repeats: number, warmup: number): Promise<ModelMeasurement>;
}

export const API_GLOBAL = 'gradflowSpeed';
