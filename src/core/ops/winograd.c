/* Winograd F(2x2, 3x3) (Lavin & Gray 2015): transform 4x4 input tiles and 3x3 kernels into 16
 * frequency planes, multiply each plane as one GEMM over all channels and tiles, transform back.
 * The F(2x2) matrices hold only 0, +-1 and +-1/2, so the rounding stays close to direct conv. */
#include "ops/winograd.h"

#include "ops/blas.h"
#include <string.h>

#define PARALLEL_MIN_WORK 32768
/* Transformed inputs and products of one chunk stay below this many floats: the transforms
 * write them and the GEMMs read them back, so they should still be in cache. */
#define CHUNK_BUDGET ((int64_t) 1 << 21)

static int64_t
tile_rows (const cs_winograd_conv *c)
{
  return (c->out_h + 1) / 2;
}

static int64_t
tile_cols (const cs_winograd_conv *c)
{
  return (c->out_w + 1) / 2;
}

/* Rows of tiles per chunk, counted across the batch ((sample, tile row) pairs): as many as fit
 * the budget, at least one. */
static int64_t
chunk_of (const cs_winograd_conv *c)
{
  int64_t per_row = 16 * (c->in_channels + c->out_channels) * tile_cols (c);
  int64_t all = c->batch * tile_rows (c);
  int64_t chunk = per_row > 0 ? CHUNK_BUDGET / per_row : all;
  if (chunk > all)
    chunk = all;
  return chunk < 1 ? 1 : chunk;
}

int64_t
cs_winograd_workspace (const cs_winograd_conv *c)
{
  int64_t t = chunk_of (c) * tile_cols (c);
  return 16 * (c->in_channels + c->out_channels) * t;
}

int64_t
cs_winograd_weights_size (const cs_winograd_conv *c)
{
  return 16 * c->out_channels * c->in_channels;
}

/* Transforms work on blocks of this many tiles along a tile row, in fixed-size stack buffers. */
#define BLOCK 64

/* U[xi][o][i] = G g G^T for every (out, in) kernel pair: a block of in-channels at a time, the
 * kernels first gathered into g[9][block] so that the arithmetic runs across the block (SIMD) and
 * each of the 16 planes is written in contiguous runs. */
void
cs_winograd_weights (const cs_winograd_conv *c, const float *w, float *u)
{
  const int64_t OC = c->out_channels, IC = c->in_channels, plane = OC * IC;
#pragma omp parallel for schedule(static) if (plane * 9 > PARALLEL_MIN_WORK)
  for (int64_t o = 0; o < OC; o++)
    for (int64_t i0 = 0; i0 < IC; i0 += BLOCK)
      {
        const int64_t n = IC - i0 < BLOCK ? IC - i0 : BLOCK;
        float g[9][BLOCK], q[12][BLOCK];
        const float *src = w + (o * IC + i0) * 9;
        for (int64_t j = 0; j < n; j++)
          for (int e = 0; e < 9; e++)
            g[e][j] = src[j * 9 + e];
        /* q = G g: rows a of the 4x3 */
        for (int b = 0; b < 3; b++)
          {
#pragma omp simd
            for (int64_t j = 0; j < n; j++)
              {
                q[0 * 3 + b][j] = g[0 * 3 + b][j];
                q[1 * 3 + b][j] = 0.5f * (g[0 * 3 + b][j] + g[1 * 3 + b][j] + g[2 * 3 + b][j]);
                q[2 * 3 + b][j] = 0.5f * (g[0 * 3 + b][j] - g[1 * 3 + b][j] + g[2 * 3 + b][j]);
                q[3 * 3 + b][j] = g[2 * 3 + b][j];
              }
          }
        /* u = q G^T, straight into the 16 planes */
        for (int a = 0; a < 4; a++)
          {
            float *u0 = u + (a * 4 + 0) * plane + o * IC + i0, *u1 = u0 + plane;
            float *u2 = u1 + plane, *u3 = u2 + plane;
            const float *q0 = q[a * 3 + 0], *q1 = q[a * 3 + 1], *q2 = q[a * 3 + 2];
#pragma omp simd
            for (int64_t j = 0; j < n; j++)
              {
                u0[j] = q0[j];
                u1[j] = 0.5f * (q0[j] + q1[j] + q2[j]);
                u2[j] = 0.5f * (q0[j] - q1[j] + q2[j]);
                u3[j] = q2[j];
              }
          }
      }
}

/* V[xi][k][t] = B^T d B for the 4x4 input patch d of every tile t in the tile rows [q0, q0 +
 * rows) of the batch (row q: sample q / th, tile row q % th). Per tile row and block of tiles:
 * the (zero-padded) input rows, then B^T down the rows, then B across the columns, each a plain
 * SIMD loop. */
static void
transform_inputs (const cs_winograd_conv *c, const float *x, int64_t q0, int64_t rows, float *v)
{
  const int64_t IC = c->in_channels, H = c->height, W = c->width;
  const int64_t th = tile_rows (c), tw = tile_cols (c), T = rows * tw;
  const int64_t stride = IC * T, pt = c->pad_top, pl = c->pad_left;
#pragma omp parallel for collapse(2) schedule(static) if (rows * IC * tw * 16 > PARALLEL_MIN_WORK)
  for (int64_t k = 0; k < IC; k++)
    for (int64_t j = 0; j < rows; j++)
      {
        const int64_t ti = (q0 + j) % th;
        const float *xp = x + ((q0 + j) / th * IC + k) * H * W;
        float *vp = v + k * T + j * tw;
        for (int64_t tj0 = 0; tj0 < tw; tj0 += BLOCK)
          {
            const int64_t nt = tw - tj0 < BLOCK ? tw - tj0 : BLOCK;
            const int64_t width = 2 * nt + 2, col0 = 2 * tj0 - pl;
            float d[4][2 * BLOCK + 2], e[4][2 * BLOCK + 2];
            for (int a = 0; a < 4; a++)
              {
                const int64_t r = 2 * ti - pt + a;
                if (r < 0 || r >= H)
                  {
                    memset (d[a], 0, (size_t) width * sizeof (float));
                    continue;
                  }
                int64_t lo = col0 < 0 ? -col0 : 0;
                int64_t hi = W - col0 < width ? W - col0 : width;
                if (hi < lo)
                  hi = lo;
                for (int64_t i = 0; i < lo && i < width; i++)
                  d[a][i] = 0.0f;
                if (hi > lo)
                  memcpy (d[a] + lo, xp + r * W + col0 + lo, (size_t) (hi - lo) * sizeof (float));
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
            float *vt = vp + tj0;
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
}

/* y tile = A^T m A (+ bias), cropped at the bottom/right edge, for the tiles of rows [q0, q0 +
 * rows): A across each product row, then A^T down, into two output rows of a block, copied (or
 * added) into y. */
static void
transform_outputs (const cs_winograd_conv *c, const float *m, int64_t q0, int64_t rows,
                   const float *bias, float *y, bool accumulate)
{
  const int64_t OC = c->out_channels, OH = c->out_h, OW = c->out_w;
  const int64_t th = tile_rows (c), tw = tile_cols (c), T = rows * tw;
  const int64_t stride = OC * T;
#pragma omp parallel for collapse(2) schedule(static) if (rows * OC * tw * 16 > PARALLEL_MIN_WORK)
  for (int64_t o = 0; o < OC; o++)
    for (int64_t j = 0; j < rows; j++)
      {
        const int64_t ti = (q0 + j) % th;
        const float *mp = m + o * T + j * tw;
        float *yp = y + ((q0 + j) / th * OC + o) * OH * OW;
        const float b0 = bias != NULL ? bias[o] : 0.0f;
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
                    r[0][2 * i + x] = g[0][x][i] + g[1][x][i] + g[2][x][i] + b0;
                    r[1][2 * i + x] = g[1][x][i] - g[2][x][i] - g[3][x][i] + b0;
                  }
              }
            const int64_t cols = 2 * nt <= OW - 2 * tj0 ? 2 * nt : OW - 2 * tj0;
            for (int a = 0; a < 2 && 2 * ti + a < OH; a++)
              {
                float *dst = yp + (2 * ti + a) * OW + 2 * tj0;
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
}

/* Flipping a 3x3 kernel maps its transform G g G^T onto itself with rows and columns 0 and 3
 * swapped (G's rows 1 and 2 are symmetric under the flip). */
static int
flipped_plane (int xi)
{
  static const int swap[4] = { 3, 1, 2, 0 };
  return swap[xi / 4] * 4 + swap[xi % 4];
}

void
cs_winograd_run (const cs_winograd_conv *c, const float *x, const float *u,
                 const float *bias, float *y, bool accumulate, float *work)
{
  const int64_t OC = c->out_channels, IC = c->in_channels, tw = tile_cols (c);
  const int64_t chunk = chunk_of (c), all = c->batch * tile_rows (c);
  float *v = work;
  float *m = v + 16 * IC * chunk * tw;
  for (int64_t q0 = 0; q0 < all; q0 += chunk)
    {
      const int64_t rows = all - q0 < chunk ? all - q0 : chunk;
      const int64_t T = rows * tw;
      transform_inputs (c, x, q0, rows, v);
      /* The 16 products are independent: one plane per thread beats splitting each product
       * (each stays large enough for the kernel; no thread waits at 16 joins). */
#pragma omp parallel for schedule(static) if (OC * T * IC > PARALLEL_MIN_WORK * 16)
      for (int xi = 0; xi < 16; xi++)
        {
          /* transposed: u is the forward conv's [16][IC][OC]; read plane flip(xi) as its transpose */
          const float *a = u + (c->transposed ? flipped_plane (xi) : xi) * OC * IC;
          cs_sgemm (c->transposed ? CblasTrans : CblasNoTrans, CblasNoTrans,
                       (int) OC, (int) T, (int) IC, 1.0f, a, (int) (c->transposed ? OC : IC),
                       v + xi * IC * T, (int) T, 0.0f, m + xi * OC * T, (int) T);
        }
      transform_outputs (c, m, q0, rows, bias, y, accumulate);
    }
}
