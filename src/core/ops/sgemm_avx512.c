/* Our AVX-512 sgemm for A·B and Aᵀ·B (conv forwards and input gradients): A, a layer's weights,
 * is read in place, with no packing pass over it. */
#include "ops/sgemm_avx512.h"

#include <omp.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define HAVE_KERNEL 1
#else
#define HAVE_KERNEL 0
#endif

/* Rows of C per register tile, and 16-float vectors of its columns: 6 x 4 accumulators leave
 * 4 registers for B's row and the broadcast of A. */
#define MR 6
#define NV 4
/* Inner-dimension steps per pass: B's block (KC x 64 floats, 32 KB) stays in L1 while every
 * row tile of the thread goes over it, and each A element is loaded once. */
#define KC 128
/* Columns per pass: B's KC-block for them (256 KB) stays in L2 while the row tiles go over it.
 * A is read again for each such block, so wide products (training batches) read it more than
 * once; every product at batch 1 is narrower. */
#define NC 512
/* With A transposed, a row tile reads MR floats from each of kc rows of A: kc streams at once,
 * more than the hardware prefetchers follow. Each tile that starts a new cache line
 * PREFETCH_AHEAD floats on fetches it for all kc rows: ResNet-18 layer4's input gradient with
 * its weights out of cache, 2 threads, 1.06-1.08 -> 0.96-0.99 ms (32, 48 and 96 alike). */
#define PREFETCH_AHEAD 48
/* Below this many multiply-adds, a second thread costs more than it saves. */
#define SPLIT_MIN_MACS ((int64_t) 1 << 20)

bool
cs_sgemm_avx512_available (void)
{
#if HAVE_KERNEL
  /* Asked on every call of the kernels' callers (per GEMM, per max-pool row): answered once. */
  static int have = -1;
  int h = __atomic_load_n (&have, __ATOMIC_RELAXED);
  if (h < 0)
    {
      __builtin_cpu_init ();
      h = __builtin_cpu_supports ("avx512f") ? 1 : 0;
      __atomic_store_n (&have, h, __ATOMIC_RELAXED);
    }
  return h != 0;
#else
  return false;
#endif
}

#if HAVE_KERNEL

/* One MR x (16 * nv) tile of C over kc steps: C (+)= A[rows, k0 .. k0+kc] B[k0 .. k0+kc, cols].
 * ap[i] points at row i's A at k0 (rows past the end repeat the last one and are not stored);
 * A's element k of row i is ap[i][k], or ap[i][k * lda] when A is stored transposed. The last
 * vector of columns is masked. Each element of C sums its k terms in order, one FMA
 * at a time: the same for every tile shape, thread count and crop of the columns. */
static inline __attribute__ ((always_inline, target ("avx512f"))) void
tile (const int nv, const bool trans, const float *const *ap, int64_t lda, int kc,
      const float *b, int64_t ldb, float *c, int64_t ldc, int rows, __mmask16 last, bool add_c)
{
  __m512 acc[MR][NV];
#pragma GCC unroll 8
  for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
    for (int j = 0; j < nv; j++)
      acc[i][j] = _mm512_setzero_ps ();
  for (int k = 0; k < kc; k++)
    {
      __m512 bv[NV];
#pragma GCC unroll 4
      for (int j = 0; j < nv; j++)
        bv[j] = j == nv - 1 ? _mm512_maskz_loadu_ps (last, b + k * ldb + 16 * j)
                            : _mm512_loadu_ps (b + k * ldb + 16 * j);
#pragma GCC unroll 8
      for (int i = 0; i < MR; i++)
        {
          __m512 av = _mm512_set1_ps (trans ? ap[i][k * lda] : ap[i][k]);
#pragma GCC unroll 4
          for (int j = 0; j < nv; j++)
            acc[i][j] = _mm512_fmadd_ps (av, bv[j], acc[i][j]);
        }
    }
#pragma GCC unroll 8
  for (int i = 0; i < MR; i++)
    if (i < rows)
#pragma GCC unroll 4
      for (int j = 0; j < nv; j++)
        {
          const __mmask16 mask = j == nv - 1 ? last : 0xffff;
          float *cp = c + i * ldc + 16 * j;
          if (add_c)
            acc[i][j] = _mm512_add_ps (_mm512_maskz_loadu_ps (mask, cp), acc[i][j]);
          _mm512_mask_storeu_ps (cp, mask, acc[i][j]);
        }
}

/* One instance per vector count and layout of A, so that every accumulator has a register. */
#define TILE(n, t, name)                                                                          \
  static __attribute__ ((noinline, target ("avx512f"))) void name (                               \
    const float *const *ap, int64_t lda, int kc, const float *b, int64_t ldb, float *c,           \
    int64_t ldc, int rows, __mmask16 last, bool add_c)                                           \
  {                                                                                               \
    tile (n, t, ap, lda, kc, b, ldb, c, ldc, rows, last, add_c);                                 \
  }
TILE (1, false, tile_1)
TILE (2, false, tile_2)
TILE (3, false, tile_3)
TILE (4, false, tile_4)
TILE (1, true, tile_t1)
TILE (2, true, tile_t2)
TILE (3, true, tile_t3)
TILE (4, true, tile_t4)

typedef void (*tile_fn) (const float *const *, int64_t, int, const float *, int64_t, float *,
                         int64_t, int, __mmask16, bool);
static const tile_fn tiles[2][NV + 1] = { { NULL, tile_1, tile_2, tile_3, tile_4 },
                                          { NULL, tile_t1, tile_t2, tile_t3, tile_t4 } };

/* Rows [r0, r1) of C: for each block of NC columns and KC-block of the inner dimension, every
 * row tile, every panel of up to 64 of those columns. */
static void
rows_range (int r0, int r1, int n, int k, bool trans, const float *a, int64_t lda, const float *b,
            int64_t ldb, bool accumulate, float *c, int64_t ldc)
{
  for (int c0 = 0; c0 < n; c0 += NC)
    {
      const int nc = n - c0 < NC ? n - c0 : NC;
      for (int k0 = 0; k0 < k; k0 += KC)
        {
          const int kc = k - k0 < KC ? k - k0 : KC;
          const bool add_c = accumulate || k0 > 0;
          for (int r = r0; r < r1; r += MR)
            {
              const int rows = r1 - r < MR ? r1 - r : MR;
              const float *ap[MR];
              for (int i = 0; i < MR; i++)
                {
                  const int64_t row = r + (i < rows ? i : rows - 1);
                  ap[i] = trans ? a + (int64_t) k0 * lda + row : a + row * lda + k0;
                }
              if (trans && r + PREFETCH_AHEAD < r1 && (r + PREFETCH_AHEAD) % 16 < MR)
                for (int q = 0; q < kc; q++)
                  _mm_prefetch ((const char *) (ap[0] + (int64_t) q * lda + PREFETCH_AHEAD),
                                _MM_HINT_T0);
              /* With A plain, fetch the next row tile's block of A: a block's rows are read
               * 512 bytes at a time, a row tile apart, too many streams for the hardware
               * prefetchers once the weights are out of cache. ResNet-18's forward, 2 threads,
               * per-node timer, three alternations: 12.29-12.61 -> 12.10-12.27 ms (layer4's
               * 3x3 convs alone, weights in cache as in bench-conv: 0.77 -> 0.82-0.84). */
              if (!trans)
                for (int i = r + MR; i < r + 2 * MR && i < r1; i++)
                  for (int q = 0; q < kc; q += 16)
                    _mm_prefetch ((const char *) (a + (int64_t) i * lda + k0 + q), _MM_HINT_T0);
              /* The columns' vectors in panels of at most NV, as even as they go: 13 vectors
               * run as 4 + 3 + 3 + 3, not 4 + 4 + 4 + 1 (a lone vector pays MR broadcasts
               * for MR multiply-adds). Only the block's last vector is masked. */
              const int vectors = (nc + 15) / 16, panels = (vectors + NV - 1) / NV;
              for (int p = 0, v0 = 0; p < panels; p++)
                {
                  const int nv = (vectors - v0) / (panels - p);
                  const int j0 = c0 + 16 * v0;
                  const int cols = c0 + nc - j0 < 16 * nv ? c0 + nc - j0 : 16 * nv;
                  const int tail = cols - 16 * (nv - 1);
                  const __mmask16 last = (__mmask16) (tail == 16 ? 0xffff : (1u << tail) - 1);
                  tiles[trans][nv](ap, lda, kc, b + (int64_t) k0 * ldb + j0, ldb,
                                   c + (int64_t) r * ldc + j0, ldc, rows, last, add_c);
                  v0 += nv;
                }
            }
        }
    }
}

#endif

void
cs_sgemm_empty_product (int m, int n, bool accumulate, float *c, int ldc)
{
  if (!accumulate)
    for (int i = 0; i < m; i++)
      for (int j = 0; j < n; j++)
        c[(int64_t) i * ldc + j] = 0.0f;
}

void
cs_sgemm_avx512 (int m, int n, int k, bool trans_a, const float *a, int lda, const float *b,
                 int ldb, bool accumulate, float *c, int ldc)
{
#if HAVE_KERNEL
  if (m <= 0 || n <= 0 || k <= 0)
    {
      cs_sgemm_empty_product (m, n, accumulate, c, ldc);
      return;
    }
  int threads = omp_in_parallel () ? 1 : omp_get_max_threads ();
  const int tiles_m = (m + MR - 1) / MR;
  if ((int64_t) m * n * k < SPLIT_MIN_MACS || tiles_m < 2)
    threads = 1;
  if (threads > tiles_m)
    threads = tiles_m;
  if (threads == 1)
    {
      rows_range (0, m, n, k, trans_a, a, lda, b, ldb, accumulate, c, ldc);
      return;
    }
  /* Each thread takes whole row tiles: its own part of A. */
#pragma omp parallel num_threads (threads)
  {
    const int t = omp_get_thread_num (), nt = omp_get_num_threads ();
    const int r0 = (int) ((int64_t) tiles_m * t / nt) * MR;
    int r1 = (int) ((int64_t) tiles_m * (t + 1) / nt) * MR;
    if (r1 > m)
      r1 = m;
    if (r0 < r1)
      rows_range (r0, r1, n, k, trans_a, a, lda, b, ldb, accumulate, c, ldc);
  }
#else
  (void) m, (void) n, (void) k, (void) trans_a, (void) a, (void) lda, (void) b, (void) ldb;
  (void) accumulate, (void) c, (void) ldc;
#endif
}
