/* CS_SIMD_CLONES: a function compiled twice, for the x86-64 baseline and for AVX2 + FMA,
 * the copy chosen once at load time by the CPU (GCC's target_clones). */
#pragma once

/* For the bodies of loops that are bound by their arithmetic, not by memory: batch norm's
 * double-precision sums ran 28 % faster under AVX2 (4 doubles a vector, against SSE2's 2).
 * OpenMP's outlined loop bodies are not cloned, so the attribute goes on a function that the
 * parallel loop calls. The two copies may round differently (FMA contracts a * b + c), as
 * OpenBLAS's kernels already do from one CPU to another. The sanitizer builds keep the baseline
 * copy alone, so that CI's two builds test both copies on an AVX2 machine. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define CS_SIMD_CLONES __attribute__ ((target_clones ("arch=x86-64-v3", "default")))
#else
#define CS_SIMD_CLONES
#endif
