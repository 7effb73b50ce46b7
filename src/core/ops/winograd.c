/* Winograd F(2x2, 3x3) (Lavin & Gray 2015): transform 4x4 input tiles and 3x3 kernels into 16
 * frequency planes, multiply each plane as one GEMM over all channels and tiles, transform back.
 * The F(2x2) matrices hold only 0, +-1 and +-1/2, so the rounding stays close to direct conv. */
#include "ops/winograd.h"

#include "base/threads.h"
#include "ops/blas.h"
#include "ops/sgemm_avx512.h"
#include "ops/winograd_rows.h"
#include <omp.h>

#define PARALLEL_MIN_WORK 32768
/* The transforms ask for the input rows of the in-channel this far ahead: ResNet-18's forward,
 * 2 threads, spent 8.2-8.4 % of its samples in the input transform without, 5.4-5.5 % with. */
#define PREFETCH_CHANNELS 2
/* Shared pipeline: the transformed inputs and products of one chunk stay below this many
 * floats, so that the GEMMs find in cache what the transforms wrote. */
#define CHUNK_BUDGET ((int64_t) 1 << 21)
/* Private pipeline: each thread's chunk stays below this many floats (512 KB), so that its
 * transforms, products and transforms back stay in its own L2. */
#define PRIVATE_BUDGET ((int64_t) 1 << 17)
/* ... for convs whose transformed weights are at most this many floats (1 MB): every chunk
 * reads all of them again. ResNet-18 at batch 1 and 8, 2 threads (bench-conv): 64 and 128
 * channels are 25-45 % faster private, 256 channels (4 MB of weights) 5-15 % slower. */
#define PRIVATE_MAX_WEIGHTS ((int64_t) 1 << 18)

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
chunk_of (const cs_winograd_conv *c, int64_t budget)
{
  int64_t per_row = 16 * (c->in_channels + c->out_channels) * tile_cols (c);
  int64_t all = c->batch * tile_rows (c);
  int64_t chunk = per_row > 0 ? budget / per_row : all;
  if (chunk > all)
    chunk = all;
  return chunk < 1 ? 1 : chunk;
}

static int64_t
chunk_floats (const cs_winograd_conv *c, int64_t chunk)
{
  return 16 * (c->in_channels + c->out_channels) * chunk * tile_cols (c);
}

/* Threads the workspace has private chunks for: the cores when first asked, fixed from then
 * on so that a workspace sized earlier always fits. */
static int
private_slots (void)
{
  static int slots;
  int s = __atomic_load_n (&slots, __ATOMIC_RELAXED);
  if (s == 0)
    {
      s = (int) cs_threads_cores ();
      __atomic_store_n (&slots, s, __ATOMIC_RELAXED);
    }
  return s;
}

int64_t
cs_winograd_workspace (const cs_winograd_conv *c)
{
  int64_t shared = chunk_floats (c, chunk_of (c, CHUNK_BUDGET));
  int64_t own = private_slots () * chunk_floats (c, chunk_of (c, PRIVATE_BUDGET));
  return shared > own ? shared : own;
}

int64_t
cs_winograd_weights_size (const cs_winograd_conv *c)
{
  return 16 * c->out_channels * c->in_channels;
}

/* Transforms work on blocks of this many in-channels, in fixed-size stack buffers. */
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

/* Flipping a 3x3 kernel maps its transform G g G^T onto itself with rows and columns 0 and 3
 * swapped (G's rows 1 and 2 are symmetric under the flip). */
static int
flipped_plane (int xi)
{
  static const int swap[4] = { 3, 1, 2, 0 };
  return swap[xi / 4] * 4 + swap[xi % 4];
}

/* The tile-row transforms of one path. */
typedef struct {
  cs_winograd_input_row_fn in;
  cs_winograd_output_row_fn out;
} transforms;

static transforms
transforms_of (cs_winograd_path path)
{
  if (path.avx512)
    return (transforms) { cs_winograd_input_row_avx512, cs_winograd_output_row_avx512 };
  return (transforms) { cs_winograd_input_row, cs_winograd_output_row };
}

/* V[xi][k][t] = B^T d B for in-channel k and tile row j of the chunk that starts at tile row q0
 * of the batch (row q: sample q / th, tile row q % th) and holds T tiles. */
static void
input_row (const cs_winograd_conv *c, transforms f, const float *x, int64_t q0, int64_t T,
           float *v, int64_t k, int64_t j)
{
  const int64_t IC = c->in_channels, H = c->height, W = c->width;
  const int64_t th = tile_rows (c), tw = tile_cols (c), ti = (q0 + j) % th;
  const float *xp = x + ((q0 + j) / th * IC + k) * H * W;
  f.in (xp, H, W, 2 * ti - c->pad_top, -c->pad_left, tw, v + k * T + j * tw, IC * T);
}

/* y's rows for out-channel o and tile row j of the chunk from its products m. */
static void
output_row (const cs_winograd_conv *c, transforms f, const float *m, int64_t q0, int64_t T,
            const float *bias, float *y, bool accumulate, int64_t o, int64_t j)
{
  const int64_t OC = c->out_channels, th = tile_rows (c), tw = tile_cols (c);
  const int64_t ti = (q0 + j) % th;
  float *yp = y + ((q0 + j) / th * OC + o) * c->out_h * c->out_w;
  f.out (m + o * T + j * tw, OC * T, tw, bias != NULL ? bias[o] : 0.0f, yp, c->out_h, c->out_w,
         2 * ti, accumulate);
}

/* Asks for in-channel k's input rows of the chunk [q0, q0 + rows) ahead of their transforms:
 * the op before left them in another core's cache or in L3, and the transforms would
 * otherwise wait on every line. */
static void
prefetch_input (const cs_winograd_conv *c, const float *x, int64_t q0, int64_t rows, int64_t k)
{
  const int64_t th = tile_rows (c), H = c->height, W = c->width;
  for (int64_t q = q0; q < q0 + rows;)
    {
      const int64_t first = q % th, left = q0 + rows - q;
      const int64_t last = first + left - 1 < th - 1 ? first + left - 1 : th - 1;
      int64_t r0 = 2 * first - c->pad_top, r1 = 2 * last - c->pad_top + 4;
      r0 = r0 < 0 ? 0 : r0;
      r1 = r1 > H ? H : r1;
      if (r1 > r0)
        {
          const char *p = (const char *) (x + ((q / th * c->in_channels + k) * H + r0) * W);
          for (int64_t b = 0; b < (r1 - r0) * W * (int64_t) sizeof (float); b += 64)
            __builtin_prefetch (p + b);
        }
      q += last - first + 1;
    }
}

/* M[xi] = U[xi] V[xi] for the 16 planes of a chunk of T tiles. */
static void
plane_product (const cs_winograd_conv *c, const float *u, const float *v, int64_t T, float *m,
               int xi)
{
  const int64_t OC = c->out_channels, IC = c->in_channels;
  /* transposed: u is the forward conv's [16][IC][OC]; read plane flip(xi) as its transpose */
  const float *a = u + (c->transposed ? flipped_plane (xi) : xi) * OC * IC;
  cs_sgemm (c->transposed ? CblasTrans : CblasNoTrans, CblasNoTrans, (int) OC, (int) T, (int) IC,
            1.0f, a, (int) (c->transposed ? OC : IC), v + xi * IC * T, (int) T, 0.0f,
            m + xi * OC * T, (int) T);
}

/* Shared pipeline: chunk after chunk, the team splits each stage (in-channels, then planes,
 * then out-channels). For large weights, which each thread then reads only a part of. */
static void
run_shared (const cs_winograd_conv *c, transforms f, const float *x, const float *u,
            const float *bias, float *y, bool accumulate, float *work)
{
  const int64_t OC = c->out_channels, IC = c->in_channels, tw = tile_cols (c);
  const int64_t chunk = chunk_of (c, CHUNK_BUDGET), all = c->batch * tile_rows (c);
  float *v = work;
  float *m = v + 16 * IC * chunk * tw;
  for (int64_t q0 = 0; q0 < all; q0 += chunk)
    {
      const int64_t rows = all - q0 < chunk ? all - q0 : chunk;
      const int64_t T = rows * tw;
#pragma omp parallel for collapse(2) schedule(static) if (rows * IC * tw * 16 > PARALLEL_MIN_WORK)
      for (int64_t k = 0; k < IC; k++)
        for (int64_t j = 0; j < rows; j++)
          input_row (c, f, x, q0, T, v, k, j);
      /* The 16 products are independent: one plane per thread beats splitting each product
       * (each stays large enough for the kernel; no thread waits at 16 joins). */
#pragma omp parallel for schedule(static) if (OC * T * IC > PARALLEL_MIN_WORK * 16)
      for (int xi = 0; xi < 16; xi++)
        plane_product (c, u, v, T, m, xi);
#pragma omp parallel for collapse(2) schedule(static) if (rows * OC * tw * 16 > PARALLEL_MIN_WORK)
      for (int64_t o = 0; o < OC; o++)
        for (int64_t j = 0; j < rows; j++)
          output_row (c, f, m, q0, T, bias, y, accumulate, o, j);
    }
}

/* Private pipeline: each thread takes whole chunks and runs all three stages on them alone, in
 * its own part of the workspace, with no join between stages and nothing leaving its L2. */
static void
run_private (const cs_winograd_conv *c, transforms f, const float *x, const float *u,
             const float *bias, float *y, bool accumulate, float *work)
{
  const int64_t OC = c->out_channels, IC = c->in_channels, tw = tile_cols (c);
  const int64_t chunk = chunk_of (c, PRIVATE_BUDGET), all = c->batch * tile_rows (c);
  const int64_t n_chunks = (all + chunk - 1) / chunk, slot = chunk_floats (c, chunk);
  int team = omp_get_max_threads ();
  if (team > private_slots ())
    team = private_slots ();
  if (team > n_chunks)
    team = (int) n_chunks;
  if (all * tw * OC * IC <= PARALLEL_MIN_WORK * 16)
    team = 1;
#pragma omp parallel num_threads (team)
  {
    float *v = work + omp_get_thread_num () * slot;
    float *m = v + 16 * IC * chunk * tw;
#pragma omp for schedule(static)
    for (int64_t ci = 0; ci < n_chunks; ci++)
      {
        const int64_t q0 = ci * chunk, rows = all - q0 < chunk ? all - q0 : chunk;
        const int64_t T = rows * tw;
        for (int64_t k = 0; k < IC; k++)
          {
            if (k + PREFETCH_CHANNELS < IC)
              prefetch_input (c, x, q0, rows, k + PREFETCH_CHANNELS);
            for (int64_t j = 0; j < rows; j++)
              input_row (c, f, x, q0, T, v, k, j);
          }
        for (int xi = 0; xi < 16; xi++)
          plane_product (c, u, v, T, m, xi);
        for (int64_t o = 0; o < OC; o++)
          for (int64_t j = 0; j < rows; j++)
            output_row (c, f, m, q0, T, bias, y, accumulate, o, j);
      }
  }
}

cs_winograd_path
cs_winograd_path_for (const cs_winograd_conv *c)
{
  cs_winograd_path path = { .avx512 = cs_sgemm_avx512_available () };
  path.private_chunks = cs_winograd_weights_size (c) <= PRIVATE_MAX_WEIGHTS;
  return path;
}

void
cs_winograd_run_path (const cs_winograd_conv *c, cs_winograd_path path, const float *x,
                      const float *u, const float *bias, float *y, bool accumulate, float *work)
{
  const transforms f = transforms_of (path);
  if (path.private_chunks)
    run_private (c, f, x, u, bias, y, accumulate, work);
  else
    run_shared (c, f, x, u, bias, y, accumulate, work);
}

void
cs_winograd_run (const cs_winograd_conv *c, const float *x, const float *u,
                 const float *bias, float *y, bool accumulate, float *work)
{
  cs_winograd_run_path (c, cs_winograd_path_for (c), x, u, bias, y, accumulate, work);
}
