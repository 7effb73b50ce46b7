/* The direct first-layer conv (cs_conv_direct_forward, cs_conv_direct_input_grad): each kernel
 * this CPU has against a double-precision loop over random geometries (strides, asymmetric
 * padding, partial pixel and channel blocks, several chunks of samples), NaN staying in its own
 * windows, the kernels agreeing bit for bit, and conv2d's choice of the path. */
#include <math.h>
#include <stdlib.h>

#include "ops/conv_direct.h"
#include "pointwise-util.h"

typedef struct {
  const char *name;
  int64_t batch, c, h, w, m, kh, kw, sh, sw;
  int64_t pt, pl, pb, pr;
  bool bias;
} geometry;

static cs_conv_geom
geom_of (const geometry *t)
{
  cs_conv_geom g = { .channels = t->c, .height = t->h, .width = t->w, .kernel_h = t->kh,
                     .kernel_w = t->kw, .stride_h = t->sh, .stride_w = t->sw,
                     .pad_top = t->pt, .pad_left = t->pl, .dilation_h = 1, .dilation_w = 1 };
  g.out_h = (t->h + t->pt + t->pb - t->kh) / t->sh + 1;
  g.out_w = (t->w + t->pl + t->pr - t->kw) / t->sw + 1;
  return g;
}

static float
uniform (uint32_t *state)
{
  *state = *state * 1664525u + 1013904223u;
  return (float) (*state >> 8) / (float) (1u << 24) * 2.0f - 1.0f;
}

/* Output (n, m, oh, ow) in double, and the sum of the magnitudes of its terms (its scale). */
static double
reference (const cs_conv_geom *g, int64_t M, const float *x, const float *w, const float *b,
           int64_t n, int64_t m, int64_t oh, int64_t ow, double *scale)
{
  double acc = b != NULL ? b[m] : 0.0, mag = b != NULL ? fabs (b[m]) : 0.0;
  for (int64_t c = 0; c < g->channels; c++)
    for (int64_t ki = 0; ki < g->kernel_h; ki++)
      for (int64_t kj = 0; kj < g->kernel_w; kj++)
        {
          int64_t ih = oh * g->stride_h + ki - g->pad_top, iw = ow * g->stride_w + kj - g->pad_left;
          if (ih < 0 || ih >= g->height || iw < 0 || iw >= g->width)
            continue;
          double t = (double) w[((m * g->channels + c) * g->kernel_h + ki) * g->kernel_w + kj]
                     * x[((n * g->channels + c) * g->height + ih) * g->width + iw];
          acc += t;
          mag += fabs (t);
        }
  (void) M;
  *scale = mag;
  return acc;
}

static const char *
isa_name (cs_conv_direct_isa isa)
{
  return isa == CS_CONV_DIRECT_AVX512 ? "AVX-512" : "AVX2";
}

/* The input gradient of kernel `isa` against a double-precision scatter, written fresh and then
 * added to what dx held. */
static void
check_input_grad (const geometry *t, cs_conv_direct_isa isa, const float *w, float *work)
{
  cs_conv_geom g = geom_of (t);
  const int64_t M = t->m, nx = t->batch * t->c * t->h * t->w;
  const int64_t plane = g.out_h * g.out_w, ny = t->batch * M * plane;
  float *dy = malloc ((size_t) ny * sizeof *dy), *dxb = malloc ((size_t) (nx + 2) * sizeof *dxb);
  float *dx = dxb + 1;
  double *want = calloc ((size_t) nx, sizeof *want), *mag = calloc ((size_t) nx, sizeof *mag);
  uint32_t state = 99u + (uint32_t) t->w;
  for (int64_t i = 0; i < ny; i++)
    dy[i] = uniform (&state);
  for (int64_t n = 0; n < t->batch; n++)
    for (int64_t m = 0; m < M; m++)
      for (int64_t oh = 0; oh < g.out_h; oh++)
        for (int64_t ow = 0; ow < g.out_w; ow++)
          for (int64_t c = 0; c < t->c; c++)
            for (int64_t ki = 0; ki < t->kh; ki++)
              for (int64_t kj = 0; kj < t->kw; kj++)
                {
                  int64_t ih = oh * t->sh + ki - t->pt, iw = ow * t->sw + kj - t->pl;
                  if (ih < 0 || ih >= t->h || iw < 0 || iw >= t->w)
                    continue;
                  int64_t at = ((n * t->c + c) * t->h + ih) * t->w + iw;
                  double term = (double) w[((m * t->c + c) * t->kh + ki) * t->kw + kj]
                                * dy[((n * M + m) * g.out_h + oh) * g.out_w + ow];
                  want[at] += term;
                  mag[at] += fabs (term);
                }
  for (int pass = 0; pass < 2; pass++)
    {
      /* Pass 0 writes over garbage; pass 1 adds to 1.0 everywhere. */
      dxb[0] = dxb[nx + 1] = 12345.0f;
      for (int64_t i = 0; i < nx; i++)
        dx[i] = pass == 0 ? NAN : 1.0f;
      cs_conv_direct_input_grad (isa, &g, M, t->batch, dy, w, dx, pass == 1, work);
      int64_t bad = 0;
      double worst = 0.0;
      for (int64_t i = 0; i < nx; i++)
        {
          double err = fabs (dx[i] - (want[i] + pass)) / (mag[i] + pass + 1e-30);
          if (!(err <= 1e-6))
            bad++;
          if (err > worst)
            worst = err;
        }
      CHECK (bad == 0 && dxb[0] == 12345.0f && dxb[nx + 1] == 12345.0f,
             "%s, %s kernel: input gradient %s: %lld of %lld within 1e-6 of the terms' magnitude "
             "(worst %.2g), nothing written outside dx", t->name, isa_name (isa),
             pass == 0 ? "written" : "accumulated", (long long) (nx - bad), (long long) nx, worst);
    }
  free (dy);
  free (dxb);
  free (want);
  free (mag);
}

/* Checks one kernel on one geometry; returns its output (before the NaN), for the caller. */
static float *
check_geometry (const geometry *t, cs_conv_direct_isa isa)
{
  cs_conv_geom g = geom_of (t);
  const int64_t M = t->m, nx = t->batch * t->c * t->h * t->w, nw = M * t->c * t->kh * t->kw;
  const int64_t plane = g.out_h * g.out_w, ny = t->batch * M * plane;
  float *x = malloc ((size_t) nx * sizeof *x), *w = malloc ((size_t) nw * sizeof *w);
  float *b = malloc ((size_t) M * sizeof *b);
  /* One float past the end on both sides catches a write outside y. */
  float *yb = malloc ((size_t) (ny + 2) * sizeof *yb), *y = yb + 1;
  float *work = malloc ((size_t) cs_conv_direct_workspace (&g, M, t->batch) * sizeof *work);
  uint32_t state = 7u + (uint32_t) (t->c * 1000 + t->w);
  for (int64_t i = 0; i < nx; i++)
    x[i] = uniform (&state);
  for (int64_t i = 0; i < nw; i++)
    w[i] = uniform (&state);
  for (int64_t i = 0; i < M; i++)
    b[i] = uniform (&state);
  check_input_grad (t, isa, w, work);
  yb[0] = yb[ny + 1] = 12345.0f;
  cs_conv_direct_forward (isa, &g, M, t->batch, x, w, t->bias ? b : NULL, y, work);
  int64_t bad = 0;
  double worst = 0.0;
  for (int64_t n = 0; n < t->batch; n++)
    for (int64_t m = 0; m < M; m++)
      for (int64_t i = 0; i < plane; i++)
        {
          double scale, want = reference (&g, M, x, w, t->bias ? b : NULL, n, m, i / g.out_w,
                                          i % g.out_w, &scale);
          double err = fabs (y[(n * M + m) * plane + i] - want) / (scale + 1e-30);
          if (!(err <= 1e-6))
            bad++;
          if (err > worst)
            worst = err;
        }
  CHECK (bad == 0 && yb[0] == 12345.0f && yb[ny + 1] == 12345.0f,
         "%s, %s kernel: %lld of %lld outputs within 1e-6 of the terms' magnitude (worst %.2g), "
         "nothing written outside y", t->name, isa_name (isa), (long long) (ny - bad),
         (long long) ny, worst);
  float *clean = malloc ((size_t) ny * sizeof *clean);
  memcpy (clean, y, (size_t) ny * sizeof *clean);

  /* A NaN in one input cell reaches exactly the outputs whose window holds that cell. */
  const int64_t nc = t->c - 1, nh = t->h / 2, nwc = t->w - 1;
  x[((0 * t->c + nc) * t->h + nh) * t->w + nwc] = NAN;
  cs_conv_direct_forward (isa, &g, M, t->batch, x, w, t->bias ? b : NULL, y, work);
  int64_t wrong = 0;
  for (int64_t n = 0; n < t->batch; n++)
    for (int64_t m = 0; m < M; m++)
      for (int64_t oh = 0; oh < g.out_h; oh++)
        for (int64_t ow = 0; ow < g.out_w; ow++)
          {
            int64_t ki = nh - (oh * g.stride_h - g.pad_top);
            int64_t kj = nwc - (ow * g.stride_w - g.pad_left);
            bool sees = n == 0 && ki >= 0 && ki < g.kernel_h && kj >= 0 && kj < g.kernel_w;
            if (sees != (bool) isnan (y[((n * M + m) * g.out_h + oh) * g.out_w + ow]))
              wrong++;
          }
  CHECK (wrong == 0, "%s, %s kernel: a NaN input cell makes NaN exactly the outputs that read it "
         "(%lld wrong)", t->name, isa_name (isa), (long long) wrong);
  free (x);
  free (w);
  free (b);
  free (yb);
  free (work);
  return clean;
}

int
main (void)
{
  static const geometry cases[] = {
    { "ResNet stem 3x224x224 -> 64, 7x7/2 pad 3", 1, 3, 224, 224, 64, 7, 7, 2, 2, 3, 3, 3, 3, true },
    { "3x37x45 -> 20, 7x7/2 pad 3 (partial blocks)", 2, 3, 37, 45, 20, 7, 7, 2, 2, 3, 3, 3, 3, true },
    { "demo 1x28x28 -> 16, 3x3 pad 1", 3, 1, 28, 28, 16, 3, 3, 1, 1, 1, 1, 1, 1, false },
    { "2x13x9 -> 5, 5x5 pad 2", 2, 2, 13, 9, 5, 5, 5, 1, 1, 2, 2, 2, 2, true },
    { "4x20x31 -> 17, 3x3 stride 3x2, pads 0,1,2,0", 2, 4, 20, 31, 17, 3, 3, 3, 2, 0, 1, 2, 0, true },
    { "1x10x20 -> 3, 1x4 stride 2", 1, 1, 10, 20, 3, 1, 4, 2, 2, 0, 0, 0, 0, false },
    { "4x300x300 -> 8, 3x3 (samples in two chunks)", 3, 4, 300, 300, 8, 3, 3, 1, 1, 1, 1, 1, 1, true },
  };
  const cs_conv_direct_isa best = cs_conv_direct_isa_of_cpu ();
  TEST_NOTE ("this CPU's direct-conv kernel: %s",
             best == CS_CONV_DIRECT_NONE ? "none" : isa_name (best));
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      float *first = NULL;
      for (cs_conv_direct_isa isa = CS_CONV_DIRECT_AVX2; isa <= best; isa++)
        {
          float *y = check_geometry (&cases[i], isa);
          if (first == NULL)
            first = y;
          else
            {
              const cs_conv_geom g = geom_of (&cases[i]);
              size_t bytes = (size_t) (cases[i].batch * cases[i].m * g.out_h * g.out_w) * sizeof *y;
              /* Another CPU's kernel must not change a bit. */
              CHECK (memcmp (first, y, bytes) == 0, "%s: the AVX2 and AVX-512 kernels agree bit "
                     "for bit", cases[i].name);
              free (y);
            }
        }
      free (first);
    }

  /* conv2d's forward takes the path for the stem when the CPU has a kernel (the reference
   * suites then check it inside whole models), never for a 64-channel input
   * or more output channels than the input gradient packs. */
  cs_conv_geom stem = geom_of (&cases[0]), wide = stem;
  wide.channels = 64;
  CHECK (cs_conv_direct_fits (&stem, 64) == (best != CS_CONV_DIRECT_NONE)
         && !cs_conv_direct_fits (&wide, 64) && !cs_conv_direct_fits (&stem, 513),
         "the stem takes the direct path exactly when this CPU has a kernel; 64 input channels "
         "or 513 output channels never");
  return test_done ();
}
