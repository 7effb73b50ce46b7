/* Backward through imported ONNX graphs: for a few pytorch-converted cases, the gradient of
 * sum(r * output) with respect to the input from cs_exec_backward against central differences. */
#include <string.h>
#include <unistd.h>

#include "base/rng.h"
#include "onnx-case.h"
#include "testlib.h"

#define TESTDATA "/usr/share/libonnx-testdata/data/pytorch-converted"

static double
loss (cs_exec *e, const cs_model *m, const cs_tensor *x, const cs_tensor *r)
{
  cs_error err = { 0 };
  const cs_tensor *y;
  double s = 0;

  if (cs_exec_forward (e, x, &err) != CS_OK)
    return NAN;
  y = cs_exec_value (e, m->graph->output_node);
  for (int64_t k = 0; k < cs_tensor_numel (y); k++)
    s += (double) y->data[k] * r->data[k];
  return s;
}

static void
check_case (const char *name)
{
  char dir[512], set[600], path[700], why[600];
  cs_error err = { 0 };
  cs_model *m;
  cs_tensor x = { 0 }, r = { 0 };
  cs_exec *e = NULL;
  const cs_tensor *y, *g;
  cs_rng rng;
  int bad = 0, checked = 0;
  double worst = 0;

  snprintf (dir, sizeof dir, TESTDATA "/%s", name);
  snprintf (set, sizeof set, "%s/test_data_set_0", dir);
  snprintf (path, sizeof path, "%s/input_0.pb", set);
  m = onnx_test_load_case (dir, set, &err);
  if (m == NULL || !onnx_test_read_tensor (path, &x, why, sizeof why))
    {
      CHECK (false, "%s: %s", name, m == NULL ? err.message : why);
      cs_model_free (m);
      return;
    }
  e = cs_exec_new (m, (int32_t) x.shape.dim[0], &err);
  if (e == NULL || cs_exec_forward (e, &x, &err) != CS_OK)
    {
      CHECK (false, "%s: %s", name, err.message);
      goto out;
    }
  y = cs_exec_value (e, m->graph->output_node);
  cs_tensor_alloc (&r, &y->shape, &err);
  cs_rng_seed (&rng, 7);
  for (int64_t k = 0; k < cs_tensor_numel (&r); k++)
    r.data[k] = (float) (cs_rng_uniform (&rng) * 2 - 1);
  if (cs_exec_backward (e, m->graph->output_node, &r, CS_GRAD_INPUT, &err) != CS_OK
      || (g = cs_exec_grad (e, m->graph->input_node)) == NULL)
    {
      CHECK (false, "%s: backward: %s", name, err.message);
      goto out;
    }
  {
    /* Copy: the next forwards reuse the exec's buffers. */
    cs_tensor gc = { 0 };
    int64_t n = cs_tensor_numel (&x), stride = n > 60 ? n / 60 : 1;
    cs_tensor_copy (&gc, g, &err);
    for (int64_t k = 0; k < n; k += stride)
      {
        float saved = x.data[k];
        double h = 1e-2, lp, lm, fd;
        x.data[k] = saved + (float) h;
        lp = loss (e, m, &x, &r);
        x.data[k] = saved - (float) h;
        lm = loss (e, m, &x, &r);
        x.data[k] = saved;
        fd = (lp - lm) / (2 * h);
        checked++;
        if (!(fabs (fd - gc.data[k]) <= 2e-3 + 2e-2 * fabs (fd)))
          bad++;
        if (fabs (fd - gc.data[k]) > worst)
          worst = fabs (fd - gc.data[k]);
      }
    cs_tensor_free (&gc);
  }
  CHECK (bad == 0 && checked > 0, "%s: d(sum r*y)/dx matches central differences at %d elements "
         "(worst |diff| %g, %d off)", name, checked, worst, bad);
out:
  cs_exec_free (e);
  cs_tensor_free (&x);
  cs_tensor_free (&r);
  cs_model_free (m);
}

int
main (void)
{
  static const char *cases[] = { "test_Conv2d", "test_Conv2d_groups", "test_Linear",
                                 "test_BatchNorm2d_eval", "test_Tanh" };

  if (access (TESTDATA "/test_Conv2d/model.onnx", 0) != 0)
    TEST_SKIP_ALL ("libonnx-testdata is not installed");
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
    check_case (cases[k]);
  return test_done ();
}
