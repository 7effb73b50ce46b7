/* Occlusion by incremental inference against occlusion by full forwards (the same windows,
 * one full forward each): the same raw map to within 1e-5 of its largest magnitude (or, when
 * larger, twice what the full-forward path differs from itself between batch 1 and the test's
 * batch: float32 rounding differs between conv algorithms, which the batch picks, and between
 * OpenBLAS kernels: under OPENBLAS_CORETYPE=Haswell the MobileNetV2 and DenseNet maps differed
 * by 1.2e-5, where the Cooperlake kernel gives 4e-6 and 0), the same
 * displayed map, the same window count; for the class logit and for a unit of a middle layer
 * (whose map is then read whole). With one argument DIR: the hand-built networks and the
 * committed ONNX models in DIR (tests/reference/data); with arguments
 * MODEL.onnx:WINDOW:STRIDE[:BATCH] ...: those models (the zoo, exported by
 * tools/make-occlusion-models.py). */
#include <string.h>

#include "io/model_load.h"
#include "nets.h"

#define RAW_TOL 1e-5
#define MAP_TOL 1e-4

/* The middle 4-D node of the graph: a unit there reads a partial region of its layer. */
static int32_t
middle_spatial (const cs_graph *g)
{
  int32_t ids[4096], n = 0;
  for (int32_t id = 0; id < g->n_nodes && n < 4096; id++)
    if (cs_graph_node_is_spatial (g, id) && g->nodes[id].op != CS_OP_INPUT)
      ids[n++] = id;
  return n > 0 ? ids[n / 2] : -1;
}

static void
compare (const char *label, const cs_model *m, int32_t window, int32_t stride, int32_t batch,
         int32_t unit_layer)
{
  cs_error err = { 0 };
  cs_tensor x;
  net_input (m, 7, &x);
  cs_attribution_params p = CS_ATTRIBUTION_PARAMS_DEFAULT;
  p.method = CS_METHOD_OCCLUSION;
  p.window = window;
  p.stride = stride;
  p.baseline = CS_BASELINE_BLUR;
  if (unit_layer >= 0)
    {
      p.unit_layer = unit_layer;
      p.unit_channel = 1;
    }
  const char *what = unit_layer >= 0 ? m->graph->nodes[unit_layer].name : "logit";
  cs_attribution full, inc;
  p.full_forwards = true;
  double t0 = cs_attribution_now ();
  cs_status st = net_explain (m, batch, &x, &p, NULL, &full, &err);
  double t1 = cs_attribution_now ();
  CHECK (st == CS_OK, "%s (%s, %d/%d): full forwards: %s", label, what, window, stride,
         st == CS_OK ? "ok" : err.message);
  p.full_forwards = false;
  cs_status st2 = net_explain (m, batch, &x, &p, NULL, &inc, &err);
  double t2 = cs_attribution_now ();
  CHECK (st2 == CS_OK, "%s (%s, %d/%d): incremental: %s", label, what, window, stride,
         st2 == CS_OK ? "ok" : err.message);
  /* The reference's own rounding noise: the same full forwards at batch 1. */
  double noise = 0;
  if (st == CS_OK && st2 == CS_OK && batch != 1)
    {
      cs_attribution one;
      p.full_forwards = true;
      if (net_explain (m, 1, &x, &p, NULL, &one, &err) == CS_OK)
        {
          noise = net_rel_diff (&one.raw, &full.raw);
          cs_attribution_free (&one);
        }
    }
  if (st == CS_OK && st2 == CS_OK)
    {
      double raw = net_rel_diff (&inc.raw, &full.raw), map = net_rel_diff (&inc.map, &full.map);
      double raw_tol = 2 * noise > RAW_TOL ? 2 * noise : RAW_TOL;
      CHECK (raw <= raw_tol && map <= MAP_TOL && inc.passes == full.passes,
             "%s (%s, window %d stride %d, %d windows): raw differs by %.3g of its max (limit %g; full forwards "
             "at batch 1 and %d differ by %.3g), map by %.3g (limit %g)",
             label, what, window, stride, inc.passes - 1, raw, raw_tol, batch, noise, map, MAP_TOL);
      TEST_NOTE ("%s: full forwards %.2f s, incremental %.2f s (not a benchmark)", label, t1 - t0, t2 - t1);
    }
  cs_attribution_free (&full);
  cs_attribution_free (&inc);
  cs_tensor_free (&x);
}

static void
onnx_model (const char *spec)
{
  char path[4096];
  int32_t window = 0, stride = 0, batch = 16;
  const char *colon = strchr (spec, ':');
  size_t len = colon != NULL ? (size_t) (colon - spec) : strlen (spec);
  if (len >= sizeof path || colon == NULL || sscanf (colon + 1, "%d:%d:%d", &window, &stride, &batch) < 2)
    {
      CHECK (false, "%s: not MODEL:WINDOW:STRIDE[:BATCH]", spec);
      return;
    }
  memcpy (path, spec, len);
  path[len] = '\0';
  cs_error err = { 0 };
  cs_model *m = cs_model_load (path, NULL, &err);
  CHECK (m != NULL, "%s: load%s%s", path, m ? "" : ": ", m ? "" : err.message);
  if (m == NULL)
    return;
  compare (path, m, window, stride, batch, -1);
  cs_model_free (m);
}

int
main (int argc, char **argv)
{
  /* The same batches on every run: the comparison is then deterministic for a kernel. */
  cs_attribution_measure_batches (false);
  if (argc > 1 && strchr (argv[1], ':') != NULL)
    {
      for (int a = 1; a < argc; a++)
        onnx_model (argv[a]);
      return test_done ();
    }
  cs_error err = { 0 };
  cs_model *plain = net_plain (3, &err), *residual = net_residual (5, &err);
  CHECK (plain != NULL && residual != NULL, "hand-built networks");
  if (plain == NULL || residual == NULL)
    return test_done ();
  compare ("plain", plain, 2, 1, 5, -1);
  compare ("plain", plain, 3, 2, 64, -1);
  compare ("residual", residual, 2, 1, 7, -1);
  compare ("residual", residual, 4, 3, 1, -1);
  compare ("residual", residual, 2, 2, 4, middle_spatial (residual->graph));
  cs_model_free (plain);
  cs_model_free (residual);

  const char *dir = argc > 1 ? argv[1] : NULL;
  CHECK (dir != NULL, "the directory of the committed ONNX models is given");
  const char *names[] = { "resnet-small.onnx", "resnet-small-bn.onnx", "lenet.onnx" };
  for (size_t i = 0; dir != NULL && i < sizeof names / sizeof names[0]; i++)
    {
      char path[4096];
      snprintf (path, sizeof path, "%s/%s", dir, names[i]);
      cs_model *m = cs_model_load (path, NULL, &err);
      CHECK (m != NULL, "%s: load%s%s", names[i], m ? "" : ": ", m ? "" : err.message);
      if (m == NULL)
        continue;
      int32_t k = (int32_t) (m->height / 4 > 2 ? m->height / 4 : 2);
      compare (names[i], m, k, k / 2, 8, -1);
      compare (names[i], m, 3, 2, 3, -1);
      int32_t mid = middle_spatial (m->graph);
      if (mid >= 0 && m->graph->nodes[mid].shape.dim[1] > 1)
        compare (names[i], m, k, k / 2, 8, mid);
      cs_model_free (m);
    }
  return test_done ();
}
