/* Winograd F(4x4, 3x3) transforms (Lavin & Gray 2015, interpolation points 0, +-1, +-2, inf):
 * 6x6 input tiles and 36 frequency planes give 4x4 outputs for 2.25 multiplies per output
 * instead of F(2x2)'s 4 and direct convolution's 9. Layouts as in winograd.c:
 * U[xi][o][i], V[xi][k][t], M[xi][o][t] with xi = 6 * row + column. */
#include "ops/winograd.h"

#include <string.h>

#define PARALLEL_MIN_WORK 32768
/* Transforms work on blocks of this many tiles along a tile row, in fixed-size stack buffers. */
#define BLOCK 32
#define IBLOCK 64

/* q = G g for one column of a 3x3 kernel, across a block of kernels:
 * G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]. */
static inline void
g_rows (const float *g0, const float *g1, const float *g2, float *const q[6], int64_t n)
{
#pragma omp simd
  for (int64_t j = 0; j < n; j++)
    {
      const float a = g0[j], b = g1[j], c = g2[j];
      q[0][j] = 0.25f * a;
      q[1][j] = (-1.0f / 6.0f) * (a + b + c);
      q[2][j] = (-1.0f / 6.0f) * (a - b + c);
      q[3][j] = (1.0f / 24.0f) * a + (1.0f / 12.0f) * b + (1.0f / 6.0f) * c;
      q[4][j] = (1.0f / 24.0f) * a - (1.0f / 12.0f) * b + (1.0f / 6.0f) * c;
      q[5][j] = c;
    }
}

/* U = G g G^T of every kernel pair. A transposed conv (the input gradient of a forward conv
 * with weights w[in_channels, out_channels, 3, 3]) transforms w'[o, i, a, b] = w[i, o, 2-a, 2-b]:
 * F(4x4)'s points are not closed under the flip, so it cannot reuse the forward's planes. */
void
cs_winograd4_weights (const cs_winograd_conv *c, const float *w, float *u)
{
  const int64_t OC = c->out_channels, IC = c->in_channels, plane = OC * IC;
#pragma omp parallel for schedule(static) if (plane * 36 > PARALLEL_MIN_WORK)
  for (int64_t o = 0; o < OC; o++)
    for (int64_t i0 = 0; i0 < IC; i0 += IBLOCK)
      {
        const int64_t n = IC - i0 < IBLOCK ? IC - i0 : IBLOCK;
        float g[9][IBLOCK], q[18][IBLOCK], r[6][IBLOCK];
        for (int64_t j = 0; j < n; j++)
          for (int e = 0; e < 9; e++)
            g[e][j] = c->transposed ? w[((i0 + j) * OC + o) * 9 + 8 - e] : w[(o * IC + i0 + j) * 9 + e];
        /* q[a * 3 + b] = (G g)[a][b]: down each kernel column b */
        for (int b = 0; b < 3; b++)
          {
            float *qc[6] = { q[0 + b], q[3 + b], q[6 + b], q[9 + b], q[12 + b], q[15 + b] };
            g_rows (g[b], g[3 + b], g[6 + b], qc, n);
          }
        /* u[a][.] = q[a] G^T, straight into the 36 planes */
        for (int a = 0; a < 6; a++)
          {
            float *rr[6] = { r[0], r[1], r[2], r[3], r[4], r[5] };
            g_rows (q[a * 3], q[a * 3 + 1], q[a * 3 + 2], rr, n);
            for (int b = 0; b < 6; b++)
              memcpy (u + (a * 6 + b) * plane + o * IC + i0, r[b], (size_t) n * sizeof (float));
          }
      }
}

/* B^T applied to six rows d0..d5 (each of width n), written to e[0..5]:
 * B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]. */
static inline void
bt_rows (const float *const d[6], float *const e[6], int64_t n, int64_t stride)
{
#pragma omp simd
  for (int64_t j = 0; j < n; j++)
    {
      const int64_t s = j * stride;
      const float d0 = d[0][s], d1 = d[1][s], d2 = d[2][s], d3 = d[3][s], d4 = d[4][s], d5 = d[5][s];
      const float t0 = d4 - 4.0f * d2, t1 = d3 - 4.0f * d1, t2 = d4 - d2, t3 = 2.0f * (d3 - d1);
      e[0][j] = 4.0f * d0 - 5.0f * d2 + d4;
      e[1][j] = t0 + t1;
      e[2][j] = t0 - t1;
      e[3][j] = t2 + t3;
      e[4][j] = t2 - t3;
      e[5][j] = 4.0f * d1 - 5.0f * d3 + d5;
    }
}

/* V[xi][k][t] = B^T d B for the 6x6 input patch d of every tile t of samples [0, count): per
 * tile row and block of tiles, the (zero-padded) six input rows, B^T down them, then B across
 * each result row at a stride of four columns. */
void
cs_winograd4_inputs (const cs_winograd_conv *c, const float *x, int64_t count, float *v)
{
  const int64_t IC = c->in_channels, H = c->height, W = c->width;
  const int64_t th = (c->out_h + 3) / 4, tw = (c->out_w + 3) / 4, tpp = th * tw, T = count * tpp;
  const int64_t stride = IC * T, pt = c->pad_top, pl = c->pad_left;
#pragma omp parallel for collapse(2) schedule(static) if (count * IC * tpp * 36 > PARALLEL_MIN_WORK)
  for (int64_t s = 0; s < count; s++)
    for (int64_t k = 0; k < IC; k++)
      {
        const float *xp = x + (s * IC + k) * H * W;
        float *vp = v + k * T + s * tpp;
        for (int64_t ti = 0; ti < th; ti++)
          for (int64_t tj0 = 0; tj0 < tw; tj0 += BLOCK)
            {
              const int64_t nt = tw - tj0 < BLOCK ? tw - tj0 : BLOCK;
              const int64_t width = 4 * nt + 2, col0 = 4 * tj0 - pl;
              float d[6][4 * BLOCK + 2], e[6][4 * BLOCK + 2];
              for (int a = 0; a < 6; a++)
                {
                  const int64_t r = 4 * ti - pt + a;
                  if (r < 0 || r >= H)
                    {
                      memset (d[a], 0, (size_t) width * sizeof (float));
                      continue;
                    }
                  int64_t lo = col0 < 0 ? -col0 : 0;
                  int64_t hi = W - col0 < width ? W - col0 : width;
                  if (lo > width)
                    lo = width;
                  if (hi < lo)
                    hi = lo;
                  memset (d[a], 0, (size_t) lo * sizeof (float));
                  if (hi > lo)
                    memcpy (d[a] + lo, xp + r * W + col0 + lo, (size_t) (hi - lo) * sizeof (float));
                  memset (d[a] + hi, 0, (size_t) (width - hi) * sizeof (float));
                }
              const float *dr[6] = { d[0], d[1], d[2], d[3], d[4], d[5] };
              float *er[6] = { e[0], e[1], e[2], e[3], e[4], e[5] };
              bt_rows (dr, er, width, 1);
              float *vt = vp + ti * tw + tj0;
              for (int a = 0; a < 6; a++)
                {
                  const float *ec[6] = { e[a], e[a] + 1, e[a] + 2, e[a] + 3, e[a] + 4, e[a] + 5 };
                  float *vc[6];
                  for (int b = 0; b < 6; b++)
                    vc[b] = vt + (a * 6 + b) * stride;
                  bt_rows (ec, vc, nt, 4);
                }
            }
      }
}

/* A^T applied to six rows m0..m5 (each of width n): A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0;
 * 0 1 1 4 4 0; 0 1 -1 8 -8 1]. Output row y at out[y] + j * ostride. */
static inline void
at_rows (const float *const m[6], float *const out[4], int64_t n, int64_t ostride, float bias)
{
#pragma omp simd
  for (int64_t j = 0; j < n; j++)
    {
      const float m0 = m[0][j], m1 = m[1][j], m2 = m[2][j], m3 = m[3][j], m4 = m[4][j];
      const float m5 = m[5][j];
      const float s12 = m1 + m2, d12 = m1 - m2, s34 = m3 + m4, d34 = m3 - m4;
      const int64_t o = j * ostride;
      out[0][o] = m0 + s12 + s34 + bias;
      out[1][o] = d12 + 2.0f * d34 + bias;
      out[2][o] = s12 + 4.0f * s34 + bias;
      out[3][o] = d12 + 8.0f * d34 + m5 + bias;
    }
}

/* y tile = A^T m A (+ bias), cropped at the bottom/right edge: A across each product row (six
 * rows of four columns per tile), then A^T down, into four output rows of a block, copied (or
 * added) into y. */
void
cs_winograd4_outputs (const cs_winograd_conv *c, const float *m, int64_t count, const float *bias,
                      float *y, bool accumulate)
{
  const int64_t OC = c->out_channels, OH = c->out_h, OW = c->out_w;
  const int64_t th = (OH + 3) / 4, tw = (OW + 3) / 4, tpp = th * tw, T = count * tpp;
  const int64_t stride = OC * T;
#pragma omp parallel for collapse(2) schedule(static) if (count * OC * tpp * 36 > PARALLEL_MIN_WORK)
  for (int64_t s = 0; s < count; s++)
    for (int64_t o = 0; o < OC; o++)
      {
        const float *mp = m + o * T + s * tpp;
        float *yp = y + (s * OC + o) * OH * OW;
        const float b0 = bias != NULL ? bias[o] : 0.0f;
        for (int64_t ti = 0; ti < th; ti++)
          for (int64_t tj0 = 0; tj0 < tw; tj0 += BLOCK)
            {
              const int64_t nt = tw - tj0 < BLOCK ? tw - tj0 : BLOCK;
              const float *mt = mp + ti * tw + tj0;
              /* g[x][a][j]: column x of tile j after A across row a of the 6x6 product */
              float g[4][6][BLOCK];
              for (int a = 0; a < 6; a++)
                {
                  const float *f[6];
                  for (int b = 0; b < 6; b++)
                    f[b] = mt + (a * 6 + b) * stride;
                  float *gr[4] = { g[0][a], g[1][a], g[2][a], g[3][a] };
                  at_rows (f, gr, nt, 1, 0.0f);
                }
              float r[4][4 * BLOCK];
              for (int x = 0; x < 4; x++)
                {
                  const float *gc[6] = { g[x][0], g[x][1], g[x][2], g[x][3], g[x][4], g[x][5] };
                  float *rr[4] = { r[0] + x, r[1] + x, r[2] + x, r[3] + x };
                  at_rows (gc, rr, nt, 4, b0);
                }
              const int64_t cols = 4 * nt <= OW - 4 * tj0 ? 4 * nt : OW - 4 * tj0;
              for (int a = 0; a < 4 && 4 * ti + a < OH; a++)
                {
                  float *dst = yp + (4 * ti + a) * OW + 4 * tj0;
                  if (accumulate)
                    {
#pragma omp simd
                      for (int64_t j = 0; j < cols; j++)
                        dst[j] += r[a][j];
                    }
                  else
                    memcpy (dst, r[a], (size_t) cols * sizeof (float));
                }
            }
      }
}
