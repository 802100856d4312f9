/*
 * Gate math of one recurrent time step (GRU with the reset gate after the recurrent matmul, as in
 * PyTorch and Keras 3; LSTM), forward and backward, for @gradflow/recurrent's time loop. The
 * matmuls stay in the GEMM; these fuse everything element-wise around them into one pass.
 * Same rules as kernels.c: freestanding, no globals, every pointer an offset into the tfjs heap.
 *
 * Layout: B rows of H units. `xp` (the input projection of this step), `hp` (h_{t-1} U + recurrent
 * bias where it applies) and the per-row gradient outputs are [B, G*H]; states and stashed gates
 * are [B, H].
 * Gate order: GRU r, z, n; LSTM i, f, g, o.
 *
 * The sequence functions at the end run a whole time loop in one call (the step matmul through
 * kernels.c's GEMM, with U packed once per sequence), so a sequence of T steps costs one call from
 * JavaScript, not 2T.
 */
#include "simd.h"

#define EXPORT(name) __attribute__((export_name(#name)))

void gf_pack_b_cols(int K, int N, int c0, int n, const float *B, int rsb, int csb, float *packed);
void gf_sgemm_prepacked_cols(int M, int N, int K, int c0, int n, const float *A, int rsa, int csa,
                             const float *packed, float *C, int ldc, float *ws);

/*
 * exp in float32: x = k ln2 + r with |r| <= ln2/2, e^r by its degree-6 Taylor polynomial (relative
 * error below 2e-7 on that interval), times 2^k built in the exponent bits. Inputs are clamped to
 * [-87, 88] first, where the result stays a normal float (sigmoid and tanh saturate long before).
 */
static inline float exp_scalar(float x) {
  x = x < -87.0f ? -87.0f : x > 88.0f ? 88.0f : x;
  float kf = __builtin_floorf(x * 1.44269504f + 0.5f);
  float r = x - kf * 0.693359375f + kf * 2.12194440e-4f;
  float p = 1.0f + r * (1.0f + r * (0.5f + r * (1.66666667e-1f + r * (4.16666667e-2f + r * (8.33333333e-3f + r * 1.38888889e-3f)))));
  union {
    int i;
    float f;
  } scale = {.i = ((int)kf + 127) << 23};
  return p * scale.f;
}
static inline float sigmoid_scalar(float x) { return 1.0f / (1.0f + exp_scalar(-x)); }
static inline float tanh_scalar(float x) { return 1.0f - 2.0f / (exp_scalar(2.0f * x) + 1.0f); }

#ifdef __wasm_simd128__
static inline v128_t exp4(v128_t x) {
  x = wasm_f32x4_pmax(wasm_f32x4_pmin(x, wasm_f32x4_splat(88.0f)), wasm_f32x4_splat(-87.0f));
  v128_t kf = wasm_f32x4_floor(wasm_f32x4_add(wasm_f32x4_mul(x, wasm_f32x4_splat(1.44269504f)), wasm_f32x4_splat(0.5f)));
  v128_t r = wasm_f32x4_add(wasm_f32x4_sub(x, wasm_f32x4_mul(kf, wasm_f32x4_splat(0.693359375f))),
                            wasm_f32x4_mul(kf, wasm_f32x4_splat(2.12194440e-4f)));
  /* Horner in multiply-adds (fused in the relaxed builds). */
  v128_t p = wasm_f32x4_splat(1.38888889e-3f);
  p = GF_MADD(p, r, wasm_f32x4_splat(8.33333333e-3f));
  p = GF_MADD(p, r, wasm_f32x4_splat(4.16666667e-2f));
  p = GF_MADD(p, r, wasm_f32x4_splat(1.66666667e-1f));
  p = GF_MADD(p, r, wasm_f32x4_splat(0.5f));
  p = GF_MADD(p, r, wasm_f32x4_splat(1.0f));
  p = GF_MADD(p, r, wasm_f32x4_splat(1.0f));
  v128_t scale = wasm_i32x4_shl(wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(kf), wasm_i32x4_splat(127)), 23);
  return wasm_f32x4_mul(p, scale);
}
static inline v128_t sigmoid4(v128_t x) {
  v128_t one = wasm_f32x4_splat(1.0f);
  return wasm_f32x4_div(one, wasm_f32x4_add(one, exp4(wasm_f32x4_neg(x))));
}
static inline v128_t tanh4(v128_t x) {
  v128_t one = wasm_f32x4_splat(1.0f);
  return wasm_f32x4_sub(one, wasm_f32x4_div(wasm_f32x4_splat(2.0f),
                                            wasm_f32x4_add(exp4(wasm_f32x4_add(x, x)), one)));
}
#define LD(p) wasm_v128_load(p)
#define ST(p, v) wasm_v128_store(p, v)
/* x[j..j+4) + bias[j..j+4): a gate's input projection with the input bias. */
#define XB(x, bias, j) wasm_f32x4_add(LD((x) + (j)), LD((bias) + (j)))
#endif

/* GRU forward: with x = x W + b (the input projection xp plus the input bias b [3H]) and
 * a = h_{t−1} U + rb (rb, the recurrent bias [3H], may be 0: none), r = σ(xr + ar),
 * z = σ(xz + az), hn = an, n = tanh(xn + r·hn), h = (1 − z)·n + z·h_{t−1}.
 * Stashes r, z, n, hn for the backward pass. */
static void gru_step_forward(int B, int H, int j0, int j1, const float *xp, const float *bias, float *hp, const float *rb,
                             const float *hprev, float *r_out, float *z_out, float *n_out, float *hn_out,
                             float *h_out) {
  if (rb)
    for (int b = 0; b < B; ++b)
      for (int g = 0; g < 3; ++g)
        for (int j = g * H + j0; j < g * H + j1; ++j) hp[b * 3 * H + j] += rb[j];
  for (int b = 0; b < B; ++b) {
    const float *x = xp + b * 3 * H, *h3 = hp + b * 3 * H, *hpr = hprev + b * H;
    float *R = r_out + b * H, *Z = z_out + b * H, *N = n_out + b * H, *HN = hn_out + b * H, *Ho = h_out + b * H;
    int j = j0;
#ifdef __wasm_simd128__
    /* One loop per exponential: with the gates' five (two here) inlined into one loop body the
     * engine ran out of SIMD registers and spilled; split, the LSTM step's gate math is 1 ms (a
     * third) faster over T = 100, and each pass rereads its row from L1. */
    v128_t one = wasm_f32x4_splat(1.0f);
    int jv = j0 + (j1 - j0) / 4 * 4;
    for (j = j0; j < jv; j += 4) ST(R + j, sigmoid4(wasm_f32x4_add(XB(x, bias, j), LD(h3 + j))));
    for (j = j0; j < jv; j += 4) ST(Z + j, sigmoid4(wasm_f32x4_add(XB(x, bias, H + j), LD(h3 + H + j))));
    for (j = j0; j < jv; j += 4) {
      v128_t z = LD(Z + j), hn = LD(h3 + 2 * H + j);
      v128_t n = tanh4(wasm_f32x4_add(XB(x, bias, 2 * H + j), wasm_f32x4_mul(LD(R + j), hn)));
      ST(N + j, n);
      ST(HN + j, hn);
      ST(Ho + j, wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_sub(one, z), n), wasm_f32x4_mul(z, LD(hpr + j))));
    }
#endif
    for (; j < j1; ++j) {
      float r = sigmoid_scalar(x[j] + bias[j] + h3[j]);
      float z = sigmoid_scalar(x[H + j] + bias[H + j] + h3[H + j]);
      float hn = h3[2 * H + j];
      float n = tanh_scalar(x[2 * H + j] + bias[2 * H + j] + r * hn);
      R[j] = r;
      Z[j] = z;
      N[j] = n;
      HN[j] = hn;
      Ho[j] = (1.0f - z) * n + z * hpr[j];
    }
  }
}

/* GRU backward of one step: from dh (d loss / d h_t), the pre-activation gradients
 * (dar, daz, dan) into dxp ([B, 3H]) and rows ([B, 3H]: dar, daz, dan·r, against h_{t−1} U),
 * and direct = dh·z (the part of d h_{t−1} that skips the matmul). */
static void gru_step_backward(int B, int H, int j0, int j1, const float *r_in, const float *z_in, const float *n_in, const float *hn_in,
                     const float *hprev, const float *dh, float *dxp, float *rows, float *direct) {
  for (int b = 0; b < B; ++b) {
    const float *R = r_in + b * H, *Z = z_in + b * H, *N = n_in + b * H, *HN = hn_in + b * H, *hpr = hprev + b * H;
    const float *D = dh + b * H;
    float *dx = dxp + b * 3 * H, *rw = rows + b * 3 * H, *dd = direct + b * H;
    int j = j0;
#ifdef __wasm_simd128__
    v128_t one = wasm_f32x4_splat(1.0f);
    for (; j + 4 <= j1; j += 4) {
      v128_t r = LD(R + j), z = LD(Z + j), n = LD(N + j), d = LD(D + j);
      v128_t dan = wasm_f32x4_mul(wasm_f32x4_mul(d, wasm_f32x4_sub(one, z)), wasm_f32x4_sub(one, wasm_f32x4_mul(n, n)));
      v128_t daz = wasm_f32x4_mul(wasm_f32x4_mul(d, wasm_f32x4_sub(LD(hpr + j), n)),
                                  wasm_f32x4_mul(z, wasm_f32x4_sub(one, z)));
      v128_t dar = wasm_f32x4_mul(wasm_f32x4_mul(dan, LD(HN + j)), wasm_f32x4_mul(r, wasm_f32x4_sub(one, r)));
      ST(dx + j, dar);
      ST(dx + H + j, daz);
      ST(dx + 2 * H + j, dan);
      ST(rw + j, dar);
      ST(rw + H + j, daz);
      ST(rw + 2 * H + j, wasm_f32x4_mul(dan, r));
      ST(dd + j, wasm_f32x4_mul(d, z));
    }
#endif
    for (; j < j1; ++j) {
      float r = R[j], z = Z[j], n = N[j], d = D[j];
      float dan = d * (1.0f - z) * (1.0f - n * n);
      float daz = d * (hpr[j] - n) * z * (1.0f - z);
      float dar = dan * HN[j] * r * (1.0f - r);
      dx[j] = dar;
      dx[H + j] = daz;
      dx[2 * H + j] = dan;
      rw[j] = dar;
      rw[H + j] = daz;
      rw[2 * H + j] = dan * r;
      dd[j] = d * z;
    }
  }
}

/* LSTM forward: i, f, o = σ(·), g = tanh(·), c = f·c_{t−1} + i·g, h = o·tanh(c). Stashes
 * i, f, g, o, tanh(c). */
static void lstm_step_forward(int B, int H, int j0, int j1, const float *xp, const float *bias, const float *hp,
                              const float *cprev, float *i_out,
                     float *f_out, float *g_out, float *o_out, float *tc_out, float *c_out, float *h_out) {
  for (int b = 0; b < B; ++b) {
    const float *x = xp + b * 4 * H, *h4 = hp + b * 4 * H, *cp = cprev + b * H;
    float *I = i_out + b * H, *F = f_out + b * H, *G = g_out + b * H, *O = o_out + b * H, *TC = tc_out + b * H;
    float *Co = c_out + b * H, *Ho = h_out + b * H;
    int j = j0;
#ifdef __wasm_simd128__
    int jv = j0 + (j1 - j0) / 4 * 4; /* one loop per exponential, as in gru_step_forward */
    for (j = j0; j < jv; j += 4) ST(I + j, sigmoid4(wasm_f32x4_add(XB(x, bias, j), LD(h4 + j))));
    for (j = j0; j < jv; j += 4) ST(F + j, sigmoid4(wasm_f32x4_add(XB(x, bias, H + j), LD(h4 + H + j))));
    for (j = j0; j < jv; j += 4) ST(G + j, tanh4(wasm_f32x4_add(XB(x, bias, 2 * H + j), LD(h4 + 2 * H + j))));
    for (j = j0; j < jv; j += 4) ST(O + j, sigmoid4(wasm_f32x4_add(XB(x, bias, 3 * H + j), LD(h4 + 3 * H + j))));
    for (j = j0; j < jv; j += 4) {
      v128_t c = wasm_f32x4_add(wasm_f32x4_mul(LD(F + j), LD(cp + j)), wasm_f32x4_mul(LD(I + j), LD(G + j)));
      v128_t tc = tanh4(c);
      ST(TC + j, tc);
      ST(Co + j, c);
      ST(Ho + j, wasm_f32x4_mul(LD(O + j), tc));
    }
#endif
    for (; j < j1; ++j) {
      float i = sigmoid_scalar(x[j] + bias[j] + h4[j]);
      float f = sigmoid_scalar(x[H + j] + bias[H + j] + h4[H + j]);
      float g = tanh_scalar(x[2 * H + j] + bias[2 * H + j] + h4[2 * H + j]);
      float o = sigmoid_scalar(x[3 * H + j] + bias[3 * H + j] + h4[3 * H + j]);
      float c = f * cp[j] + i * g;
      float tc = tanh_scalar(c);
      I[j] = i;
      F[j] = f;
      G[j] = g;
      O[j] = o;
      TC[j] = tc;
      Co[j] = c;
      Ho[j] = o * tc;
    }
  }
}

/* LSTM backward of one step: dc (in: d loss / d c_t from later steps; out: d c_{t−1}) and the gate
 * pre-activation gradients into dxp ([B, 4H]). They are also the rows against h_{t−1} U (the
 * LSTM has no recurrent bias), and no part of d h_{t−1} skips the matmul. */
static void lstm_step_backward(int B, int H, int j0, int j1, const float *i_in, const float *f_in, const float *g_in, const float *o_in,
                      const float *tc_in, const float *cprev, const float *dh, float *dc, float *dxp) {
  for (int b = 0; b < B; ++b) {
    const float *I = i_in + b * H, *F = f_in + b * H, *G = g_in + b * H, *O = o_in + b * H, *TC = tc_in + b * H;
    const float *cp = cprev + b * H, *D = dh + b * H;
    float *DC = dc + b * H, *dx = dxp + b * 4 * H;
    int j = j0;
#ifdef __wasm_simd128__
    v128_t one = wasm_f32x4_splat(1.0f);
    for (; j + 4 <= j1; j += 4) {
      v128_t i = LD(I + j), f = LD(F + j), g = LD(G + j), o = LD(O + j), tc = LD(TC + j), d = LD(D + j);
      v128_t dct = wasm_f32x4_add(LD(DC + j), wasm_f32x4_mul(wasm_f32x4_mul(d, o), wasm_f32x4_sub(one, wasm_f32x4_mul(tc, tc))));
      v128_t dai = wasm_f32x4_mul(wasm_f32x4_mul(dct, g), wasm_f32x4_mul(i, wasm_f32x4_sub(one, i)));
      v128_t daf = wasm_f32x4_mul(wasm_f32x4_mul(dct, LD(cp + j)), wasm_f32x4_mul(f, wasm_f32x4_sub(one, f)));
      v128_t dag = wasm_f32x4_mul(wasm_f32x4_mul(dct, i), wasm_f32x4_sub(one, wasm_f32x4_mul(g, g)));
      v128_t dao = wasm_f32x4_mul(wasm_f32x4_mul(d, tc), wasm_f32x4_mul(o, wasm_f32x4_sub(one, o)));
      ST(dx + j, dai);
      ST(dx + H + j, daf);
      ST(dx + 2 * H + j, dag);
      ST(dx + 3 * H + j, dao);
      ST(DC + j, wasm_f32x4_mul(dct, f));
    }
#endif
    for (; j < j1; ++j) {
      float i = I[j], f = F[j], g = G[j], o = O[j], tc = TC[j], d = D[j];
      float dct = DC[j] + d * o * (1.0f - tc * tc);
      float dai = dct * g * i * (1.0f - i);
      float daf = dct * cp[j] * f * (1.0f - f);
      float dag = dct * i * (1.0f - g * g);
      float dao = d * tc * o * (1.0f - o);
      dx[j] = dai;
      dx[H + j] = daf;
      dx[2 * H + j] = dag;
      dx[3 * H + j] = dao;
      DC[j] = dct * f;
    }
  }
}

/* ---- whole sequences ----
 * Everything but the packed output is in processing order: step s works on time t = s, or T−1−s
 * when `reverse`, and block s of a [T, B, ·] array belongs to step s. hs (and cs) hold T+1 blocks
 * of [B, H]: step s reads block s and writes block s+1, block 0 being the initial state. xp is
 * [T, B, G·H] (the input projection x W of each step's inputs: a step reads one contiguous block),
 * bias the input bias [G·H] (added here, so no pass adds it to xp), u the recurrent kernel
 * [H, G·H]; out is the packed output [B, T+S, H]: h_t at row t, then the final h (and, for the
 * LSTM, S = 2, the final c). The gate stash holds T blocks of [B, H] when `keep`, else one block
 * that every step overwrites (inference: nothing will backpropagate). hp is [B, G·H] scratch; pu
 * holds U packed for the GEMM (gf_packed_b_floats(H, G·H) floats forward, (G·H, H) backward).
 * Backward: dy is the gradient of the packed output [B, T+S, H] (T outputs, then the final h and,
 * for the LSTM, c); dh (and dc) receive the initial state's gradient; dxp [T, B, G·H] receives the
 * pre-activation gradients and db their sum (the input bias's gradient). The LSTM's dxp rows are
 * also its rows against h_{t−1} U, so dU = Σ_s hs[s]ᵀ dxp[s]; the GRU's differ (its recurrent
 * bias sits inside the reset gate) and go to rows [T, B, 3H], with drb their sum (the recurrent
 * bias's gradient); direct and via are its [B, H] scratch. dhs, when not 0, receives d loss / d h_t
 * of every step ([T, B, H]) for the probe. */

/*
 * A team: `parts` threads run the same sequence function at once (part 0 .. parts−1), each on its
 * own hidden units [j0, j1) (multiples of the GEMM's 8-column panels): its columns of every gate
 * in the step GEMM, its units' gate math, states and stash. A step reads the whole previous state,
 * so the threads meet once per step: `counter` (zeroed by the caller) counts arrivals, and round r
 * ends when it reaches parts·r. With parts = 1 there is no meeting and one GEMM covers all columns.
 */
typedef struct {
  int parts, j0, j1, round;
  int *counter;
} Team;

static Team team_of(int part, int parts, int H, int *counter) {
  int panels = H / 8;
  Team t = {parts, part * panels / parts * 8, part + 1 == parts ? H : (part + 1) * panels / parts * 8, 0, counter};
  return t;
}

static void team_sync(Team *t) {
  if (t->parts == 1) return;
  t->round += 1;
  __atomic_fetch_add(t->counter, 1, __ATOMIC_SEQ_CST);
  while (__atomic_load_n(t->counter, __ATOMIC_SEQ_CST) < t->parts * t->round) {
  }
}

/* The team member's columns of a product with G gate blocks of H columns: packing, then the GEMM. */
static void team_pack(const Team *t, int G, int H, int K, const float *B, int rsb, int csb, float *packed) {
  if (t->parts == 1) {
    gf_pack_b_cols(K, G * H, 0, G * H, B, rsb, csb, packed);
    return;
  }
  for (int g = 0; g < G; ++g) gf_pack_b_cols(K, G * H, g * H + t->j0, t->j1 - t->j0, B, rsb, csb, packed);
}

static void team_gemm(const Team *t, int G, int H, int M, int K, const float *A, int rsa, const float *packed,
                      float *C, float *ws) {
  if (t->parts == 1) {
    gf_sgemm_prepacked_cols(M, G * H, K, 0, G * H, A, rsa, 1, packed, C, G * H, ws);
    return;
  }
  for (int g = 0; g < G; ++g)
    gf_sgemm_prepacked_cols(M, G * H, K, g * H + t->j0, t->j1 - t->j0, A, rsa, 1, packed, C, G * H, ws);
}

/* Row r of every batch row's block of `rows` rows in out ([B, rows, H]) = state [B, H], units [j0, j1). */
static void put_row(int B, int rows, int H, int r, const float *state, float *out, const Team *t) {
  for (int b = 0; b < B; ++b) {
    const float *src = state + b * H;
    float *dst = out + (b * rows + r) * H;
    for (int j = t->j0; j < t->j1; ++j) dst[j] = src[j];
  }
}

/* dh = dy[:, T] (and dc = dy[:, T+1]): the final state's gradient, where backprop starts. */
static void final_state_grad(int B, int T, int S, int H, const float *dy, float *dh, float *dc, const Team *t) {
  for (int b = 0; b < B; ++b)
    for (int j = t->j0; j < t->j1; ++j) {
      dh[b * H + j] = dy[(b * (T + S) + T) * H + j];
      if (dc) dc[b * H + j] = dy[(b * (T + S) + T + 1) * H + j];
    }
}

/* dh[b] += dy[b, t] (the output's own gradient at time t), then a copy for the probe. */
static void add_output_grad(int B, int T, int S, int H, int t, int s, const float *dy, float *dh, float *dhs,
                            const Team *tm) {
  for (int b = 0; b < B; ++b) {
    const float *g = dy + (b * (T + S) + t) * H;
    float *d = dh + b * H;
    for (int j = tm->j0; j < tm->j1; ++j) d[j] += g[j];
    if (dhs)
      for (int j = tm->j0; j < tm->j1; ++j) dhs[(s * B + b) * H + j] = d[j];
  }
}

/* acc[g·H + j] += each of the B rows of `rows` ([B, G·H]), for every gate g and the team member's
 * units j: a bias gradient, summed step by step while the rows are in cache. */
static void add_rows(int B, int G, int H, const float *rows, float *acc, const Team *t) {
  for (int b = 0; b < B; ++b)
    for (int g = 0; g < G; ++g) {
      const float *row = rows + b * G * H + g * H;
      float *a = acc + g * H;
      int j = t->j0;
#ifdef __wasm_simd128__
      for (; j + 4 <= t->j1; j += 4) ST(a + j, wasm_f32x4_add(LD(a + j), LD(row + j)));
#endif
      for (; j < t->j1; ++j) a[j] += row[j];
    }
}

/* Zeroes acc[g·H + j] for every gate g and the team member's units j. */
static void zero_units(int G, int H, float *acc, const Team *t) {
  for (int g = 0; g < G; ++g)
    for (int j = t->j0; j < t->j1; ++j) acc[g * H + j] = 0.0f;
}

/*
 * The four sequence functions end with (part, parts, counter): the team (see Team) this call is
 * one member of. JavaScript runs part p of a split call on pool thread p at the same time; a call
 * with parts = 1 runs the whole layer on its own.
 */
EXPORT(gf_gru_sequence_forward)
void gf_gru_sequence_forward(int B, int T, int H, int reverse, int keep, const float *xp, const float *u,
                             const float *bias, const float *rb, float *hs, float *r, float *z, float *n, float *hn,
                             float *out, float *hp, float *pu, float *ws, int part, int parts, int *counter) {
  int BH = B * H, G3 = 3 * H;
  Team tm = team_of(part, parts, H, counter);
  team_pack(&tm, 3, H, H, u, G3, 1, pu);
  for (int s = 0; s < T; ++s) {
    int t = reverse ? T - 1 - s : s, so = keep ? s * BH : 0;
    const float *hprev = hs + s * BH;
    float *h = hs + (s + 1) * BH;
    if (s > 0) team_sync(&tm); /* h_{s} complete */
    team_gemm(&tm, 3, H, B, H, hprev, H, pu, hp, ws);
    gru_step_forward(B, H, tm.j0, tm.j1, xp + s * B * G3, bias, hp, rb, hprev, r + so, z + so, n + so, hn + so, h);
    put_row(B, T + 1, H, t, h, out, &tm);
  }
  put_row(B, T + 1, H, T, hs + T * BH, out, &tm);
}

EXPORT(gf_gru_sequence_backward)
void gf_gru_sequence_backward(int B, int T, int H, int reverse, const float *dy, const float *u, const float *r,
                              const float *z, const float *n, const float *hn, const float *hs, float *dh,
                              float *dxp, float *rows, float *db, float *drb, float *direct, float *via, float *dhs,
                              float *pu, float *ws, int part, int parts, int *counter) {
  int BH = B * H, G3 = 3 * H;
  Team tm = team_of(part, parts, H, counter);
  final_state_grad(B, T, 1, H, dy, dh, 0, &tm);
  zero_units(3, H, db, &tm);
  zero_units(3, H, drb, &tm);
  team_pack(&tm, 1, H, G3, u, 1, G3, pu); /* Uᵀ: B(k, j) = U[j, k] */
  for (int s = T - 1; s >= 0; --s) {
    int t = reverse ? T - 1 - s : s, so = s * BH;
    add_output_grad(B, T, 1, H, t, s, dy, dh, dhs, &tm);
    float *dx = dxp + s * B * G3, *rw = rows + s * B * G3;
    gru_step_backward(B, H, tm.j0, tm.j1, r + so, z + so, n + so, hn + so, hs + so, dh, dx, rw, direct);
    add_rows(B, 3, H, dx, db, &tm);
    add_rows(B, 3, H, rw, drb, &tm);
    team_sync(&tm); /* every unit's rows of step s */
    team_gemm(&tm, 1, H, B, G3, rw, G3, pu, via, ws); /* d h_{t−1} = direct + rows Uᵀ */
    for (int b = 0; b < B; ++b)
      for (int j = tm.j0; j < tm.j1; ++j) dh[b * H + j] = direct[b * H + j] + via[b * H + j];
  }
}

EXPORT(gf_lstm_sequence_forward)
void gf_lstm_sequence_forward(int B, int T, int H, int reverse, int keep, const float *xp, const float *u,
                              const float *bias, float *hs, float *cs, float *i, float *f, float *g, float *o,
                              float *tc, float *out, float *hp, float *pu, float *ws, int part, int parts,
                              int *counter) {
  int BH = B * H, G4 = 4 * H;
  Team tm = team_of(part, parts, H, counter);
  team_pack(&tm, 4, H, H, u, G4, 1, pu);
  for (int s = 0; s < T; ++s) {
    int t = reverse ? T - 1 - s : s, so = keep ? s * BH : 0;
    float *h = hs + (s + 1) * BH;
    if (s > 0) team_sync(&tm); /* h_{s} complete */
    team_gemm(&tm, 4, H, B, H, hs + s * BH, H, pu, hp, ws);
    lstm_step_forward(B, H, tm.j0, tm.j1, xp + s * B * G4, bias, hp, cs + s * BH, i + so, f + so, g + so, o + so,
                      tc + so, cs + (s + 1) * BH, h);
    put_row(B, T + 2, H, t, h, out, &tm);
  }
  put_row(B, T + 2, H, T, hs + T * BH, out, &tm);
  put_row(B, T + 2, H, T + 1, cs + T * BH, out, &tm);
}

EXPORT(gf_lstm_sequence_backward)
void gf_lstm_sequence_backward(int B, int T, int H, int reverse, const float *dy, const float *u, const float *i,
                               const float *f, const float *g, const float *o, const float *tc, const float *cs,
                               float *dh, float *dc, float *dxp, float *db, float *dhs, float *pu, float *ws, int part,
                               int parts, int *counter) {
  int BH = B * H, G4 = 4 * H;
  Team tm = team_of(part, parts, H, counter);
  final_state_grad(B, T, 2, H, dy, dh, dc, &tm);
  zero_units(4, H, db, &tm);
  team_pack(&tm, 1, H, G4, u, 1, G4, pu); /* Uᵀ */
  for (int s = T - 1; s >= 0; --s) {
    int t = reverse ? T - 1 - s : s, so = s * BH;
    add_output_grad(B, T, 2, H, t, s, dy, dh, dhs, &tm);
    float *dx = dxp + s * B * G4;
    lstm_step_backward(B, H, tm.j0, tm.j1, i + so, f + so, g + so, o + so, tc + so, cs + so, dh, dc, dx);
    add_rows(B, 4, H, dx, db, &tm);
    team_sync(&tm); /* every unit's rows of step s */
    team_gemm(&tm, 1, H, B, G4, dx, G4, pu, dh, ws); /* d h_{t−1} = rows Uᵀ */
  }
}
