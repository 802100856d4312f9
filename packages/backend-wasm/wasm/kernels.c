/*
 * gradflow training kernels for the tfjs WASM backend.
 *
 * Freestanding C (no libc), compiled to wasm32 with clang/lld. The module IMPORTS the tfjs
 * backend's WebAssembly.Memory, so every pointer here is an offset into the backend's heap:
 * tensors are read and written in place (zero copy). Rules that keep this safe:
 *  - no global or static variables and no constant tables (they would live in a data segment
 *    at a fixed address inside emscripten's heap); all scratch comes from `ws`/`col`, which the
 *    JS side allocates with the backend's own _malloc;
 *  - only small fixed-size arrays on the C stack: the shadow stack is a 64 KiB block the JS side
 *    mallocs for each thread (the Winograd transforms keep at most 1 KiB of vectors there).
 * Built twice: with -msimd128 (SIMD) and without (scalar fallback); see build.mjs.
 */
#include "simd.h"

#define EXPORT(name) __attribute__((export_name(#name)))

enum { MR = 4, NR = 8, KC = 256, MC = 128, NC = 1024 };
/*
 * Workspace layout in floats: packed A block (the convolutions keep their input pointers there),
 * packed B block, one MR x NR edge tile.
 */
#define WS_PACK_A 0
#define WS_PACK_B (MC * KC)
#define WS_TILE (MC * KC + KC * NC)
#define WS_FLOATS (MC * KC + KC * NC + MR * NR)

EXPORT(gf_workspace_bytes) int gf_workspace_bytes(void) { return WS_FLOATS * 4; }

EXPORT(gf_has_simd) int gf_has_simd(void) {
#ifdef __wasm_simd128__
  return 1;
#else
  return 0;
#endif
}

static inline int imin(int a, int b) { return a < b ? a : b; }

/* Pack an mc x kc block of A (element (i,k) at A[i*rsa + k*csa]) into MR-row panels, k-major. */
static void pack_a(int mc, int kc, const float *A, int rsa, int csa, float *pa) {
  for (int i0 = 0; i0 < mc; i0 += MR) {
    int mr = imin(MR, mc - i0);
    const float *a = A + i0 * rsa;
#ifdef __wasm_simd128__
    if (mr == MR && rsa == 1) {
      for (int k = 0; k < kc; ++k) wasm_v128_store(pa + k * MR, wasm_v128_load(a + k * csa));
      pa += MR * kc;
      continue;
    }
    if (mr == MR && csa == 1) {
      /* Row-major A: 4x4 blocks transposed in registers. */
      int k = 0;
      for (; k + 4 <= kc; k += 4) {
        v128_t r0 = wasm_v128_load(a + k), r1 = wasm_v128_load(a + rsa + k);
        v128_t r2 = wasm_v128_load(a + 2 * rsa + k), r3 = wasm_v128_load(a + 3 * rsa + k);
        v128_t lo01 = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5), lo23 = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5);
        v128_t hi01 = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7), hi23 = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);
        wasm_v128_store(pa + k * MR, wasm_i32x4_shuffle(lo01, lo23, 0, 1, 4, 5));
        wasm_v128_store(pa + (k + 1) * MR, wasm_i32x4_shuffle(lo01, lo23, 2, 3, 6, 7));
        wasm_v128_store(pa + (k + 2) * MR, wasm_i32x4_shuffle(hi01, hi23, 0, 1, 4, 5));
        wasm_v128_store(pa + (k + 3) * MR, wasm_i32x4_shuffle(hi01, hi23, 2, 3, 6, 7));
      }
      for (; k < kc; ++k) {
        pa[k * MR + 0] = a[k];
        pa[k * MR + 1] = a[rsa + k];
        pa[k * MR + 2] = a[2 * rsa + k];
        pa[k * MR + 3] = a[3 * rsa + k];
      }
      pa += MR * kc;
      continue;
    }
#endif
    if (mr == MR) {
      for (int k = 0; k < kc; ++k) {
        const float *ak = a + k * csa;
        pa[k * MR + 0] = ak[0];
        pa[k * MR + 1] = ak[rsa];
        pa[k * MR + 2] = ak[2 * rsa];
        pa[k * MR + 3] = ak[3 * rsa];
      }
    } else {
      for (int k = 0; k < kc; ++k)
        for (int r = 0; r < MR; ++r) pa[k * MR + r] = r < mr ? a[r * rsa + k * csa] : 0.0f;
    }
    pa += MR * kc;
  }
}

/*
 * Pack a kc x nc block of B (element (k,j) at B[k*rsb + j*csb]) into NR-column panels, k-major,
 * panel_stride floats apart (a block of a taller packed matrix: its rows are k of every panel).
 */
static void pack_b_panels(int kc, int nc, const float *B, int rsb, int csb, float *pb, int panel_stride) {
  for (int j0 = 0; j0 < nc; j0 += NR, pb += panel_stride) {
    int nr = imin(NR, nc - j0);
    const float *b = B + j0 * csb;
#ifdef __wasm_simd128__
    if (nr == NR && csb == 1) {
      for (int k = 0; k < kc; ++k) {
        wasm_v128_store(pb + k * NR, wasm_v128_load(b + k * rsb));
        wasm_v128_store(pb + k * NR + 4, wasm_v128_load(b + k * rsb + 4));
      }
      continue;
    }
#endif
    for (int k = 0; k < kc; ++k)
      for (int c = 0; c < NR; ++c) pb[k * NR + c] = c < nr ? b[k * rsb + c * csb] : 0.0f;
  }
}

static void pack_b(int kc, int nc, const float *B, int rsb, int csb, float *pb) {
  pack_b_panels(kc, nc, B, rsb, csb, pb, NR * kc);
}

#ifdef __wasm_simd128__
/*
 * One k step of every micro-kernel's 4 x 8 tile: row r of the accumulators c00..c31 (declared by
 * the kernel) += A(r, k) * B(k, 0:8), A(r, k) read from the four addresses, B(k, :) from pb.
 */
#define GF_TILE_STEP(a0, a1, a2, a3, pb)                                                                   \
  do {                                                                                                  \
    v128_t b0_ = wasm_v128_load(pb), b1_ = wasm_v128_load((pb) + 4);                                    \
    v128_t a_ = wasm_v128_load32_splat(a0);                                                             \
    c00 = GF_MADD(a_, b0_, c00);                                                                        \
    c01 = GF_MADD(a_, b1_, c01);                                                                        \
    a_ = wasm_v128_load32_splat(a1);                                                                    \
    c10 = GF_MADD(a_, b0_, c10);                                                                        \
    c11 = GF_MADD(a_, b1_, c11);                                                                        \
    a_ = wasm_v128_load32_splat(a2);                                                                    \
    c20 = GF_MADD(a_, b0_, c20);                                                                        \
    c21 = GF_MADD(a_, b1_, c21);                                                                        \
    a_ = wasm_v128_load32_splat(a3);                                                                    \
    c30 = GF_MADD(a_, b0_, c30);                                                                        \
    c31 = GF_MADD(a_, b1_, c31);                                                                        \
  } while (0)
#endif

#ifdef __wasm_simd128__
/*
 * The end of every micro-kernel: a full MR x NR accumulator tile goes (or, with `accumulate`, is
 * added) straight to its C rows r0..r3 and returns 1; an edge tile is parked in `tile` for
 * add_tile and returns 0 (rows past mr may then be invalid pointers: they are not touched).
 */
static inline __attribute__((always_inline)) int store_tile(v128_t c00, v128_t c01, v128_t c10, v128_t c11,
                                                            v128_t c20, v128_t c21, v128_t c30, v128_t c31,
                                                            float *r0, float *r1, float *r2, float *r3, int mr,
                                                            int nr, int accumulate, float *tile) {
  if (mr == MR && nr == NR) {
    if (accumulate) {
      c00 = wasm_f32x4_add(c00, wasm_v128_load(r0));
      c01 = wasm_f32x4_add(c01, wasm_v128_load(r0 + 4));
      c10 = wasm_f32x4_add(c10, wasm_v128_load(r1));
      c11 = wasm_f32x4_add(c11, wasm_v128_load(r1 + 4));
      c20 = wasm_f32x4_add(c20, wasm_v128_load(r2));
      c21 = wasm_f32x4_add(c21, wasm_v128_load(r2 + 4));
      c30 = wasm_f32x4_add(c30, wasm_v128_load(r3));
      c31 = wasm_f32x4_add(c31, wasm_v128_load(r3 + 4));
    }
    wasm_v128_store(r0, c00);
    wasm_v128_store(r0 + 4, c01);
    wasm_v128_store(r1, c10);
    wasm_v128_store(r1 + 4, c11);
    wasm_v128_store(r2, c20);
    wasm_v128_store(r2 + 4, c21);
    wasm_v128_store(r3, c30);
    wasm_v128_store(r3 + 4, c31);
    return 1;
  }
  wasm_v128_store(tile + 0, c00);
  wasm_v128_store(tile + 4, c01);
  wasm_v128_store(tile + 8, c10);
  wasm_v128_store(tile + 12, c11);
  wasm_v128_store(tile + 16, c20);
  wasm_v128_store(tile + 20, c21);
  wasm_v128_store(tile + 24, c30);
  wasm_v128_store(tile + 28, c31);
  return 0;
}
#endif

/* C rows r0..r3, columns [0, nr): the first mr (+)= tile (MR x NR). Edge tiles, and every tile of the scalar build. */
static void add_tile(const float *tile, float *r0, float *r1, float *r2, float *r3, int mr, int nr, int accumulate) {
  float *rows[MR] = {r0, r1, r2, r3};
  for (int r = 0; r < mr; ++r)
    for (int c = 0; c < nr; ++c) rows[r][c] = (accumulate ? rows[r][c] : 0.0f) + tile[r * NR + c];
}

/* C[0:mr, 0:nr] (+)= pa (MR x kc panel) * pb (kc x NR panel). */
static void micro_kernel(int kc, const float *pa, const float *pb, float *C, int ldc, int mr, int nr,
                         int accumulate, float *tile) {
#ifdef __wasm_simd128__
  v128_t c00 = wasm_f32x4_splat(0), c01 = c00, c10 = c00, c11 = c00;
  v128_t c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (int k = 0; k < kc; ++k, pa += MR, pb += NR) GF_TILE_STEP(pa, pa + 1, pa + 2, pa + 3, pb);
  if (store_tile(c00, c01, c10, c11, c20, c21, c30, c31, C, C + ldc, C + 2 * ldc, C + 3 * ldc, mr, nr, accumulate,
                 tile))
    return;
#else
  for (int t = 0; t < MR * NR; ++t) tile[t] = 0.0f;
  for (int k = 0; k < kc; ++k) {
    for (int r = 0; r < MR; ++r) {
      float a = pa[r];
      for (int c = 0; c < NR; ++c) tile[r * NR + c] += a * pb[c];
    }
    pa += MR;
    pb += NR;
  }
#endif
  add_tile(tile, C, C + ldc, C + 2 * ldc, C + 3 * ldc, mr, nr, accumulate);
}

/*
 * c (1 x N) (+)= a (1 x K) * B (K x N) with contiguous rows of B: a streaming axpy per row of B
 * (packing and 4-row tiles would waste 3/4 of the work on a single row). Reductions written as
 * ones(1 x K) * X, e.g. per-sample sums over the spatial axes, take this path.
 */
static void gemv_row(int N, int K, const float *a, int csa, const float *B, int rsb, float *c, int accumulate) {
  if (!accumulate)
    for (int j = 0; j < N; ++j) c[j] = 0.0f;
  int j0 = 0;
#ifdef __wasm_simd128__
  /* 16 columns at a time in four registers, then 4 at a time. */
  for (; j0 + 16 <= N; j0 += 16) {
    v128_t c0 = wasm_v128_load(c + j0), c1 = wasm_v128_load(c + j0 + 4);
    v128_t c2 = wasm_v128_load(c + j0 + 8), c3 = wasm_v128_load(c + j0 + 12);
    for (int k = 0; k < K; ++k) {
      v128_t ak = wasm_f32x4_splat(a[k * csa]);
      const float *b = B + k * rsb + j0;
      c0 = GF_MADD(ak, wasm_v128_load(b), c0);
      c1 = GF_MADD(ak, wasm_v128_load(b + 4), c1);
      c2 = GF_MADD(ak, wasm_v128_load(b + 8), c2);
      c3 = GF_MADD(ak, wasm_v128_load(b + 12), c3);
    }
    wasm_v128_store(c + j0, c0);
    wasm_v128_store(c + j0 + 4, c1);
    wasm_v128_store(c + j0 + 8, c2);
    wasm_v128_store(c + j0 + 12, c3);
  }
  for (; j0 + 4 <= N; j0 += 4) {
    v128_t c0 = wasm_v128_load(c + j0);
    for (int k = 0; k < K; ++k)
      c0 = GF_MADD(wasm_f32x4_splat(a[k * csa]), wasm_v128_load(B + k * rsb + j0), c0);
    wasm_v128_store(c + j0, c0);
  }
#endif
  for (; j0 < N; ++j0) {
    float acc = c[j0];
    for (int k = 0; k < K; ++k) acc += a[k * csa] * B[k * rsb + j0];
    c[j0] = acc;
  }
}

/* The micro-kernel loops over one packed kc x nc block of B: C[:, 0:nc] (+)= A[:, 0:kc] B-block. */
static void gemm_block(int M, int nc, int kc, const float *A, int rsa, int csa, const float *pb, float *C, int ldc,
                       int acc, float *ws) {
  float *pa = ws + WS_PACK_A, *tile = ws + WS_TILE;
  for (int ic = 0; ic < M; ic += MC) {
    int mc = imin(MC, M - ic);
    pack_a(mc, kc, A + ic * rsa, rsa, csa, pa);
    for (int jr = 0; jr < nc; jr += NR) {
      int nr = imin(NR, nc - jr);
      for (int ir = 0; ir < mc; ir += MR) {
        int mr = imin(MR, mc - ir);
        micro_kernel(kc, pa + ir * kc, pb + jr * kc, C + (ic + ir) * ldc + jr, ldc, mr, nr, acc, tile);
      }
    }
  }
}

static void zero_c(int M, int N, float *C, int ldc) {
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) C[i * ldc + j] = 0.0f;
}

/*
 * C (M x N, row stride ldc) (+)= A (M x K) * B (K x N), where A(i,k) = A[i*rsa + k*csa] and
 * B(k,j) = B[k*rsb + j*csb]: any transposition is a choice of strides. `accumulate` adds to C.
 */
EXPORT(gf_sgemm)
void gf_sgemm(int M, int N, int K, const float *A, int rsa, int csa, const float *B, int rsb, int csb,
              float *C, int ldc, int accumulate, float *ws) {
  if (K <= 0) {
    if (!accumulate) zero_c(M, N, C, ldc);
    return;
  }
  if (M == 1 && csb == 1) {
    gemv_row(N, K, A, csa, B, rsb, C, accumulate);
    return;
  }
  float *pb = ws + WS_PACK_B;
  for (int jc = 0; jc < N; jc += NC) {
    int nc = imin(NC, N - jc);
    for (int pc = 0; pc < K; pc += KC) {
      int kc = imin(KC, K - pc);
      pack_b(kc, nc, B + pc * rsb + jc * csb, rsb, csb, pb);
      gemm_block(M, nc, kc, A + pc * csa, rsa, csa, pb, C + jc, ldc, accumulate || pc > 0, ws);
    }
  }
}

/*
 * A B operand packed once for many products (a recurrent layer multiplies by the same U at every
 * step): gf_pack_b_cols writes B's blocks in gf_sgemm's order into `packed` (gf_packed_b_floats(K,
 * N) floats), and gf_sgemm_prepacked_cols runs gf_sgemm on them without packing. Both take a run
 * of columns [c0, c0 + n) (c0 a multiple of NR; the run whole NR panels or reaching N), so threads
 * that split a product by columns pack and read only their own panels.
 */
/* Floats of a packed kc x nc block of B: nc rounded up to whole NR-column panels. */
static inline int packed_b_floats(int kc, int nc) { return kc * ((nc + NR - 1) / NR) * NR; }

static inline int imax(int a, int b) { return a > b ? a : b; }

EXPORT(gf_packed_b_floats)
int gf_packed_b_floats(int K, int N) { return packed_b_floats(K, N); }

void gf_pack_b_cols(int K, int N, int c0, int n, const float *B, int rsb, int csb, float *packed) {
  for (int jc = 0; jc < N; jc += NC) {
    int nc = imin(NC, N - jc), lo = imax(c0, jc), hi = imin(c0 + n, jc + nc);
    for (int pc = 0; pc < K; pc += KC) {
      int kc = imin(KC, K - pc);
      if (lo < hi) pack_b(kc, hi - lo, B + pc * rsb + lo * csb, rsb, csb, packed + (lo - jc) * kc);
      packed += packed_b_floats(kc, nc);
    }
  }
}

/* C[:, c0:c0+n) = A (M x K) * B[:, c0:c0+n) from gf_pack_b_cols's packing of B (K x N). */
void gf_sgemm_prepacked_cols(int M, int N, int K, int c0, int n, const float *A, int rsa, int csa,
                             const float *packed, float *C, int ldc, float *ws) {
  if (K <= 0) {
    for (int i = 0; i < M; ++i)
      for (int j = c0; j < c0 + n; ++j) C[i * ldc + j] = 0.0f;
    return;
  }
  for (int jc = 0; jc < N; jc += NC) {
    int nc = imin(NC, N - jc), lo = imax(c0, jc), hi = imin(c0 + n, jc + nc);
    for (int pc = 0; pc < K; pc += KC) {
      int kc = imin(KC, K - pc);
      if (lo < hi)
        gemm_block(M, hi - lo, kc, A + pc * csa, rsa, csa, packed + (lo - jc) * kc, C + lo, ldc, pc > 0, ws);
      packed += packed_b_floats(kc, nc);
    }
  }
}

/* Batched GEMM: batch b uses A + b*sa, B + b*sb, C + b*sc (a stride of 0 broadcasts). */
EXPORT(gf_sgemm_batched)
void gf_sgemm_batched(int batch, int M, int N, int K, const float *A, int sa, int rsa, int csa, const float *B,
                      int sb, int rsb, int csb, float *C, int sc, int ldc, float *ws) {
  for (int b = 0; b < batch; ++b) gf_sgemm(M, N, K, A + b * sa, rsa, csa, B + b * sb, rsb, csb, C + b * sc, ldc, 0, ws);
}

static void copy_floats(float *dst, const float *src, int n) {
  int i = 0;
#ifdef __wasm_simd128__
  for (; i + 4 <= n; i += 4) wasm_v128_store(dst + i, wasm_v128_load(src + i));
#endif
  for (; i < n; ++i) dst[i] = src[i];
}

static void zero_floats(float *dst, int n) {
  int i = 0;
#ifdef __wasm_simd128__
  for (; i + 4 <= n; i += 4) wasm_v128_store(dst + i, wasm_f32x4_splat(0));
#endif
  for (; i < n; ++i) dst[i] = 0.0f;
}

/* Geometry of a 2-D convolution, NHWC input, HWIO filter. Passed as a block of 16 ints. */
typedef struct {
  int n, h, w, ci, oh, ow, co, kh, kw, sh, sw, dh, dw, pt, pl;
  int winograd; /* 1: a 3x3 stride-1 conv whose filter argument is gf_winograd_filter's transform */
} Geom;

/*
 * out = x[begin : begin + size] for a tensor of `rank` >= 1 dims, copying contiguous runs of the
 * last dim. `dims` holds 5 * rank ints: shape, begin, size, then room for the strides and the
 * index odometer (no arrays on the C stack).
 */
EXPORT(gf_slice)
void gf_slice(const float *x, float *out, int rank, int *dims) {
  const int *shape = dims, *begin = dims + rank, *size = dims + 2 * rank;
  int *stride = dims + 3 * rank, *idx = dims + 4 * rank;
  int run = size[rank - 1];
  stride[rank - 1] = 1;
  for (int d = rank - 2; d >= 0; --d) stride[d] = stride[d + 1] * shape[d + 1];
  int runs = 1;
  for (int d = 0; d < rank - 1; ++d) {
    runs *= size[d];
    idx[d] = 0;
  }
  for (int r = 0; r < runs; ++r) {
    int off = begin[rank - 1];
    for (int d = 0; d < rank - 1; ++d) off += (begin[d] + idx[d]) * stride[d];
    copy_floats(out, x + off, run);
    out += run;
    for (int d = rank - 2; d >= 0; --d) {
      if (++idx[d] < size[d]) break;
      idx[d] = 0;
    }
  }
}

static int is_pointwise(const Geom *g) {
  return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->pt == 0 && g->pl == 0 && g->oh == g->h &&
         g->ow == g->w;
}

/*
 * Filter-gradient micro-kernel: dW[(tap, c0 + r), j] (+)= sum over pixels i of x(i, tap, c0 + r) *
 * dy[i, j], for 4 channels of one tap (row r reads channel c0 + off_r: rows past the last channel
 * repeat an earlier one and are not stored) and one NR-column panel pb of dy (pixels x NR,
 * packed). ptrs[i] is pixel i's input under the tap, or a zero row. Neither operand is im2col'd.
 */
static void dw_micro(int pixels, const float *const *ptrs, int c0, int mr, const float *pb, float *C, int ldc, int nr,
                     int accumulate, float *tile) {
  int o0 = c0, o1 = c0 + (mr > 1), o2 = c0 + 2 * (mr > 2), o3 = c0 + 3 * (mr > 3);
#ifdef __wasm_simd128__
  v128_t c00 = wasm_f32x4_splat(0), c01 = c00, c10 = c00, c11 = c00;
  v128_t c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (int i = 0; i < pixels; ++i, pb += NR) {
    const float *p = ptrs[i];
    GF_TILE_STEP(p + o0, p + o1, p + o2, p + o3, pb);
  }
  if (store_tile(c00, c01, c10, c11, c20, c21, c30, c31, C, C + ldc, C + 2 * ldc, C + 3 * ldc, mr, nr, accumulate,
                 tile))
    return;
#else
  int off[MR] = {o0, o1, o2, o3};
  for (int q = 0; q < MR * NR; ++q) tile[q] = 0.0f;
  for (int i = 0; i < pixels; ++i, pb += NR)
    for (int r = 0; r < MR; ++r)
      for (int j = 0; j < NR; ++j) tile[r * NR + j] += ptrs[i][off[r]] * pb[j];
#endif
  add_tile(tile, C, C + ldc, C + 2 * ldc, C + 3 * ldc, mr, nr, accumulate);
}

/* Input pointers of pixels [m0, m0 + rows) under every tap: tap t, pixel i at ptrs[t * stride + i]. */
static void dw_pointers(const Geom *g, const float *x, const float *zeros, int m0, int rows, int stride,
                        const float **ptrs) {
  /* Pixel m0 + i is (n, oh, ow): counters, not three divisions per pixel. */
  int ow = m0 % g->ow, oh = (m0 / g->ow) % g->oh, n = m0 / (g->ow * g->oh);
  for (int i = 0; i < rows; ++i) {
    const float **p = ptrs + i;
    for (int kh = 0; kh < g->kh; ++kh) {
      int ih = oh * g->sh - g->pt + kh * g->dh;
      for (int kw = 0; kw < g->kw; ++kw, p += stride) {
        int iw = ow * g->sw - g->pl + kw * g->dw;
        int inside = ih >= 0 && ih < g->h && iw >= 0 && iw < g->w;
        *p = inside ? x + ((n * g->h + ih) * g->w + iw) * g->ci : zeros;
      }
    }
    if (++ow == g->ow) {
      ow = 0;
      if (++oh == g->oh) oh = 0, ++n;
    }
  }
}

/*
 * Output pixels per block of the filter gradient. Each block adds into all of dW: while dW is
 * small (up to 256K floats, in L2) short blocks keep their input window in L1 across all taps
 * and channel groups, and a block of 96 balances that against the passes over dW. On the 2-core
 * AMD EPYC the stride-2 ResNet and the 48 -> 12 DenseNet filter gradients ran at 0.90-0.95x their
 * forward's speed with 96, 0.87-0.95x with 64, 0.90-0.94x with 128 and 0.85-0.93x with 256 (on
 * the Xeon of the first measurements 256 read 0.84x, 64 0.92x). A big dW (deep U-Net layers) is
 * better passed over fewer times (3x3x1024 -> 1024 at 4x4: 21 GFLOP/s with 64, 35 with 256;
 * column chunks of dW that stay in L2 measured slower than either).
 */
enum { DW_PIXELS_SMALL = 96, DW_PIXELS_BIG = KC, DW_SMALL_FLOATS = 1 << 18 };

/*
 * Floats of gf_conv2d_backprop_filter's scratch: a zero row for the taps that fall on padding, or
 * for Winograd the gradient of the transformed filter (16 x ci x co).
 */
EXPORT(gf_conv2d_backprop_filter_scratch_floats)
int gf_conv2d_backprop_filter_scratch_floats(const Geom *g) { return g->winograd ? 16 * g->ci * g->co : g->ci; }

static void winograd_filter_grad(int n, int h, int w, int cin, int oh, int ow, int cout, int pt, int pl,
                                 const float *x, const float *dy, float *dw, float *du, float *ws);

/*
 * dW[kh,kw,ci,co] = sum over output pixels m of x(m, kh, kw, ci) * dy[m, co]: for each block of
 * pixels, dy's rows packed into NR-column panels and a pointer per (tap, pixel) into x, then
 * dw_micro over every (tap, 4 channels) x panel tile, accumulating over the blocks.
 */
EXPORT(gf_conv2d_backprop_filter)
void gf_conv2d_backprop_filter(const Geom *g, const float *x, const float *dy, float *dw, float *zeros, float *ws) {
  int taps = g->kh * g->kw, ci = g->ci, K = taps * ci, M = g->n * g->oh * g->ow, Co = g->co;
  if (M == 0) {
    zero_floats(dw, K * Co);
    return;
  }
  if (is_pointwise(g)) {
    gf_sgemm(K, Co, M, x, 1, ci, dy, Co, 1, dw, Co, 0, ws);
    return;
  }
  if (g->winograd) {
    winograd_filter_grad(g->n, g->h, g->w, ci, g->oh, g->ow, Co, g->pt, g->pl, x, dy, dw, zeros, ws);
    return;
  }
  float *pb = ws + WS_PACK_B, *tile = ws + WS_TILE;
  /* The pointer block lives where gf_sgemm packs A: MC * KC slots. */
  const float **ptrs = (const float **)(ws + WS_PACK_A);
  int block = imin(K * Co <= DW_SMALL_FLOATS ? DW_PIXELS_SMALL : DW_PIXELS_BIG, MC * KC / taps);
  if (block < 1) block = 1;
  zero_floats(zeros, ci);
  for (int m0 = 0; m0 < M; m0 += block) {
    int rows = imin(block, M - m0);
    dw_pointers(g, x, zeros, m0, rows, block, ptrs);
    for (int jc = 0; jc < Co; jc += NC) {
      int nc = imin(NC, Co - jc);
      pack_b(rows, nc, dy + m0 * Co + jc, Co, 1, pb);
      for (int jr = 0; jr < nc; jr += NR)
        for (int t = 0; t < taps; ++t)
          for (int c0 = 0; c0 < ci; c0 += MR)
            dw_micro(rows, ptrs + t * block, c0, imin(MR, ci - c0), pb + jr * rows, dw + (t * ci + c0) * Co + jc + jr,
                     Co, imin(NR, nc - jr), m0 > 0, tile);
    }
  }
}

/*
 * Indirect GEMM micro-kernel (the igemm of XNNPACK): output row r's columns [j0, j0 + nr) (+)=
 * sum over taps t and channels c in [c0, c0 + cin) of A(r, t, c) * pb[(t * cin + c - c0) * NR + j],
 * where row r's input pixel under tap t starts at in[t * MR + r] (a zero row where the tap falls
 * on padding) and its output at out[r]. No im2col matrix and no packing of the input: it is read
 * in place.
 */
static void igemm_micro(int taps, int c0, int cin, const float *const *in, const float *pb, float *const *out, int j0,
                        int mr, int nr, int accumulate, float *tile) {
#ifdef __wasm_simd128__
  v128_t c00 = wasm_f32x4_splat(0), c01 = c00, c10 = c00, c11 = c00;
  v128_t c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (int t = 0; t < taps; ++t, in += MR) {
    const float *a0 = in[0] + c0, *a1 = in[1] + c0, *a2 = in[2] + c0, *a3 = in[3] + c0;
    for (int c = 0; c < cin; ++c, pb += NR) GF_TILE_STEP(a0 + c, a1 + c, a2 + c, a3 + c, pb);
  }
  if (store_tile(c00, c01, c10, c11, c20, c21, c30, c31, out[0] + j0, out[1] + j0, out[2] + j0, out[3] + j0, mr, nr,
                 accumulate, tile))
    return;
#else
  for (int q = 0; q < MR * NR; ++q) tile[q] = 0.0f;
  for (int t = 0; t < taps; ++t, in += MR)
    for (int c = 0; c < cin; ++c, pb += NR)
      for (int r = 0; r < MR; ++r)
        for (int j = 0; j < NR; ++j) tile[r * NR + j] += in[r][c0 + c] * pb[j];
#endif
  /* Rows past mr have no output pointer: they are not touched. */
  add_tile(tile, out[0] + j0, mr > 1 ? out[1] + j0 : 0, mr > 2 ? out[2] + j0 : 0, mr > 3 ? out[3] + j0 : 0, mr, nr,
           accumulate);
}

/*
 * Pointer block of one igemm pass over up to `block` output pixels (block a multiple of MR): input
 * pointers, taps per pixel in MR-row panels (pixel i, tap t at in[((i / MR) * taps + t) * MR + i % MR]),
 * then one output pointer per pixel. It lives where gf_sgemm packs A (MC * KC slots).
 */
typedef struct {
  const float **in;
  float **out;
  int block;
} Pointers;

static Pointers pointer_block(float *ws, int taps) {
  int block = imin(MC, (MC * KC / (taps + 1)) / MR * MR);
  if (block < MR) block = MR;
  Pointers p = {(const float **)(ws + WS_PACK_A), 0, block};
  p.out = (float **)(p.in + block * taps);
  return p;
}

/* Pixel i's input under tap t: in its MR-row panel. */
static inline const float **in_slot(Pointers p, int taps, int i, int t) {
  return p.in + ((i / MR) * taps + t) * MR + i % MR;
}

/*
 * Floats of a filter row (taps x channels) per igemm pass: longer rows are cut into blocks of
 * whole taps or, past this many channels, of one tap's channels, so the filter panel's slice
 * (IGEMM_KC x NR) and each pixel's inputs stay in L1 (an uncut 3x3x1024 row ran at 13 GFLOP/s).
 */
enum { IGEMM_KC = 512 };

/* igemm_micro over pixels [0, rows) for taps [t0, t0 + nt) and channels [c0, c0 + nc). */
static void igemm_pass(Pointers p, int rows, int taps, int cin, int t0, int nt, int c0, int nc, const float *packed,
                       int cout, int accumulate, float *tile) {
  int K = taps * cin;
  for (int jr = 0; jr < cout; jr += NR)
    for (int ir = 0; ir < rows; ir += MR)
      igemm_micro(nt, c0, nc, p.in + ir * taps + t0 * MR, packed + jr * K + (t0 * cin + c0) * NR, p.out + ir, jr,
                  imin(MR, rows - ir), imin(NR, cout - jr), accumulate, tile);
}

/*
 * Runs the indirect GEMM over pixels [0, rows) of a filled pointer block (rows past the last read
 * zeros), the filter row in passes of about IGEMM_KC floats that accumulate.
 */
static void igemm_rows(Pointers p, int rows, int taps, int cin, const float *zeros, const float *packed, int cout,
                       float *tile) {
  if (taps * cin == 0) {
    /* No input channels: a sum of nothing. */
    for (int i = 0; i < rows; ++i) zero_floats(p.out[i], cout);
    return;
  }
  for (int i = rows; i % MR; ++i)
    for (int t = 0; t < taps; ++t) *in_slot(p, taps, i, t) = zeros;
  if (cin <= IGEMM_KC) {
    int passes = (taps * cin + IGEMM_KC - 1) / IGEMM_KC, per = (taps + passes - 1) / passes;
    for (int t0 = 0; t0 < taps; t0 += per)
      igemm_pass(p, rows, taps, cin, t0, imin(per, taps - t0), 0, cin, packed, cout, t0 > 0, tile);
    return;
  }
  int passes = (cin + IGEMM_KC - 1) / IGEMM_KC, per = (cin + passes - 1) / passes;
  for (int t0 = 0; t0 < taps; ++t0)
    for (int c0 = 0; c0 < cin; c0 += per)
      igemm_pass(p, rows, taps, cin, t0, 1, c0, imin(per, cin - c0), packed, cout, t0 > 0 || c0 > 0, tile);
}

/*
 * Winograd F(2x2, 3x3) (Lavin & Gray 2016) for 3x3 stride-1 convolutions: each 2x2 output tile is
 * A^T [(G g G^T) ⊙ (B^T d B)] A over its 4x4 input patch d, so the multiply-adds become 16 GEMMs of
 * (tiles x cin) by (cin x cout), one per element of the 4x4 transformed patch: 2.25x fewer than the
 * direct convolution's, for a few additions per value in the two transforms. Measured in a
 * standalone module against a direct convolution with the same micro-kernel: 1.35x at 16 channels,
 * 1.65x at 32, 1.9x at 64 (32x32, 16x16 and 8x8 images). The rounding error stays near 1e-6 of the
 * outputs (the F(2x2, 3x3) transforms have entries 0, ±1 and ±1/2).
 */

/*
 * The transformed filter U = G g G^T, 16 matrices (one per element e of the 4x4 patch) of cin x
 * cout packed as gf_sgemm's B panels (NR output channels, k-major): U[e][o / NR][i][o % NR].
 * `transposed` transforms the input gradient's filter: W rotated 180 degrees with its channel
 * axes swapped (W is then [3][3][cout][cin], the forward filter of the conv whose gradient it is).
 */
EXPORT(gf_winograd_filter)
void gf_winograd_filter(int cin, int cout, const float *w, int transposed, float *U) {
  int plane = cin * cout; /* floats of one of the 16 matrices */
#ifdef __wasm_simd128__
  /* Four output channels at a time (Winograd runs with cout a multiple of NR): they sit side by
   * side in U's panels, so every store is one vector. About 4x faster than one channel at a time
   * (3x for the transposed filter, read by gathers): it runs on one thread before the split GEMMs,
   * 0.19 ms of every 64-channel conv before. */
  if (cout % 4 == 0) {
    v128_t half = wasm_f32x4_splat(0.5f);
    for (int i = 0; i < cin; ++i)
      for (int o = 0; o < cout; o += 4) {
        v128_t g[3][3], t[4][3];
        for (int a = 0; a < 3; ++a)
          for (int b = 0; b < 3; ++b) {
            if (transposed) {
              const float *p = w + (((2 - a) * 3 + (2 - b)) * cout + o) * cin + i;
              g[a][b] = wasm_f32x4_make(p[0], p[cin], p[2 * cin], p[3 * cin]);
            } else {
              g[a][b] = wasm_v128_load(w + ((a * 3 + b) * cin + i) * cout + o);
            }
          }
        for (int b = 0; b < 3; ++b) {
          v128_t sum = wasm_f32x4_add(g[0][b], g[1][b]), diff = wasm_f32x4_sub(g[0][b], g[1][b]);
          t[0][b] = g[0][b];
          t[1][b] = wasm_f32x4_mul(half, wasm_f32x4_add(sum, g[2][b]));
          t[2][b] = wasm_f32x4_mul(half, wasm_f32x4_add(diff, g[2][b]));
          t[3][b] = g[2][b];
        }
        float *u = U + (o / NR) * cin * NR + i * NR + o % NR;
        for (int a = 0; a < 4; ++a, u += 4 * plane) {
          v128_t sum = wasm_f32x4_add(t[a][0], t[a][1]), diff = wasm_f32x4_sub(t[a][0], t[a][1]);
          wasm_v128_store(u, t[a][0]);
          wasm_v128_store(u + plane, wasm_f32x4_mul(half, wasm_f32x4_add(sum, t[a][2])));
          wasm_v128_store(u + 2 * plane, wasm_f32x4_mul(half, wasm_f32x4_add(diff, t[a][2])));
          wasm_v128_store(u + 3 * plane, t[a][2]);
        }
      }
    return;
  }
#endif
  for (int i = 0; i < cin; ++i)
    for (int o = 0; o < cout; ++o) {
      float g[3][3], t[4][3];
      for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b)
          g[a][b] = transposed ? w[(((2 - a) * 3 + (2 - b)) * cout + o) * cin + i] : w[((a * 3 + b) * cin + i) * cout + o];
      for (int b = 0; b < 3; ++b) {
        t[0][b] = g[0][b];
        t[1][b] = 0.5f * (g[0][b] + g[1][b] + g[2][b]);
        t[2][b] = 0.5f * (g[0][b] - g[1][b] + g[2][b]);
        t[3][b] = g[2][b];
      }
      float *u = U + (o / NR) * cin * NR + i * NR + o % NR;
      for (int a = 0; a < 4; ++a, u += 4 * plane) {
        u[0] = t[a][0];
        u[plane] = 0.5f * (t[a][0] + t[a][1] + t[a][2]);
        u[2 * plane] = 0.5f * (t[a][0] - t[a][1] + t[a][2]);
        u[3 * plane] = t[a][2];
      }
    }
}

#ifdef __wasm_simd128__
/* Tile t of the tiles x th x tw grid: its image and the top-left output pixel. */
static inline void tile_at(int t, int th, int tw, int *n, int *oy, int *ox) {
  *n = t / (th * tw);
  int rem = t % (th * tw);
  *oy = 2 * (rem / tw);
  *ox = 2 * (rem % tw);
}

/*
 * B^T d B for the 4x4 input patch of the tile whose output starts at (oy, ox) of image nn,
 * channels [c, c + 4), into v[e] (e the patch element); zeros where the patch falls off the image,
 * and for a padding tile (real 0).
 */
static inline __attribute__((always_inline)) void input_patch(const float *x, int h, int w, int cin, int c, int pt,
                                                              int pl, int nn, int oy, int ox, int real,
                                                              v128_t v[16]) {
  v128_t d[4][4], s[4][4], zero = wasm_f32x4_splat(0);
  for (int i = 0; i < 4; ++i) {
    unsigned iy = oy - pt + i;
    const float *row = x + (nn * h + (int)iy) * w * cin + c;
    for (int j = 0; j < 4; ++j) {
      unsigned ix = ox - pl + j;
      d[i][j] = real && iy < (unsigned)h && ix < (unsigned)w ? wasm_v128_load(row + (int)ix * cin) : zero;
    }
  }
  for (int j = 0; j < 4; ++j) { /* B^T d */
    s[0][j] = wasm_f32x4_sub(d[0][j], d[2][j]);
    s[1][j] = wasm_f32x4_add(d[1][j], d[2][j]);
    s[2][j] = wasm_f32x4_sub(d[2][j], d[1][j]);
    s[3][j] = wasm_f32x4_sub(d[1][j], d[3][j]);
  }
  for (int i = 0; i < 4; ++i) { /* (B^T d) B */
    v[i * 4] = wasm_f32x4_sub(s[i][0], s[i][2]);
    v[i * 4 + 1] = wasm_f32x4_add(s[i][1], s[i][2]);
    v[i * 4 + 2] = wasm_f32x4_sub(s[i][2], s[i][1]);
    v[i * 4 + 3] = wasm_f32x4_sub(s[i][1], s[i][3]);
  }
}

/*
 * Tiles per block: the block's V and M (or Z) fit the workspace below its edge tile; at most cap.
 * Each of the 16 matrices starts WINO_SKEW floats after a whole block: with 4 KiB-multiple
 * strides, the 16 rows a tile writes all fell in one L1 set (dW at 16 channels ran 1.5x slower).
 */
enum { WINO_SKEW = 16 };
static inline int tiles_per_block(int cin, int cout, int cap) {
  int mb = ((WS_TILE / 16 - 2 * WINO_SKEW) / (cin + cout)) / MR * MR;
  return mb > cap ? cap : mb;
}
#endif

/*
 * y (n x oh x ow x cout) = conv3x3(x (n x h x w x cin)), stride 1, padding pt / pl (others implied
 * by the output size), U from gf_winograd_filter. cin a multiple of 4, cout of NR. Works through
 * blocks of tiles whose transformed inputs V and GEMM outputs M live in the workspace.
 */
static void winograd_conv(int n, int h, int w, int cin, int oh, int ow, int cout, int pt, int pl, const float *x,
                          const float *U, float *y, float *ws) {
#ifdef __wasm_simd128__
  int th = (oh + 1) / 2, tw = (ow + 1) / 2, T = n * th * tw;
  int mb = tiles_per_block(cin, cout, 64), vs = mb * cin + WINO_SKEW, ms = mb * cout + WINO_SKEW;
  float *V = ws, *M = ws + 16 * vs, *tile = ws + WS_TILE;
  v128_t zero = wasm_f32x4_splat(0);
  for (int t0 = 0; t0 < T; t0 += mb) {
    int nt = imin(mb, T - t0), padded = (nt + MR - 1) / MR * MR;
    /* V[e]: MR-tile panels, k-major (gf_sgemm's packed A), from MR tiles x 4 channels at a time. */
    for (int q = 0; q < padded; q += MR) {
      int nn[MR], oy[MR], ox[MR];
      for (int r = 0; r < MR; ++r) tile_at(t0 + q + r, th, tw, &nn[r], &oy[r], &ox[r]);
      for (int c = 0; c < cin; c += 4) {
        /* Inline, not input_patch: with the four tiles' transforms interleaved for the transpose
         * below, the helper's version ran the forward 1.2x slower. */
        v128_t out[16][MR];
        for (int r = 0; r < MR; ++r) {
          v128_t d[4][4];
          int real = q + r < nt;
          for (int i = 0; i < 4; ++i) {
            unsigned iy = oy[r] - pt + i;
            const float *row = x + (nn[r] * h + (int)iy) * w * cin + c;
            for (int j = 0; j < 4; ++j) {
              unsigned ix = ox[r] - pl + j;
              d[i][j] = real && iy < (unsigned)h && ix < (unsigned)w ? wasm_v128_load(row + (int)ix * cin) : zero;
            }
          }
          v128_t s[4][4]; /* B^T d */
          for (int j = 0; j < 4; ++j) {
            s[0][j] = wasm_f32x4_sub(d[0][j], d[2][j]);
            s[1][j] = wasm_f32x4_add(d[1][j], d[2][j]);
            s[2][j] = wasm_f32x4_sub(d[2][j], d[1][j]);
            s[3][j] = wasm_f32x4_sub(d[1][j], d[3][j]);
          }
          for (int i = 0; i < 4; ++i) { /* (B^T d) B */
            out[i * 4][r] = wasm_f32x4_sub(s[i][0], s[i][2]);
            out[i * 4 + 1][r] = wasm_f32x4_add(s[i][1], s[i][2]);
            out[i * 4 + 2][r] = wasm_f32x4_sub(s[i][2], s[i][1]);
            out[i * 4 + 3][r] = wasm_f32x4_sub(s[i][1], s[i][3]);
          }
        }
        for (int e = 0; e < 16; ++e) {
          /* MR tiles x 4 channels -> per channel, MR tiles */
          v128_t a = out[e][0], b = out[e][1], cc = out[e][2], dd = out[e][3];
          v128_t lo01 = wasm_i32x4_shuffle(a, b, 0, 4, 1, 5), lo23 = wasm_i32x4_shuffle(cc, dd, 0, 4, 1, 5);
          v128_t hi01 = wasm_i32x4_shuffle(a, b, 2, 6, 3, 7), hi23 = wasm_i32x4_shuffle(cc, dd, 2, 6, 3, 7);
          float *dst = V + e * vs + q * cin + c * MR;
          wasm_v128_store(dst, wasm_i32x4_shuffle(lo01, lo23, 0, 1, 4, 5));
          wasm_v128_store(dst + 4, wasm_i32x4_shuffle(lo01, lo23, 2, 3, 6, 7));
          wasm_v128_store(dst + 8, wasm_i32x4_shuffle(hi01, hi23, 0, 1, 4, 5));
          wasm_v128_store(dst + 12, wasm_i32x4_shuffle(hi01, hi23, 2, 3, 6, 7));
        }
      }
    }
    /* M[e] (tiles x cout) = V[e] U[e] */
    for (int e = 0; e < 16; ++e)
      for (int jr = 0; jr < cout; jr += NR)
        for (int q = 0; q < padded; q += MR)
          micro_kernel(cin, V + e * vs + q * cin, U + e * cin * cout + jr * cin, M + e * ms + q * cout + jr, cout, MR,
                       NR, 0, tile);
    /* y tile = A^T M A, the pixels inside the output */
    for (int q = 0; q < nt; ++q) {
      int nn, oy, ox;
      tile_at(t0 + q, th, tw, &nn, &oy, &ox);
      int down = oy + 1 < oh, right = ox + 1 < ow;
      float *o = y + ((nn * oh + oy) * ow + ox) * cout;
      for (int c = 0; c < cout; c += 4) {
        v128_t m[16], r0[4], r1[4];
        for (int e = 0; e < 16; ++e) m[e] = wasm_v128_load(M + e * ms + q * cout + c);
        for (int j = 0; j < 4; ++j) {
          r0[j] = wasm_f32x4_add(wasm_f32x4_add(m[j], m[4 + j]), m[8 + j]);
          r1[j] = wasm_f32x4_sub(wasm_f32x4_sub(m[4 + j], m[8 + j]), m[12 + j]);
        }
        wasm_v128_store(o + c, wasm_f32x4_add(wasm_f32x4_add(r0[0], r0[1]), r0[2]));
        if (right) wasm_v128_store(o + cout + c, wasm_f32x4_sub(wasm_f32x4_sub(r0[1], r0[2]), r0[3]));
        if (down) {
          wasm_v128_store(o + ow * cout + c, wasm_f32x4_add(wasm_f32x4_add(r1[0], r1[1]), r1[2]));
          if (right) wasm_v128_store(o + (ow + 1) * cout + c, wasm_f32x4_sub(wasm_f32x4_sub(r1[1], r1[2]), r1[3]));
        }
      }
    }
  }
#else
  /* The scalar build is never given a Winograd geometry (conv.ts checks the variant). */
  (void)n, (void)h, (void)w, (void)cin, (void)oh, (void)ow, (void)cout, (void)pt, (void)pl, (void)x, (void)U, (void)y,
      (void)ws;
#endif
}

/*
 * The filter gradient of winograd_conv's convolution: with V = B^T d B per tile and Z = A dY A^T
 * (dY the tile's 2x2 of dy, zero past the output), the transformed filter's gradient is
 * dU[e] = sum over tiles of V[e]^T Z[e] (16 GEMMs with the tiles as their depth, accumulated
 * over the blocks into du), and dW = G^T dU G.
 */
static void winograd_filter_grad(int n, int h, int w, int cin, int oh, int ow, int cout, int pt, int pl,
                                 const float *x, const float *dy, float *dw, float *du, float *ws) {
#ifdef __wasm_simd128__
  int th = (oh + 1) / 2, tw = (ow + 1) / 2, T = n * th * tw;
  /* The tiles are the GEMMs' depth here: longer blocks, fewer passes over du. */
  int mb = tiles_per_block(cin, cout, 256), vs = mb * cin + WINO_SKEW, zs = mb * cout + WINO_SKEW;
  float *V = ws, *Z = ws + 16 * vs, *tile = ws + WS_TILE;
  v128_t zero = wasm_f32x4_splat(0);
  for (int t0 = 0; t0 < T; t0 += mb) {
    int nt = imin(mb, T - t0), padded = (nt + MR - 1) / MR * MR;
    /* V[e]: MR-channel panels with the tiles as k (4 channels of a tile side by side); Z[e] below. */
    for (int q = 0; q < padded; ++q) {
      int nn, oy, ox;
      tile_at(t0 + q, th, tw, &nn, &oy, &ox);
      for (int c = 0; c < cin; c += 4) {
        v128_t v[16];
        input_patch(x, h, w, cin, c, pt, pl, nn, oy, ox, q < nt, v);
        for (int e = 0; e < 16; ++e) wasm_v128_store(V + e * vs + c * padded + q * MR, v[e]);
      }
      /* Z[e]: NR-channel panels of A dY A^T, the tiles as k. */
      int real = q < nt, down = oy + 1 < oh, right = ox + 1 < ow;
      const float *g = dy + ((nn * oh + oy) * ow + ox) * cout;
      for (int c = 0; c < cout; c += 4) {
        v128_t y00 = real ? wasm_v128_load(g + c) : zero;
        v128_t y01 = real && right ? wasm_v128_load(g + cout + c) : zero;
        v128_t y10 = real && down ? wasm_v128_load(g + ow * cout + c) : zero;
        v128_t y11 = real && down && right ? wasm_v128_load(g + (ow + 1) * cout + c) : zero;
        /* rows: A dY = [y0, y0 + y1, y0 − y1, −y1] */
        v128_t rows[4][2] = {{y00, y01},
                             {wasm_f32x4_add(y00, y10), wasm_f32x4_add(y01, y11)},
                             {wasm_f32x4_sub(y00, y10), wasm_f32x4_sub(y01, y11)},
                             {wasm_f32x4_neg(y10), wasm_f32x4_neg(y11)}};
        float *dst = Z + (c / NR) * padded * NR + q * NR + c % NR;
        for (int i = 0; i < 4; ++i) { /* then A^T on the right: the same four combinations */
          v128_t a = rows[i][0], b = rows[i][1];
          wasm_v128_store(dst + (i * 4) * zs, a);
          wasm_v128_store(dst + (i * 4 + 1) * zs, wasm_f32x4_add(a, b));
          wasm_v128_store(dst + (i * 4 + 2) * zs, wasm_f32x4_sub(a, b));
          wasm_v128_store(dst + (i * 4 + 3) * zs, wasm_f32x4_neg(b));
        }
      }
    }
    /* du[e] (cin x cout) (+)= V[e]^T Z[e] */
    for (int e = 0; e < 16; ++e)
      for (int jr = 0; jr < cout; jr += NR)
        for (int ir = 0; ir < cin; ir += MR)
          micro_kernel(padded, V + e * vs + ir * padded, Z + e * zs + jr * padded, du + e * cin * cout + ir * cout + jr,
                       cout, MR, NR, t0 > 0, tile);
  }
  /* dW[a][b][i][o] = (G^T dU G)[a][b], four output channels at a time */
  for (int i = 0; i < cin; ++i)
    for (int o = 0; o < cout; o += 4) {
      v128_t u[16], t[3][4], half = wasm_f32x4_splat(0.5f);
      for (int e = 0; e < 16; ++e) u[e] = wasm_v128_load(du + e * cin * cout + i * cout + o);
      for (int j = 0; j < 4; ++j) {
        v128_t s12 = wasm_f32x4_mul(half, wasm_f32x4_add(u[4 + j], u[8 + j]));
        t[0][j] = wasm_f32x4_add(u[j], s12);
        t[1][j] = wasm_f32x4_mul(half, wasm_f32x4_sub(u[4 + j], u[8 + j]));
        t[2][j] = wasm_f32x4_add(s12, u[12 + j]);
      }
      for (int a = 0; a < 3; ++a) {
        v128_t s12 = wasm_f32x4_mul(half, wasm_f32x4_add(t[a][1], t[a][2]));
        float *d = dw + (a * 3 * cin + i) * cout + o;
        wasm_v128_store(d, wasm_f32x4_add(t[a][0], s12));
        wasm_v128_store(d + cin * cout, wasm_f32x4_mul(half, wasm_f32x4_sub(t[a][1], t[a][2])));
        wasm_v128_store(d + 2 * cin * cout, wasm_f32x4_add(s12, t[a][3]));
      }
    }
#else
  (void)n, (void)h, (void)w, (void)cin, (void)oh, (void)ow, (void)cout, (void)pt, (void)pl, (void)x, (void)dy,
      (void)dw, (void)du, (void)ws;
#endif
}

/* Floats of gf_conv2d_forward's scratch: the filter packed into NR-column panels, then a zero row. */
EXPORT(gf_conv2d_forward_scratch_floats)
int gf_conv2d_forward_scratch_floats(const Geom *g) {
  return packed_b_floats(g->kh * g->kw * g->ci, g->co) + g->ci;
}

/*
 * Forward convolution y (M x Co) = im2col(x) (M x K) * W (K x Co) as an indirect GEMM: W packed
 * once into `scratch` (gf_conv2d_forward_scratch_floats), then, for each block of output pixels,
 * a pointer per (pixel, tap) into x and the micro-kernel over the filter's column panels.
 * Any stride, dilation and padding.
 */
EXPORT(gf_conv2d_forward)
void gf_conv2d_forward(const Geom *g, const float *x, const float *w, float *y, float *scratch, float *ws) {
  if (g->winograd) {
    winograd_conv(g->n, g->h, g->w, g->ci, g->oh, g->ow, g->co, g->pt, g->pl, x, w, y, ws);
    return;
  }
  int taps = g->kh * g->kw, K = taps * g->ci, M = g->n * g->oh * g->ow, Co = g->co;
  float *packed = scratch, *zeros = scratch + packed_b_floats(K, Co);
  Pointers p = pointer_block(ws, taps);
  pack_b(K, Co, w, Co, 1, packed);
  zero_floats(zeros, g->ci);
  for (int m0 = 0; m0 < M; m0 += p.block) {
    int rows = imin(p.block, M - m0);
    /* Pixel m0 + i is (n, oh, ow): counters, not three divisions per pixel. */
    int ow = m0 % g->ow, oh = (m0 / g->ow) % g->oh, n = m0 / (g->ow * g->oh);
    for (int i = 0; i < rows; ++i) {
      p.out[i] = y + (m0 + i) * Co;
      for (int kh = 0, t = 0; kh < g->kh; ++kh) {
        int ih = oh * g->sh - g->pt + kh * g->dh;
        for (int kw = 0; kw < g->kw; ++kw, ++t) {
          int iw = ow * g->sw - g->pl + kw * g->dw;
          int inside = ih >= 0 && ih < g->h && iw >= 0 && iw < g->w;
          *in_slot(p, taps, i, t) = inside ? x + ((n * g->h + ih) * g->w + iw) * g->ci : zeros;
        }
      }
      if (++ow == g->ow) {
        ow = 0;
        if (++oh == g->oh) oh = 0, ++n;
      }
    }
    igemm_rows(p, rows, taps, g->ci, zeros, packed, Co, ws + WS_TILE);
  }
}

/*
 * The filter rows (or columns) that reach input coordinates ≡ a (mod s): k with
 * a + pad − k·d ≡ 0 (mod s). Writes them to ks and returns how many.
 */
static int phase_taps(int a, int pad, int k, int d, int s, int *ks) {
  int count = 0;
  for (int kk = 0; kk < k; ++kk)
    if ((a + pad - kk * d) % s == 0) ks[count++] = kk;
  return count;
}

/*
 * The input gradient's phases (see gf_conv2d_backprop_input), in its scratch: per row phase a its
 * filter rows (kh[a * KH + i], nkh[a] of them), per column phase b its filter columns, and per
 * phase (a, b) the offset of its packed filter.
 */
typedef struct {
  int *kh, *nkh, *kw, *nkw, *packed_at;
  int *oh, *ow; /* per filter row / column of the current phase: the dy row / column it reads */
} Phases;

/*
 * Floats of gf_conv2d_backprop_input's scratch: every phase's filter packed (together they hold
 * each tap once), a zero row, then the Phases tables (ints).
 */
EXPORT(gf_conv2d_backprop_input_scratch_floats)
int gf_conv2d_backprop_input_scratch_floats(const Geom *g) {
  int K = g->kh * g->kw * g->co;
  int tables = g->sh * (g->kh + 1) + g->sw * (g->kw + 1) + g->sh * g->sw + g->kh + g->kw;
  return packed_b_floats(K, g->ci) + g->co + tables;
}

/* Finds every phase's taps and packs its filter: row (tap, co), column ci = W[kh, kw, ci, co]. */
static Phases pack_phases(const Geom *g, const float *w, float *packed, int *ints) {
  int ci = g->ci, co = g->co;
  Phases ph = {ints, ints + g->sh * g->kh, 0, 0, 0, 0, 0};
  ph.kw = ph.nkh + g->sh;
  ph.nkw = ph.kw + g->sw * g->kw;
  ph.packed_at = ph.nkw + g->sw;
  ph.oh = ph.packed_at + g->sh * g->sw;
  ph.ow = ph.oh + g->kh;
  for (int a = 0; a < g->sh; ++a) ph.nkh[a] = phase_taps(a, g->pt, g->kh, g->dh, g->sh, ph.kh + a * g->kh);
  for (int b = 0; b < g->sw; ++b) ph.nkw[b] = phase_taps(b, g->pl, g->kw, g->dw, g->sw, ph.kw + b * g->kw);
  int at = 0;
  for (int a = 0; a < g->sh; ++a)
    for (int b = 0; b < g->sw; ++b) {
      int taps = ph.nkh[a] * ph.nkw[b];
      /* Tap t's rows (co of them) are rows t * co.. of every panel: B(o, c) = W[kh, kw, c, o]. */
      for (int u = 0, t = 0; u < ph.nkh[a]; ++u)
        for (int v = 0; v < ph.nkw[b]; ++v, ++t) {
          const float *src = w + (ph.kh[a * g->kh + u] * g->kw + ph.kw[b * g->kw + v]) * ci * co;
          pack_b_panels(co, ci, src, 1, co, packed + at + t * co * NR, taps * co * NR);
        }
      ph.packed_at[a * g->sw + b] = at;
      at += packed_b_floats(taps * co, ci);
    }
  return ph;
}

/*
 * dX[n, ih, iw, ci] = sum over taps (kh, kw) and co of dy[n, oh, ow, co] W[kh, kw, ci, co] where
 * ih = oh·sh − pt + kh·dh (and the same for iw). The input pixels split into sh·sw phases
 * (ih mod sh, iw mod sw); in each, the same taps reach every pixel, so a phase is an indirect GEMM
 * of dy with that phase's taps of Wᵀ: no FLOP on the zeros a stride inserts and no col2im pass.
 * It works through dx a few image rows at a time, every phase of those rows in turn, so each
 * pixel is written once while its rows are in cache (a phase no tap reaches, off the grid of a
 * strided 1x1, gets zeros).
 */
EXPORT(gf_conv2d_backprop_input)
void gf_conv2d_backprop_input(const Geom *g, const float *dy, const float *w, float *dx, float *scratch, float *ws) {
  if (g->winograd) {
    /* A 3x3 stride-1 conv of dy with the rotated, transposed filter, padded by 2 - p. */
    winograd_conv(g->n, g->oh, g->ow, g->co, g->h, g->w, g->ci, 2 - g->pt, 2 - g->pl, dy, w, dx, ws);
    return;
  }
  int ci = g->ci, co = g->co, K = g->kh * g->kw * co;
  float *packed = scratch, *zeros = packed + packed_b_floats(K, ci);
  Phases ph = pack_phases(g, w, packed, (int *)(zeros + co));
  zero_floats(zeros, co);
  /* One pointer block fits the phase with the most taps; rows per pass fill it for every phase. */
  int most = 0;
  for (int a = 0; a < g->sh; ++a)
    for (int b = 0; b < g->sw; ++b) most = ph.nkh[a] * ph.nkw[b] > most ? ph.nkh[a] * ph.nkw[b] : most;
  Pointers p = pointer_block(ws, most);
  /*
   * Work goes in groups of G images x R rows: a phase's pixels of one group fill at most a pointer
   * block, so small images share a block (the filter streams once per block, not per image)
   * and big ones are cut into bands of rows.
   */
  int per_row = (g->w + g->sw - 1) / g->sw, per_image = per_row * ((g->h + g->sh - 1) / g->sh);
  int G = per_image <= p.block ? p.block / per_image : 1;
  int R = per_image <= p.block ? g->h : g->sh * (p.block / per_row > 1 ? p.block / per_row : 1);
  for (int n0 = 0; n0 < g->n; n0 += G)
    for (int r0 = 0; r0 < g->h; r0 += R)
      for (int a = 0; a < g->sh; ++a) {
        int first = r0 + (a - r0 % g->sh + g->sh) % g->sh, end = imin(r0 + R, g->h), n1 = imin(n0 + G, g->n);
        if (ph.nkh[a] == 0) {
          /* No filter row reaches these dx rows: all their phases are zeros, in one run per row. */
          for (int n = n0; n < n1; ++n)
            for (int ih = first; ih < end; ih += g->sh) zero_floats(dx + (n * g->h + ih) * g->w * ci, g->w * ci);
          continue;
        }
        for (int b = 0; b < g->sw; ++b) {
          int nkh = ph.nkh[a], nkw = ph.nkw[b], taps = nkh * nkw, rows = 0;
          const float *pk = packed + ph.packed_at[a * g->sw + b];
          /* The dy column each filter column reads at iw = b; it moves by one per pixel. Exact
           * divisions: the phase's taps are the ones whose offsets the stride divides. */
          for (int tv = 0; tv < nkw; ++tv) ph.ow[tv] = (b + g->pl - ph.kw[b * g->kw + tv] * g->dw) / g->sw;
          for (int n = n0; n < n1; ++n)
            for (int ih = first; ih < end; ih += g->sh) {
              for (int tu = 0; tu < nkh; ++tu) ph.oh[tu] = (ih + g->pt - ph.kh[a * g->kh + tu] * g->dh) / g->sh;
              for (int iw = b, v = 0; iw < g->w; iw += g->sw, ++v) {
                float *out = dx + ((n * g->h + ih) * g->w + iw) * ci;
                if (taps == 0) {
                  zero_floats(out, ci);
                  continue;
                }
                p.out[rows] = out;
                for (int tu = 0, t = 0; tu < nkh; ++tu) {
                  int oh = ph.oh[tu];
                  for (int tv = 0; tv < nkw; ++tv, ++t) {
                    int ow = ph.ow[tv] + v;
                    int inside = oh >= 0 && oh < g->oh && ow >= 0 && ow < g->ow;
                    *in_slot(p, taps, rows, t) = inside ? dy + ((n * g->oh + oh) * g->ow + ow) * co : zeros;
                  }
                }
                if (++rows == p.block) {
                  igemm_rows(p, rows, taps, co, zeros, pk, ci, ws + WS_TILE);
                  rows = 0;
                }
              }
            }
          if (rows) igemm_rows(p, rows, taps, co, zeros, pk, ci, ws + WS_TILE);
        }
      }
}

/* y[r, c] = act(y[r, c] + bias[c]) for the fused conv epilogue: bias may be 0 (none), relu 0/1. */
EXPORT(gf_bias_act)
void gf_bias_act(float *y, int rows, int C, const float *bias, int relu) {
  for (int r = 0; r < rows; ++r) {
    float *o = y + r * C;
    int c = 0;
#ifdef __wasm_simd128__
    v128_t zero = wasm_f32x4_splat(0);
    for (; c + 4 <= C; c += 4) {
      v128_t v = wasm_v128_load(o + c);
      if (bias) v = wasm_f32x4_add(v, wasm_v128_load(bias + c));
      if (relu) v = wasm_f32x4_max(v, zero);
      wasm_v128_store(o + c, v);
    }
#endif
    for (; c < C; ++c) {
      float v = o[c] + (bias ? bias[c] : 0.0f);
      o[c] = relu && v < 0.0f ? 0.0f : v; /* NaN stays NaN, as tfjs's relu */
    }
  }
}

/*
 * MaxPool gradient (NHWC) for images [n0, n1) of the batch `g` describes: dx is zeroed, then each
 * output's dy goes to the first maximum of its window, scanning rows then columns with a strict >
 * from -inf (a NaN never wins; a window of only -inf or NaN passes nothing): the position tfjs's
 * cpu backend picks. Overlapping windows add. SIMD over 4 channels: a compare and two selects
 * track each lane's best value and its pixel.
 */
EXPORT(gf_max_pool_grad)
void gf_max_pool_grad(const Geom *g, int n0, int n1, const float *x, const float *dy, float *dx) {
  int C = g->ci, image = g->h * g->w * C;
  zero_floats(dx + n0 * image, (n1 - n0) * image);
  for (int n = n0; n < n1; ++n) {
    const float *xn = x + n * image;
    float *dxn = dx + n * image;
    for (int oh = 0; oh < g->oh; ++oh) {
      int top = oh * g->sh - g->pt, h0 = top, h1 = imin(g->h, top + (g->kh - 1) * g->dh + 1);
      while (h0 < 0) h0 += g->dh;
      for (int ow = 0; ow < g->ow; ++ow) {
        int left = ow * g->sw - g->pl, w0 = left, w1 = imin(g->w, left + (g->kw - 1) * g->dw + 1);
        while (w0 < 0) w0 += g->dw;
        const float *d = dy + ((n * g->oh + oh) * g->ow + ow) * C;
        int c = 0;
#ifdef __wasm_simd128__
        for (; c + 4 <= C; c += 4) {
          v128_t best = wasm_f32x4_splat(-__builtin_inff()), at = wasm_i32x4_splat(-1);
          for (int ih = h0; ih < h1; ih += g->dh)
            for (int iw = w0; iw < w1; iw += g->dw) {
              int pixel = ih * g->w + iw;
              v128_t v = wasm_v128_load(xn + pixel * C + c), wins = wasm_f32x4_gt(v, best);
              best = wasm_v128_bitselect(v, best, wins);
              at = wasm_v128_bitselect(wasm_i32x4_splat(pixel), at, wins);
            }
          int p0 = wasm_i32x4_extract_lane(at, 0), p1 = wasm_i32x4_extract_lane(at, 1);
          int p2 = wasm_i32x4_extract_lane(at, 2), p3 = wasm_i32x4_extract_lane(at, 3);
          if (p0 >= 0) dxn[p0 * C + c] += d[c];
          if (p1 >= 0) dxn[p1 * C + c + 1] += d[c + 1];
          if (p2 >= 0) dxn[p2 * C + c + 2] += d[c + 2];
          if (p3 >= 0) dxn[p3 * C + c + 3] += d[c + 3];
        }
#endif
        for (; c < C; ++c) {
          float best = -__builtin_inff();
          int at = -1;
          for (int ih = h0; ih < h1; ih += g->dh)
            for (int iw = w0; iw < w1; iw += g->dw) {
              float v = xn[(ih * g->w + iw) * C + c];
              if (v > best) best = v, at = ih * g->w + iw;
            }
          if (at >= 0) dxn[at * C + c] += d[c];
        }
      }
    }
  }
}

/*
 * AvgPool gradient (NHWC) for images [n0, n1): each output's dy summed into every in-bounds pixel
 * of its window, then every pixel times 1/(kh·kw): tfjs's cpu backend divides by the whole window,
 * padding included, after summing (so this adds in the same order and rounds the same way).
 */
EXPORT(gf_avg_pool_grad)
void gf_avg_pool_grad(const Geom *g, int n0, int n1, const float *dy, float *dx) {
  int C = g->ci, image = g->h * g->w * C;
  float scale = 1.0f / (float)(g->kh * g->kw);
  zero_floats(dx + n0 * image, (n1 - n0) * image);
  for (int n = n0; n < n1; ++n) {
    float *dxn = dx + n * image;
    for (int oh = 0; oh < g->oh; ++oh) {
      int top = oh * g->sh - g->pt, h1 = imin(g->h, top + (g->kh - 1) * g->dh + 1);
      for (int ow = 0; ow < g->ow; ++ow) {
        int left = ow * g->sw - g->pl, w1 = imin(g->w, left + (g->kw - 1) * g->dw + 1);
        const float *d = dy + ((n * g->oh + oh) * g->ow + ow) * C;
        for (int ih = top; ih < h1; ih += g->dh) {
          if (ih < 0) continue;
          for (int iw = left; iw < w1; iw += g->dw) {
            if (iw < 0) continue;
            float *p = dxn + (ih * g->w + iw) * C;
            int c = 0;
#ifdef __wasm_simd128__
            for (; c + 4 <= C; c += 4) wasm_v128_store(p + c, wasm_f32x4_add(wasm_v128_load(p + c), wasm_v128_load(d + c)));
#endif
            for (; c < C; ++c) p[c] += d[c];
          }
        }
      }
    }
    int i = 0;
#ifdef __wasm_simd128__
    for (v128_t s = wasm_f32x4_splat(scale); i + 4 <= image; i += 4) wasm_v128_store(dxn + i, wasm_f32x4_mul(wasm_v128_load(dxn + i), s));
#endif
    for (; i < image; ++i) dxn[i] *= scale;
  }
}

/*
 * Concatenation along one axis for output rows [r0, r1): viewed as [rows, inner_i], input i
 * (table[2i]: its heap offset, table[2i+1]: inner_i) fills its columns of every output row of
 * `width` elements. 4-byte elements copied bit for bit (float32 and int32 alike).
 */
EXPORT(gf_concat)
void gf_concat(int n, const int *table, int r0, int r1, int width, float *out) {
  for (int r = r0; r < r1; ++r) {
    float *o = out + r * width;
    for (int i = 0; i < n; ++i) {
      int inner = table[2 * i + 1];
      copy_floats(o, (const float *)table[2 * i] + r * inner, inner);
      o += inner;
    }
  }
}

/* Depthwise (filter [kh,kw,c,mult], dy channels c*mult+q): filter gradient, direct loops. */
EXPORT(gf_depthwise_backprop_filter)
void gf_depthwise_backprop_filter(const Geom *g, int mult, const float *x, const float *dy, float *dw) {
  int C = g->ci, CO = C * mult;
  zero_floats(dw, g->kh * g->kw * CO);
  for (int n = 0; n < g->n; ++n)
    for (int oh = 0; oh < g->oh; ++oh)
      for (int kh = 0; kh < g->kh; ++kh) {
        int ih = oh * g->sh - g->pt + kh * g->dh;
        if (ih < 0 || ih >= g->h) continue;
        for (int ow = 0; ow < g->ow; ++ow) {
          const float *dyp = dy + ((n * g->oh + oh) * g->ow + ow) * CO;
          for (int kw = 0; kw < g->kw; ++kw) {
            int iw = ow * g->sw - g->pl + kw * g->dw;
            if (iw < 0 || iw >= g->w) continue;
            const float *xp = x + ((n * g->h + ih) * g->w + iw) * C;
            float *d = dw + (kh * g->kw + kw) * CO;
            if (mult == 1) {
              int c = 0;
#ifdef __wasm_simd128__
              for (; c + 4 <= C; c += 4)
                wasm_v128_store(d + c, GF_MADD(wasm_v128_load(xp + c), wasm_v128_load(dyp + c), wasm_v128_load(d + c)));
#endif
              for (; c < C; ++c) d[c] += xp[c] * dyp[c];
            } else {
              for (int c = 0; c < C; ++c) {
                float xv = xp[c];
                for (int q = 0; q < mult; ++q) d[c * mult + q] += xv * dyp[c * mult + q];
              }
            }
          }
        }
      }
}

/* Depthwise input gradient: dx[n,ih,iw,c] += sum_q w[kh,kw,c,q] * dy[n,oh,ow,c*mult+q]. */
EXPORT(gf_depthwise_backprop_input)
void gf_depthwise_backprop_input(const Geom *g, int mult, const float *dy, const float *w, float *dx) {
  int C = g->ci, CO = C * mult;
  zero_floats(dx, g->n * g->h * g->w * C);
  for (int n = 0; n < g->n; ++n)
    for (int oh = 0; oh < g->oh; ++oh)
      for (int kh = 0; kh < g->kh; ++kh) {
        int ih = oh * g->sh - g->pt + kh * g->dh;
        if (ih < 0 || ih >= g->h) continue;
        for (int ow = 0; ow < g->ow; ++ow) {
          const float *dyp = dy + ((n * g->oh + oh) * g->ow + ow) * CO;
          for (int kw = 0; kw < g->kw; ++kw) {
            int iw = ow * g->sw - g->pl + kw * g->dw;
            if (iw < 0 || iw >= g->w) continue;
            float *xp = dx + ((n * g->h + ih) * g->w + iw) * C;
            const float *wp = w + (kh * g->kw + kw) * CO;
            if (mult == 1) {
              int c = 0;
#ifdef __wasm_simd128__
              for (; c + 4 <= C; c += 4)
                wasm_v128_store(xp + c,
                                GF_MADD(wasm_v128_load(wp + c), wasm_v128_load(dyp + c), wasm_v128_load(xp + c)));
#endif
              for (; c < C; ++c) xp[c] += wp[c] * dyp[c];
            } else {
              for (int c = 0; c < C; ++c) {
                float s = 0.0f;
                for (int q = 0; q < mult; ++q) s += wp[c * mult + q] * dyp[c * mult + q];
                xp[c] += s;
              }
            }
          }
        }
      }
}

/* Tile where the input repeats as whole blocks: out = `reps` copies of `block` floats. */
EXPORT(gf_repeat_block)
void gf_repeat_block(const float *src, int block, int reps, float *out) {
  for (int r = 0; r < reps; ++r) copy_floats(out + r * block, src, block);
}

/*
 * The Sum/Mean gradient over leading axes: out = `reps` copies of src / divisor (divisor 1 for
 * Sum, the reduced size for Mean), the exact values of tfjs-core's (dy * ones) / n.
 */
EXPORT(gf_repeat_div)
void gf_repeat_div(const float *src, int block, int reps, float divisor, float *out) {
  if (divisor == 1.0f) {
    gf_repeat_block(src, block, reps, out);
    return;
  }
  for (int r = 0; r < reps; ++r) {
    float *o = out + r * block;
    int j = 0;
#ifdef __wasm_simd128__
    v128_t d = wasm_f32x4_splat(divisor);
    for (; j + 4 <= block; j += 4) wasm_v128_store(o + j, wasm_f32x4_div(wasm_v128_load(src + j), d));
#endif
    for (; j < block; ++j) o[j] = src[j] / divisor;
  }
}


/* out[c] = scale * sum_r x[r*cols + c]: reduction over all leading axes (per-channel sums). */
/*
 * out[o, i] = scale * sum_r x[o, r, i] for x viewed as [outer, R, inner]: a Sum/Mean over a
 * contiguous run of axes (leading: outer 1; trailing: inner 1, e.g. LayerNorm statistics).
 */
void gf_sum_rows(const float *x, int rows, int cols, float scale, float *out);

EXPORT(gf_sum_mid)
void gf_sum_mid(const float *x, int outer, int R, int inner, float scale, float *out) {
  if (inner > 1) {
    for (int o = 0; o < outer; ++o) gf_sum_rows(x + o * R * inner, R, inner, scale, out + o * inner);
    return;
  }
  for (int o = 0; o < outer; ++o) {
    const float *p = x + o * R;
    int r = 0;
    float acc = 0.0f;
#ifdef __wasm_simd128__
    v128_t a0 = wasm_f32x4_splat(0), a1 = a0;
    for (; r + 8 <= R; r += 8) {
      a0 = wasm_f32x4_add(a0, wasm_v128_load(p + r));
      a1 = wasm_f32x4_add(a1, wasm_v128_load(p + r + 4));
    }
    for (; r + 4 <= R; r += 4) a0 = wasm_f32x4_add(a0, wasm_v128_load(p + r));
    a0 = wasm_f32x4_add(a0, a1);
    acc = (wasm_f32x4_extract_lane(a0, 0) + wasm_f32x4_extract_lane(a0, 1)) +
          (wasm_f32x4_extract_lane(a0, 2) + wasm_f32x4_extract_lane(a0, 3));
#endif
    for (; r < R; ++r) acc += p[r];
    out[o] = acc * scale;
  }
}

EXPORT(gf_sum_rows)
void gf_sum_rows(const float *x, int rows, int cols, float scale, float *out) {
  int c0 = 0;
#ifdef __wasm_simd128__
  for (; c0 + 16 <= cols; c0 += 16) {
    v128_t a0 = wasm_f32x4_splat(0), a1 = a0, a2 = a0, a3 = a0;
    const float *p = x + c0;
    for (int r = 0; r < rows; ++r, p += cols) {
      a0 = wasm_f32x4_add(a0, wasm_v128_load(p));
      a1 = wasm_f32x4_add(a1, wasm_v128_load(p + 4));
      a2 = wasm_f32x4_add(a2, wasm_v128_load(p + 8));
      a3 = wasm_f32x4_add(a3, wasm_v128_load(p + 12));
    }
    v128_t s = wasm_f32x4_splat(scale);
    wasm_v128_store(out + c0, wasm_f32x4_mul(a0, s));
    wasm_v128_store(out + c0 + 4, wasm_f32x4_mul(a1, s));
    wasm_v128_store(out + c0 + 8, wasm_f32x4_mul(a2, s));
    wasm_v128_store(out + c0 + 12, wasm_f32x4_mul(a3, s));
  }
  for (; c0 + 4 <= cols; c0 += 4) {
    v128_t a0 = wasm_f32x4_splat(0);
    const float *p = x + c0;
    for (int r = 0; r < rows; ++r, p += cols) a0 = wasm_f32x4_add(a0, wasm_v128_load(p));
    wasm_v128_store(out + c0, wasm_f32x4_mul(a0, wasm_f32x4_splat(scale)));
  }
#endif
  for (; c0 < cols; ++c0) {
    float a = 0.0f;
    for (int r = 0; r < rows; ++r) a += x[r * cols + c0];
    out[c0] = a * scale;
  }
}

/*
 * Elementwise binary op with suffix broadcasting: out[i] = a[i % na] OP b[i % nb], where each of
 * na, nb is n (full) or the size of a trailing block of the output (a per-channel vector, a
 * scalar). op: 0 add, 1 sub, 2 mul, 3 div, 4 squared difference. `op` is a constant in every
 * instantiation (gf_binary switches once), so the selection below folds away.
 */
#ifdef __wasm_simd128__
static inline __attribute__((always_inline)) v128_t gf_vop(int op, v128_t x, v128_t y) {
  if (op == 0) return wasm_f32x4_add(x, y);
  if (op == 1) return wasm_f32x4_sub(x, y);
  if (op == 2) return wasm_f32x4_mul(x, y);
  if (op == 3) return wasm_f32x4_div(x, y);
  v128_t d = wasm_f32x4_sub(x, y);
  return wasm_f32x4_mul(d, d);
}
#define GF_VOP(op, x, y) gf_vop(op, x, y)
#endif
static inline __attribute__((always_inline)) float gf_sop(int op, float x, float y) {
  if (op == 0) return x + y;
  if (op == 1) return x - y;
  if (op == 2) return x * y;
  if (op == 3) return x / y;
  return (x - y) * (x - y);
}
#define GF_SOP(op, x, y) gf_sop(op, x, y)

static inline __attribute__((always_inline)) void binary_rows(int op, const float *a, int na, const float *b,
                                                                  int nb, float *out, int n) {
  if (na == n && nb == n) {
    int i = 0;
#ifdef __wasm_simd128__
    for (; i + 4 <= n; i += 4) wasm_v128_store(out + i, GF_VOP(op, wasm_v128_load(a + i), wasm_v128_load(b + i)));
#endif
    for (; i < n; ++i) out[i] = GF_SOP(op, a[i], b[i]);
    return;
  }
  if (nb == 1 || na == 1) {
    float s = nb == 1 ? b[0] : a[0];
    const float *v = nb == 1 ? a : b;
    int i = 0;
#ifdef __wasm_simd128__
    v128_t sv = wasm_f32x4_splat(s);
    if (nb == 1)
      for (; i + 4 <= n; i += 4) wasm_v128_store(out + i, GF_VOP(op, wasm_v128_load(v + i), sv));
    else
      for (; i + 4 <= n; i += 4) wasm_v128_store(out + i, GF_VOP(op, sv, wasm_v128_load(v + i)));
#endif
    if (nb == 1)
      for (; i < n; ++i) out[i] = GF_SOP(op, v[i], s);
    else
      for (; i < n; ++i) out[i] = GF_SOP(op, s, v[i]);
    return;
  }
  int block = na < n ? na : nb;
  for (int r = 0; r < n; r += block) {
    const float *ar = na == n ? a + r : a;
    const float *br = nb == n ? b + r : b;
    float *o = out + r;
    int j = 0;
#ifdef __wasm_simd128__
    for (; j + 4 <= block; j += 4) wasm_v128_store(o + j, GF_VOP(op, wasm_v128_load(ar + j), wasm_v128_load(br + j)));
#endif
    for (; j < block; ++j) o[j] = GF_SOP(op, ar[j], br[j]);
  }
}

EXPORT(gf_binary)
void gf_binary(int op, const float *a, int na, const float *b, int nb, float *out, int n) {
  switch (op) {
    case 0: binary_rows(0, a, na, b, nb, out, n); break;
    case 1: binary_rows(1, a, na, b, nb, out, n); break;
    case 2: binary_rows(2, a, na, b, nb, out, n); break;
    case 3: binary_rows(3, a, na, b, nb, out, n); break;
    default: binary_rows(4, a, na, b, nb, out, n); break;
  }
}

/*
 * The same with one operand broadcast as [outer, 1, inner] against the other's [outer, mid, inner]
 * (`a_small` says which): per-sample statistics such as a LayerNorm mean [N,H,W,1] or a GroupNorm
 * scale [N,1,1,C]. One suffix-broadcast pass per outer index.
 */
/* out[o, m] = a[o, m] OP s[o] (or s[o] OP a[o, m]): one value per row, e.g. a LayerNorm mean. */
static inline __attribute__((always_inline)) void binary_row_scalars(int op, const float *full, const float *s,
                                                                         int s_first, int outer, int mid,
                                                                         float *out) {
  for (int o = 0; o < outer; ++o) {
    const float *f = full + o * mid;
    float *d = out + o * mid;
    float so = s[o];
    int m = 0;
#ifdef __wasm_simd128__
    v128_t sv = wasm_f32x4_splat(so);
    if (s_first)
      for (; m + 4 <= mid; m += 4) wasm_v128_store(d + m, GF_VOP(op, sv, wasm_v128_load(f + m)));
    else
      for (; m + 4 <= mid; m += 4) wasm_v128_store(d + m, GF_VOP(op, wasm_v128_load(f + m), sv));
#endif
    for (; m < mid; ++m) d[m] = s_first ? GF_SOP(op, so, f[m]) : GF_SOP(op, f[m], so);
  }
}

EXPORT(gf_binary_outer)
void gf_binary_outer(int op, const float *a, const float *b, int a_small, int outer, int mid, int inner,
                     float *out) {
  int row = mid * inner;
  if (inner == 1) {
    const float *full = a_small ? b : a, *s = a_small ? a : b;
    switch (op) {
      case 0: binary_row_scalars(0, full, s, a_small, outer, mid, out); break;
      case 1: binary_row_scalars(1, full, s, a_small, outer, mid, out); break;
      case 2: binary_row_scalars(2, full, s, a_small, outer, mid, out); break;
      case 3: binary_row_scalars(3, full, s, a_small, outer, mid, out); break;
      default: binary_row_scalars(4, full, s, a_small, outer, mid, out); break;
    }
    return;
  }
  for (int o = 0; o < outer; ++o) {
    const float *ao = a_small ? a + o * inner : a + o * row;
    const float *bo = a_small ? b + o * row : b + o * inner;
    gf_binary(op, ao, a_small ? inner : row, bo, a_small ? row : inner, out + o * row, row);
  }
}

/*
 * Rows per block of the per-channel passes below (BatchNorm and its input gradient): they run
 * channel group by channel group down a block of rows, the group's factors held in registers,
 * and each array's block (8 KB) stays in L1 while every group passes over it. Row by row, the
 * factors were reloaded for every 4 values: the dx pass of [32, 32, 32, 16] took 3x a multiply's
 * time.
 */
static inline int rows_per_block(int C) { return C >= 2048 ? 1 : 2048 / (C > 0 ? C : 1); }

/*
 * FusedBatchNorm (inference form, also the training forward once the moments are computed):
 * out[r,c] = (x[r,c] - mean[c]) * (scale[c] / sqrt(var[c] + eps)) + offset[c]. offset/scale may
 * be 0 (absent: 0 and 1). tmp holds 2*C floats of scratch.
 */
EXPORT(gf_batchnorm)
void gf_batchnorm(const float *x, int rows, int C, const float *mean, const float *var, const float *offset,
                  const float *scale, float eps, float *out, float *tmp) {
  float *inv = tmp, *off = tmp + C;
  for (int c = 0; c < C; ++c) {
    inv[c] = (scale ? scale[c] : 1.0f) / __builtin_sqrtf(var[c] + eps);
    off[c] = offset ? offset[c] : 0.0f;
  }
  int R = rows_per_block(C);
  for (int r0 = 0; r0 < rows; r0 += R) {
    int n = imin(R, rows - r0);
    const float *xb = x + r0 * C;
    float *ob = out + r0 * C;
    int c = 0;
#ifdef __wasm_simd128__
    for (; c + 4 <= C; c += 4) {
      v128_t m = wasm_v128_load(mean + c), k = wasm_v128_load(inv + c), b = wasm_v128_load(off + c);
      for (int r = 0; r < n; ++r)
        wasm_v128_store(ob + r * C + c,
                        wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(xb + r * C + c), m), k), b));
    }
#endif
    for (; c < C; ++c)
      for (int r = 0; r < n; ++r) ob[r * C + c] = (xb[r * C + c] - mean[c]) * inv[c] + off[c];
  }
}

/*
 * The FusedBatchNorm gradient (per-channel mean/variance/scale over the last axis) in two passes
 * over x and dy, each split by rows over the threads:
 *  1. gf_batchnorm_grad_sums: s1 = sum(dy), s2 = sum(dy * (x - mean)) per channel of its rows
 *     (float32 within blocks of 256 rows, float64 across blocks);
 *  2. gf_batchnorm_grad_finish (once): adds the threads' partial sums and derives dmean =
 *     -inv*scale*s1, dvar = -0.5*inv^3*scale*s2, dscale = inv*s2, doffset = s1, as tfjs-core's
 *     gradient defines them, and the per-channel factors of dx;
 *  3. gf_batchnorm_grad_dx: dx = dy * scale / sqrt(var + eps) for its rows (plus, with batch
 *     statistics, the paths through the mean and variance).
 * scale may be 0 (absent: 1).
 */

/*
 * Per-channel sums (2*C doubles) s1 = Σ a and s2 = Σ a·(x − m) over `rows` rows of x [rows, C],
 * with a = dy, or a = x − m when dy is 0: float32 within blocks of 256 rows, float64 across.
 * The BatchNorm gradient's sums and the moments' (below). Within a block each group of channels
 * sums down the rows in registers: accumulating in memory row by row put a store-to-load chain
 * on every row, and on two threads the chunks' scratch rows shared cache lines.
 */
#ifdef __wasm_simd128__
/* t[0..4) += the lanes of v, in float64. */
static inline void add_lanes(double *t, v128_t v) {
  t[0] += wasm_f32x4_extract_lane(v, 0);
  t[1] += wasm_f32x4_extract_lane(v, 1);
  t[2] += wasm_f32x4_extract_lane(v, 2);
  t[3] += wasm_f32x4_extract_lane(v, 3);
}

/* Channels [c, c + 4·V) of one block of n rows (V = 1 or 2 vectors a row). */
static inline __attribute__((always_inline)) void block_sums(const float *x, const float *dy, const float *m, int n,
                                                             int C, int c, int V, double *t1, double *t2) {
  v128_t zero = wasm_f32x4_splat(0), s10 = zero, s11 = zero, s20 = zero, s21 = zero;
  v128_t m0 = wasm_v128_load(m + c), m1 = V > 1 ? wasm_v128_load(m + c + 4) : zero;
  for (int r = 0; r < n; ++r) {
    const float *xr = x + r * C + c;
    v128_t d0 = wasm_f32x4_sub(wasm_v128_load(xr), m0);
    v128_t a0 = dy ? wasm_v128_load(dy + r * C + c) : d0;
    s10 = wasm_f32x4_add(s10, a0);
    s20 = wasm_f32x4_add(s20, wasm_f32x4_mul(a0, d0));
    if (V > 1) {
      v128_t d1 = wasm_f32x4_sub(wasm_v128_load(xr + 4), m1);
      v128_t a1 = dy ? wasm_v128_load(dy + r * C + c + 4) : d1;
      s11 = wasm_f32x4_add(s11, a1);
      s21 = wasm_f32x4_add(s21, wasm_f32x4_mul(a1, d1));
    }
  }
  add_lanes(t1 + c, s10);
  add_lanes(t2 + c, s20);
  if (V > 1) {
    add_lanes(t1 + c + 4, s11);
    add_lanes(t2 + c + 4, s21);
  }
}

/* block_sums with the choice of a made once, outside the row loop. */
static inline __attribute__((always_inline)) void group_sums(const float *x, const float *dy, const float *m, int n,
                                                             int C, int c, int V, double *t1, double *t2) {
  if (dy)
    block_sums(x, dy, m, n, C, c, V, t1, t2);
  else
    block_sums(x, 0, m, n, C, c, V, t1, t2);
}
#endif

static void channel_sums(const float *x, const float *dy, const float *m, int rows, int C, double *sums) {
  double *t1 = sums, *t2 = sums + C;
  for (int c = 0; c < C; ++c) t1[c] = t2[c] = 0.0;
  for (int r0 = 0; r0 < rows; r0 += 256) {
    int n = imin(rows - r0, 256);
    const float *xb = x + r0 * C, *ab = dy ? dy + r0 * C : 0;
    int c = 0;
#ifdef __wasm_simd128__
    for (; c + 8 <= C; c += 8) group_sums(xb, ab, m, n, C, c, 2, t1, t2);
    for (; c + 4 <= C; c += 4) group_sums(xb, ab, m, n, C, c, 1, t1, t2);
#endif
    for (; c < C; ++c) {
      float s1 = 0.0f, s2 = 0.0f;
      for (int r = 0; r < n; ++r) {
        float xm = xb[r * C + c] - m[c], a = ab ? ab[r * C + c] : xm;
        s1 += a;
        s2 += a * xm;
      }
      t1[c] += s1;
      t2[c] += s2;
    }
  }
}

/* sums (2*C doubles: s1 = Σ dy, then s2 = Σ dy·(x − mean)) over `rows` rows. */
EXPORT(gf_batchnorm_grad_sums)
void gf_batchnorm_grad_sums(const float *x, const float *dy, int rows, int C, const float *mean, double *sums) {
  channel_sums(x, dy, mean, rows, C, sums);
}

/*
 * From `parts` consecutive blocks of sums (gf_batchnorm_grad_sums over all `rows` rows between
 * them): the four per-channel gradients, and k (3*C floats: k, kx, k0) for gf_batchnorm_grad_dx.
 */
EXPORT(gf_batchnorm_grad_finish)
void gf_batchnorm_grad_finish(int rows, int C, int parts, const double *sums, const float *mean, const float *var,
                              const float *scale, float eps, int batch_stats, float *dmean, float *dvar,
                              float *dscale, float *doffset, float *k) {
  float *kx = k + C, *k0 = kx + C;
  for (int c = 0; c < C; ++c) {
    double t1 = 0.0, t2 = 0.0;
    for (int p = 0; p < parts; ++p) {
      t1 += sums[2 * p * C + c];
      t2 += sums[(2 * p + 1) * C + c];
    }
    float inv = 1.0f / __builtin_sqrtf(var[c] + eps);
    float sc = scale ? scale[c] : 1.0f;
    float s1 = (float)t1, s2 = (float)t2;
    k[c] = inv * sc;
    dmean[c] = -inv * sc * s1;
    dvar[c] = -0.5f * inv * inv * inv * sc * s2;
    dscale[c] = inv * s2;
    doffset[c] = s1;
    /* Batch statistics: dx also carries the paths through mean and variance (their own
     * gradients are then spent): dx = k·dy − σ⁻³·γ·mean(dy·(x − μ))·(x − μ) − σ⁻¹·γ·mean(dy). */
    kx[c] = batch_stats ? -inv * inv * inv * sc * s2 / (float)rows : 0.0f;
    k0[c] = batch_stats ? -inv * sc * s1 / (float)rows - kx[c] * mean[c] : 0.0f;
  }
}

/* dx for `rows` rows from the factors k of gf_batchnorm_grad_finish. */
EXPORT(gf_batchnorm_grad_dx)
void gf_batchnorm_grad_dx(const float *x, const float *dy, int rows, int C, int batch_stats, const float *k,
                          float *dx) {
  const float *kx = k + C, *k0 = kx + C;
  int R = rows_per_block(C);
  for (int r0 = 0; r0 < rows; r0 += R) {
    int n = imin(R, rows - r0);
    const float *xb = x + r0 * C, *db = dy + r0 * C;
    float *ob = dx + r0 * C;
    int c = 0;
#ifdef __wasm_simd128__
    for (; c + 4 <= C; c += 4) {
      v128_t vk = wasm_v128_load(k + c);
      if (!batch_stats) {
        for (int r = 0; r < n; ++r) wasm_v128_store(ob + r * C + c, wasm_f32x4_mul(wasm_v128_load(db + r * C + c), vk));
        continue;
      }
      v128_t vk0 = wasm_v128_load(k0 + c), vkx = wasm_v128_load(kx + c);
      for (int r = 0; r < n; ++r) {
        v128_t v = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(db + r * C + c), vk), vk0);
        wasm_v128_store(ob + r * C + c, wasm_f32x4_add(v, wasm_f32x4_mul(wasm_v128_load(xb + r * C + c), vkx)));
      }
    }
#endif
    for (; c < C; ++c)
      for (int r = 0; r < n; ++r)
        ob[r * C + c] = batch_stats ? db[r * C + c] * k[c] + k0[c] + xb[r * C + c] * kx[c] : db[r * C + c] * k[c];
  }
}

/*
 * Per-channel mean and (population) variance of x [rows, C] in one pass, split by rows:
 *  1. gf_moments_sums: for its rows, sums (2*C doubles) = Σ (x − x[0]) and Σ (x − x[0])² per
 *     channel, float32 within blocks of 256 rows and float64 across. Shifting by the first row
 *     keeps the one-pass variance accurate when |mean| ≫ std (the textbook Σx² − (Σx)²/n is not).
 *  2. gf_moments_finish: adds the `parts` partial sums in order and writes mean and variance.
 */
EXPORT(gf_moments_sums)
void gf_moments_sums(const float *x, const float *shift, int rows, int C, double *sums) {
  channel_sums(x, 0, shift, rows, C, sums);
}

EXPORT(gf_moments_finish)
void gf_moments_finish(const float *shift, int rows, int C, int parts, const double *sums, float *mean, float *var) {
  for (int c = 0; c < C; ++c) {
    double s1 = 0.0, s2 = 0.0;
    for (int p = 0; p < parts; ++p) {
      s1 += sums[2 * p * C + c];
      s2 += sums[(2 * p + 1) * C + c];
    }
    double m = s1 / rows, v = s2 / rows - m * m;
    mean[c] = (float)(shift[c] + m);
    var[c] = v > 0.0 ? (float)v : 0.0f;
  }
}

/*
 * Relu (op 0: max(x, 0) as tfjs's cpu backend computes it: NaN stays NaN, -0 becomes +0, which
 * is f32x4.max exactly) or Square (op 1: x * x) in one SIMD pass.
 */
EXPORT(gf_unary)
void gf_unary(int op, const float *x, float *out, int n) {
  int i = 0;
#ifdef __wasm_simd128__
  v128_t zero = wasm_f32x4_splat(0.0f);
  if (op == 0)
    for (; i + 4 <= n; i += 4) {
      v128_t v = wasm_v128_load(x + i);
      wasm_v128_store(out + i, wasm_f32x4_max(v, zero));
    }
  else
    for (; i + 4 <= n; i += 4) {
      v128_t v = wasm_v128_load(x + i);
      wasm_v128_store(out + i, wasm_f32x4_mul(v, v));
    }
#endif
  for (; i < n; ++i) out[i] = op == 0 ? (x[i] > 0.0f || x[i] != x[i] ? x[i] : 0.0f) : x[i] * x[i];
}

/*
 * The ReLU gradient in one pass, bit-identical to tfjs's dy * step(x): out = dy * s with
 * s = 1 where x > 0, NaN where x is NaN, else 0 (so dy = +-Inf or NaN still propagate as NaN).
 */
EXPORT(gf_relu_grad)
void gf_relu_grad(const float *dy, const float *x, float *out, int n) {
  int i = 0;
#ifdef __wasm_simd128__
  v128_t one = wasm_f32x4_splat(1.0f), zero = wasm_f32x4_splat(0.0f);
  for (; i + 4 <= n; i += 4) {
    v128_t xv = wasm_v128_load(x + i);
    v128_t s = wasm_v128_bitselect(one, zero, wasm_f32x4_gt(xv, zero));
    s = wasm_v128_bitselect(xv, s, wasm_f32x4_ne(xv, xv));
    wasm_v128_store(out + i, wasm_f32x4_mul(wasm_v128_load(dy + i), s));
  }
#endif
  for (; i < n; ++i) {
    float xv = x[i];
    float s = xv != xv ? xv : xv > 0.0f ? 1.0f : 0.0f;
    out[i] = dy[i] * s;
  }
}

/*
 * Multiply-add throughput loop for measuring the engine's SIMD peak: 12 independent
 * a = a*m + b chains (enough to cover the mul+add latency on current x86 and ARM cores),
 * 96 flops per iteration. Returns a value so nothing is elided.
 */
#define GF_STEP(a) a = GF_MADD(a, m, b)
EXPORT(gf_peak_fma)
float gf_peak_fma(int iters, float seed) {
#ifdef __wasm_simd128__
  v128_t a0 = wasm_f32x4_splat(seed), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
  v128_t a8 = a0, a9 = a0, a10 = a0, a11 = a0;
  v128_t m = wasm_f32x4_splat(0.999f), b = wasm_f32x4_splat(0.001f);
  for (int i = 0; i < iters; ++i) {
    GF_STEP(a0); GF_STEP(a1); GF_STEP(a2); GF_STEP(a3); GF_STEP(a4); GF_STEP(a5);
    GF_STEP(a6); GF_STEP(a7); GF_STEP(a8); GF_STEP(a9); GF_STEP(a10); GF_STEP(a11);
  }
  v128_t s = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_add(a0, a1), wasm_f32x4_add(a2, a3)),
                            wasm_f32x4_add(wasm_f32x4_add(a4, a5), wasm_f32x4_add(a6, a7)));
  s = wasm_f32x4_add(s, wasm_f32x4_add(wasm_f32x4_add(a8, a9), wasm_f32x4_add(a10, a11)));
  return wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 3);
#else
  float a = seed;
  for (int i = 0; i < iters; ++i) a = a * 0.999f + 0.001f;
  return a;
#endif
}
