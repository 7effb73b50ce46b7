/* Attribution basics that need no convolution: the method registry, map reductions and
 * scaling, baselines, the batch hint, driver argument checks, and every pixel method and
 * occlusion on a linear model whose attributions are known in closed form. */
#include <math.h>
#include <string.h>

#include "attribution/baseline.h"
#include "attribution/map.h"
#include "nets.h"

static void
test_registry (void)
{
  int ok = 0;
  for (int m = 0; m < CS_METHOD_COUNT; m++)
    {
      const char *id = cs_method_id ((cs_method) m);
      if (id != NULL && cs_method_from_id (id) == (cs_method) m && cs_method_title ((cs_method) m)[0]
          && cs_method_citation ((cs_method) m)[0] && strlen (cs_method_conventions ((cs_method) m)) > 40)
        ok++;
    }
  CHECK (ok == CS_METHOD_COUNT, "13 methods: id round trip, title, citation, conventions (%d ok)", ok);
  const char *ids = "saliency guided-backprop deconvnet gradient-x-input smoothgrad integrated-gradients "
                    "gradcam gradcam++ guided-gradcam scorecam layercam occlusion rise";
  char buf[256] = "";
  for (int m = 0; m < CS_METHOD_COUNT; m++)
    {
      strcat (buf, cs_method_id ((cs_method) m));
      if (m + 1 < CS_METHOD_COUNT)
        strcat (buf, " ");
    }
  CHECK (strcmp (buf, ids) == 0, "ids as docs/methods.md lists them: %s", buf);
  CHECK (cs_method_from_id ("grad-cam") == CS_METHOD_COUNT && cs_method_from_id (NULL) == CS_METHOD_COUNT
         && cs_method_id (CS_METHOD_COUNT) == NULL, "unknown ids and methods");
  int cams = 0;
  for (int m = 0; m < CS_METHOD_COUNT; m++)
    cams += cs_method_is_cam ((cs_method) m);
  CHECK (cams == 5 && cs_method_is_cam (CS_METHOD_GRADCAM) && cs_method_is_cam (CS_METHOD_GUIDED_GRADCAM)
         && cs_method_is_cam (CS_METHOD_SCORECAM) && !cs_method_is_cam (CS_METHOD_RISE)
         && !cs_method_is_cam (CS_METHOD_OCCLUSION), "CAM methods: gradcam, gradcam++, guided-gradcam, scorecam, layercam");
  CHECK (strstr (cs_method_conventions (CS_METHOD_SMOOTHGRAD), "0.15") != NULL
         && strstr (cs_method_conventions (CS_METHOD_INTEGRATED_GRADIENTS), "(k+\xC2\xBD)/steps") != NULL
         && strstr (cs_method_conventions (CS_METHOD_OCCLUSION), "flush") != NULL
         && strstr (cs_method_conventions (CS_METHOD_SALIENCY), "logit") != NULL,
         "conventions state the defaults of docs/methods.md");
}

static cs_tensor
make (int32_t ndim, const int64_t *dims, const float *values)
{
  cs_tensor t;
  cs_shape s = cs_shape_make (ndim, dims);
  cs_tensor_alloc (&t, &s, NULL);
  if (values != NULL)
    memcpy (t.data, values, (size_t) cs_tensor_numel (&t) * sizeof (float));
  return t;
}

static void
test_maps (void)
{
  cs_error err;
  cs_tensor t = make (1, (int64_t[]) { 10 }, NULL);
  for (int i = 0; i < 10; i++)
    t.data[i] = (float) (9 - i);
  CHECK (CLOSE (cs_map_quantile (&t, 0.99, NULL), 8.91, 1e-5, 0) && cs_map_quantile (&t, 0.5, NULL) == 4.5f
         && cs_map_quantile (&t, 0, NULL) == 0 && cs_map_quantile (&t, 1, NULL) == 9,
         "quantiles interpolate linearly like numpy.percentile");
  cs_tensor_free (&t);

  cs_tensor m = make (2, (int64_t[]) { 10, 10 }, NULL);
  for (int i = 0; i < 100; i++)
    m.data[i] = (float) i;
  CHECK (cs_map_scale_percentile (&m, &err) == CS_OK && CLOSE (m.data[50], 50 / 98.01, 1e-6, 1e-5)
         && m.data[99] == 1.0f && m.data[0] == 0.0f, "scaled by the 99th percentile (98.01) and clipped");
  cs_tensor_free (&m);
  m = make (2, (int64_t[]) { 20, 50 }, NULL);
  m.data[17] = 5;
  cs_map_scale_percentile (&m, &err);
  CHECK (m.data[17] == 1.0f && m.data[16] == 0.0f, "a zero 99th percentile falls back to the maximum");
  cs_tensor_zero (&m);
  cs_map_scale_percentile (&m, &err);
  CHECK (m.data[0] == 0.0f && m.data[999] == 0.0f, "an all-zero map stays zero");
  cs_tensor_free (&m);

  m = make (2, (int64_t[]) { 1, 3 }, (float[]) { 2, 4, 6 });
  cs_map_normalize_minmax (&m);
  CHECK (m.data[0] == 0.0f && m.data[1] == 0.5f && m.data[2] == 1.0f, "min-max normalisation");
  m.data[0] = m.data[1] = m.data[2] = 3;
  cs_map_normalize_minmax (&m);
  CHECK (m.data[0] == 0.0f && m.data[2] == 0.0f, "a constant map normalises to zeros");
  cs_tensor_free (&m);

  cs_tensor chw = make (3, (int64_t[]) { 2, 1, 2 }, (float[]) { -3, 1, 2, -2 }), out;
  cs_map_reduce_channels (&chw, CS_REDUCE_MAX_ABS, &out, &err);
  CHECK (out.shape.ndim == 2 && out.data[0] == 3 && out.data[1] == 2, "max |.| over channels");
  cs_tensor_free (&out);
  cs_map_reduce_channels (&chw, CS_REDUCE_SUM_ABS, &out, &err);
  CHECK (out.data[0] == 5 && out.data[1] == 3, "sum of |.| over channels");
  cs_tensor_free (&out);
  cs_tensor_free (&chw);
}

static void
test_baselines (void)
{
  cs_error err;
  cs_tensor x = make (4, (int64_t[]) { 1, 2, 28, 28 }, NULL), b;
  cs_rng rng;
  cs_rng_seed (&rng, 1);
  cs_fill_uniform (&x, &rng, -2, 3);
  CHECK (cs_baseline_make (CS_BASELINE_ZERO, &x, 0, &b, &err) == CS_OK && cs_shape_equal (&b.shape, &x.shape)
         && b.data[0] == 0 && b.data[2 * 28 * 28 - 1] == 0, "zero baseline");
  cs_tensor_free (&b);
  CHECK (CLOSE (cs_baseline_blur_sigma (28, 28), 1.4, 1e-12, 0) && CLOSE (cs_baseline_blur_sigma (224, 160), 11.2, 1e-12, 0),
         "blur sigma = max(H,W)/20");

  /* blur: constants stay constant, a centred impulse spreads into a symmetric bump of mass 1 */
  cs_tensor d = make (4, (int64_t[]) { 1, 2, 28, 28 }, NULL);
  for (int64_t i = 0; i < 28 * 28; i++)
    d.data[i] = 0.25f;
  d.data[28 * 28 + 14 * 28 + 14] = 1;
  cs_baseline_make (CS_BASELINE_BLUR, &d, 0, &b, &err);
  double mass = 0, worst = 0;
  for (int64_t i = 0; i < 28 * 28; i++)
    {
      mass += b.data[28 * 28 + i];
      worst = fmax (worst, fabs (b.data[i] - 0.25));
    }
  float *p = b.data + 28 * 28;
  CHECK (worst < 1e-6 && CLOSE (mass, 1, 1e-5, 0) && p[14 * 28 + 13] == p[14 * 28 + 15]
         && p[13 * 28 + 14] == p[15 * 28 + 14] && p[14 * 28 + 14] < 0.2f && p[14 * 28 + 14] > p[14 * 28 + 12],
         "blur: constant preserved, impulse becomes a symmetric bump of mass 1 (centre %.4f)", p[14 * 28 + 14]);
  /* against a direct 2-D Gaussian sum with replicated edges at a corner pixel */
  double sigma = 1.4, acc = 0, wsum = 0;
  int r = 5;
  for (int dy = -r; dy <= r; dy++)
    for (int dx = -r; dx <= r; dx++)
      {
        int yy = dy < 0 ? 0 : dy, xx = 1 + dx < 0 ? 0 : 1 + dx;
        double wgt = exp (-0.5 * (dy * dy + dx * dx) / (sigma * sigma));
        acc += wgt * x.data[yy * 28 + xx];
        wsum += wgt;
      }
  cs_tensor_free (&b);
  cs_baseline_make (CS_BASELINE_BLUR, &x, 0, &b, &err);
  CHECK (CLOSE (b.data[1], acc / wsum, 1e-5, 1e-5), "blur at a border pixel matches a direct 2-D sum (%g vs %g)",
         b.data[1], acc / wsum);
  cs_tensor_free (&b);
  cs_tensor_free (&d);

  cs_tensor u1, u2, u3;
  cs_baseline_make (CS_BASELINE_UNIFORM, &x, 5, &u1, &err);
  cs_baseline_make (CS_BASELINE_UNIFORM, &x, 5, &u2, &err);
  cs_baseline_make (CS_BASELINE_UNIFORM, &x, 6, &u3, &err);
  float lo = x.data[0], hi = x.data[0], ulo = u1.data[0], uhi = u1.data[0];
  for (int64_t i = 0; i < cs_tensor_numel (&x); i++)
    {
      lo = fminf (lo, x.data[i]), hi = fmaxf (hi, x.data[i]);
      ulo = fminf (ulo, u1.data[i]), uhi = fmaxf (uhi, u1.data[i]);
    }
  CHECK (ulo >= lo && uhi <= hi && uhi - ulo > 0.9 * (hi - lo), "uniform baseline spans the input's range");
  CHECK (memcmp (u1.data, u2.data, 4 * 28 * 28 * 2) == 0 && memcmp (u1.data, u3.data, 4 * 28 * 28 * 2) != 0,
         "uniform baseline: same seed same values, other seed other values");
  cs_tensor_free (&u1);
  cs_tensor_free (&u2);
  cs_tensor_free (&u3);
  cs_tensor_free (&x);
}

/* logit_k = mean over pixels of w_k * x_k */
static double
linear_logit (const cs_model *m, const cs_tensor *x, int k)
{
  int64_t hw = m->height * m->width;
  double s = 0;
  for (int64_t i = 0; i < hw; i++)
    s += (double) m->weights[0].data[k * hw + i] * x->data[k * hw + i];
  return s / (double) hw;
}

static void
test_linear (void)
{
  cs_error err = { 0 };
  const int64_t C = 3, H = 11, W = 10, HW = H * W;
  cs_model *m = net_linear_model (C, H, W, 3, &err);
  CHECK (m != NULL, "linear model: %s", m ? "ok" : err.message);
  if (m == NULL)
    return;
  cs_tensor x;
  net_input (m, 4, &x);
  int best = 0;
  double z = 0;
  for (int k = 0; k < C; k++)
    best = linear_logit (m, &x, k) > linear_logit (m, &x, best) ? k : best;
  for (int k = 0; k < C; k++)
    z += exp (linear_logit (m, &x, k) - linear_logit (m, &x, best));

  cs_attribution a;
  cs_attribution_params p = CS_ATTRIBUTION_PARAMS_DEFAULT;
  cs_status st = net_explain (m, 4, &x, &p, NULL, &a, &err);
  CHECK (st == CS_OK, "saliency runs: %s", st == CS_OK ? "ok" : err.message);
  CHECK (a.target == best && CLOSE (a.target_logit, linear_logit (m, &x, best), 1e-6, 1e-5)
         && CLOSE (a.target_probability, 1 / z, 1e-6, 1e-5) && a.layer == -1 && a.seconds >= 0
         && a.method == CS_METHOD_SALIENCY, "target auto = argmax %d, logit and softmax probability recorded", best);
  bool exact = a.raw.shape.ndim == 3 && a.raw.shape.dim[0] == C && a.map.shape.ndim == 2 && a.raw_is_signed;
  for (int64_t i = 0; exact && i < C * HW; i++)
    exact = CLOSE (a.raw.data[i], i / HW == best ? m->weights[0].data[i] / HW : 0, 1e-7, 1e-5);
  CHECK (exact, "saliency of a linear model is w_target / HW on the target's channel, 0 elsewhere");
  float mx = 0;
  for (int64_t i = 0; i < HW; i++)
    mx = fmaxf (mx, a.map.data[i]);
  CHECK (mx == 1.0f, "the displayed map reaches 1");
  cs_attribution_free (&a);

  /* gradient x input and integrated gradients with a zero baseline are exact on a linear model */
  p.method = CS_METHOD_GRADIENT_X_INPUT;
  p.target = (best + 1) % C;
  net_explain (m, 4, &x, &p, NULL, &a, &err);
  double sum = 0;
  exact = a.target == p.target;
  for (int64_t i = 0; i < C * HW; i++)
    {
      sum += a.raw.data[i];
      if (i / HW == p.target)
        exact = exact && CLOSE (a.raw.data[i], m->weights[0].data[i] * x.data[i] / HW, 1e-7, 1e-5);
    }
  CHECK (exact && CLOSE (sum, linear_logit (m, &x, p.target), 1e-6, 1e-4), "gradient x input = x w / HW, summing to the logit");
  cs_attribution_free (&a);
  p.method = CS_METHOD_INTEGRATED_GRADIENTS;
  p.steps = 7;
  net_explain (m, 4, &x, &p, NULL, &a, &err);
  sum = 0;
  for (int64_t i = 0; i < C * HW; i++)
    sum += a.raw.data[i];
  CHECK (a.passes == 7 && CLOSE (sum, linear_logit (m, &x, p.target), 1e-6, 1e-4),
         "IG on a linear model: completeness holds exactly (%g vs %g), 7 passes", sum, linear_logit (m, &x, p.target));
  cs_attribution_free (&a);

  /* unit mode: the mean of channel k of 'mul' is logit k itself */
  p = CS_ATTRIBUTION_PARAMS_DEFAULT;
  p.target = 0;
  cs_attribution ref;
  net_explain (m, 4, &x, &p, NULL, &ref, &err);
  p.target = -1;
  p.unit_layer = cs_graph_find (m->graph, "mul");
  p.unit_channel = 0;
  st = net_explain (m, 4, &x, &p, NULL, &a, &err);
  CHECK (st == CS_OK && net_rel_diff (&a.raw, &ref.raw) < 1e-6, "unit mode: channel 0 of 'mul' explains like logit 0");
  cs_attribution_free (&a);
  cs_attribution_free (&ref);

  /* occlusion: drop of window = (1/HW) sum over the window of w_t (x_t - x'_t) */
  for (int bl = CS_BASELINE_ZERO; bl <= CS_BASELINE_BLUR; bl++)
    for (int variant = 0; variant < 2; variant++)
      {
        int K = variant ? 3 : 4, S = variant ? 4 : 3; /* the second leaves gaps: stride > window */
        p = CS_ATTRIBUTION_PARAMS_DEFAULT;
        p.method = CS_METHOD_OCCLUSION;
        p.window = K;
        p.stride = S;
        p.baseline = (cs_baseline) bl;
        st = net_explain (m, 5, &x, &p, NULL, &a, &err);
        cs_tensor x0;
        cs_baseline_make ((cs_baseline) bl, &x, 0, &x0, &err);
        /* positions written out by hand: H = 11 -> 0,3,6 + flush 7; W = 10 -> 0,3,6 (= W-K) */
        int ys[2][4] = { { 0, 3, 6, 7 }, { 0, 4, 7 + 1, 0 } }, xs[2][4] = { { 0, 3, 6 }, { 0, 4, 7 } };
        int ny = variant ? 3 : 4, nx = 3;
        if (variant)
          ys[1][2] = 8; /* H = 11, K = 3, S = 4: 0, 4, 8 (= H-K) */
        double rsum[11][10] = { { 0 } }, rcnt[11][10] = { { 0 } };
        int t = a.target;
        for (int iy = 0; iy < ny; iy++)
          for (int ix = 0; ix < nx; ix++)
            {
              int y0 = ys[variant][iy], x0c = xs[variant][ix];
              double drop = 0;
              for (int y = y0; y < y0 + K; y++)
                for (int xx = x0c; xx < x0c + K; xx++)
                  {
                    int64_t i = t * HW + y * W + xx;
                    drop += m->weights[0].data[i] * ((double) x.data[i] - x0.data[i]);
                  }
              drop /= HW;
              for (int y = y0; y < y0 + K; y++)
                for (int xx = x0c; xx < x0c + K; xx++)
                  rsum[y][xx] += drop, rcnt[y][xx] += 1;
            }
        exact = st == CS_OK && a.raw.shape.ndim == 2 && a.raw.shape.dim[0] == H && a.raw.shape.dim[1] == W
                && a.passes == 1 + ny * nx;
        int gaps = 0;
        for (int y = 0; exact && y < H; y++)
          for (int xx = 0; xx < W; xx++)
            {
              double want = rcnt[y][xx] > 0 ? rsum[y][xx] / rcnt[y][xx] : 0;
              gaps += rcnt[y][xx] == 0;
              exact = exact && CLOSE (a.raw.data[y * W + xx], want, 1e-6, 1e-4);
            }
        float lo = 1, hi = 0;
        for (int64_t i = 0; exact && i < HW; i++)
          lo = fminf (lo, a.map.data[i]), hi = fmaxf (hi, a.map.data[i]);
        CHECK (exact && lo == 0 && hi == 1, "occlusion K=%d S=%d, %s baseline: raw = analytic mean drop (%d passes, %d uncovered pixels), map min-max",
               K, S, bl ? "blur" : "zero", a.passes, gaps);
        /* batch invariance */
        cs_attribution b1;
        net_explain (m, 1, &x, &p, NULL, &b1, &err);
        CHECK (memcmp (b1.raw.data, a.raw.data, (size_t) HW * sizeof (float)) == 0, "occlusion: batch 1 and 5 agree bit for bit");
        cs_attribution_free (&b1);
        cs_attribution_free (&a);
        cs_tensor_free (&x0);
      }

  /* argument checks */
  struct { const char *what; cs_attribution_params p; cs_status want; } bad[] = {
    { "unknown method", { .method = CS_METHOD_COUNT, .target = -1, .layer = -1, .unit_layer = -1, .unit_channel = -1 }, CS_ERR_ARGUMENT },
    { "negative samples", { .method = CS_METHOD_SMOOTHGRAD, .samples = -2, .target = -1, .layer = -1, .unit_layer = -1, .unit_channel = -1 }, CS_ERR_ARGUMENT },
    { "huge steps", { .method = CS_METHOD_INTEGRATED_GRADIENTS, .steps = 1 << 30, .target = -1, .layer = -1, .unit_layer = -1, .unit_channel = -1 }, CS_ERR_ARGUMENT },
    { "NaN noise", { .method = CS_METHOD_SMOOTHGRAD, .noise = NAN, .target = -1, .layer = -1, .unit_layer = -1, .unit_channel = -1 }, CS_ERR_ARGUMENT },
    { "class out of range", { .method = CS_METHOD_SALIENCY, .target = 3, .layer = -1, .unit_layer = -1, .unit_channel = -1 }, CS_ERR_ARGUMENT },
    { "unit without channel", { .method = CS_METHOD_SALIENCY, .target = -1, .layer = -1, .unit_layer = 2, .unit_channel = -1 }, CS_ERR_ARGUMENT },
    { "unit channel out of range", { .method = CS_METHOD_SALIENCY, .target = -1, .layer = -1, .unit_layer = 2, .unit_channel = 3 }, CS_ERR_ARGUMENT },
    { "window larger than the input", { .method = CS_METHOD_OCCLUSION, .window = 12, .target = -1, .layer = -1, .unit_layer = -1, .unit_channel = -1 }, CS_ERR_ARGUMENT },
    { "bad baseline", { .method = CS_METHOD_INTEGRATED_GRADIENTS, .baseline = 7, .target = -1, .layer = -1, .unit_layer = -1, .unit_channel = -1 }, CS_ERR_ARGUMENT },
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      memset (&a, 0x5a, sizeof a);
      st = net_explain (m, 2, &x, &bad[i].p, NULL, &a, &err);
      CHECK (st == bad[i].want && a.raw.data == NULL && a.map.data == NULL, "%s: %s", bad[i].what, err.message);
    }
  cs_tensor wrong;
  cs_shape ws = cs_shape_4d (1, C, H, W + 1);
  cs_tensor_alloc (&wrong, &ws, NULL);
  p = CS_ATTRIBUTION_PARAMS_DEFAULT;
  CHECK (net_explain (m, 2, &wrong, &p, NULL, &a, &err) == CS_ERR_SHAPE, "wrong input shape: %s", err.message);
  cs_tensor_free (&wrong);
  x.data[7] = NAN;
  CHECK (net_explain (m, 2, &x, &p, NULL, &a, &err) == CS_ERR_ARGUMENT, "non-finite input: %s", err.message);
  x.data[7] = 0;

  /* the exec's settings survive a run */
  cs_exec *e = cs_exec_new (m, 2, &err);
  cs_exec_set_relu_rule (e, CS_RELU_RULE_DECONVNET);
  cs_exec_set_training (e, true);
  p.method = CS_METHOD_GUIDED_BACKPROP;
  st = cs_attribution_run (e, &x, &p, NULL, &a, &err);
  CHECK (st == CS_OK && cs_exec_relu_rule (e) == CS_RELU_RULE_DECONVNET && cs_exec_training (e),
         "the exec's ReLU rule and training mode are restored after a run");
  cs_attribution_free (&a);
  CHECK (a.raw.data == NULL && a.layer == -1, "cs_attribution_free leaves a clean struct");
  cs_attribution_free (&a);
  cs_exec_free (e);

  /* batch hint */
  CHECK (cs_attribution_batch_hint (m, CS_METHOD_SALIENCY, 0) == 1, "batch hint: one-pass methods need 1");
  int32_t sg = cs_attribution_batch_hint (m, CS_METHOD_SMOOTHGRAD, 0);
  int32_t occ = cs_attribution_batch_hint (m, CS_METHOD_OCCLUSION, 100000);
  int32_t tight = cs_attribution_batch_hint (m, CS_METHOD_INTEGRATED_GRADIENTS, 100000);
  CHECK (sg == 256 && tight >= 1 && tight < 100 && occ > tight && cs_attribution_batch_hint (m, CS_METHOD_SMOOTHGRAD, 1) == 1,
         "batch hint follows the budget (1 GiB: %d, 100 kB: %d with gradients, %d forward only)", sg, tight, occ);

  cs_tensor_free (&x);
  cs_model_free (m);
}

int
main (void)
{
  test_registry ();
  test_maps ();
  test_baselines ();
  test_linear ();
  return test_done ();
}
