/* Winograd F(2x2, 3x3) tile-row transforms in AVX-512: 16 tiles a vector, with the same
 * operations in the same order as winograd.c's portable loops, so both give the same bits. */
#include "ops/winograd_rows.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define HAVE_KERNEL 1
#else
#define HAVE_KERNEL 0
#endif

#if HAVE_KERNEL

#define TARGET __attribute__ ((target ("avx512f")))

/* Lanes [lo, hi) of 16 set, none when hi <= lo. */
static inline __mmask16
lanes (int64_t lo, int64_t hi)
{
  if (lo < 0)
    lo = 0;
  if (hi > 16)
    hi = 16;
  if (hi <= lo)
    return 0;
  return (__mmask16) (((1u << hi) - 1u) & ~((1u << lo) - 1u));
}

/* x[col + l] for the lanes l with 0 <= col + l < w, else 0. The masked-off lanes are not read,
 * so the address may lie outside the row. */
static inline TARGET __m512
load_row (const float *row, int64_t col, int64_t w)
{
  __mmask16 m = lanes (-col, w - col);
  if (m == 0)
    return _mm512_setzero_ps ();
  return _mm512_maskz_loadu_ps (m, (const void *) ((uintptr_t) row + (uintptr_t) (col * 4)));
}

void TARGET
cs_winograd_input_row_avx512 (const float *xp, int64_t h, int64_t w, int64_t r0, int64_t c0,
                              int64_t tw, float *v, int64_t stride)
{
  const __m512i even = _mm512_setr_epi32 (0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32 (1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  for (int64_t t0 = 0; t0 < tw; t0 += 16)
    {
      const __mmask16 keep = lanes (0, tw - t0);
      const int64_t col = c0 + 2 * t0;
      /* d[a][e]: lane i holds input row r0 + a, column col + 2 i + e */
      __m512 d[4][4];
      for (int a = 0; a < 4; a++)
        {
          const int64_t r = r0 + a;
          if (r < 0 || r >= h)
            {
              d[a][0] = d[a][1] = d[a][2] = d[a][3] = _mm512_setzero_ps ();
              continue;
            }
          const float *row = xp + r * w;
          const __m512 p = load_row (row, col, w), q = load_row (row, col + 16, w);
          const __m512 p2 = load_row (row, col + 2, w), q2 = load_row (row, col + 18, w);
          d[a][0] = _mm512_permutex2var_ps (p, even, q);
          d[a][1] = _mm512_permutex2var_ps (p, odd, q);
          d[a][2] = _mm512_permutex2var_ps (p2, even, q2);
          d[a][3] = _mm512_permutex2var_ps (p2, odd, q2);
        }
      /* B^T down the rows, then B across the columns */
      for (int e = 0; e < 4; e++)
        {
          const __m512 e0 = _mm512_sub_ps (d[0][e], d[2][e]), e1 = _mm512_add_ps (d[1][e], d[2][e]);
          const __m512 e2 = _mm512_sub_ps (d[2][e], d[1][e]), e3 = _mm512_sub_ps (d[1][e], d[3][e]);
          d[0][e] = e0, d[1][e] = e1, d[2][e] = e2, d[3][e] = e3;
        }
      for (int a = 0; a < 4; a++)
        {
          float *va = v + (int64_t) (a * 4) * stride + t0;
          _mm512_mask_storeu_ps (va, keep, _mm512_sub_ps (d[a][0], d[a][2]));
          _mm512_mask_storeu_ps (va + stride, keep, _mm512_add_ps (d[a][1], d[a][2]));
          _mm512_mask_storeu_ps (va + 2 * stride, keep, _mm512_sub_ps (d[a][2], d[a][1]));
          _mm512_mask_storeu_ps (va + 3 * stride, keep, _mm512_sub_ps (d[a][1], d[a][3]));
        }
    }
}

void TARGET
cs_winograd_output_row_avx512 (const float *mp, int64_t stride, int64_t tw, float bias,
                               float *yp, int64_t oh, int64_t ow, int64_t row0, bool accumulate)
{
  const __m512i lo_half = _mm512_setr_epi32 (0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i hi_half = _mm512_setr_epi32 (8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const __m512 b = _mm512_set1_ps (bias);
  for (int64_t t0 = 0; t0 < tw; t0 += 16)
    {
      const __mmask16 keep = lanes (0, tw - t0);
      /* g[a][x] = A across row a of the 4x4 product, lane i for tile t0 + i */
      __m512 g[4][2];
      for (int a = 0; a < 4; a++)
        {
          const float *f = mp + (int64_t) (a * 4) * stride + t0;
          const __m512 f0 = _mm512_maskz_loadu_ps (keep, f), f1 = _mm512_maskz_loadu_ps (keep, f + stride);
          const __m512 f2 = _mm512_maskz_loadu_ps (keep, f + 2 * stride);
          const __m512 f3 = _mm512_maskz_loadu_ps (keep, f + 3 * stride);
          g[a][0] = _mm512_add_ps (_mm512_add_ps (f0, f1), f2);
          g[a][1] = _mm512_sub_ps (_mm512_sub_ps (f1, f2), f3);
        }
      const int64_t cols = 2 * (tw - t0) < ow - 2 * t0 ? 2 * (tw - t0) : ow - 2 * t0;
      for (int a = 0; a < 2 && row0 + a < oh; a++)
        {
          __m512 r[2];
          for (int x = 0; x < 2; x++)
            r[x] = a == 0 ? _mm512_add_ps (_mm512_add_ps (_mm512_add_ps (g[0][x], g[1][x]), g[2][x]), b)
                          : _mm512_add_ps (_mm512_sub_ps (_mm512_sub_ps (g[1][x], g[2][x]), g[3][x]), b);
          const __m512 out[2] = { _mm512_permutex2var_ps (r[0], lo_half, r[1]),
                                  _mm512_permutex2var_ps (r[0], hi_half, r[1]) };
          float *dst = yp + (row0 + a) * ow + 2 * t0;
          for (int half = 0; half < 2; half++)
            {
              const __mmask16 m = lanes (0, cols - 16 * half);
              if (m == 0)
                continue;
              float *p = dst + 16 * half;
              __m512 o = out[half];
              if (accumulate)
                o = _mm512_add_ps (_mm512_maskz_loadu_ps (m, p), o);
              _mm512_mask_storeu_ps (p, m, o);
            }
        }
    }
}

#else

void
cs_winograd_input_row_avx512 (const float *xp, int64_t h, int64_t w, int64_t r0, int64_t c0,
                              int64_t tw, float *v, int64_t stride)
{
  (void) xp, (void) h, (void) w, (void) r0, (void) c0, (void) tw, (void) v, (void) stride;
}

void
cs_winograd_output_row_avx512 (const float *mp, int64_t stride, int64_t tw, float bias,
                               float *yp, int64_t oh, int64_t ow, int64_t row0, bool accumulate)
{
  (void) mp, (void) stride, (void) tw, (void) bias, (void) yp, (void) oh, (void) ow, (void) row0;
  (void) accumulate;
}

#endif
