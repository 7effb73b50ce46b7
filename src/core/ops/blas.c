/* cs_sgemm: our AVX-512 kernel where it serves, else OpenBLAS sgemm blocks on the threads of
 * our one OpenMP pool. */
#include "ops/blas.h"

#include "ops/sgemm_avx512.h"
#include <omp.h>
#include <stdbool.h>
#include <stdint.h>

/* Below this many multiply-adds, waking a second thread costs more than it saves. */
#define SPLIT_MIN_MACS ((int64_t) 1 << 20)
/* Blocks are multiples of the kernels' register tiles (16 floats wide on AVX-512). */
#define ALIGN 16
/* A·Bᵀ goes to our dot-product kernel from this many rows (a linear layer's forward at batch 1
 * would leave most of its 6-row tiles idle) ... */
#define NT_MIN_ROWS 6
/* ... and this many terms: shorter dot products spend more on each element's final
 * horizontal sum than on the products (ResNet-18 layer4's weight gradient at batch 1, 49
 * terms: 5.3 ms against OpenBLAS's 1.5). */
#define NT_MIN_DEPTH 256

void
cs_sgemm (CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, float alpha,
          const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
  /* Ours on every AVX-512 CPU, whatever OPENBLAS_CORETYPE says (that variable picks
   * OpenBLAS's kernels only): it reads A in place (no packing pass over a layer's weights),
   * sums in blocks of 128 terms (a third of the rounding error of one running sum over
   * ResNet's 4608) and reaches 90 % of one core's FMA peak on wide products. A·Bᵀ (weight
   * gradients) has a kernel of its own, on a par with OpenBLAS's AVX-512 one and 1.5-1.9x
   * its AVX2 one. */
  const bool own = cs_sgemm_avx512_available ();
  if (own && tb == CblasNoTrans && alpha == 1.0f && (beta == 0.0f || beta == 1.0f))
    {
      cs_sgemm_avx512 (m, n, k, ta == CblasTrans, a, lda, b, ldb, beta == 1.0f, c, ldc);
      return;
    }
  if (own && ta == CblasNoTrans && tb == CblasTrans && alpha == 1.0f
      && (beta == 0.0f || beta == 1.0f) && m >= NT_MIN_ROWS && k >= NT_MIN_DEPTH)
    {
      cs_sgemm_nt_avx512 (m, n, k, a, lda, b, ldb, beta == 1.0f, c, ldc);
      return;
    }
  int threads = omp_in_parallel () ? 1 : omp_get_max_threads ();
  /* Each thread packs the whole operand that is not split: splitting C's columns repacks A
   * (m x k) per thread, splitting its rows repacks B (k x n). Repack the smaller one. */
  bool cols_ok = n >= threads * 2 * ALIGN, rows_ok = m >= threads * ALIGN;
  bool by_rows = rows_ok && (m >= n || !cols_ok);
  bool by_cols = cols_ok && !by_rows;
  if (threads <= 1 || (int64_t) m * n * k < SPLIT_MIN_MACS || (!by_cols && !by_rows))
    {
      cblas_sgemm (CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
      return;
    }
  int total = by_cols ? n : m;
  int block = (total + threads - 1) / threads;
  block = (block + ALIGN - 1) / ALIGN * ALIGN;
#pragma omp parallel num_threads (threads)
  {
    int lo = omp_get_thread_num () * block;
    int hi = lo + block < total ? lo + block : total;
    if (lo < hi)
      {
        if (by_cols)
          cblas_sgemm (CblasRowMajor, ta, tb, m, hi - lo, k, alpha, a, lda,
                       tb == CblasNoTrans ? b + lo : b + (int64_t) lo * ldb, ldb, beta, c + lo, ldc);
        else
          cblas_sgemm (CblasRowMajor, ta, tb, hi - lo, n, k, alpha,
                       ta == CblasNoTrans ? a + (int64_t) lo * lda : a + lo, lda, b, ldb, beta,
                       c + (int64_t) lo * ldc, ldc);
      }
  }
}
