/* Compares forward logits and input gradients against PyTorch's (tools/make-reference.py).
 *
 * Usage: test-reference DIR NAME...  For each NAME and each export of it found in DIR
 * (NAME.onnx, NAME-nofold.onnx, NAME-bn.onnx), loads the model, runs the fixed input
 * NAME.input.npy forward and back-propagates a one-hot seed on NAME.target.npy's classes. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "exec/exec.h"
#include "io/model_load.h"
#include "io/npy.h"
#include "testlib.h"

/* Limits against PyTorch's float64 results: the larger of a fixed bound and TOL_FACTOR times
 * PyTorch's own float32 error (NAME.tolerance.npy), since near ReLU and max-pool kinks float32
 * rounding alone flips decisions in deep nets. */
#define LOGITS_RTOL 1e-4
#define GRAD_RTOL 1e-3
#define GRAD_DECORRELATION 1e-4 /* 1 - correlation */
#define TOL_FACTOR 4.0

/* max|a - b| / max|b|, the relative error this suite reports. */
static double
relative_error (const float *a, const float *b, int64_t n)
{
  double diff = 0, scale = 0;
  for (int64_t i = 0; i < n; i++)
    {
      diff = fmax (diff, fabs ((double) a[i] - (double) b[i]));
      scale = fmax (scale, fabs ((double) b[i]));
    }
  return scale > 0 ? diff / scale : diff;
}

static double
correlation (const float *a, const float *b, int64_t n)
{
  double ma = 0, mb = 0;
  for (int64_t i = 0; i < n; i++)
    {
      ma += a[i];
      mb += b[i];
    }
  ma /= (double) n;
  mb /= (double) n;
  double sab = 0, saa = 0, sbb = 0;
  for (int64_t i = 0; i < n; i++)
    {
      sab += (a[i] - ma) * (b[i] - mb);
      saa += (a[i] - ma) * (a[i] - ma);
      sbb += (b[i] - mb) * (b[i] - mb);
    }
  return saa > 0 && sbb > 0 ? sab / sqrt (saa * sbb) : (saa == sbb ? 1.0 : 0.0);
}

typedef struct {
  cs_tensor input, target, logits, grad;
  double pytorch_f32[3]; /* PyTorch float32 vs float64: logits, gradient, 1 - correlation */
} reference;

static void
reference_free (reference *r)
{
  cs_tensor_free (&r->input);
  cs_tensor_free (&r->target);
  cs_tensor_free (&r->logits);
  cs_tensor_free (&r->grad);
}

static bool
reference_load (const char *dir, const char *name, reference *r)
{
  static const char *const parts[] = { "input", "target", "logits", "grad" };
  cs_tensor *dst[] = { &r->input, &r->target, &r->logits, &r->grad };
  memset (r, 0, sizeof *r);
  for (int i = 0; i < 4; i++)
    {
      char path[4096];
      cs_error err = { 0 };
      snprintf (path, sizeof path, "%s/%s.%s.npy", dir, name, parts[i]);
      if (cs_npy_load (path, dst[i], &err) != CS_OK)
        {
          CHECK (false, "%s: %s", name, err.message);
          reference_free (r);
          return false;
        }
    }
  char path[4096];
  cs_tensor tol = { 0 };
  snprintf (path, sizeof path, "%s/%s.tolerance.npy", dir, name);
  if (access (path, R_OK) == 0 && cs_npy_load (path, &tol, NULL) == CS_OK)
    for (int64_t i = 0; i < 3 && i < cs_tensor_numel (&tol); i++)
      r->pytorch_f32[i] = tol.data[i];
  cs_tensor_free (&tol);
  return true;
}

static void
check_model (const char *path, const char *label, const reference *r)
{
  cs_error err = { 0 };
  cs_model *m = cs_model_load (path, NULL, &err);
  CHECK (m != NULL, "%s: load%s%s", label, m ? "" : ": ", m ? "" : err.message);
  if (m == NULL)
    return;

  int32_t n = (int32_t) r->input.shape.dim[0];
  int32_t classes = (int32_t) r->logits.shape.dim[1];
  cs_exec *e = cs_exec_new (m, n, &err);
  CHECK (e != NULL, "%s: exec%s%s", label, e ? "" : ": ", e ? "" : err.message);
  if (e == NULL)
    {
      cs_model_free (m);
      return;
    }

  const cs_graph *g = m->graph;
  cs_status st = cs_exec_forward (e, &r->input, &err);
  CHECK (st == CS_OK, "%s: forward%s%s", label, st == CS_OK ? "" : ": ", st == CS_OK ? "" : err.message);
  const cs_tensor *out = st == CS_OK ? cs_exec_value (e, g->output_node) : NULL;
  bool shape_ok = out != NULL && cs_tensor_numel (out) == cs_tensor_numel (&r->logits)
                  && out->shape.dim[0] == n;
  CHECK (st != CS_OK || shape_ok, "%s: logits shape", label);
  if (shape_ok)
    {
      double rel = relative_error (out->data, r->logits.data, cs_tensor_numel (&r->logits));
      double limit = fmax (LOGITS_RTOL, TOL_FACTOR * r->pytorch_f32[0]);
      CHECK (rel <= limit, "%s: logits relative error %.3g (max|a-b|/max|b|, limit %.3g; PyTorch float32: %.3g)",
             label, rel, limit, r->pytorch_f32[0]);

      cs_tensor seed = { 0 };
      if (cs_tensor_alloc (&seed, &out->shape, &err) == CS_OK)
        {
          for (int32_t i = 0; i < n; i++)
            {
              int32_t t = (int32_t) r->target.data[i];
              if (t >= 0 && t < classes)
                seed.data[(int64_t) i * classes + t] = 1.0f;
            }
          st = cs_exec_backward (e, g->output_node, &seed, CS_GRAD_INPUT, &err);
          CHECK (st == CS_OK, "%s: backward%s%s", label, st == CS_OK ? "" : ": ",
                 st == CS_OK ? "" : err.message);
          const cs_tensor *grad = st == CS_OK ? cs_exec_grad (e, g->input_node) : NULL;
          bool grad_ok = grad != NULL && cs_tensor_numel (grad) == cs_tensor_numel (&r->grad);
          CHECK (st != CS_OK || grad_ok, "%s: input gradient present with the input's shape", label);
          if (grad_ok)
            {
              int64_t k = cs_tensor_numel (&r->grad);
              double grel = relative_error (grad->data, r->grad.data, k);
              double corr = correlation (grad->data, r->grad.data, k);
              double glimit = fmax (GRAD_RTOL, TOL_FACTOR * r->pytorch_f32[1]);
              double climit = fmax (GRAD_DECORRELATION, TOL_FACTOR * r->pytorch_f32[2]);
              CHECK (grel <= glimit,
                     "%s: input gradient relative error %.3g (limit %.3g; PyTorch float32: %.3g)",
                     label, grel, glimit, r->pytorch_f32[1]);
              CHECK (1.0 - corr <= climit,
                     "%s: input gradient 1 - correlation %.3g (limit %.3g; PyTorch float32: %.3g)",
                     label, 1.0 - corr, climit, r->pytorch_f32[2]);
            }
          cs_tensor_free (&seed);
        }
    }
  cs_exec_free (e);
  cs_model_free (m);
}

int
main (int argc, char **argv)
{
  if (argc < 3)
    {
      fprintf (stderr, "usage: %s DIR NAME...\n", argv[0]);
      return 2;
    }
  const char *dir = argv[1];
  static const char *const variants[] = { "", "-nofold", "-bn" };
  for (int a = 2; a < argc; a++)
    {
      reference r;
      if (!reference_load (dir, argv[a], &r))
        continue;
      int found = 0;
      for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++)
        {
          char path[4096], label[256];
          snprintf (path, sizeof path, "%s/%s%s.onnx", dir, argv[a], variants[v]);
          snprintf (label, sizeof label, "%s%s.onnx", argv[a], variants[v]);
          if (access (path, R_OK) != 0)
            continue;
          found++;
          check_model (path, label, &r);
        }
      CHECK (found > 0, "%s: at least one export found in %s", argv[a], dir);
      reference_free (&r);
    }
  return test_done ();
}
