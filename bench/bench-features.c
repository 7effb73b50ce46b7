/* Times the feature tools on a Fashion-MNIST-sized CNN (conv16-pool-conv32-pool-fc, random
 * weights: speed does not depend on them): top-k over the 10,000 test images for one layer,
 * and activation maximisation of one unit and of a whole layer.
 *
 * Usage: bench-features [threads [images.idx.gz]]   (defaults: 2 threads, Debian's
 * Fashion-MNIST t10k images; random images when the file is missing) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "base/clock.h"
#include "base/threads.h"
#include "features/actmax.h"
#include "features/topk.h"

static int32_t
add_conv (cs_graph *g, const char *name, int32_t x, int64_t cin, int64_t cout, cs_error *err)
{
  char wn[64], bn[64];
  snprintf (wn, sizeof wn, "%s.weight", name);
  snprintf (bn, sizeof bn, "%s.bias", name);
  cs_attrs a = cs_attrs_default (CS_OP_CONV2D);
  a.window.kernel[0] = a.window.kernel[1] = 3;
  for (int i = 0; i < 4; i++)
    a.window.pad[i] = 1;
  cs_shape ws = cs_shape_4d (cout, cin, 3, 3), bs = cs_shape_make (1, (int64_t[]) { cout });
  int32_t w = cs_graph_add_param (g, wn, &ws, err), b = cs_graph_add_param (g, bn, &bs, err);
  return cs_graph_add_op (g, CS_OP_CONV2D, name, NULL, (int32_t[]) { x, w, b }, 3, &a, err);
}

static int32_t
add_unary (cs_graph *g, cs_op op, const char *name, int32_t x, cs_error *err)
{
  cs_attrs a = cs_attrs_default (op);
  if (op == CS_OP_MAXPOOL)
    a.window.kernel[0] = a.window.kernel[1] = a.window.stride[0] = a.window.stride[1] = 2;
  return cs_graph_add_op (g, op, name, NULL, (int32_t[]) { x }, 1, &a, err);
}

static cs_model *
demo_cnn (cs_error *err)
{
  cs_graph *g = cs_graph_new ();
  cs_shape in = cs_shape_4d (1, 1, 28, 28);
  int32_t x = cs_graph_add_input (g, "input", &in, err);
  x = add_conv (g, "conv1", x, 1, 16, err);
  x = add_unary (g, CS_OP_RELU, "relu1", x, err);
  x = add_unary (g, CS_OP_MAXPOOL, "pool1", x, err);
  x = add_conv (g, "conv2", x, 16, 32, err);
  x = add_unary (g, CS_OP_RELU, "relu2", x, err);
  x = add_unary (g, CS_OP_MAXPOOL, "pool2", x, err);
  x = add_unary (g, CS_OP_FLATTEN, "flatten", x, err);
  cs_attrs a = cs_attrs_default (CS_OP_GEMM);
  a.gemm.trans_b = true;
  cs_shape ws = cs_shape_make (2, (int64_t[]) { 10, 32 * 7 * 7 }), bs = cs_shape_make (1, (int64_t[]) { 10 });
  int32_t w = cs_graph_add_param (g, "fc.weight", &ws, err), b = cs_graph_add_param (g, "fc.bias", &bs, err);
  x = cs_graph_add_op (g, CS_OP_GEMM, "fc", NULL, (int32_t[]) { x, w, b }, 3, &a, err);
  cs_model *m = x < 0 ? NULL : cs_model_new (g, err);
  cs_graph_unref (g);
  if (m != NULL)
    {
      cs_model_init_weights (m, 1);
      m->mean[0] = 0.2860f;
      m->std[0] = 0.3530f;
    }
  return m;
}

typedef struct {
  const uint8_t *pixels;
  float mean, std;
} images;

static cs_status
fill (void *user_data, int64_t first, int32_t n, float *x, int32_t *labels, cs_error *err)
{
  const images *im = user_data;
  for (int64_t i = 0; i < (int64_t) n * 784; i++)
    x[i] = ((float) im->pixels[first * 784 + i] / 255.0f - im->mean) / im->std;
  return CS_OK;
}

int
main (int argc, char **argv)
{
  cs_blas_select_kernel (argc, argv);
  int threads = argc > 1 ? atoi (argv[1]) : 2;
  const char *path = argc > 2 ? argv[2] : "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
  cs_threads_set (threads);
  const int64_t n = 10000;
  uint8_t *pixels = malloc ((size_t) n * 784);
  gzFile f = gzopen (path, "rb");
  uint8_t header[16];
  if (f == NULL || gzread (f, header, 16) != 16 || gzread (f, pixels, (unsigned) (n * 784)) != (int) (n * 784))
    {
      fprintf (stderr, "%s: unreadable, using random images\n", path);
      for (int64_t i = 0; i < n * 784; i++)
        pixels[i] = (uint8_t) (rand () & 255);
    }
  if (f != NULL)
    gzclose (f);

  cs_error err = { 0 };
  cs_model *m = demo_cnn (&err);
  if (m == NULL)
    return fprintf (stderr, "%s\n", err.message), 1;
  images im = { pixels, m->mean[0], m->std[0] };
  int32_t relu2 = cs_graph_find (m->graph, "relu2"), conv2 = cs_graph_find (m->graph, "conv2");
  printf ("threads %d, OpenBLAS kernel %s\n", threads, cs_blas_kernel_name ());

  cs_exec *e = cs_exec_new (m, 256, &err);
  for (int rep = 0; rep < 2; rep++)
    {
      cs_topk_params p = { relu2, -1, 9, CS_TOPK_MAX };
      cs_topk_result r;
      double t0 = cs_clock_seconds (CLOCK_MONOTONIC);
      if (cs_topk_run (e, n, fill, &im, &p, NULL, &r, &err) != CS_OK)
        return fprintf (stderr, "%s\n", err.message), 1;
      printf ("top-9 of 10000 images, relu2 (all 32 channels), batch 256: %.3f s\n",
              cs_clock_seconds (CLOCK_MONOTONIC) - t0);
      cs_topk_result_free (&r);
    }
  /* the forward pass alone, for comparison */
  float *x = malloc (256 * 784 * sizeof (float));
  double t0 = cs_clock_seconds (CLOCK_MONOTONIC);
  for (int64_t first = 0; first < n; first += 256)
    {
      int32_t b = n - first < 256 ? (int32_t) (n - first) : 256;
      fill (&im, first, b, x, NULL, &err);
      cs_shape xs = cs_shape_4d (b, 1, 28, 28);
      cs_tensor xt = cs_tensor_view (&xs, x);
      cs_exec_forward_until (e, &xt, relu2, &err);
    }
  printf ("forward alone to relu2: %.3f s\n", cs_clock_seconds (CLOCK_MONOTONIC) - t0);
  free (x);
  cs_exec_free (e);

  int32_t units[32];
  for (int i = 0; i < 32; i++)
    units[i] = i;
  int32_t steps[2] = { 128, 256 };
  for (int s = 0; s < 2; s++)
    {
      cs_actmax_params p = CS_ACTMAX_PARAMS_DEFAULT;
      p.steps = steps[s];
      cs_actmax_result r;
      e = cs_exec_new (m, 32, &err);
      t0 = cs_clock_seconds (CLOCK_MONOTONIC);
      cs_actmax_run (e, conv2, units, 1, &p, NULL, NULL, NULL, &r, &err);
      double one = cs_clock_seconds (CLOCK_MONOTONIC) - t0;
      cs_actmax_result_free (&r);
      t0 = cs_clock_seconds (CLOCK_MONOTONIC);
      cs_actmax_run (e, conv2, units, 32, &p, NULL, NULL, NULL, &r, &err);
      printf ("activation maximisation, %d steps: 1 unit %.3f s, 32 units batched %.3f s\n", p.steps, one,
              cs_clock_seconds (CLOCK_MONOTONIC) - t0);
      cs_actmax_result_free (&r);
      cs_exec_free (e);
    }
  cs_model_free (m);
  free (pixels);
  return 0;
}
