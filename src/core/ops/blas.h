/* cs_sgemm: a row-major sgemm (ours on AVX-512, else OpenBLAS) split over the calling thread's
 * OpenMP team. */
#pragma once

#include <cblas.h>

/* C = alpha op(A) op(B) + beta C, as cblas_sgemm (CblasRowMajor, ...). On a CPU with AVX-512F,
 * with alpha 1, beta 0 or 1 and B not transposed, it is cs_sgemm_avx512 (ops/sgemm_avx512.h).
 * Otherwise OpenBLAS: large products are cut
 * into one block of C's columns, or of its rows when A is the larger operand to pack, per
 * thread of the team the calling
 * thread would start (its omp_get_max_threads, set per exec); each block is one
 * single-threaded OpenBLAS call. Inside a parallel region it is one call. */
void cs_sgemm (CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, float alpha,
               const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);
