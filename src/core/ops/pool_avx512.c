/* The max pool's 3x3 stride-2 row (ResNet's stem pool) in AVX-512: sixteen windows a vector, the
 * even and odd columns split apart by permutes, the scan order as masked moves. */
#include "ops/pool_avx512.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define TARGET __attribute__ ((target ("avx512f")))

/* Sixteen windows from r0: best and where, in the scan order of max_window. */
static inline TARGET void
max_sixteen (const float *r0, int32_t at0, int32_t w, float *y, int32_t *at)
{
  const __m512i even = _mm512_setr_epi32 (0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32 (1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  const __m512i base = _mm512_add_epi32 (_mm512_set1_epi32 (at0), _mm512_slli_epi32 (
                                         _mm512_setr_epi32 (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), 1));
  __m512 best = _mm512_setzero_ps ();
  __m512i idx = base;
  for (int i = 0; i < 3; i++)
    {
      const float *r = r0 + (int64_t) i * w;
      const __m512 lo = _mm512_loadu_ps (r), hi = _mm512_loadu_ps (r + 16);
      /* columns 2k + 2 for k < 16: r[2] .. r[32], the last one the window's own edge */
      const __m512 lo2 = _mm512_loadu_ps (r + 2), hi2 = _mm512_maskz_loadu_ps (0x7fff, r + 18);
      const __m512 col[3] = { _mm512_permutex2var_ps (lo, even, hi), _mm512_permutex2var_ps (lo, odd, hi),
                              _mm512_permutex2var_ps (lo2, even, hi2) };
      if (i == 0)
        best = col[0];
      for (int j = i == 0; j < 3; j++)
        {
          const __mmask16 take = _mm512_cmp_ps_mask (col[j], best, _CMP_GT_OQ)
                                 | _mm512_cmp_ps_mask (col[j], col[j], _CMP_UNORD_Q);
          best = _mm512_mask_mov_ps (best, take, col[j]);
          idx = _mm512_mask_mov_epi32 (idx, take, _mm512_add_epi32 (base, _mm512_set1_epi32 (i * w + j)));
        }
    }
  _mm512_storeu_ps (y, best);
  _mm512_storeu_si512 ((void *) at, idx);
}

void TARGET
cs_max_row_3x3_s2_avx512 (const float *r0, int32_t at0, int32_t w, int64_t n, float *y, int32_t *at)
{
  for (int64_t k = 0; k < n; k += 16)
    {
      const int64_t o = k + 16 <= n ? k : n - 16;
      max_sixteen (r0 + 2 * o, at0 + (int32_t) (2 * o), w, y + o, at + o);
    }
}

#else

void
cs_max_row_3x3_s2_avx512 (const float *r0, int32_t at0, int32_t w, int64_t n, float *y, int32_t *at)
{
  (void) r0, (void) at0, (void) w, (void) n, (void) y, (void) at;
}

#endif
