/* Winograd F(2x2, 3x3)'s tile-row transforms as portable loops the compiler vectorises: blocks
 * of tiles in fixed-size stack buffers, each step a plain SIMD loop. */
#include "ops/winograd_rows.h"

#include <string.h>

/* Tiles per block along a tile row. */
#define BLOCK 64

/* Per block of tiles: the (zero-padded) input rows, then B^T down the rows, then B across the
 * columns. */
void
cs_winograd_input_row (const float *xp, int64_t h, int64_t w, int64_t r0, int64_t c0,
                       int64_t tw, float *v, int64_t stride)
{
  for (int64_t tj0 = 0; tj0 < tw; tj0 += BLOCK)
    {
      const int64_t nt = tw - tj0 < BLOCK ? tw - tj0 : BLOCK;
      const int64_t width = 2 * nt + 2, col0 = c0 + 2 * tj0;
      float d[4][2 * BLOCK + 2], e[4][2 * BLOCK + 2];
      for (int a = 0; a < 4; a++)
        {
          const int64_t r = r0 + a;
          if (r < 0 || r >= h)
            {
              memset (d[a], 0, (size_t) width * sizeof (float));
              continue;
            }
          int64_t lo = col0 < 0 ? -col0 : 0;
          int64_t hi = w - col0 < width ? w - col0 : width;
          if (hi < lo)
            hi = lo;
          for (int64_t i = 0; i < lo && i < width; i++)
            d[a][i] = 0.0f;
          if (hi > lo)
            memcpy (d[a] + lo, xp + r * w + col0 + lo, (size_t) (hi - lo) * sizeof (float));
          for (int64_t i = hi; i < width; i++)
            d[a][i] = 0.0f;
        }
#pragma omp simd
      for (int64_t i = 0; i < width; i++)
        {
          e[0][i] = d[0][i] - d[2][i];
          e[1][i] = d[1][i] + d[2][i];
          e[2][i] = d[2][i] - d[1][i];
          e[3][i] = d[1][i] - d[3][i];
        }
      float *vt = v + tj0;
      for (int a = 0; a < 4; a++)
        {
          float *v0 = vt + (a * 4 + 0) * stride, *v1 = vt + (a * 4 + 1) * stride;
          float *v2 = vt + (a * 4 + 2) * stride, *v3 = vt + (a * 4 + 3) * stride;
          const float *ea = e[a];
#pragma omp simd
          for (int64_t i = 0; i < nt; i++)
            {
              v0[i] = ea[2 * i] - ea[2 * i + 2];
              v1[i] = ea[2 * i + 1] + ea[2 * i + 2];
              v2[i] = ea[2 * i + 2] - ea[2 * i + 1];
              v3[i] = ea[2 * i + 1] - ea[2 * i + 3];
            }
        }
    }
}

/* Per block of tiles: A across each product row, then A^T down, into two output rows, copied
 * (or added) into the plane. */
void
cs_winograd_output_row (const float *mp, int64_t stride, int64_t tw, float bias, float *yp,
                        int64_t oh, int64_t ow, int64_t row0, bool accumulate)
{
  for (int64_t tj0 = 0; tj0 < tw; tj0 += BLOCK)
    {
      const int64_t nt = tw - tj0 < BLOCK ? tw - tj0 : BLOCK;
      const float *mt = mp + tj0;
      float g[4][2][BLOCK];
      for (int a = 0; a < 4; a++)
        {
          const float *f0 = mt + (a * 4 + 0) * stride, *f1 = mt + (a * 4 + 1) * stride;
          const float *f2 = mt + (a * 4 + 2) * stride, *f3 = mt + (a * 4 + 3) * stride;
          float *g0 = g[a][0], *g1 = g[a][1];
#pragma omp simd
          for (int64_t i = 0; i < nt; i++)
            {
              g0[i] = f0[i] + f1[i] + f2[i];
              g1[i] = f1[i] - f2[i] - f3[i];
            }
        }
      float r[2][2 * BLOCK];
      for (int x = 0; x < 2; x++)
        {
#pragma omp simd
          for (int64_t i = 0; i < nt; i++)
            {
              r[0][2 * i + x] = g[0][x][i] + g[1][x][i] + g[2][x][i] + bias;
              r[1][2 * i + x] = g[1][x][i] - g[2][x][i] - g[3][x][i] + bias;
            }
        }
      const int64_t cols = 2 * nt <= ow - 2 * tj0 ? 2 * nt : ow - 2 * tj0;
      for (int a = 0; a < 2 && row0 + a < oh; a++)
        {
          float *dst = yp + (row0 + a) * ow + 2 * tj0;
          if (accumulate)
            {
#pragma omp simd
              for (int64_t i = 0; i < cols; i++)
                dst[i] += r[a][i];
            }
          else
            memcpy (dst, r[a], (size_t) cols * sizeof (float));
        }
    }
}
