/** One way of running a training step: our wasm backend, stock wasm, tfjs cpu, PyTorch, a browser. */
export type RunnerId =
  | 'gradflow_wasm_1t'
  | 'gradflow_wasm_2t'
  | 'stock_wasm'
  | 'tfjs_cpu'
  | 'pytorch_1t'
  | 'pytorch_2t'
  | 'browser_wasm'
  | 'browser_wasm_2t';

export interface Measurement {
  /** Median milliseconds per training step, after warm-up. */
  msPerStep?: number;
  examplesPerSecond?: number;
  /** Batch of this measurement when it differs from its row's (tfjs cpu on conv nets in --full). */
  batch?: number;
  /** Why there is no number ("cannot train: Conv2DBackpropFilter not registered", "python3-torch not installed"). */
  note?: string;
}

export interface SpeedRow {
  model: string;
  inputShape: number[];
  batch: number;
  /** Forward + backward floating-point operations of one step (2 per multiply-add). */
  gflopPerStep: number;
  results: Partial<Record<RunnerId, Measurement>>;
}

export interface SpeedResult {
  /** Measured throughput of a large WASM SIMD GEMM (512³) on this machine, single thread. */
  peakGemmGflops?: number;
  /** Measured SIMD multiply-add peak of one core (8 independent f32x4 chains). */
  simdPeakGflops?: number;
  rows: SpeedRow[];
  notes: string[];
}

export const RUNNER_LABELS: Record<RunnerId, string> = {
  gradflow_wasm_1t: 'gradflow wasm 1T',
  gradflow_wasm_2t: 'gradflow wasm 2T',
  stock_wasm: 'stock tfjs wasm',
  tfjs_cpu: 'tfjs cpu',
  pytorch_1t: 'PyTorch CPU 1T',
  pytorch_2t: 'PyTorch CPU 2T',
  browser_wasm: 'Chromium wasm 1T',
  browser_wasm_2t: 'Chromium wasm 2T',
};
