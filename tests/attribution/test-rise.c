/* RISE: bit-identical under a seed and independent of the batch size, the expected map on a
 * model whose score is linear in the masked input, the softmax weighting, and cancellation. */
#include <math.h>
#include <string.h>

#include "attribution/method.h"
#include "attribution/upsample.h"
#include "exec/exec.h"
#include "testlib.h"

#define SIDE 8

/* input [1,1,8,8] → "unit" = input ⊙ v (v a positive ramp) → GAP → flatten: one logit, and a
 * unit whose mean activation is Σ_i v_i x_i M_i / 64, linear in the mask M. */
static cs_model *
build_linear_model (cs_error *err)
{
  cs_graph *g = cs_graph_new ();
  cs_shape in = cs_shape_4d (1, 1, SIDE, SIDE);
  int32_t x = cs_graph_add_input (g, "input", &in, err);
  cs_tensor v = { 0 };
  cs_tensor_alloc (&v, &in, err);
  for (int i = 0; i < SIDE * SIDE; i++)
    v.data[i] = 0.2f + (float) ((i % SIDE) * (i / SIDE)) / 10.0f;
  int32_t c = cs_graph_add_const (g, "v", &v, err);
  int32_t u = cs_graph_add_op (g, CS_OP_MUL, "unit", NULL, (int32_t[]) { x, c }, 2, NULL, err);
  int32_t p = cs_graph_add_op (g, CS_OP_GLOBAL_AVGPOOL, "gap", NULL, (int32_t[]) { u }, 1, NULL, err);
  cs_attrs fa = cs_attrs_default (CS_OP_FLATTEN);
  int32_t f = cs_graph_add_op (g, CS_OP_FLATTEN, "flatten", NULL, (int32_t[]) { p }, 1, &fa, err);
  cs_model *m = f >= 0 ? cs_model_new (g, err) : NULL;
  cs_graph_unref (g);
  return m;
}

/* input [1,1,8,8] → ×0 → GAP → flatten → concat of four copies: four equal logits, so the
 * target's probability is exactly 1/4 whatever the mask. */
static cs_model *
build_constant_model (cs_error *err)
{
  cs_graph *g = cs_graph_new ();
  cs_shape in = cs_shape_4d (1, 1, SIDE, SIDE);
  int32_t x = cs_graph_add_input (g, "input", &in, err);
  cs_shape one = cs_shape_make (1, (int64_t[]) { 1 });
  cs_tensor zero = { 0 };
  cs_tensor_alloc (&zero, &one, err);
  int32_t c = cs_graph_add_const (g, "zero", &zero, err);
  int32_t u = cs_graph_add_op (g, CS_OP_MUL, "mul", NULL, (int32_t[]) { x, c }, 2, NULL, err);
  int32_t p = cs_graph_add_op (g, CS_OP_GLOBAL_AVGPOOL, "gap", NULL, (int32_t[]) { u }, 1, NULL, err);
  cs_attrs fa = cs_attrs_default (CS_OP_FLATTEN);
  int32_t f = cs_graph_add_op (g, CS_OP_FLATTEN, "flatten", NULL, (int32_t[]) { p }, 1, &fa, err);
  cs_attrs ca = cs_attrs_default (CS_OP_CONCAT);
  ca.axis.axis = 1;
  int32_t cat = cs_graph_add_op (g, CS_OP_CONCAT, "logits", NULL, (int32_t[]) { f, f, f, f }, 4, &ca, err);
  cs_model *m = cat >= 0 ? cs_model_new (g, err) : NULL;
  cs_graph_unref (g);
  return m;
}

static cs_status
run_rise (const cs_model *m, cs_exec *e, const cs_tensor *x, cs_attribution_params *p,
          int32_t batch, const cs_progress *progress, cs_attribution *out, cs_error *err)
{
  cs_method_ctx ctx = { .exec = e, .model = m, .input = x, .p = p, .progress = progress,
                        .target = 0, .layer = -1, .batch = batch };
  memset (out, 0, sizeof *out);
  return cs_method_rise (&ctx, out, err);
}

static void
free_attr (cs_attribution *a)
{
  cs_tensor_free (&a->raw);
  cs_tensor_free (&a->map);
}

/* E[M_i M_j] = ¼ (1 + E_shift Σ_a w_ia w_ja) for the bilinear weights w of grid cell a at pixel
 * i under a shift (grid cells are independent Bernoulli(½), and Σ_a w_ia = 1). Expected raw
 * map for a score Σ_i c_i M_i: Σ_i c_i E[M_i M_j] / ½. */
static void
expected_map (const double *c, double *expect)
{
  enum { S = 7, N = SIDE * SIDE };
  int cell = (SIDE + S - 1) / S, full = SIDE + cell;
  static float w[S * S][N];
  static double k[N][N];
  memset (k, 0, sizeof k);
  float grid[S * S];
  for (int dy = 0; dy < cell; dy++)
    for (int dx = 0; dx < cell; dx++)
      {
        for (int a = 0; a < S * S; a++)
          {
            memset (grid, 0, sizeof grid);
            grid[a] = 1;
            cs_upsample_bilinear_window (grid, S, S, full, full, dy, dx, SIDE, SIDE, w[a]);
          }
        for (int i = 0; i < N; i++)
          for (int j = 0; j < N; j++)
            for (int a = 0; a < S * S; a++)
              k[i][j] += (double) w[a][i] * w[a][j] / (cell * cell);
      }
  for (int j = 0; j < N; j++)
    {
      double s = 0;
      for (int i = 0; i < N; i++)
        s += c[i] * 0.25 * (1.0 + k[i][j]);
      expect[j] = s / 0.5;
    }
}

/* A progress callback that raises the cancel flag: the method must stop before its next batch. */
static void
progress_cancel (void *user_data, double fraction)
{
  (void) fraction;
  *(volatile int *) user_data = 1;
}

int
main (void)
{
  cs_error err = { 0 };
  cs_model *lin = build_linear_model (&err);
  cs_model *cst = build_constant_model (&err);
  CHECK (lin != NULL && cst != NULL, "build the test models: %s", err.message);
  if (lin == NULL || cst == NULL)
    return test_done ();
  cs_exec *e = cs_exec_new (cst, 64, &err);
  cs_shape xs = cs_shape_4d (1, 1, SIDE, SIDE);
  cs_tensor x = { 0 };
  cs_tensor_alloc (&x, &xs, &err);
  for (int i = 0; i < SIDE * SIDE; i++)
    x.data[i] = 1.0f;

  /* Determinism: same seed → bit-identical, whatever the batch; another seed → another map. */
  cs_attribution_params p = CS_ATTRIBUTION_PARAMS_DEFAULT;
  p.method = CS_METHOD_RISE;
  p.samples = 300;
  p.seed = 42;
  cs_attribution a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 };
  cs_status s1 = run_rise (cst, e, &x, &p, 64, NULL, &a, &err);
  cs_status s2 = run_rise (cst, e, &x, &p, 7, NULL, &b, &err);
  cs_status s3 = run_rise (cst, e, &x, &p, 1, NULL, &c, &err);
  CHECK (s1 == CS_OK && s2 == CS_OK && s3 == CS_OK, "rise runs at batches 64, 7, 1: %s", err.message);
  CHECK (a.raw.shape.ndim == 2 && a.raw.shape.dim[0] == SIDE && a.raw.shape.dim[1] == SIDE
         && a.map.shape.ndim == 2 && a.map.shape.dim[0] == SIDE, "raw and map are (H,W)");
  CHECK (a.passes == 300 && !a.raw_is_signed, "300 passes, unsigned raw");
  CHECK (s1 == CS_OK && s2 == CS_OK && memcmp (a.raw.data, b.raw.data, sizeof (float) * SIDE * SIDE) == 0
         && s3 == CS_OK && memcmp (a.raw.data, c.raw.data, sizeof (float) * SIDE * SIDE) == 0,
         "same seed: bit-identical raw maps at batches 64, 7 and 1");
  p.seed = 43;
  run_rise (cst, e, &x, &p, 64, NULL, &d, &err);
  CHECK (d.raw.data != NULL && memcmp (a.raw.data, d.raw.data, sizeof (float) * SIDE * SIDE) != 0,
         "another seed: another map");

  /* Softmax weighting: four equal logits → p = ¼, so raw → ¼ · E[M]/½ = ¼ everywhere. */
  double worst = 0;
  for (int i = 0; i < SIDE * SIDE; i++)
    worst = fmax (worst, fabs (a.raw.data[i] - 0.25));
  CHECK (worst < 0.05, "constant probability ¼: raw within %.3f of 0.25 at 300 samples", worst);
  float lo = INFINITY, hi = -INFINITY;
  for (int i = 0; i < SIDE * SIDE; i++)
    {
      lo = fminf (lo, a.map.data[i]);
      hi = fmaxf (hi, a.map.data[i]);
    }
  CHECK (lo == 0.0f && hi == 1.0f, "map min-max normalised to [0,1]");
  free_attr (&a);
  free_attr (&b);
  free_attr (&c);
  free_attr (&d);
  cs_exec_free (e);

  /* Expectation: a unit score linear in the mask, Σ_i c_i M_i with c_i = v_i x_i / 64. */
  e = cs_exec_new (lin, 256, &err);
  const cs_graph *g = lin->graph;
  int32_t unit = cs_graph_find (g, "unit");
  const cs_tensor *v = &g->nodes[cs_graph_find (g, "v")].value;
  double coef[SIDE * SIDE], expect[SIDE * SIDE];
  for (int i = 0; i < SIDE * SIDE; i++)
    coef[i] = (double) v->data[i] * x.data[i] / (SIDE * SIDE);
  expected_map (coef, expect);
  p = CS_ATTRIBUTION_PARAMS_DEFAULT;
  p.method = CS_METHOD_RISE;
  p.unit_layer = unit;
  p.unit_channel = 0;
  p.seed = 7;
  double errs[3];
  int32_t counts[3] = { 250, 4000, 64000 };
  for (int r = 0; r < 3; r++)
    {
      p.samples = counts[r];
      cs_status st = run_rise (lin, e, &x, &p, 256, NULL, &a, &err);
      double num = 0, den = 0;
      for (int i = 0; st == CS_OK && i < SIDE * SIDE; i++)
        {
          num += (a.raw.data[i] - expect[i]) * (a.raw.data[i] - expect[i]);
          den += expect[i] * expect[i];
        }
      errs[r] = st == CS_OK ? sqrt (num / den) : INFINITY;
      TEST_NOTE ("%d samples: relative L2 error %.4f", counts[r], errs[r]);
      free_attr (&a);
    }
  CHECK (errs[2] < 0.01, "64000 samples: within 1%% of the expected map (%.4f)", errs[2]);
  CHECK (errs[0] > errs[1] && errs[1] > errs[2], "the error shrinks as samples grow");

  /* Cancellation: raised by the first progress report → CS_ERR_CANCELLED, nothing allocated. */
  volatile int cancel = 0;
  cs_progress prog = { .progress = progress_cancel, .user_data = (void *) &cancel, .cancel = &cancel };
  p.samples = 2000;
  cs_status st = run_rise (lin, e, &x, &p, 256, &prog, &a, &err);
  CHECK (st == CS_ERR_CANCELLED && a.raw.data == NULL && a.map.data == NULL,
         "cancelled after the first batch: %s, nothing allocated", cs_status_name (st));
  cancel = 1;
  st = run_rise (lin, e, &x, &p, 256, &prog, &a, &err);
  CHECK (st == CS_ERR_CANCELLED, "cancelled before the first batch");

  /* A bad unit is an error, not a crash. */
  p.unit_channel = 3;
  cancel = 0;
  st = run_rise (lin, e, &x, &p, 256, NULL, &a, &err);
  CHECK (st == CS_ERR_ARGUMENT, "unit channel out of range: %s", err.message);

  cs_tensor_free (&x);
  cs_exec_free (e);
  cs_model_free (lin);
  cs_model_free (cst);
  return test_done ();
}
