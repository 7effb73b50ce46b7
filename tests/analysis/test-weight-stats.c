/* Weight statistics against numpy (tools/make-analysis-reference.py), layer discovery, and the
 * power-law fit on samples of known exponent. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/weight_stats.h"
#include "base/rng.h"
#include "graph/ops.h"
#include "testlib.h"

static char *
read_text (const char *path, size_t *size)
{
  FILE *fp = fopen (path, "rb");
  if (fp == NULL)
    return NULL;
  fseek (fp, 0, SEEK_END);
  long n = ftell (fp);
  fseek (fp, 0, SEEK_SET);
  char *buf = malloc ((size_t) n + 1);
  if (buf != NULL && fread (buf, 1, (size_t) n, fp) != (size_t) n)
    {
      free (buf);
      buf = NULL;
    }
  fclose (fp);
  if (buf != NULL)
    buf[n] = '\0';
  *size = (size_t) n;
  return buf;
}

/* NaN in C stands for JSON null. */
static bool
matches (double got, const cJSON *want, double atol, double rtol)
{
  if (cJSON_IsNull (want))
    return isnan (got);
  return cJSON_IsNumber (want) && CLOSE (got, want->valuedouble, atol, rtol);
}

static cs_weight_layer
layer_for (const char *kind, const int64_t *dim, int ndim)
{
  cs_weight_layer l = { 0 };
  l.numel = 1;
  for (int i = 0; i < ndim; i++)
    l.numel *= dim[i];
  if (strcmp (kind, "conv") == 0)
    {
      l.n_filters = dim[0];
      l.filter_size = l.numel / dim[0];
      l.n_slices = (int32_t) (dim[2] * dim[3]);
      l.slice_rows = dim[0];
      l.slice_cols = dim[1];
    }
  else
    {
      l.n_slices = 1;
      l.slice_rows = dim[0];
      l.slice_cols = dim[1];
      l.filters_are_columns = strcmp (kind, "matmul") == 0;
      l.n_filters = l.filters_are_columns ? dim[1] : dim[0];
      l.filter_size = l.filters_are_columns ? dim[0] : dim[1];
    }
  return l;
}

static void
test_fixtures (void)
{
  const char *src = getenv ("CONVSCOPE_SOURCE_DIR");
  char path[1024];
  snprintf (path, sizeof path, "%s/tests/analysis/fixtures/weights.json", src ? src : ".");
  size_t size;
  char *text = read_text (path, &size);
  CHECK (text != NULL, "read %s", path);
  if (text == NULL)
    return;
  cJSON *root = cJSON_Parse (text);
  free (text);
  snprintf (path, sizeof path, "%s/tests/analysis/fixtures/weights.bin", src ? src : ".");
  size_t bin_size;
  float *blob = (float *) read_text (path, &bin_size);
  CHECK (root != NULL && blob != NULL, "fixtures parse");
  if (root == NULL || blob == NULL)
    return;
  int epochs = cJSON_GetObjectItem (root, "epochs")->valueint;
  CHECK (cJSON_GetObjectItem (root, "min_tail")->valueint == CS_POWERLAW_MIN_TAIL,
         "fixtures use CS_POWERLAW_MIN_TAIL");
  size_t offset = 0;
  const cJSON *jl;
  cJSON_ArrayForEach (jl, cJSON_GetObjectItem (root, "layers"))
    {
      const char *name = cJSON_GetObjectItem (jl, "name")->valuestring;
      const char *kind = cJSON_GetObjectItem (jl, "kind")->valuestring;
      int64_t dim[4];
      int ndim = 0;
      const cJSON *d;
      cJSON_ArrayForEach (d, cJSON_GetObjectItem (jl, "shape"))
        dim[ndim++] = (int64_t) d->valuedouble;
      cs_weight_layer l = layer_for (kind, dim, ndim);
      const float *w0 = blob + offset;
      float *fc = malloc ((size_t) l.n_filters * sizeof *fc);
      int bad[9] = { 0 };
      for (int t = 0; t < epochs; t++)
        {
          const float *w = blob + offset + (size_t) t * (size_t) l.numel;
          const float *prev = t > 0 ? w - l.numel : NULL;
          cs_weight_epoch_stats s;
          cs_error err = { 0 };
          cs_status st = cs_weight_epoch_compute (&l, w, prev, w0, true, fc, &s, &err);
          CHECK (st == CS_OK, "%s epoch %d: computed (%s)", name, t, err.message);
#define AT(key) cJSON_GetArrayItem (cJSON_GetObjectItem (jl, key), t)
          bad[0] += !matches (s.norm, AT ("norm"), 1e-6, 1e-6);
          bad[1] += !matches (s.relative_change, AT ("relative_change"), 1e-6, 1e-5);
          bad[2] += !matches (s.cosine_to_previous, AT ("cosine_to_previous"), 1e-7, 1e-6);
          bad[3] += !matches (s.distance_from_init, AT ("distance_from_init"), 1e-6, 1e-5);
          bad[4] += !matches (s.rotation, AT ("rotation"), 1e-6, 1e-5);
          bad[5] += !matches (s.stable_rank, AT ("stable_rank"), 1e-6, 1e-4);
          bad[6] += !matches (s.alpha, AT ("alpha"), 1e-6, 1e-3)
                    || !matches (s.lambda_min, AT ("lambda_min"), 1e-12, 1e-4)
                    || !matches (s.ks, AT ("ks"), 1e-4, 1e-3);
          bad[7] += !matches ((double) s.n_eigs, AT ("n_eigs"), 0, 0);
          const cJSON *jf = AT ("filter_change");
          if (cJSON_IsNull (jf))
            for (int64_t k = 0; k < l.n_filters; k++)
              bad[8] += !isnan (fc[k]);
          else
            for (int64_t k = 0; k < l.n_filters; k++)
              bad[8] += !matches (fc[k], cJSON_GetArrayItem (jf, (int) k), 1e-6, 1e-4);
          if (t == epochs - 1)
            TEST_NOTE ("%s: alpha %.4f (numpy %.4f), stable rank %.3f", name, s.alpha,
                       AT ("alpha")->valuedouble, s.stable_rank);
#undef AT
        }
      static const char *what[] = { "norm", "relative change", "cosine to previous",
                                    "distance from init", "rotation", "stable rank",
                                    "alpha (lambda_min, KS)", "ESD size", "per-filter change" };
      for (int i = 0; i < 9; i++)
        CHECK (bad[i] == 0, "%s (%s): %s as numpy (%d mismatches)", name, kind, what[i], bad[i]);
      free (fc);
      offset += (size_t) epochs * (size_t) l.numel;
    }
  CHECK (offset * sizeof (float) == bin_size, "fixtures consumed exactly");
  free (blob);
  cJSON_Delete (root);
}

static int
cmp (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* A Pareto sample of exponent a above 1, mixed with a bulk below it: the KS choice finds the
 * tail and the MLE its exponent. */
static void
test_powerlaw_recovery (void)
{
  cs_rng rng;
  cs_rng_seed (&rng, 7);
  for (double a = 2.0; a <= 4.01; a += 1.0)
    {
      int64_t n_tail = 3000, n_bulk = 1000, n = n_tail + n_bulk;
      double *x = malloc ((size_t) n * sizeof *x);
      for (int64_t i = 0; i < n_tail; i++)
        x[i] = pow (1.0 - cs_rng_uniform (&rng), -1.0 / (a - 1.0));
      for (int64_t i = n_tail; i < n; i++)
        x[i] = 0.2 + 0.7 * cs_rng_uniform (&rng);
      qsort (x, (size_t) n, sizeof *x, cmp);
      cs_powerlaw_fit fit;
      bool ok = cs_powerlaw_fit_tail (x, n, CS_POWERLAW_MIN_TAIL, &fit);
      CHECK (ok && fabs (fit.alpha - a) < 0.15 && fit.lambda_min > 0.85 && fit.lambda_min < 3.0,
             "Pareto tail of exponent %.1f: alpha %.3f, lambda_min %.3f, tail %lld, KS %.4f", a,
             fit.alpha, fit.lambda_min, (long long) fit.n_tail, fit.ks);
      free (x);
    }
  double few[5] = { 1, 2, 3, 4, 5 }, same[12];
  cs_powerlaw_fit fit;
  CHECK (!cs_powerlaw_fit_tail (few, 5, CS_POWERLAW_MIN_TAIL, &fit) && isnan (fit.alpha),
         "fewer eigenvalues than the minimum tail: no alpha");
  for (int i = 0; i < 12; i++)
    same[i] = 2.5;
  CHECK (!cs_powerlaw_fit_tail (same, 12, CS_POWERLAW_MIN_TAIL, &fit) && isnan (fit.alpha),
         "a flat spectrum: no alpha");
}

static void
test_layers_find (void)
{
  cs_error err = { 0 };
  cs_graph *g = cs_graph_new ();
  cs_shape in = cs_shape_4d (1, 2, 4, 4);
  int32_t x = cs_graph_add_input (g, "x", &in, &err);
  cs_shape ws = cs_shape_4d (3, 2, 3, 3);
  int32_t w = cs_graph_add_param (g, "c.weight", &ws, &err);
  cs_attrs a = cs_attrs_default (CS_OP_CONV2D);
  a.window.kernel[0] = a.window.kernel[1] = 3;
  int32_t c = cs_graph_add_op (g, CS_OP_CONV2D, "c", "conv2d", (int32_t[]) { x, w }, 2, &a, &err);
  /* gemm and matmul arrive with the linear-algebra op family; without them the graph is
   * shorter. */
  bool has_gemm = cs_op_get (CS_OP_GEMM) != NULL, has_matmul = has_gemm && cs_op_get (CS_OP_MATMUL);
  int32_t fc = -1, mm = -1;
  if (has_gemm)
    {
      cs_attrs fa = cs_attrs_default (CS_OP_FLATTEN);
      fa.axis.axis = 1;
      int32_t f = cs_graph_add_op (g, CS_OP_FLATTEN, "flat", NULL, &c, 1, &fa, &err);
      cs_shape fs = cs_shape_make (2, (int64_t[]) { 5, 12 });
      int32_t fw = cs_graph_add_param (g, "fc.weight", &fs, &err);
      cs_attrs ga = cs_attrs_default (CS_OP_GEMM);
      ga.gemm.trans_b = true;
      fc = cs_graph_add_op (g, CS_OP_GEMM, "fc", "linear", (int32_t[]) { f, fw }, 2, &ga, &err);
      CHECK (fc >= 0, "gemm added (%s)", err.message);
    }
  if (has_matmul)
    {
      cs_shape ms = cs_shape_make (2, (int64_t[]) { 5, 7 });
      int32_t mw = cs_graph_add_param (g, "mm.weight", &ms, &err);
      mm = cs_graph_add_op (g, CS_OP_MATMUL, "mm", NULL, (int32_t[]) { fc, mw }, 2, NULL, &err);
      CHECK (mm >= 0, "matmul added (%s)", err.message);
    }
  CHECK (c >= 0, "conv added (%s)", err.message);
  cs_weight_layer *layers;
  int32_t n;
  CHECK (cs_weight_layers_find (g, &layers, &n, &err) == CS_OK && n == 1 + has_gemm + has_matmul,
         "%d layers found", n);
  if (n >= 1)
    CHECK (layers[0].node == c && layers[0].n_filters == 3 && layers[0].n_slices == 9
           && layers[0].slice_rows == 3 && layers[0].slice_cols == 2, "conv: 3 filters, 9 slices");
  if (has_gemm && n >= 2)
    CHECK (layers[1].node == fc && layers[1].n_filters == 5 && !layers[1].filters_are_columns
           && layers[1].filter_size == 12, "linear: filters are rows");
  if (has_matmul && n >= 3)
    CHECK (layers[2].node == mm && layers[2].n_filters == 7 && layers[2].filters_are_columns
           && layers[2].filter_size == 5, "matmul: filters are columns");
  free (layers);
  cs_graph_unref (g);
}

int
main (void)
{
  test_fixtures ();
  test_powerlaw_recovery ();
  test_layers_find ();
  return test_done ();
}
