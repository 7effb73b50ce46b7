/* Our AVX-512 sgemm for A·Bᵀ (a conv's weight gradient): dot products of rows of A with rows of
 * B, vectorised along the dimension they share, which is contiguous in both, so neither
 * operand is packed or transposed. */
#include "ops/sgemm_avx512.h"

#include <omp.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define HAVE_KERNEL 1
#else
#define HAVE_KERNEL 0
#endif

/* Rows of A and rows of B per tile: 6 x 4 vector accumulators, and 10 loads for 24 FMAs. */
#define MT 6
#define NT 4
/* Inner-dimension floats per pass, at most: a tile's 10 rows of it (40 KB) stay in L1 and L2
 * while the tiles go over them; each pass ends with one horizontal sum per element. */
#define KB 1024
/* Below this many multiply-adds, a second thread costs more than it saves. */
#define SPLIT_MIN_MACS ((int64_t) 1 << 20)

#if HAVE_KERNEL

/* The 16 lanes added pairwise: halves, quarters, eighths, then the last two. */
__attribute__ ((target ("avx512f"))) static inline float
horizontal_sum (__m512 v)
{
  const __m256 h = _mm256_add_ps (_mm512_castps512_ps256 (v),
                                  _mm256_castpd_ps (_mm512_extractf64x4_pd (_mm512_castps_pd (v),
                                                                            1)));
  const __m128 q = _mm_add_ps (_mm256_castps256_ps128 (h), _mm256_extractf128_ps (h, 1));
  const __m128 e = _mm_add_ps (q, _mm_movehl_ps (q, q));
  return _mm_cvtss_f32 (_mm_add_ss (e, _mm_movehdup_ps (e)));
}

/* C[i][j] (+)= sum over kc terms of A[i][k] B[j][k] for the tile's rows of A (ap) and of B (bp;
 * rows past the end repeat the last one and are not stored). Each element sums 16 lanes of
 * running sums, then adds the lanes pairwise: the same for any thread count. Every loop over
 * the tile is unrolled, so that the accumulators stay in registers. */
__attribute__ ((target ("avx512f"))) static void
tile_nt (const float *const *ap, const float *const *bp, int kc, float *c, int64_t ldc,
         int rows, int cols, bool add_c)
{
  __m512 acc[MT][NT];
#pragma GCC unroll 8
  for (int i = 0; i < MT; i++)
#pragma GCC unroll 4
    for (int j = 0; j < NT; j++)
      acc[i][j] = _mm512_setzero_ps ();
  for (int k = 0; k < kc; k += 16)
    {
      const __mmask16 mask = kc - k >= 16 ? (__mmask16) 0xffff : (__mmask16) ((1u << (kc - k)) - 1);
      __m512 bv[NT];
#pragma GCC unroll 4
      for (int j = 0; j < NT; j++)
        bv[j] = _mm512_maskz_loadu_ps (mask, bp[j] + k);
#pragma GCC unroll 8
      for (int i = 0; i < MT; i++)
        {
          const __m512 av = _mm512_maskz_loadu_ps (mask, ap[i] + k);
#pragma GCC unroll 4
          for (int j = 0; j < NT; j++)
            acc[i][j] = _mm512_fmadd_ps (av, bv[j], acc[i][j]);
        }
    }
  float sum[MT][NT];
#pragma GCC unroll 8
  for (int i = 0; i < MT; i++)
#pragma GCC unroll 4
    for (int j = 0; j < NT; j++)
      sum[i][j] = horizontal_sum (acc[i][j]);
  for (int i = 0; i < rows; i++)
    for (int j = 0; j < cols; j++)
      c[i * ldc + j] = add_c ? c[i * ldc + j] + sum[i][j] : sum[i][j];
}

/* Tiles [t0, t1) of the (row tile, column tile) grid, row tiles inner, one block of the inner
 * dimension at a time: blocks of equal length (multiples of 16), not KB and a short rest, as
 * each block pays one horizontal sum per element. */
static void
tiles_range (int t0, int t1, int m, int n, int k, const float *a, int64_t lda, const float *b,
             int64_t ldb, bool accumulate, float *c, int64_t ldc)
{
  const int tiles_m = (m + MT - 1) / MT;
  const int blocks = (k + KB - 1) / KB, block = ((k + blocks - 1) / blocks + 15) / 16 * 16;
  for (int k0 = 0; k0 < k; k0 += block)
    {
      const int kc = k - k0 < block ? k - k0 : block;
      const bool add_c = accumulate || k0 > 0;
      for (int t = t0; t < t1; t++)
        {
          const int r = t % tiles_m * MT, q = t / tiles_m * NT;
          const int rows = m - r < MT ? m - r : MT, cols = n - q < NT ? n - q : NT;
          const float *ap[MT], *bp[NT];
          for (int i = 0; i < MT; i++)
            ap[i] = a + (int64_t) (r + (i < rows ? i : rows - 1)) * lda + k0;
          for (int j = 0; j < NT; j++)
            bp[j] = b + (int64_t) (q + (j < cols ? j : cols - 1)) * ldb + k0;
          tile_nt (ap, bp, kc, c + (int64_t) r * ldc + q, ldc, rows, cols, add_c);
        }
    }
}

#endif

void
cs_sgemm_nt_avx512 (int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                    bool accumulate, float *c, int ldc)
{
#if HAVE_KERNEL
  if (m <= 0 || n <= 0 || k <= 0)
    {
      cs_sgemm_empty_product (m, n, accumulate, c, ldc);
      return;
    }
  const int tiles = ((m + MT - 1) / MT) * ((n + NT - 1) / NT);
  int threads = omp_in_parallel () ? 1 : omp_get_max_threads ();
  if ((int64_t) m * n * k < SPLIT_MIN_MACS)
    threads = 1;
  if (threads > tiles)
    threads = tiles;
  if (threads <= 1)
    {
      tiles_range (0, tiles, m, n, k, a, lda, b, ldb, accumulate, c, ldc);
      return;
    }
  /* Each thread takes a run of tiles: its own elements of C. */
#pragma omp parallel num_threads (threads)
  {
    const int t = omp_get_thread_num (), nt = omp_get_num_threads ();
    tiles_range ((int) ((int64_t) tiles * t / nt), (int) ((int64_t) tiles * (t + 1) / nt), m, n,
                 k, a, lda, b, ldb, accumulate, c, ldc);
  }
#else
  (void) m, (void) n, (void) k, (void) a, (void) lda, (void) b, (void) ldb, (void) accumulate;
  (void) c, (void) ldc;
#endif
}
