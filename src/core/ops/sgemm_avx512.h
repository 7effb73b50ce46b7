/* AVX-512 sgemm kernels of our own, all row-major: C (+)= A B or Aᵀ B (sgemm_avx512.c) and
 * A Bᵀ (sgemm_nt_avx512.c). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Whether this CPU runs the kernels (AVX-512F), whatever OPENBLAS_CORETYPE says. */
bool cs_sgemm_avx512_available (void);

/* What both kernels do for an empty inner dimension: C = 0, or left as it is when
 * accumulating (nothing for an empty C). */
void cs_sgemm_empty_product (int m, int n, bool accumulate, float *c, int ldc);

/* C[m, n] = A[m, k] B[k, n] (A^T B when trans_a: A stored [k, m]), or += when accumulate,
 * split by rows over the calling thread's OpenMP team (one thread inside a parallel region).
 * Only on a CPU where cs_sgemm_avx512_available. Each element sums its k terms in blocks of
 * 128, in order, so a crop of B's columns gives the same bits as the whole. */
void cs_sgemm_avx512 (int m, int n, int k, bool trans_a, const float *a, int lda, const float *b,
                      int ldb, bool accumulate, float *c, int ldc);

/* C[m, n] = A[m, k] B[n, k]^T, or += when accumulate, split by tiles over the calling thread's
 * OpenMP team (sgemm_nt_avx512.c). Only on a CPU where cs_sgemm_avx512_available. Sums each
 * element in blocks of at most 1024 terms, each as 16 lanes of running sums added pairwise. */
void cs_sgemm_nt_avx512 (int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                         bool accumulate, float *c, int ldc);
