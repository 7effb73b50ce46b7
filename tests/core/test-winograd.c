/* Winograd F(2x2, 3x3) by each path (shared or private chunks, portable or AVX-512 transforms):
 * against a direct convolution in double precision, forward and transposed (input gradient),
 * written and accumulated; every path and thread count giving the same bits; and nothing
 * written past the workspace cs_winograd_workspace asks for. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "ops/sgemm_avx512.h"
#include "ops/winograd.h"
#include "testlib.h"

#define SENTINEL 12345.0f
#define GUARD 256

typedef struct {
  const char *name;
  int64_t batch, in_channels, height, width, out_channels;
  int64_t pad_top, pad_left, pad_bottom, pad_right;
  bool transposed, bias, accumulate;
} geometry;

static float
uniform (uint32_t *state)
{
  *state = *state * 1664525u + 1013904223u;
  return (float) (*state >> 8) / (float) (1u << 24) * 2.0f - 1.0f;
}

static float *
random_floats (int64_t n, uint32_t seed)
{
  float *p = malloc ((size_t) (n > 0 ? n : 1) * sizeof (float));
  for (int64_t i = 0; i < n; i++)
    p[i] = uniform (&seed);
  return p;
}

static cs_winograd_conv
conv_of (const geometry *g)
{
  cs_winograd_conv c = {
    .batch = g->batch, .in_channels = g->in_channels, .height = g->height, .width = g->width,
    .out_channels = g->out_channels, .pad_top = g->pad_top, .pad_left = g->pad_left,
    .transposed = g->transposed,
  };
  c.out_h = g->height + g->pad_top + g->pad_bottom - 2;
  c.out_w = g->width + g->pad_left + g->pad_right - 2;
  return c;
}

/* The kernel the conv applies: w[o, k] as given, or for a transposed conv the forward weight
 * w[k, o] flipped. */
static double
kernel_at (const geometry *g, const float *w, int64_t o, int64_t k, int a, int b)
{
  if (!g->transposed)
    return w[((o * g->in_channels + k) * 3 + a) * 3 + b];
  return w[((k * g->out_channels + o) * 3 + 2 - a) * 3 + 2 - b];
}

/* y = direct conv in double, and the sum of the terms' magnitudes for the error bound. */
static void
direct (const geometry *g, const cs_winograd_conv *c, const float *x, const float *w,
        const float *bias, double *y, double *mag)
{
  for (int64_t n = 0; n < c->batch; n++)
    for (int64_t o = 0; o < c->out_channels; o++)
      for (int64_t i = 0; i < c->out_h; i++)
        for (int64_t j = 0; j < c->out_w; j++)
          {
            double s = bias != NULL ? bias[o] : 0.0, m = fabs (s);
            for (int64_t k = 0; k < c->in_channels; k++)
              for (int a = 0; a < 3; a++)
                for (int b = 0; b < 3; b++)
                  {
                    const int64_t r = i - c->pad_top + a, q = j - c->pad_left + b;
                    if (r < 0 || r >= c->height || q < 0 || q >= c->width)
                      continue;
                    const double t = x[((n * c->in_channels + k) * c->height + r) * c->width + q]
                                     * kernel_at (g, w, o, k, a, b);
                    s += t;
                    m += fabs (t);
                  }
            const int64_t at = ((n * c->out_channels + o) * c->out_h + i) * c->out_w + j;
            y[at] = s;
            mag[at] = m;
          }
}

/* One run by path and thread count: y from a copy of y0, in a workspace with a guard after
 * it. Returns y (to free), or NULL when the guard was written. */
static float *
run (const cs_winograd_conv *c, cs_winograd_path path, int threads, const float *x,
     const float *u, const float *bias, const float *y0, int64_t ny, bool accumulate)
{
  const int64_t ws = cs_winograd_workspace (c);
  float *work = malloc ((size_t) (ws + GUARD) * sizeof (float));
  for (int64_t i = 0; i < GUARD; i++)
    work[ws + i] = SENTINEL;
  float *y = malloc ((size_t) ny * sizeof (float));
  memcpy (y, y0, (size_t) ny * sizeof (float));
  const int before = omp_get_max_threads ();
  omp_set_num_threads (threads);
  cs_winograd_run_path (c, path, x, u, bias, y, accumulate, work);
  omp_set_num_threads (before);
  bool guard_kept = true;
  for (int64_t i = 0; i < GUARD; i++)
    guard_kept = guard_kept && work[ws + i] == SENTINEL;
  free (work);
  if (!guard_kept)
    {
      free (y);
      return NULL;
    }
  return y;
}

static void
check_geometry (const geometry *g)
{
  const cs_winograd_conv c = conv_of (g);
  /* The forward conv whose weights u holds: for a transposed conv, in and out swapped. */
  cs_winograd_conv fwd = c;
  fwd.transposed = false;
  if (g->transposed)
    {
      fwd.in_channels = c.out_channels;
      fwd.out_channels = c.in_channels;
    }
  const int64_t nx = c.batch * c.in_channels * c.height * c.width;
  const int64_t ny = c.batch * c.out_channels * c.out_h * c.out_w;
  const int64_t nw = c.in_channels * c.out_channels * 9;
  float *x = random_floats (nx, 11u + (uint32_t) nx);
  float *w = random_floats (nw, 23u + (uint32_t) nw);
  float *bias = g->bias ? random_floats (c.out_channels, 5u) : NULL;
  float *y0 = random_floats (ny, 3u);
  float *u = malloc ((size_t) cs_winograd_weights_size (&fwd) * sizeof (float));
  cs_winograd_weights (&fwd, w, u);
  double *want = malloc ((size_t) ny * sizeof (double)), *mag = malloc ((size_t) ny * sizeof (double));
  direct (g, &c, x, w, bias, want, mag);
  if (g->accumulate)
    for (int64_t i = 0; i < ny; i++)
      want[i] += y0[i], mag[i] += fabs ((double) y0[i]);

  const bool avx512 = cs_sgemm_avx512_available ();
  float *first = NULL;
  for (int p = 0; p < 4; p++)
    {
      const cs_winograd_path path = { .private_chunks = p & 1, .avx512 = (p & 2) != 0 };
      if (path.avx512 && !avx512)
        continue;
      for (int threads = 1; threads <= 3; threads++)
        {
          float *y = run (&c, path, threads, x, u, bias, y0, ny, g->accumulate);
          CHECK (y != NULL, "%s, %s chunks, %s transforms, %d threads: nothing written past the "
                 "workspace", g->name, path.private_chunks ? "private" : "shared",
                 path.avx512 ? "AVX-512" : "portable", threads);
          if (y == NULL)
            continue;
          /* F(2x2)'s transforms add at most 4 + 4 terms per side: a few dozen roundings of the
           * terms' magnitudes, far inside 1e-5; one wrong term is off by its whole size. */
          double worst = 0.0;
          for (int64_t i = 0; i < ny; i++)
            {
              const double e = fabs (y[i] - want[i]) / (mag[i] + 1e-30);
              if (!(e <= worst))
                worst = e;
            }
          if (first == NULL)
            {
              CHECK (worst < 1e-5, "%s: within 1e-5 of the double direct conv, relative to the "
                     "terms' magnitudes (%.2e)", g->name, worst);
              first = y;
              continue;
            }
          CHECK (memcmp (y, first, (size_t) ny * sizeof (float)) == 0,
                 "%s, %s chunks, %s transforms, %d threads: the same bits as the first path",
                 g->name, path.private_chunks ? "private" : "shared",
                 path.avx512 ? "AVX-512" : "portable", threads);
          free (y);
        }
    }
  if (!avx512)
    TEST_NOTE ("this CPU has no AVX-512F: the portable transforms only");
  free (first);
  free (x), free (w), free (bias), free (y0), free (u), free (want), free (mag);
}

int
main (void)
{
  static const geometry geometries[] = {
    { "ResNet-18 layer1 3x3 at batch 1", 1, 64, 56, 56, 64, 1, 1, 1, 1, false, true, false },
    { "its input gradient, accumulated", 1, 64, 56, 56, 64, 1, 1, 1, 1, true, false, true },
    { "odd sizes, uneven padding", 3, 5, 15, 17, 7, 0, 2, 1, 0, false, true, false },
    { "pad 3 on the left, more than a tile", 2, 9, 21, 21, 8, 3, 0, 2, 3, false, false, true },
    { "more tiles than a vector across, 3 samples", 3, 4, 9, 70, 6, 1, 1, 1, 1, false, true, false },
    { "negative padding (a cropped input)", 2, 6, 12, 13, 5, -1, 1, 0, -1, false, true, false },
    { "transposed, ragged", 2, 7, 11, 10, 9, 1, 2, 0, 1, true, false, false },
    { "one output row and column", 1, 3, 3, 3, 4, 0, 0, 0, 0, false, true, false },
    { "many chunks across samples", 8, 16, 30, 30, 24, 1, 1, 1, 1, false, true, true },
  };
  for (size_t i = 0; i < sizeof geometries / sizeof geometries[0]; i++)
    check_geometry (&geometries[i]);
  return test_done ();
}
