/* Evaluation: deletion/insertion curves against a direct computation on a linear model, the
 * true-weight map beating random maps, Spearman's correlation, the cascading randomisation
 * check (shape, range, model restored), and cancellation. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attribution/baseline.h"
#include "base/rng.h"
#include "evaluation/evaluation.h"
#include "exec/exec.h"
#include "testlib.h"

#define SIDE 6
#define HW (SIDE * SIDE)

/* input [1,1,6,6] → flatten → linear (36 → 2): logit 0 = Σ w_i x_i, logit 1 = 0. */
static cs_model *
linear_model (const float *w, cs_error *err)
{
  cs_graph *g = cs_graph_new ();
  cs_shape in = cs_shape_4d (1, 1, SIDE, SIDE);
  int32_t x = cs_graph_add_input (g, "input", &in, err);
  cs_attrs fa = cs_attrs_default (CS_OP_FLATTEN);
  int32_t f = cs_graph_add_op (g, CS_OP_FLATTEN, "flatten", NULL, (int32_t[]) { x }, 1, &fa, err);
  cs_shape ws = cs_shape_make (2, (int64_t[]) { 2, HW });
  int32_t wn = cs_graph_add_param (g, "fc.weight", &ws, err);
  cs_attrs ga = cs_attrs_default (CS_OP_GEMM);
  ga.gemm.trans_b = true;
  int32_t fc = cs_graph_add_op (g, CS_OP_GEMM, "fc", NULL, (int32_t[]) { f, wn }, 2, &ga, err);
  cs_model *m = fc >= 0 ? cs_model_new (g, err) : NULL;
  cs_graph_unref (g);
  if (m != NULL)
    memcpy (m->weights[0].data, w, HW * sizeof (float)); /* row 1 stays zero */
  return m;
}

/* conv(1->3, 3x3, pad 1) - relu - flatten - linear (3*6*6 -> 4): two layers to randomise. */
static cs_model *
conv_model (cs_error *err)
{
  cs_graph *g = cs_graph_new ();
  cs_shape in = cs_shape_4d (1, 1, SIDE, SIDE);
  int32_t x = cs_graph_add_input (g, "input", &in, err);
  cs_shape cw = cs_shape_4d (3, 1, 3, 3), cb = cs_shape_make (1, (int64_t[]) { 3 });
  int32_t w = cs_graph_add_param (g, "conv.weight", &cw, err);
  int32_t b = cs_graph_add_param (g, "conv.bias", &cb, err);
  cs_attrs ca = cs_attrs_default (CS_OP_CONV2D);
  ca.window.kernel[0] = ca.window.kernel[1] = 3;
  for (int i = 0; i < 4; i++)
    ca.window.pad[i] = 1;
  int32_t c = cs_graph_add_op (g, CS_OP_CONV2D, "conv", NULL, (int32_t[]) { x, w, b }, 3, &ca, err);
  int32_t r = cs_graph_add_op (g, CS_OP_RELU, "relu", NULL, (int32_t[]) { c }, 1, NULL, err);
  cs_attrs fa = cs_attrs_default (CS_OP_FLATTEN);
  int32_t f = cs_graph_add_op (g, CS_OP_FLATTEN, "flatten", NULL, (int32_t[]) { r }, 1, &fa, err);
  cs_shape fw = cs_shape_make (2, (int64_t[]) { 4, 3 * HW }), fb = cs_shape_make (1, (int64_t[]) { 4 });
  int32_t lw = cs_graph_add_param (g, "fc.weight", &fw, err);
  int32_t lb = cs_graph_add_param (g, "fc.bias", &fb, err);
  cs_attrs ga = cs_attrs_default (CS_OP_GEMM);
  ga.gemm.trans_b = true;
  int32_t fc = cs_graph_add_op (g, CS_OP_GEMM, "fc", NULL, (int32_t[]) { f, lw, lb }, 3, &ga, err);
  cs_model *m = fc >= 0 ? cs_model_new (g, err) : NULL;
  cs_graph_unref (g);
  if (m != NULL)
    cs_model_init_weights (m, 7);
  return m;
}

static double
sigmoid (double z)
{
  return 1 / (1 + exp (-z));
}

static void
test_auc_and_spearman (void)
{
  double y2[2] = { 0, 1 };
  CHECK (cs_curve_auc (y2, 2) == 0.5, "AUC of a ramp over two points");
  double y[51];
  for (int i = 0; i <= 50; i++)
    y[i] = (double) i / 50;
  CHECK (CLOSE (cs_curve_auc (y, 51), 0.5, 1e-12, 0), "AUC of a ramp over 51 points");
  double sq[3] = { 0, 0.25, 1 };
  CHECK (CLOSE (cs_curve_auc (sq, 3), 0.375, 1e-12, 0), "trapezoid rule, not the exact integral");

  float a[6] = { 3, 1, 4, 1, 5, 9 }, neg[6], c[6] = { 2, 2, 2, 2, 2, 2 };
  for (int i = 0; i < 6; i++)
    neg[i] = -a[i];
  CHECK (cs_spearman (a, a, 6) == 1.0, "identical maps: 1");
  CHECK (CLOSE (cs_spearman (a, neg, 6), -1.0, 1e-12, 0), "reversed ranks: -1");
  CHECK (cs_spearman (c, c, 6) == 1.0 && cs_spearman (a, c, 6) == 0.0, "constant maps");
  /* Pearson of the average ranks [3,1.5,4,1.5,5,6] and [1..6] = 11.5 / sqrt(17 * 17.5) */
  float r[6] = { 1, 2, 3, 4, 5, 6 };
  CHECK (CLOSE (cs_spearman (a, r, 6), 0.6667366910003157, 1e-9, 0), "ties: %.12f", cs_spearman (a, r, 6));
  cs_rng rng;
  cs_rng_seed (&rng, 1);
  bool in_range = true;
  for (int t = 0; t < 50; t++)
    {
      float u[20], v[20];
      for (int i = 0; i < 20; i++)
        {
          u[i] = (float) cs_rng_below (&rng, 5);
          v[i] = (float) cs_rng_normal (&rng);
        }
      double s = cs_spearman (u, v, 20);
      in_range = in_range && s >= -1 && s <= 1;
    }
  CHECK (in_range, "random pairs stay in [-1,1]");
}

static void
test_curves (void)
{
  cs_error err = { 0 };
  float w[HW], xin[HW];
  cs_rng rng;
  cs_rng_seed (&rng, 3);
  for (int i = 0; i < HW; i++)
    {
      w[i] = (float) (cs_rng_uniform (&rng) - 0.3) * 0.5f;
      xin[i] = (float) (0.5 + cs_rng_uniform (&rng) + (i % SIDE) * 0.2);
    }
  cs_model *m = linear_model (w, &err);
  CHECK (m != NULL, "linear model: %s", err.message);
  if (m == NULL)
    return;
  cs_exec *e = cs_exec_new (m, 16, &err);
  cs_tensor x = cs_tensor_view (&(cs_shape) { 4, { 1, 1, SIDE, SIDE } }, xin);
  cs_tensor map = { 0 };
  cs_tensor_alloc (&map, &(cs_shape) { 2, { SIDE, SIDE } }, &err);

  /* The true contributions w·x: deleting them in order lowers the logit fastest. */
  for (int i = 0; i < HW; i++)
    map.data[i] = w[i] * xin[i];
  cs_curve del = { 0 };
  CHECK (cs_evaluation_curve (e, &x, &map, 0, CS_CURVE_DELETION, 0, CS_BASELINE_ZERO, 0, NULL, &del, &err) == CS_OK,
         "deletion curve: %s", err.message);
  CHECK (del.steps == 50 && del.probability != NULL, "50 steps, 51 points");
  /* Direct: point k keeps all but the first round(k·36/50) pixels in map order. */
  int order[HW];
  for (int i = 0; i < HW; i++)
    order[i] = i;
  for (int i = 0; i < HW; i++)
    for (int j = i + 1; j < HW; j++)
      if (map.data[order[j]] > map.data[order[i]])
        {
          int t = order[i];
          order[i] = order[j];
          order[j] = t;
        }
  double worst = 0, expect[51];
  for (int k = 0; k <= 50; k++)
    {
      int removed = (int) lround (k * (double) HW / 50);
      double z = 0;
      for (int i = removed; i < HW; i++)
        z += (double) w[order[i]] * xin[order[i]];
      expect[k] = sigmoid (z);
      worst = fmax (worst, fabs (expect[k] - del.probability[k]));
    }
  CHECK (worst < 1e-5, "deletion curve = direct computation (max error %.2g)", worst);
  CHECK (CLOSE (del.auc, cs_curve_auc (expect, 51), 1e-5, 0), "deletion AUC %.5f", del.auc);
  CHECK (CLOSE (del.probability[50], 0.5, 1e-6, 0), "everything deleted: logits equal, p = 1/2");

  /* Random maps: the true map's deletion AUC is lower than every one of them. */
  bool beats = true;
  double sum_random = 0;
  for (int t = 0; t < 20; t++)
    {
      cs_tensor rnd = { 0 };
      cs_tensor_alloc (&rnd, &map.shape, &err);
      for (int i = 0; i < HW; i++)
        rnd.data[i] = (float) cs_rng_uniform (&rng);
      cs_curve c = { 0 };
      cs_evaluation_curve (e, &x, &rnd, 0, CS_CURVE_DELETION, 0, CS_BASELINE_ZERO, 0, NULL, &c, &err);
      beats = beats && del.auc <= c.auc + 1e-9;
      sum_random += c.auc;
      cs_curve_free (&c);
      cs_tensor_free (&rnd);
    }
  CHECK (beats, "true-weight deletion AUC %.4f <= every random map's (mean %.4f)", del.auc, sum_random / 20);

  /* Insertion into the blur: the true order is by w·(x − blur(x)). */
  cs_tensor blur = { 0 };
  cs_baseline_make (CS_BASELINE_BLUR, &x, 0, &blur, &err);
  for (int i = 0; i < HW; i++)
    map.data[i] = w[i] * (xin[i] - blur.data[i]);
  cs_curve ins = { 0 };
  CHECK (cs_evaluation_curve (e, &x, &map, 0, CS_CURVE_INSERTION, 10, CS_BASELINE_ZERO, 0, NULL, &ins, &err) == CS_OK,
         "insertion curve (10 steps): %s", err.message);
  double z0 = 0, z1 = 0;
  for (int i = 0; i < HW; i++)
    {
      z0 += (double) w[i] * blur.data[i];
      z1 += (double) w[i] * xin[i];
    }
  CHECK (ins.steps == 10 && CLOSE (ins.probability[0], sigmoid (z0), 1e-5, 0)
           && CLOSE (ins.probability[10], sigmoid (z1), 1e-5, 0),
         "insertion goes from the blur to the input");
  bool ins_beats = true;
  for (int t = 0; t < 20; t++)
    {
      cs_tensor rnd = { 0 };
      cs_tensor_alloc (&rnd, &map.shape, &err);
      for (int i = 0; i < HW; i++)
        rnd.data[i] = (float) cs_rng_uniform (&rng);
      cs_curve c = { 0 };
      cs_evaluation_curve (e, &x, &rnd, 0, CS_CURVE_INSERTION, 10, CS_BASELINE_ZERO, 0, NULL, &c, &err);
      ins_beats = ins_beats && ins.auc >= c.auc - 1e-9;
      cs_curve_free (&c);
      cs_tensor_free (&rnd);
    }
  CHECK (ins_beats, "true-order insertion AUC %.4f >= every random map's", ins.auc);

  /* Batch size does not change the curve. */
  cs_exec *e1 = cs_exec_new (m, 3, &err);
  cs_curve small = { 0 };
  cs_evaluation_curve (e1, &x, &map, 0, CS_CURVE_INSERTION, 10, CS_BASELINE_ZERO, 0, NULL, &small, &err);
  bool same = small.probability != NULL;
  for (int k = 0; same && k <= 10; k++)
    same = CLOSE (small.probability[k], ins.probability[k], 1e-6, 0);
  CHECK (same, "batch 3 and batch 16 give the same curve");
  cs_curve_free (&small);
  cs_exec_free (e1);

  /* Errors and cancellation. */
  cs_curve bad = { 0 };
  CHECK (cs_evaluation_curve (e, &x, &map, 5, CS_CURVE_DELETION, 0, CS_BASELINE_ZERO, 0, NULL, &bad, &err) == CS_ERR_ARGUMENT,
         "bad target: %s", err.message);
  cs_tensor wrong = cs_tensor_view (&(cs_shape) { 2, { 3, 3 } }, map.data);
  CHECK (cs_evaluation_curve (e, &x, &wrong, 0, CS_CURVE_DELETION, 0, CS_BASELINE_ZERO, 0, NULL, &bad, &err) == CS_ERR_SHAPE,
         "map of the wrong size: %s", err.message);
  volatile int cancel = 1;
  cs_progress pr = { NULL, NULL, &cancel };
  CHECK (cs_evaluation_curve (e, &x, &map, 0, CS_CURVE_DELETION, 0, CS_BASELINE_ZERO, 0, &pr, &bad, &err) == CS_ERR_CANCELLED
           && bad.probability == NULL,
         "cancelled, nothing allocated");

  cs_curve_free (&del);
  cs_curve_free (&ins);
  cs_tensor_free (&blur);
  cs_tensor_free (&map);
  cs_exec_free (e);
  cs_model_free (m);
}

static void
count_progress (void *user_data, double fraction)
{
  double *last = user_data;
  if (fraction < *last - 1e-12)
    *last = -100; /* went backwards */
  else if (*last > -100)
    *last = fraction;
}

static void
test_randomization (void)
{
  cs_error err = { 0 };
  cs_model *m = conv_model (&err);
  CHECK (m != NULL, "conv model: %s", err.message);
  if (m == NULL)
    return;
  cs_exec *e = cs_exec_new (m, 4, &err);
  float xin[HW];
  for (int i = 0; i < HW; i++)
    xin[i] = (float) sin (0.7 * i) + 0.2f;
  cs_tensor x = cs_tensor_view (&(cs_shape) { 4, { 1, 1, SIDE, SIDE } }, xin);

  cs_method methods[3] = { CS_METHOD_SALIENCY, CS_METHOD_GRADCAM, CS_METHOD_INTEGRATED_GRADIENTS };
  for (int k = 0; k < 3; k++)
    {
      cs_attribution_params p = CS_ATTRIBUTION_PARAMS_DEFAULT;
      p.method = methods[k];
      p.steps = 8;
      cs_randomization r = { 0 };
      double last = 0;
      cs_progress pr = { count_progress, &last, NULL };
      cs_status st = cs_evaluation_randomization (e, &x, &p, NULL, 11, &pr, &r, &err);
      CHECK (st == CS_OK, "%s randomisation: %s", cs_method_id (p.method), err.message);
      if (st != CS_OK)
        continue;
      CHECK (r.n_layers == 2 && strcmp (m->graph->nodes[r.layers[0]].name, "fc") == 0
               && strcmp (m->graph->nodes[r.layers[1]].name, "conv") == 0,
             "two layers, output side first");
      bool range = true;
      for (int l = 0; l < r.n_layers; l++)
        range = range && r.spearman[l] >= -1 && r.spearman[l] <= 1;
      CHECK (range, "correlations in [-1,1] (%.3f, %.3f)", r.spearman[0], r.spearman[1]);
      CHECK (last == 1.0, "progress rises to 1");
      CHECK (cs_exec_model (e) == m, "the exec's model is restored");
      cs_randomization_free (&r);
    }

  /* Re-running with the same seed gives the same numbers; with the original given, the
   * identity holds: a "randomisation" to the same weights correlates exactly 1. */
  cs_attribution_params p = CS_ATTRIBUTION_PARAMS_DEFAULT;
  p.method = CS_METHOD_SALIENCY;
  cs_attribution orig = { 0 };
  cs_attribution_run (e, &x, &p, NULL, &orig, &err);
  cs_randomization r1 = { 0 }, r2 = { 0 };
  cs_evaluation_randomization (e, &x, &p, &orig, 5, NULL, &r1, &err);
  cs_evaluation_randomization (e, &x, &p, NULL, 5, NULL, &r2, &err);
  CHECK (r1.n_layers == 2 && r2.n_layers == 2 && r1.spearman[0] == r2.spearman[0]
           && r1.spearman[1] == r2.spearman[1],
         "deterministic under a seed");
  cs_attribution after = { 0 };
  cs_attribution_run (e, &x, &p, NULL, &after, &err);
  CHECK (after.map.data != NULL && memcmp (after.map.data, orig.map.data, HW * sizeof (float)) == 0,
         "the trained model's map is unchanged afterwards");
  CHECK (cs_spearman (orig.map.data, after.map.data, HW) == 1.0, "identical map: Spearman 1");
  cs_attribution_free (&after);
  cs_randomization_free (&r1);
  cs_randomization_free (&r2);

  volatile int cancel = 1;
  cs_progress pr = { NULL, NULL, &cancel };
  cs_randomization rc = { 0 };
  CHECK (cs_evaluation_randomization (e, &x, &p, &orig, 5, &pr, &rc, &err) == CS_ERR_CANCELLED
           && rc.layers == NULL && rc.spearman == NULL && cs_exec_model (e) == m,
         "cancelled: nothing allocated, model restored");
  cs_attribution_free (&orig);
  cs_exec_free (e);
  cs_model_free (m);
}

int
main (void)
{
  test_auc_and_spearman ();
  test_curves ();
  test_randomization ();
  return test_done ();
}
