/* What both kernel sources share: the SIMD header and the multiply-add of the build. */
#ifndef GF_SIMD_H
#define GF_SIMD_H
#ifdef __wasm_simd128__
#include <wasm_simd128.h>
/*
 * a*b + c. With relaxed SIMD (the 'relaxed' builds) one f32x4.relaxed_madd, which engines lower
 * to a fused multiply-add where the CPU has one (x86 FMA3, arm64); else a multiply and an add.
 */
#ifdef __wasm_relaxed_simd__
#define GF_MADD(a, b, c) __builtin_wasm_relaxed_madd_f32x4(a, b, c)
#else
#define GF_MADD(a, b, c) wasm_f32x4_add(wasm_f32x4_mul(a, b), c)
#endif
#endif
#endif
