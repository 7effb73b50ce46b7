/* Gradient methods on two small CNNs (conv-relu-pool-linear, and conv-bn-relu with a residual
 * block): saliency is the exec's input gradient, gradient x input, IG completeness converging
 * with the steps, SmoothGrad limits and seeding, what guided backprop and deconvnet guarantee,
 * batch invariance, target auto, unit mode. */
#include <math.h>
#include <string.h>

#include "attribution/baseline.h"
#include "nets.h"

/* d score / d input by hand: forward, one-hot (or unit) seed, backward, under `rule`. */
static void
manual_gradient (const cs_model *m, const cs_tensor *x, int32_t from, int32_t target, int32_t channel,
                 cs_relu_rule rule, cs_tensor *grad)
{
  cs_error err;
  cs_exec *e = cs_exec_new (m, 1, &err);
  cs_exec_set_relu_rule (e, rule);
  cs_exec_forward (e, x, &err);
  const cs_tensor *v = cs_exec_value (e, from);
  cs_tensor seed;
  cs_tensor_alloc (&seed, &v->shape, NULL);
  if (channel < 0)
    seed.data[target] = 1;
  else
    {
      int64_t plane = v->shape.dim[2] * v->shape.dim[3];
      for (int64_t i = 0; i < plane; i++)
        seed.data[channel * plane + i] = 1.0f / (float) plane;
    }
  cs_exec_backward (e, from, &seed, CS_GRAD_INPUT, &err);
  cs_tensor_copy (grad, cs_exec_grad (e, m->graph->input_node), NULL);
  cs_tensor_free (&seed);
  cs_exec_free (e);
}

static double
logit_of (const cs_model *m, const cs_tensor *x, int32_t target)
{
  cs_error err;
  cs_exec *e = cs_exec_new (m, 1, &err);
  cs_exec_forward (e, x, &err);
  double v = cs_exec_value (e, m->graph->output_node)->data[target];
  cs_exec_free (e);
  return v;
}

static double
sum_of (const cs_tensor *t)
{
  double s = 0;
  for (int64_t i = 0; i < cs_tensor_numel (t); i++)
    s += t->data[i];
  return s;
}

static void
test_net (const char *label, cs_model *m, uint64_t seed)
{
  cs_error err = { 0 };
  cs_tensor x, g;
  net_input (m, seed, &x);
  int64_t numel = cs_tensor_numel (&x);
  const cs_graph *gr = m->graph;

  /* saliency = the exec's gradient; target auto = argmax */
  cs_attribution a, b;
  cs_attribution_params p = CS_ATTRIBUTION_PARAMS_DEFAULT;
  cs_status st = net_explain (m, 1, &x, &p, NULL, &a, &err);
  CHECK (st == CS_OK, "%s: saliency runs: %s", label, st == CS_OK ? "ok" : err.message);
  if (st != CS_OK)
    {
      cs_tensor_free (&x);
      return;
    }
  int32_t best = 0;
  for (int32_t k = 1; k < m->n_classes; k++)
    best = logit_of (m, &x, k) > logit_of (m, &x, best) ? k : best;
  CHECK (a.target == best && CLOSE (a.target_logit, logit_of (m, &x, best), 1e-6, 1e-6),
         "%s: target auto resolves to the argmax (%d)", label, best);
  manual_gradient (m, &x, gr->output_node, best, -1, CS_RELU_RULE_GRADIENT, &g);
  CHECK (a.raw.shape.ndim == 3 && a.raw.shape.dim[0] == m->channels && memcmp (a.raw.data, g.data, (size_t) numel * 4) == 0,
         "%s: saliency equals the exec's input gradient", label);

  /* gradient x input */
  p.method = CS_METHOD_GRADIENT_X_INPUT;
  net_explain (m, 1, &x, &p, NULL, &b, &err);
  bool ok = true;
  for (int64_t i = 0; i < numel; i++)
    ok = ok && b.raw.data[i] == x.data[i] * g.data[i];
  CHECK (ok, "%s: gradient x input = x * grad", label);
  cs_attribution_free (&b);

  /* IG completeness: sum = f(x) - f(0), the error shrinking with the steps */
  cs_tensor zero;
  cs_tensor_alloc (&zero, &x.shape, NULL);
  double delta = logit_of (m, &x, best) - logit_of (m, &zero, best), errs[3];
  int steps[3] = { 10, 50, 200 };
  p.method = CS_METHOD_INTEGRATED_GRADIENTS;
  for (int i = 0; i < 3; i++)
    {
      p.steps = steps[i];
      st = net_explain (m, 16, &x, &p, NULL, &b, &err);
      errs[i] = fabs (sum_of (&b.raw) - delta);
      ok = st == CS_OK && b.passes == steps[i];
      cs_attribution_free (&b);
    }
  /* a ReLU network is piecewise linear along the path, so the midpoint rule's error falls
   * like 1/steps (one kink at a time), not 1/steps^2 */
  CHECK (ok && errs[2] <= errs[1] && errs[1] <= errs[0] && errs[2] < errs[0] / 4 && errs[2] < 0.02 * fabs (delta),
         "%s: IG completeness, |sum - (f(x) - f(0))| = %.2e, %.2e, %.2e at 10, 50, 200 steps (delta %.4f)",
         label, errs[0], errs[1], errs[2], delta);
  cs_tensor_free (&zero);

  /* IG against other baselines: completeness relative to f(x') */
  for (int bl = CS_BASELINE_BLUR; bl <= CS_BASELINE_UNIFORM; bl++)
    {
      p.baseline = (cs_baseline) bl;
      p.steps = 200;
      p.seed = 9;
      net_explain (m, 16, &x, &p, NULL, &b, &err);
      cs_tensor x0;
      cs_baseline_make ((cs_baseline) bl, &x, 9, &x0, &err);
      double d = logit_of (m, &x, best) - logit_of (m, &x0, best);
      CHECK (CLOSE (sum_of (&b.raw), d, 1e-4, 5e-3), "%s: IG with the %s baseline sums to f(x) - f(x') (%.5f vs %.5f)",
             label, bl == CS_BASELINE_BLUR ? "blur" : "uniform", sum_of (&b.raw), d);
      cs_tensor_free (&x0);
      cs_attribution_free (&b);
    }
  p = CS_ATTRIBUTION_PARAMS_DEFAULT;

  /* SmoothGrad */
  p.method = CS_METHOD_SMOOTHGRAD;
  p.samples = 12;
  p.noise = 1e-6f;
  st = net_explain (m, 5, &x, &p, NULL, &b, &err);
  CHECK (st == CS_OK && b.passes == 12 && net_rel_diff (&b.raw, &g) < 1e-3,
         "%s: SmoothGrad with noise -> 0 is the gradient (rel. diff %.2e)", label, net_rel_diff (&b.raw, &g));
  cs_attribution_free (&b);
  p.noise = 0.3f;
  p.seed = 42;
  cs_attribution c, d;
  net_explain (m, 5, &x, &p, NULL, &b, &err);
  net_explain (m, 5, &x, &p, NULL, &c, &err);
  p.seed = 43;
  net_explain (m, 5, &x, &p, NULL, &d, &err);
  CHECK (memcmp (b.raw.data, c.raw.data, (size_t) numel * 4) == 0 && memcmp (b.map.data, c.map.data,
                                                                             (size_t) (numel / m->channels) * 4) == 0,
         "%s: SmoothGrad: same seed, bit-identical raw and map", label);
  CHECK (net_rel_diff (&b.raw, &d.raw) > 1e-3 && net_rel_diff (&b.raw, &g) > 1e-3,
         "%s: SmoothGrad: another seed gives another result, and noise changes it", label);
  cs_attribution_free (&c);
  cs_attribution_free (&d);

  /* batch invariance: exec max batch 1 vs 16 (12 samples: one chunk, or twelve) */
  p.seed = 42;
  net_explain (m, 1, &x, &p, NULL, &c, &err);
  net_explain (m, 16, &x, &p, NULL, &d, &err);
  CHECK (net_rel_diff (&c.raw, &d.raw) < 1e-5 && net_rel_diff (&c.raw, &b.raw) < 1e-5,
         "%s: SmoothGrad at max batch 1, 5, 16 agrees (%.1e)", label, net_rel_diff (&c.raw, &d.raw));
  cs_attribution_free (&b);
  cs_attribution_free (&c);
  cs_attribution_free (&d);
  p = CS_ATTRIBUTION_PARAMS_DEFAULT;
  p.method = CS_METHOD_INTEGRATED_GRADIENTS;
  p.steps = 20;
  net_explain (m, 1, &x, &p, NULL, &c, &err);
  net_explain (m, 16, &x, &p, NULL, &d, &err);
  CHECK (net_rel_diff (&c.raw, &d.raw) < 1e-5, "%s: IG at max batch 1 and 16 agrees (%.1e)", label,
         net_rel_diff (&c.raw, &d.raw));
  cs_attribution_free (&c);
  cs_attribution_free (&d);
  p = CS_ATTRIBUTION_PARAMS_DEFAULT;
  p.method = CS_METHOD_OCCLUSION;
  p.window = 3;
  p.stride = 2;
  net_explain (m, 1, &x, &p, NULL, &c, &err);
  net_explain (m, 16, &x, &p, NULL, &d, &err);
  CHECK (c.passes == 1 + 16 && net_rel_diff (&c.raw, &d.raw) < 1e-5,
         "%s: occlusion at max batch 1 and 16 agrees (%.1e), 4x4 windows + 1", label, net_rel_diff (&c.raw, &d.raw));
  /* the drop of one window, recomputed by hand: window (0,0), the only one covering pixel (0,0) */
  cs_tensor xo;
  cs_tensor_copy (&xo, &x, NULL);
  for (int64_t ch = 0; ch < m->channels; ch++)
    for (int y = 0; y < 3; y++)
      for (int xx = 0; xx < 3; xx++)
        xo.data[(ch * m->height + y) * m->width + xx] = 0;
  double drop = logit_of (m, &x, best) - logit_of (m, &xo, best);
  CHECK (CLOSE (c.raw.data[0], drop, 1e-5, 1e-4), "%s: occlusion at a corner is the drop of its one window (%.5f vs %.5f)",
         label, c.raw.data[0], drop);
  cs_tensor_free (&xo);
  cs_attribution_free (&c);
  cs_attribution_free (&d);

  /* unit mode: the mean activation of channel 1 of the first ReLU */
  int32_t relu1 = cs_graph_find (gr, "relu1");
  p = CS_ATTRIBUTION_PARAMS_DEFAULT;
  p.unit_layer = relu1;
  p.unit_channel = 1;
  cs_tensor gu;
  manual_gradient (m, &x, relu1, 0, 1, CS_RELU_RULE_GRADIENT, &gu);
  st = net_explain (m, 1, &x, &p, NULL, &b, &err);
  CHECK (st == CS_OK && net_rel_diff (&b.raw, &gu) < 1e-6, "%s: unit mode: saliency of relu1 channel 1's mean", label);
  cs_attribution_free (&b);
  p.method = CS_METHOD_INTEGRATED_GRADIENTS;
  p.steps = 200;
  st = net_explain (m, 16, &x, &p, NULL, &b, &err);
  cs_exec *e = cs_exec_new (m, 1, &err);
  double unit_x = 0, unit_0 = 0;
  cs_tensor z0;
  cs_tensor_alloc (&z0, &x.shape, NULL);
  for (int pass = 0; pass < 2; pass++)
    {
      cs_exec_forward (e, pass ? &z0 : &x, &err);
      const cs_tensor *v = cs_exec_value (e, relu1);
      int64_t plane = v->shape.dim[2] * v->shape.dim[3];
      double s = 0;
      for (int64_t i = 0; i < plane; i++)
        s += v->data[plane + i];
      *(pass ? &unit_0 : &unit_x) = s / (double) plane;
    }
  CHECK (st == CS_OK && CLOSE (sum_of (&b.raw), unit_x - unit_0, 1e-4, 5e-3),
         "%s: unit mode: IG completeness for the unit (%.5f vs %.5f)", label, sum_of (&b.raw), unit_x - unit_0);
  cs_attribution_free (&b);
  cs_tensor_free (&z0);
  cs_exec_free (e);
  cs_tensor_free (&gu);

  cs_attribution_free (&a);
  cs_tensor_free (&g);
  cs_tensor_free (&x);
}

/* Guided backprop and deconvnet on conv1 -> relu1 -> ...: every ReLU passes back only
 * non-negative gradients, so the gradient reaching relu1's input (conv1's output) is >= 0
 * everywhere — and for guided backprop also 0 where conv1's output is <= 0. The input
 * attribution is conv1's transpose applied to that, so it has conv1's weights' signs mixed: it
 * is >= 0 everywhere only when conv1's weights are >= 0. Both facts are checked. */
static void
test_guided (cs_model *m)
{
  cs_error err = { 0 };
  cs_tensor x;
  net_input (m, 77, &x);
  const cs_graph *gr = m->graph;
  int32_t conv1 = cs_graph_find (gr, "conv1");
  cs_exec *e = cs_exec_new (m, 1, &err);
  cs_attribution a;
  cs_attribution_params p = CS_ATTRIBUTION_PARAMS_DEFAULT;
  for (int rule = 0; rule < 2; rule++)
    {
      p.method = rule ? CS_METHOD_DECONVNET : CS_METHOD_GUIDED_BACKPROP;
      cs_status st = cs_attribution_run (e, &x, &p, NULL, &a, &err);
      const cs_tensor *gc = cs_exec_grad (e, conv1), *vc = cs_exec_value (e, conv1);
      int negative = 0, leaks = 0, positive = 0;
      for (int64_t i = 0; gc != NULL && i < cs_tensor_numel (gc); i++)
        {
          negative += gc->data[i] < 0;
          positive += gc->data[i] > 0;
          leaks += vc->data[i] <= 0 && gc->data[i] != 0;
        }
      CHECK (st == CS_OK && gc != NULL && negative == 0 && positive > 0 && (rule || leaks == 0),
             "%s: gradient at relu1's input is >= 0 (%d > 0)%s", cs_method_id (p.method), positive,
             rule ? "" : " and 0 where conv1's output is <= 0");
      cs_tensor manual;
      manual_gradient (m, &x, gr->output_node, a.target, -1, rule ? CS_RELU_RULE_DECONVNET : CS_RELU_RULE_GUIDED, &manual);
      CHECK (memcmp (manual.data, a.raw.data, (size_t) cs_tensor_numel (&x) * 4) == 0,
             "%s: raw = the exec's input gradient under the %s ReLU rule", cs_method_id (p.method), rule ? "deconvnet" : "guided");
      cs_tensor_free (&manual);
      cs_attribution_free (&a);
    }

  /* with conv1's weights made non-negative the input attribution is non-negative; saliency
   * of the same net is not, so the property is the rule's doing */
  cs_model *mp = cs_model_clone (m, &err);
  int32_t w1 = cs_model_param_index (mp, "conv1.weight");
  for (int64_t i = 0; i < cs_tensor_numel (&mp->weights[w1]); i++)
    mp->weights[w1].data[i] = fabsf (mp->weights[w1].data[i]);
  int neg[3] = { 0 };
  cs_method which[3] = { CS_METHOD_GUIDED_BACKPROP, CS_METHOD_DECONVNET, CS_METHOD_SALIENCY };
  for (int k = 0; k < 3; k++)
    {
      p.method = which[k];
      net_explain (mp, 1, &x, &p, NULL, &a, &err);
      for (int64_t i = 0; i < cs_tensor_numel (&a.raw); i++)
        neg[k] += a.raw.data[i] < 0;
      cs_attribution_free (&a);
    }
  CHECK (neg[0] == 0 && neg[1] == 0 && neg[2] > 0,
         "conv1 weights >= 0: guided backprop and deconvnet attributions are >= 0 (saliency has %d negatives)", neg[2]);
  cs_model_free (mp);
  cs_exec_free (e);
  cs_tensor_free (&x);
}

/* Every method, through the one driver: a finite raw attribution, an
 * (H,W) map in [0,1], and the same result at max batch 1 and 16. */
static void
test_all_methods (const cs_model *m)
{
  cs_error err = { 0 };
  cs_tensor x;
  net_input (m, 21, &x);
  for (int k = 0; k < CS_METHOD_COUNT; k++)
    {
      cs_attribution_params p = CS_ATTRIBUTION_PARAMS_DEFAULT;
      p.method = (cs_method) k;
      p.samples = k == CS_METHOD_RISE ? 40 : 6;
      p.steps = 6;
      p.window = 3;
      p.stride = 2;
      cs_attribution a, b;
      cs_status st = net_explain (m, 16, &x, &p, NULL, &a, &err);
      bool ok = st == CS_OK && a.map.shape.ndim == 2 && a.map.shape.dim[0] == m->height
                && a.map.shape.dim[1] == m->width && a.raw.data != NULL && a.method == p.method;
      for (int64_t i = 0; ok && i < cs_tensor_numel (&a.map); i++)
        ok = a.map.data[i] >= 0 && a.map.data[i] <= 1;
      for (int64_t i = 0; ok && i < cs_tensor_numel (&a.raw); i++)
        ok = isfinite (a.raw.data[i]);
      st = net_explain (m, 1, &x, &p, NULL, &b, &err);
      double diff = st == CS_OK ? net_rel_diff (&a.raw, &b.raw) : INFINITY;
      CHECK (ok && diff < 1e-4, "%s: finite raw, (H,W) map in [0,1], max batch 1 vs 16 differ by %.1e (layer %d): %s",
             cs_method_id (p.method), diff, a.layer, ok ? "ok" : err.message);
      cs_attribution_free (&a);
      cs_attribution_free (&b);
    }
  cs_tensor_free (&x);
}

int
main (void)
{
  cs_error err = { 0 };
  cs_model *plain = net_plain (11, &err);
  CHECK (plain != NULL, "plain conv net: %s", plain ? "ok" : err.message);
  if (plain == NULL)
    return test_done ();
  cs_model *res = net_residual (12, &err);
  CHECK (res != NULL, "residual net with batch norm: %s", res ? "ok" : err.message);
  test_net ("conv-relu-pool-linear", plain, 5);
  if (res != NULL)
    test_net ("conv-bn-relu-residual", res, 6);
  test_guided (plain);
  if (res != NULL)
    test_all_methods (res);
  cs_model_free (plain);
  cs_model_free (res);
  return test_done ();
}
