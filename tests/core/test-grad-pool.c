/* Pooling and mean reductions: PyTorch fixtures, a naive padded-buffer reference over random
 * windows (asymmetric pads, dilation, ceil mode, count_include_pad), finite-difference
 * gradients, argmax tie rule, reduce_mean over arbitrary axes. */
#include "pointwise-util.h"

static cs_attrs
window (int kh, int kw, int sh, int sw, int pt, int pl, int pb, int pr, int dh, int dw, bool ceil_mode,
        bool cip)
{
  cs_attrs a = { 0 };
  a.window.kernel[0] = kh;
  a.window.kernel[1] = kw;
  a.window.stride[0] = sh;
  a.window.stride[1] = sw;
  a.window.pad[0] = pt;
  a.window.pad[1] = pl;
  a.window.pad[2] = pb;
  a.window.pad[3] = pr;
  a.window.dilation[0] = dh;
  a.window.dilation[1] = dw;
  a.window.groups = 1;
  a.window.ceil_mode = ceil_mode;
  a.window.count_include_pad = cip;
  return a;
}

/* Output length by enumeration. Floor mode: windows that fit the padded input. Ceil mode: add
 * windows while the previous one left padded elements uncovered, but only those that start
 * inside the input or the leading pad. */
static int64_t
ref_out_len (int64_t in, int64_t k, int64_t s, int64_t pa, int64_t pb, int64_t d, bool ceil_mode)
{
  int64_t len = in + pa + pb, eff = d * (k - 1) + 1, count = 0;
  if (eff > len)
    return 0;
  for (int64_t i = 0;; i++)
    {
      bool take = ceil_mode ? (i == 0 || (i - 1) * s + eff < len) && i * s < in + pa
                            : i * s + eff <= len;
      if (!take)
        break;
      count++;
    }
  return count;
}

/* Reference forward through an explicitly padded plane: cells outside the input hold -inf
 * (max) or are flagged as padding (average); cells past the padded extent (ceil mode) are
 * flagged as outside. Max windows without input give -inf; average divisors count the window
 * cells inside the padded extent (count_include_pad) or inside the input. */
static void
ref_pool (bool is_max, const cs_tensor *x, const cs_window_attrs *a, float *y, int64_t oh, int64_t ow)
{
  int64_t planes = x->shape.dim[0] * x->shape.dim[1], h = x->shape.dim[2], w = x->shape.dim[3];
  int64_t dh = is_max ? a->dilation[0] : 1, dw = is_max ? a->dilation[1] : 1;
  int64_t ph = h + a->pad[0] + a->pad[2], pw = w + a->pad[1] + a->pad[3];
  /* big enough for any window in ceil mode */
  int64_t bh = ph + (int64_t) a->stride[0] + dh * a->kernel[0], bw = pw + (int64_t) a->stride[1] + dw * a->kernel[1];
  float *buf = cs_alloc_floats (bh * bw);
  signed char *kind = calloc ((size_t) (bh * bw), 1); /* 0 input, 1 pad, 2 outside */
  for (int64_t p = 0; p < planes; p++)
    {
      for (int64_t i = 0; i < bh; i++)
        for (int64_t j = 0; j < bw; j++)
          {
            int64_t yy = i - a->pad[0], xx = j - a->pad[1];
            bool inside = yy >= 0 && yy < h && xx >= 0 && xx < w;
            kind[i * bw + j] = inside ? 0 : i < ph && j < pw ? 1 : 2;
            buf[i * bw + j] = inside ? x->data[p * h * w + yy * w + xx] : is_max ? -INFINITY : 0.0f;
          }
      for (int64_t oy = 0; oy < oh; oy++)
        for (int64_t ox = 0; ox < ow; ox++)
          {
            double best = -INFINITY, sum = 0;
            int64_t n_in = 0, n_padded = 0;
            for (int64_t i = 0; i < a->kernel[0]; i++)
              for (int64_t j = 0; j < a->kernel[1]; j++)
                {
                  int64_t at = (oy * a->stride[0] + i * dh) * bw + ox * a->stride[1] + j * dw;
                  if (buf[at] > best)
                    best = buf[at];
                  sum += buf[at];
                  n_in += kind[at] == 0;
                  n_padded += kind[at] <= 1;
                }
            double v;
            if (is_max)
              v = best;
            else
              v = n_in > 0 ? sum / (double) (a->count_include_pad ? n_padded : n_in) : 0;
            y[p * oh * ow + oy * ow + ox] = (float) v;
          }
    }
  cs_free_floats (buf);
  free (kind);
}

/* PyTorch 1.13 on a 1x1x5x6 input (F.max_pool2d / F.avg_pool2d, symmetric pads). */
static const float fixture_x[30] = {
  0.50f, 0.25f, 2.75f, 3.75f, 4.25f, -0.75f, 3.25f, -2.00f, -1.50f, 2.25f, -0.25f, 0.00f,
  1.50f, 2.50f, 2.00f, 3.50f, -3.00f, -0.50f, 1.00f, -1.25f, 0.75f, -2.50f, 1.75f, -1.00f,
  1.25f, 3.00f, -2.25f, -2.75f, -1.75f, 4.00f };

static void
test_pytorch_fixtures (void)
{
  struct {
    bool is_max;
    int k[2], s[2], p[2], d[2];
    bool ceil_mode, cip;
    int oh, ow;
    float y[30];
  } fx[] = {
    { true, { 3, 3 }, { 2, 2 }, { 1, 1 }, { 1, 1 }, true, true, 3, 4,
      { 3.25f, 3.75f, 4.25f, 0.0f, 3.25f, 3.5f, 3.5f, 0.0f, 3.0f, 3.0f, 4.0f, 4.0f } },
    { true, { 2, 2 }, { 1, 1 }, { 1, 1 }, { 2, 2 }, false, true, 5, 6,
      { -2.0f, 3.25f, 2.25f, -0.25f, 2.25f, -0.25f, 2.5f, 2.75f, 3.75f, 4.25f, 3.75f, 4.25f,
        -1.25f, 3.25f, 2.25f, 1.75f, 2.25f, 1.75f, 3.0f, 2.0f, 3.5f, 2.0f, 4.0f, -1.75f,
        -1.25f, 1.0f, -1.25f, 1.75f, -1.0f, 1.75f } },
    { true, { 2, 3 }, { 2, 2 }, { 0, 1 }, { 1, 1 }, true, true, 3, 4,
      { 3.25f, 3.75f, 4.25f, 0.0f, 2.5f, 3.5f, 3.5f, -0.5f, 3.0f, 3.0f, 4.0f, 4.0f } },
    { false, { 3, 3 }, { 2, 2 }, { 1, 1 }, { 1, 1 }, true, true, 3, 4,
      { 0.222222f, 0.611111f, 1.027778f, -0.125f, 0.555556f, 0.416667f, 0.027778f, -0.25f,
        0.444444f, -0.555556f, -0.25f, 0.5f } },
    { false, { 3, 3 }, { 2, 2 }, { 1, 1 }, { 1, 1 }, true, false, 3, 4,
      { 0.5f, 0.916667f, 1.541667f, -0.375f, 0.833333f, 0.416667f, 0.027778f, -0.5f, 1.0f,
        -0.833333f, -0.375f, 1.5f } },
    { false, { 2, 2 }, { 2, 2 }, { 0, 0 }, { 1, 1 }, true, true, 3, 3,
      { 0.5f, 1.8125f, 0.8125f, 0.9375f, 0.9375f, -0.6875f, 2.125f, -2.5f, 1.125f } },
    { false, { 2, 3 }, { 2, 2 }, { 1, 1 }, { 1, 1 }, true, true, 3, 4,
      { 0.125f, 1.125f, 1.208333f, -0.1875f, 0.875f, 1.125f, 0.333333f, -0.125f, 0.666667f,
        -0.833333f, -0.375f, 0.75f } },
    { false, { 2, 3 }, { 2, 2 }, { 1, 1 }, { 1, 1 }, false, false, 3, 3,
      { 0.375f, 2.25f, 2.416667f, 1.3125f, 1.125f, 0.333333f, 1.0f, -0.833333f, -0.375f } },
  };
  cs_shape s = cs_shape_4d (1, 1, 5, 6);
  cs_tensor x = tensor_new (&s);
  memcpy (x.data, fixture_x, sizeof fixture_x);
  for (size_t i = 0; i < sizeof fx / sizeof fx[0]; i++)
    {
      cs_attrs a = window (fx[i].k[0], fx[i].k[1], fx[i].s[0], fx[i].s[1], fx[i].p[0], fx[i].p[1],
                           fx[i].p[0], fx[i].p[1], fx[i].d[0], fx[i].d[1], fx[i].ceil_mode, fx[i].cip);
      op_run r;
      cs_error err = { 0 };
      cs_status st = op_run_setup (&r, fx[i].is_max ? CS_OP_MAXPOOL : CS_OP_AVGPOOL, &a, &x, 1,
                                   false, "pool", &err);
      if (st == CS_OK)
        st = op_run_forward (&r);
      bool shape_ok = st == CS_OK && r.out.shape.dim[2] == fx[i].oh && r.out.shape.dim[3] == fx[i].ow;
      double d = shape_ok ? max_abs_diff (r.out.data, fx[i].y, fx[i].oh * fx[i].ow) : INFINITY;
      CHECK (shape_ok && d < 2e-6, "PyTorch fixture %zu (%s k%dx%d s%d p%d d%d ceil %d cip %d): "
             "%s max diff %.3g", i, fx[i].is_max ? "max" : "avg", fx[i].k[0], fx[i].k[1],
             fx[i].s[0], fx[i].p[0], fx[i].d[0], fx[i].ceil_mode, fx[i].cip,
             shape_ok ? "shape ok," : "SHAPE WRONG,", d);
      op_run_free (&r);
    }
  cs_tensor_free (&x);
}

static bool
has_empty_window (int64_t in, int64_t k, int64_t s, int64_t pa, int64_t d, int64_t out_len)
{
  for (int64_t o = 0; o < out_len; o++)
    {
      bool any = false;
      for (int64_t j = 0; j < k; j++)
        {
          int64_t at = o * s - pa + j * d;
          any = any || (at >= 0 && at < in);
        }
      if (!any)
        return true;
    }
  return false;
}

static cs_attrs
random_window (cs_rng *rng, bool is_max, int64_t h, int64_t w)
{
  for (;;)
    {
      int k[2], s[2], d[2], p[4];
      for (int i = 0; i < 2; i++)
        {
          k[i] = (int) rand_int (rng, 1, 3);
          s[i] = (int) rand_int (rng, 1, 3);
          d[i] = is_max ? (int) rand_int (rng, 1, 2) : 1;
        }
      /* mostly PyTorch-legal pads (<= half the window), sometimes larger ones */
      for (int i = 0; i < 4; i++)
        {
          int eff = d[i % 2] * (k[i % 2] - 1) + 1;
          p[i] = (int) rand_int (rng, 0, rand_int (rng, 0, 4) == 0 ? eff - 1 : eff / 2);
        }
      cs_attrs a = window (k[0], k[1], s[0], s[1], p[0], p[1], p[2], p[3], d[0], d[1],
                           rand_int (rng, 0, 1), rand_int (rng, 0, 1));
      int64_t oh = ref_out_len (h, k[0], s[0], p[0], p[2], d[0], a.window.ceil_mode);
      int64_t ow = ref_out_len (w, k[1], s[1], p[1], p[3], d[1], a.window.ceil_mode);
      /* windows without any input cell (-inf for max) are tested separately */
      if (oh > 0 && ow > 0 && !has_empty_window (h, k[0], s[0], p[0], d[0], oh)
          && !has_empty_window (w, k[1], s[1], p[1], d[1], ow))
        return a;
    }
}

static void
format_window (char *buf, size_t size, bool is_max, const cs_window_attrs *a, const cs_shape *s)
{
  char sb[64];
  snprintf (buf, size, "%s %s k%dx%d s%dx%d pad{%d,%d,%d,%d} d%dx%d%s%s", is_max ? "maxpool" : "avgpool",
            cs_shape_format (s, sb, sizeof sb), a->kernel[0], a->kernel[1], a->stride[0], a->stride[1],
            a->pad[0], a->pad[1], a->pad[2], a->pad[3], a->dilation[0], a->dilation[1],
            a->ceil_mode ? " ceil" : "", is_max ? "" : a->count_include_pad ? " cip" : " nocip");
}

static void
test_random_windows (void)
{
  cs_rng rng;
  cs_rng_seed (&rng, 2024);
  int64_t fwd_bad = 0, fwd_total = 0;
  for (int rep = 0; rep < 48; rep++)
    {
      bool is_max = rep % 2 == 0;
      int64_t n = rep % 4 < 2 ? 1 : 3;
      int64_t c = rand_int (&rng, 1, 3), h = rand_int (&rng, 1, 8), w = rand_int (&rng, 1, 8);
      cs_shape s = cs_shape_4d (n, c, h, w);
      cs_attrs a = random_window (&rng, is_max, h, w);
      char label[200];
      format_window (label, sizeof label, is_max, &a.window, &s);
      cs_tensor x = tensor_new (&s);
      /* spacing 0.05 between values: no max-pool tie within the step h = 0.01 */
      int64_t numel = cs_tensor_numel (&x);
      cs_fill_distinct (&x, &rng, -0.025f * (float) numel, 0.025f * (float) numel);

      op_run r;
      cs_error err = { 0 };
      cs_status st = op_run_setup (&r, is_max ? CS_OP_MAXPOOL : CS_OP_AVGPOOL, &a, &x, 1, false,
                                   "pool", &err);
      int64_t oh = ref_out_len (h, a.window.kernel[0], a.window.stride[0], a.window.pad[0],
                                a.window.pad[2], is_max ? a.window.dilation[0] : 1, a.window.ceil_mode);
      int64_t ow = ref_out_len (w, a.window.kernel[1], a.window.stride[1], a.window.pad[1],
                                a.window.pad[3], is_max ? a.window.dilation[1] : 1, a.window.ceil_mode);
      bool ok = st == CS_OK && r.out.shape.dim[2] == oh && r.out.shape.dim[3] == ow
                && op_run_forward (&r) == CS_OK;
      if (ok)
        {
          float *ref = cs_alloc_floats (n * c * oh * ow);
          ref_pool (is_max, &x, &a.window, ref, oh, ow);
          double d = max_abs_diff (r.out.data, ref, n * c * oh * ow);
          ok = d < 1e-5 * (1 + 0.025 * (double) numel);
          cs_free_floats (ref);
        }
      fwd_total++;
      fwd_bad += !ok;
      if (!ok)
        CHECK (0, "%s: forward differs from the reference (%s)", label, err.message);
      op_run_free (&r);
      cs_gradcheck (label, is_max ? CS_OP_MAXPOOL : CS_OP_AVGPOOL, &a, &x, 1, true, NULL);
      cs_tensor_free (&x);
    }
  CHECK (fwd_bad == 0, "%lld random pooling forwards match the padded-buffer reference (%lld off)",
         (long long) fwd_total, (long long) fwd_bad);
}

/* k x k max pool at stride 2 with pad on every side over 3 planes of H x W holding values from
 * {0, 1, 2} and NaN: each output and the cell its gradient goes to against the scan order
 * written out (over the cells inside the input, the first maximum wins, the last NaN). */
static void
check_scan_order_rows (int k, int pad, int64_t H, int64_t W)
{
  const int64_t P = 3, OH = (H + 2 * pad - k) / 2 + 1, OW = (W + 2 * pad - k) / 2 + 1;
  cs_shape s = cs_shape_4d (1, P, H, W);
  cs_tensor x = tensor_new (&s);
  uint32_t state = 12345u + (uint32_t) (k * 100 + W);
  for (int64_t i = 0; i < cs_tensor_numel (&x); i++)
    {
      state = state * 1664525u + 1013904223u;
      uint32_t v = (state >> 24) % 7;
      x.data[i] = v == 6 ? NAN : (float) (v % 3);
    }
  cs_attrs a = window (k, k, 2, 2, pad, pad, pad, pad, 1, 1, false, false);
  op_run r;
  op_run_setup (&r, CS_OP_MAXPOOL, &a, &x, 1, false, "rows", NULL);
  op_run_forward (&r);
  cs_tensor dx = tensor_new (&s), dy = tensor_new (&r.out.shape);
  for (int64_t i = 0; i < cs_tensor_numel (&dy); i++)
    dy.data[i] = 1.0f;
  cs_tensor *dinr[1] = { &dx };
  op_run_backward (&r, &dy, dinr);
  int bad = 0;
  float *want_dx = calloc ((size_t) cs_tensor_numel (&x), sizeof *want_dx);
  for (int64_t p = 0; p < P; p++)
    for (int64_t oy = 0; oy < OH; oy++)
      for (int64_t ox = 0; ox < OW; ox++)
        {
          const float *xp = x.data + p * H * W;
          int64_t at = -1;
          for (int64_t i = 2 * oy - pad; i < 2 * oy - pad + k; i++)
            for (int64_t j = 2 * ox - pad; j < 2 * ox - pad + k; j++)
              if (i >= 0 && i < H && j >= 0 && j < W
                  && (at < 0 || xp[i * W + j] > xp[at] || isnan (xp[i * W + j])))
                at = i * W + j;
          float got = r.out.data[(p * OH + oy) * OW + ox];
          if (memcmp (&got, &xp[at], sizeof got) != 0)
            bad++;
          want_dx[p * H * W + at] += 1.0f;
        }
  CHECK (bad == 0 && memcmp (dx.data, want_dx, (size_t) cs_tensor_numel (&x) * sizeof *want_dx) == 0,
         "%dx%d stride-2 pad-%d max-pool, rows of %lld windows: the scan order's maxima and "
         "gradient routes (%d wrong)", k, k, pad, (long long) OW, bad);
  free (want_dx);
  op_run_free (&r);
  cs_tensor_free (&x);
  cs_tensor_free (&dx);
  cs_tensor_free (&dy);
}

/* Ties: the first maximum in scan order takes the whole gradient, as PyTorch. */
static void
test_maxpool_ties (void)
{
  cs_shape s = cs_shape_4d (1, 1, 3, 3);
  cs_tensor x = tensor_new (&s), dx = tensor_new (&s);
  for (int i = 0; i < 9; i++)
    x.data[i] = 1.0f;
  cs_attrs a = window (2, 2, 1, 1, 0, 0, 0, 0, 1, 1, false, false);
  op_run r;
  op_run_setup (&r, CS_OP_MAXPOOL, &a, &x, 1, false, "ties", NULL);
  op_run_forward (&r);
  cs_tensor dy = tensor_new (&r.out.shape);
  for (int i = 0; i < 4; i++)
    dy.data[i] = 1.0f;
  cs_tensor *din[1] = { &dx };
  op_run_backward (&r, &dy, din);
  /* windows start at (0,0), (0,1), (1,0), (1,1): each routes to its top-left cell */
  const float want[9] = { 1, 1, 0, 1, 1, 0, 0, 0, 0 };
  CHECK (memcmp (dx.data, want, sizeof want) == 0, "max-pool ties route to the first maximum "
         "(%g %g %g / %g %g %g / %g %g %g)", dx.data[0], dx.data[1], dx.data[2], dx.data[3],
         dx.data[4], dx.data[5], dx.data[6], dx.data[7], dx.data[8]);
  op_run_free (&r);
  cs_tensor_free (&x);
  cs_tensor_free (&dx);
  cs_tensor_free (&dy);

  /* NaN propagates, the last NaN in scan order taking the gradient (the vectorised interior
   * loop and the checked edge loop alike): 3x3 windows, stride 1, pad 1 over a 4x4 input. */
  s = cs_shape_4d (1, 1, 4, 4);
  x = tensor_new (&s);
  for (int i = 0; i < 16; i++)
    x.data[i] = (float) i;
  x.data[5] = NAN;
  x.data[6] = NAN;
  a = window (3, 3, 1, 1, 1, 1, 1, 1, 1, 1, false, false);
  op_run_setup (&r, CS_OP_MAXPOOL, &a, &x, 1, false, "nan", NULL);
  op_run_forward (&r);
  dx = tensor_new (&s);
  dy = tensor_new (&r.out.shape);
  dy.data[5] = 1.0f; /* interior window centred on (1, 1): holds both NaNs */
  dy.data[15] = 1.0f; /* corner window centred on (3, 3): no NaN, max 15 */
  cs_tensor *din3[1] = { &dx };
  op_run_backward (&r, &dy, din3);
  CHECK (isnan (r.out.data[5]) && isnan (r.out.data[0]) && r.out.data[15] == 15.0f
         && dx.data[6] == 1.0f && dx.data[5] == 0.0f && dx.data[15] == 1.0f,
         "max-pool NaN propagates and the last NaN takes the gradient (%g %g %g)", dx.data[5],
         dx.data[6], dx.data[15]);
  op_run_free (&r);
  cs_tensor_free (&x);
  cs_tensor_free (&dx);
  cs_tensor_free (&dy);

  /* The 2x2 stride-2 path: ties to the first cell, the last NaN in scan order. */
  s = cs_shape_4d (1, 1, 2, 4);
  x = tensor_new (&s);
  const float x22[8] = { 1, 1, 0, NAN, 1, 1, NAN, 2 };
  memcpy (x.data, x22, sizeof x22);
  a = window (2, 2, 2, 2, 0, 0, 0, 0, 1, 1, false, false);
  op_run_setup (&r, CS_OP_MAXPOOL, &a, &x, 1, false, "2x2", NULL);
  op_run_forward (&r);
  dx = tensor_new (&s);
  dy = tensor_new (&r.out.shape);
  dy.data[0] = dy.data[1] = 1.0f;
  cs_tensor *din22[1] = { &dx };
  op_run_backward (&r, &dy, din22);
  const float want22[8] = { 1, 0, 0, 0, 0, 0, 1, 0 };
  CHECK (r.out.data[0] == 1.0f && isnan (r.out.data[1]) && memcmp (dx.data, want22, sizeof want22) == 0,
         "2x2 stride-2 max-pool: a tie routes to the first cell, the last NaN takes the gradient");
  op_run_free (&r);
  cs_tensor_free (&x);
  cs_tensor_free (&dx);
  cs_tensor_free (&dy);

  /* The same rule on the vectorised rows: the 2x2 stride-2 path's rows of 7 and 4 windows and
   * the 3x3 stride-2 pad-1 path's (ResNet's stem) rows of 7, 4 and 3 inner windows, in blocks
   * of four, the last one overlapping. */
  check_scan_order_rows (2, 0, 4, 14);
  check_scan_order_rows (2, 0, 4, 8);
  check_scan_order_rows (3, 1, 7, 16);
  check_scan_order_rows (3, 1, 7, 10);
  check_scan_order_rows (3, 1, 7, 9);
  /* 16 windows and more inside the input: the AVX-512 row where the CPU has it */
  check_scan_order_rows (3, 1, 7, 40);
  check_scan_order_rows (3, 0, 5, 35);
  check_scan_order_rows (3, 1, 5, 112);

  /* a window that only sees padding (dilation steps over the single input cell) */
  s = cs_shape_4d (1, 1, 1, 1);
  x = tensor_new (&s);
  x.data[0] = -5.0f;
  a = window (2, 2, 1, 1, 1, 1, 1, 1, 2, 2, false, false);
  cs_error err = { 0 };
  CHECK (op_run_setup (&r, CS_OP_MAXPOOL, &a, &x, 1, false, "empty", &err) == CS_OK
         && op_run_forward (&r) == CS_OK && r.out.data[0] == -INFINITY,
         "a max window with no input cell gives -inf, as PyTorch %s", err.message);
  dx = tensor_new (&s);
  dy = tensor_new (&r.out.shape);
  dy.data[0] = 1.0f;
  cs_tensor *din2[1] = { &dx };
  CHECK (op_run_backward (&r, &dy, din2) == CS_OK && dx.data[0] == 0.0f, "and passes no gradient");
  op_run_free (&r);
  cs_tensor_free (&x);
  cs_tensor_free (&dx);
  cs_tensor_free (&dy);
}

static void
test_infer_errors (void)
{
  cs_error err = { 0 };
  cs_shape out;
  cs_node node = { .name = "pool", .n_inputs = 1, .param_index = -1 };
  cs_shape s3 = cs_shape_make (3, (int64_t[]) { 1, 4, 4 });
  cs_shape s4 = cs_shape_4d (1, 2, 4, 4);
  const cs_shape *in3[1] = { &s3 }, *in4[1] = { &s4 };
  node.attrs = window (2, 2, 2, 2, 0, 0, 0, 0, 1, 1, false, false);
  CHECK (cs_op_maxpool_info.infer (&node, in3, &out, &err) == CS_ERR_SHAPE,
         "a 3-D input is rejected: %s", err.message);
  node.attrs = window (6, 2, 1, 1, 0, 0, 0, 0, 1, 1, false, false);
  CHECK (cs_op_maxpool_info.infer (&node, in4, &out, &err) == CS_ERR_SHAPE,
         "a kernel larger than the padded input is rejected: %s", err.message);
  node.attrs = window (3, 3, 1, 1, 0, 0, 0, 0, 2, 2, false, false);
  CHECK (cs_op_maxpool_info.infer (&node, in4, &out, &err) == CS_ERR_SHAPE,
         "a dilated window larger than the input is rejected: %s", err.message);
  node.attrs = window (2, 2, 0, 1, 0, 0, 0, 0, 1, 1, false, false);
  CHECK (cs_op_avgpool_info.infer (&node, in4, &out, &err) == CS_ERR_ARGUMENT,
         "stride 0 is rejected: %s", err.message);
  node.attrs = window (2, 2, 1, 1, -1, 0, 0, 0, 1, 1, false, false);
  CHECK (cs_op_avgpool_info.infer (&node, in4, &out, &err) == CS_ERR_ARGUMENT,
         "a negative pad is rejected: %s", err.message);
  node.attrs = window (2, 2, 1, 1, 0, 0, 0, 0, 2, 2, false, false);
  CHECK (cs_op_avgpool_info.infer (&node, in4, &out, &err) == CS_ERR_UNSUPPORTED,
         "a dilated average pool is unsupported: %s", err.message);
  cs_shape s5 = cs_shape_4d (1, 2, 5, 5);
  const cs_shape *in5[1] = { &s5 };
  node.attrs = window (2, 2, 2, 2, 1, 1, 1, 1, 1, 1, true, false);
  CHECK (cs_op_maxpool_info.infer (&node, in5, &out, &err) == CS_OK && out.dim[2] == 3 && out.dim[3] == 3,
         "5x5 k2 s2 p1 ceil: 3x3 as PyTorch (a fourth window would start in the trailing pad)");
  CHECK (cs_op_maxpool_info.flops (&node, in5, &out) == 18 * 4, "maxpool FLOPs: 4 per output");
  CHECK (cs_op_from_name ("maxpool2d") == CS_OP_MAXPOOL && cs_op_from_name ("avgpool2d") == CS_OP_AVGPOOL
         && cs_op_from_name ("global_avgpool") == CS_OP_GLOBAL_AVGPOOL
         && cs_op_from_name ("reduce_mean") == CS_OP_REDUCE_MEAN, "pool names resolve");
}

static void
test_global_avgpool (void)
{
  cs_rng rng;
  cs_rng_seed (&rng, 5);
  cs_attrs a = { 0 };
  for (int rep = 0; rep < 6; rep++)
    {
      int64_t n = rep % 2 ? 3 : 1;
      cs_shape s = rep < 4 ? cs_shape_4d (n, rand_int (&rng, 1, 4), rand_int (&rng, 1, 6), rand_int (&rng, 1, 6))
                           : cs_shape_make (3, (int64_t[]) { n, 3, rand_int (&rng, 1, 9) });
      cs_tensor x = tensor_new (&s);
      cs_fill_uniform (&x, &rng, -2, 2);
      char label[96], buf[64];
      snprintf (label, sizeof label, "global_avgpool %s", cs_shape_format (&s, buf, sizeof buf));
      op_run r;
      op_run_setup (&r, CS_OP_GLOBAL_AVGPOOL, &a, &x, 1, false, "gap", NULL);
      op_run_forward (&r);
      int64_t planes = s.dim[0] * s.dim[1], size = cs_tensor_numel (&x) / planes;
      double worst = 0;
      for (int64_t p = 0; p < planes; p++)
        {
          double m = 0;
          for (int64_t k = 0; k < size; k++)
            m += x.data[p * size + k];
          worst = fmax (worst, fabs (m / (double) size - r.out.data[p]));
        }
      bool shape_ok = r.out.shape.ndim == s.ndim && r.out.shape.dim[1] == s.dim[1]
                      && cs_tensor_numel (&r.out) == planes;
      CHECK (shape_ok && worst < 1e-6, "%s: forward is the plane mean (diff %.3g)", label, worst);
      op_run_free (&r);
      cs_gradcheck (label, CS_OP_GLOBAL_AVGPOOL, &a, &x, 1, true, NULL);
      cs_tensor_free (&x);
    }
}

static void
test_reduce_mean (void)
{
  cs_rng rng;
  cs_rng_seed (&rng, 6);
  struct {
    int count, axes[3];
    bool keepdims;
  } cases[] = {
    { 2, { 2, 3 }, true }, { 2, { -1, -2 }, false }, { 1, { 1 }, true }, { 1, { 2 }, false },
    { 2, { 1, 3 }, true }, { 2, { 3, 1 }, false }, { 3, { 1, 2, 3 }, false }, { 1, { -1 }, true },
  };
  for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++)
    for (int rep = 0; rep < 2; rep++)
      {
        cs_attrs a = { 0 };
        a.axes.count = cases[ci].count;
        for (int i = 0; i < cases[ci].count; i++)
          a.axes.axes[i] = cases[ci].axes[i];
        a.axes.keepdims = cases[ci].keepdims;
        cs_shape s = cs_shape_4d (rep ? 3 : 1, rand_int (&rng, 1, 4), rand_int (&rng, 1, 5),
                                  rand_int (&rng, 1, 5));
        cs_tensor x = tensor_new (&s);
        cs_fill_uniform (&x, &rng, -2, 2);
        char label[800], buf[64], ob[64];
        op_run r;
        cs_error err = { 0 };
        cs_status st = op_run_setup (&r, CS_OP_REDUCE_MEAN, &a, &x, 1, false, "rm", &err);
        if (st == CS_OK)
          st = op_run_forward (&r);
        snprintf (label, sizeof label, "reduce_mean %s case %zu keepdims %d -> %s",
                  cs_shape_format (&s, buf, sizeof buf), ci, cases[ci].keepdims,
                  st == CS_OK ? cs_shape_format (&r.out.shape, ob, sizeof ob) : err.message);
        /* brute force: for each output cell, average the input cells that map to it */
        bool red[4] = { false };
        int64_t count = 1;
        for (int i = 0; i < cases[ci].count; i++)
          {
            int ax = cases[ci].axes[i] < 0 ? cases[ci].axes[i] + 4 : cases[ci].axes[i];
            red[ax] = true;
            count *= s.dim[ax];
          }
        int64_t n_out = cs_tensor_numel (&x) / count;
        int32_t want_ndim = cases[ci].keepdims ? 4 : 4 - cases[ci].count;
        double worst = 0;
        if (st == CS_OK && r.out.shape.ndim == want_ndim && cs_tensor_numel (&r.out) == n_out)
          {
            double *acc = calloc ((size_t) n_out, sizeof (double));
            for (int64_t i0 = 0; i0 < s.dim[0]; i0++)
              for (int64_t i1 = 0; i1 < s.dim[1]; i1++)
                for (int64_t i2 = 0; i2 < s.dim[2]; i2++)
                  for (int64_t i3 = 0; i3 < s.dim[3]; i3++)
                    {
                      int64_t idx[4] = { i0, i1, i2, i3 }, o = 0;
                      for (int d = 0; d < 4; d++)
                        if (!red[d])
                          o = o * s.dim[d] + idx[d];
                      acc[o] += x.data[((i0 * s.dim[1] + i1) * s.dim[2] + i2) * s.dim[3] + i3];
                    }
            for (int64_t o = 0; o < n_out; o++)
              worst = fmax (worst, fabs (acc[o] / (double) count - r.out.data[o]));
            free (acc);
          }
        else
          worst = INFINITY;
        CHECK (worst < 1e-5, "%s: forward matches brute force (diff %.3g)", label, worst);
        op_run_free (&r);
        cs_gradcheck (label, CS_OP_REDUCE_MEAN, &a, &x, 1, true, NULL);
        cs_tensor_free (&x);
      }

  cs_shape s = cs_shape_4d (1, 2, 3, 4);
  const cs_shape *in[1] = { &s };
  cs_shape out;
  cs_error err = { 0 };
  cs_node node = { .name = "rm", .n_inputs = 1, .param_index = -1 };
  node.attrs.axes.count = 1;
  node.attrs.axes.axes[0] = 0;
  CHECK (cs_op_reduce_mean_info.infer (&node, in, &out, &err) == CS_ERR_UNSUPPORTED,
         "reduce_mean over the batch axis is rejected: %s", err.message);
  node.attrs.axes.axes[0] = -4;
  CHECK (cs_op_reduce_mean_info.infer (&node, in, &out, &err) == CS_ERR_UNSUPPORTED,
         "... also as axis -4: %s", err.message);
  node.attrs.axes.axes[0] = 4;
  CHECK (cs_op_reduce_mean_info.infer (&node, in, &out, &err) == CS_ERR_ARGUMENT,
         "axis 4 of a 4-D input is rejected: %s", err.message);
  node.attrs.axes.count = 2;
  node.attrs.axes.axes[0] = 2;
  node.attrs.axes.axes[1] = -2;
  CHECK (cs_op_reduce_mean_info.infer (&node, in, &out, &err) == CS_ERR_ARGUMENT,
         "a repeated axis is rejected: %s", err.message);
  node.attrs.axes.count = 0;
  CHECK (cs_op_reduce_mean_info.infer (&node, in, &out, &err) == CS_ERR_UNSUPPORTED,
         "no axes is rejected: %s", err.message);
}

/* Big enough for the OpenMP paths: 1 and 2 threads must agree bit for bit. */
static void
test_threads (void)
{
  cs_rng rng;
  cs_rng_seed (&rng, 8);
  cs_shape s = cs_shape_4d (2, 8, 64, 64);
  cs_tensor x = tensor_new (&s);
  cs_fill_uniform (&x, &rng, -3, 3);
  cs_attrs mp = window (3, 3, 2, 2, 1, 1, 1, 1, 1, 1, true, false);
  cs_attrs ap = window (3, 3, 2, 2, 1, 0, 1, 1, 1, 1, true, true);
  cs_attrs gap = { 0 }, rm = { 0 };
  rm.axes.count = 2;
  rm.axes.axes[0] = 2;
  rm.axes.axes[1] = 3;
  CHECK (same_with_threads (CS_OP_MAXPOOL, &mp, &x, 1, false), "maxpool: 1 and 2 threads agree");
  CHECK (same_with_threads (CS_OP_AVGPOOL, &ap, &x, 1, false), "avgpool: 1 and 2 threads agree");
  CHECK (same_with_threads (CS_OP_GLOBAL_AVGPOOL, &gap, &x, 1, false), "global_avgpool: 1 and 2 threads agree");
  CHECK (same_with_threads (CS_OP_REDUCE_MEAN, &rm, &x, 1, false), "reduce_mean: 1 and 2 threads agree");
  cs_tensor_free (&x);
}

int
main (void)
{
  test_threads ();
  test_pytorch_fixtures ();
  test_random_windows ();
  test_maxpool_ties ();
  test_infer_errors ();
  test_global_avgpool ();
  test_reduce_mean ();
  return test_done ();
}
