import { recurrentGateKernels, type RecurrentGateKernels } from '@gradflow/backend-wasm';
import type { KernelKind } from './cells.js';
import type { StepContext } from './step-context.js';

/**
 * The time loop's gate math for one step through @gradflow/backend-wasm's fused SIMD kernels,
 * with the same inputs and outputs as the JavaScript loops in kernels.ts (which stay the
 * reference, and run on other backends, for the other cells and with a mask).
 */
export interface FusedGates {
  forward(c: StepContext, s: number, t: number, hp: Float32Array): void;
  backward(
    c: StepContext,
    s: number,
    t: number,
    dh: Float32Array,
    dc: Float32Array | null,
    rows: Float32Array,
    direct: Float32Array,
  ): void;
}

/** The fused gates for `kind` on the active backend, or null where the loops must run. */
export function fusedGates(kind: KernelKind, masked: boolean): FusedGates | null {
  if (masked || (kind !== 'gru' && kind !== 'lstm')) return null;
  const gates = recurrentGateKernels();
  if (!gates) return null;
  return kind === 'gru' ? gruGates(gates) : lstmGates(gates);
}

/** Step t's rows of a [B*T, width] array. */
function stepRows(data: Float32Array, c: StepContext, t: number, width: number) {
  return { data, offset: t * width, stride: c.T * width };
}

/** Writes h ([B, H]) into the outputs' rows (b*T + t). */
function scatterOutputs(c: StepContext, t: number, h: Float32Array): void {
  for (let b = 0; b < c.B; b++) c.out.set(h.subarray(b * c.H, (b + 1) * c.H), (b * c.T + t) * c.H);
}

function gruGates(gates: RecurrentGateKernels): FusedGates {
  return {
    forward(c, s, t, hp) {
      const BH = c.B * c.H;
      const so = s * c.stashStride;
      const at = (a: Float32Array) => a.subarray(so, so + BH);
      const [R, Z, N, HN] = c.stash as [Float32Array, Float32Array, Float32Array, Float32Array];
      const h = c.hs.subarray((s + 1) * BH, (s + 2) * BH);
      gates.gruForward(c.B, c.H, {
        xp: stepRows(c.xp, c, t, 3 * c.H),
        hp,
        rb: c.rbv,
        hPrev: c.hs.subarray(s * BH, (s + 1) * BH),
        r: at(R),
        z: at(Z),
        n: at(N),
        hn: at(HN),
        h,
      });
      scatterOutputs(c, t, h);
    },
    backward(c, s, t, dh, _dc, rows, direct) {
      const BH = c.B * c.H;
      const at = (a: Float32Array) => a.subarray(s * BH, (s + 1) * BH);
      const [R, Z, N, HN] = c.stash as [Float32Array, Float32Array, Float32Array, Float32Array];
      gates.gruBackward(c.B, c.H, {
        r: at(R),
        z: at(Z),
        n: at(N),
        hn: at(HN),
        hPrev: at(c.hs),
        dh,
        dxp: stepRows(c.out, c, t, 3 * c.H),
        rows,
        direct,
      });
    },
  };
}

function lstmGates(gates: RecurrentGateKernels): FusedGates {
  return {
    forward(c, s, t, hp) {
      const BH = c.B * c.H;
      const so = s * c.stashStride;
      const at = (a: Float32Array) => a.subarray(so, so + BH);
      const [I, F, G, O, TC] = c.stash as [
        Float32Array,
        Float32Array,
        Float32Array,
        Float32Array,
        Float32Array,
      ];
      const cs = c.cs!;
      const h = c.hs.subarray((s + 1) * BH, (s + 2) * BH);
      gates.lstmForward(c.B, c.H, {
        xp: stepRows(c.xp, c, t, 4 * c.H),
        hp,
        cPrev: cs.subarray(s * BH, (s + 1) * BH),
        i: at(I),
        f: at(F),
        g: at(G),
        o: at(O),
        tc: at(TC),
        c: cs.subarray((s + 1) * BH, (s + 2) * BH),
        h,
      });
      scatterOutputs(c, t, h);
    },
    backward(c, s, t, dh, dc, rows, direct) {
      const BH = c.B * c.H;
      const at = (a: Float32Array) => a.subarray(s * BH, (s + 1) * BH);
      const [I, F, G, O, TC] = c.stash as [
        Float32Array,
        Float32Array,
        Float32Array,
        Float32Array,
        Float32Array,
      ];
      gates.lstmBackward(c.B, c.H, {
        i: at(I),
        f: at(F),
        g: at(G),
        o: at(O),
        tc: at(TC),
        cPrev: at(c.cs!),
        dh,
        dc: dc!,
        dxp: stepRows(c.out, c, t, 4 * c.H),
        rows,
        direct,
      });
    },
  };
}
