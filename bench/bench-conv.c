/* Times conv2d forward and backward on the conv layers of ResNet-18 (224x224), per layer and for
 * the whole network's convolutions, at batch 1 and 8. Compare with bench/bench-conv-torch.py.
 *
 * Usage: bench-conv [threads [repeats [layer]]]   (defaults: 2 threads, 5 repeats, every layer;
 * best time printed; layer: only the layers whose name starts with it, e.g. "layer1")
 *
 * Runs with the product's OpenMP wait policy (cs_blas_select_kernel) unless the caller set one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/threads.h"
#include "graph/ops.h"

typedef struct {
  const char *name;
  int64_t c, hw, m, k, stride, pad;
  int count;                 /* how many convs of this shape ResNet-18 has */
} layer;

static const layer resnet18[] = {
  { "conv1 7x7/2", 3, 224, 64, 7, 2, 3, 1 },
  { "layer1 3x3", 64, 56, 64, 3, 1, 1, 4 },
  { "layer2.0 3x3/2", 64, 56, 128, 3, 2, 1, 1 },
  { "layer2.0 down 1x1/2", 64, 56, 128, 1, 2, 0, 1 },
  { "layer2 3x3", 128, 28, 128, 3, 1, 1, 3 },
  { "layer3.0 3x3/2", 128, 28, 256, 3, 2, 1, 1 },
  { "layer3.0 down 1x1/2", 128, 28, 256, 1, 2, 0, 1 },
  { "layer3 3x3", 256, 14, 256, 3, 1, 1, 3 },
  { "layer4.0 3x3/2", 256, 14, 512, 3, 2, 1, 1 },
  { "layer4.0 down 1x1/2", 256, 14, 512, 1, 2, 0, 1 },
  { "layer4 3x3", 512, 7, 512, 3, 1, 1, 3 },
};

/* With one thread, CPU time: on a shared machine it ignores the time other processes hold the
 * core. With several, wall time (CPU time would add the threads up). */
static clockid_t clock_id = CLOCK_MONOTONIC;

typedef struct {
  double forward, backward_dx, backward_all;
} timing;

static int
time_layer (const layer *l, int64_t n, int repeats, timing *t)
{
  const cs_op_info *info = &cs_op_conv2d_info;
  cs_node node = { 0 };
  node.name = (char *) l->name;
  node.op = CS_OP_CONV2D;
  node.attrs = cs_attrs_default (CS_OP_CONV2D);
  cs_window_attrs *a = &node.attrs.window;
  a->kernel[0] = a->kernel[1] = (int32_t) l->k;
  a->stride[0] = a->stride[1] = (int32_t) l->stride;
  for (int i = 0; i < 4; i++)
    a->pad[i] = (int32_t) l->pad;
  a->dilation[0] = a->dilation[1] = 1;
  a->groups = 1;
  node.n_inputs = 2;
  cs_shape xs = cs_shape_4d (n, l->c, l->hw, l->hw), ws = cs_shape_4d (l->m, l->c, l->k, l->k);
  const cs_shape *shapes[2] = { &xs, &ws };
  cs_shape ys;
  cs_error err = { 0 };
  if (info->infer (&node, shapes, &ys, &err) != CS_OK)
    {
      fprintf (stderr, "%s: %s\n", l->name, err.message);
      return 1;
    }
  cs_tensor x, w, y, dy, dx, dw;
  cs_tensor_alloc (&x, &xs, NULL);
  cs_tensor_alloc (&w, &ws, NULL);
  cs_tensor_alloc (&y, &ys, NULL);
  cs_tensor_alloc (&dy, &ys, NULL);
  cs_tensor_alloc (&dx, &xs, NULL);
  cs_tensor_alloc (&dw, &ws, NULL);
  for (int64_t i = 0; i < cs_tensor_numel (&x); i++)
    x.data[i] = (float) ((i * 7919) % 1000) / 1000.0f - 0.5f;
  for (int64_t i = 0; i < cs_tensor_numel (&w); i++)
    w.data[i] = (float) ((i * 104729) % 1000) / 1000.0f - 0.5f;
  for (int64_t i = 0; i < cs_tensor_numel (&dy); i++)
    dy.data[i] = (float) ((i * 31) % 1000) / 1000.0f - 0.5f;
  int64_t wsize = info->workspace (&node, shapes, &ys, n);
  float *work = cs_alloc_floats (wsize > 0 ? wsize : 1);
  int64_t asize = info->aux_size (&node, shapes, &ys, n);
  cs_shape as = cs_shape_make (1, (int64_t[]) { asize > 0 ? asize : 1 });
  cs_tensor aux;
  cs_tensor_alloc (&aux, &as, NULL);
  const cs_tensor *ins[2] = { &x, &w };
  cs_tensor *din_x[2] = { &dx, NULL };
  cs_tensor *din_all[2] = { &dx, &dw };
  cs_op_call call = { .node = &node, .n_inputs = 2, .in = ins, .out = &y, .dout = &dy,
                      .din = din_x, .work = work, .aux = &aux };
  t->forward = t->backward_dx = t->backward_all = 1e30;
  for (int r = 0; r < repeats + 1; r++) /* the first round warms caches and thread pools */
    {
      double t0 = cs_clock_seconds (clock_id);
      info->forward (&call);
      double t1 = cs_clock_seconds (clock_id);
      call.din = din_x;
      info->backward (&call);
      double t2 = cs_clock_seconds (clock_id);
      call.din = din_all;
      info->backward (&call);
      double t3 = cs_clock_seconds (clock_id);
      if (r > 0)
        {
          if (t1 - t0 < t->forward) t->forward = t1 - t0;
          if (t2 - t1 < t->backward_dx) t->backward_dx = t2 - t1;
          if (t3 - t2 < t->backward_all) t->backward_all = t3 - t2;
        }
    }
  cs_free_floats (work);
  cs_tensor_free (&aux);
  cs_tensor_free (&x);
  cs_tensor_free (&w);
  cs_tensor_free (&y);
  cs_tensor_free (&dy);
  cs_tensor_free (&dx);
  cs_tensor_free (&dw);
  return 0;
}

int
main (int argc, char **argv)
{
  cs_blas_select_kernel (argc, argv);
  int threads = argc > 1 ? atoi (argv[1]) : 2;
  int repeats = argc > 2 ? atoi (argv[2]) : 5;
  const char *only = argc > 3 ? argv[3] : "";
  cs_threads_set (threads);
  if (threads == 1)
    clock_id = CLOCK_PROCESS_CPUTIME_ID;
  printf ("# conv2d on ResNet-18's layers, %d threads, OpenBLAS kernel %s, OMP_WAIT_POLICY=%s, "
          "GOMP_SPINCOUNT=%s, best of %d (ms, %s)\n", threads, cs_blas_kernel_name (),
          getenv ("OMP_WAIT_POLICY") ? getenv ("OMP_WAIT_POLICY") : "(unset)",
          getenv ("GOMP_SPINCOUNT") ? getenv ("GOMP_SPINCOUNT") : "(unset)", repeats,
          threads == 1 ? "CPU time" : "wall time");
  static const int64_t batches[] = { 1, 8 };
  for (int b = 0; b < 2; b++)
    {
      int64_t n = batches[b];
      printf ("%-22s %5s %10s %10s %10s %8s\n", "layer", "batch", "forward", "back-dx", "back-all",
              "GFLOP/s");
      timing total = { 0 };
      for (size_t i = 0; i < sizeof resnet18 / sizeof resnet18[0]; i++)
        {
          const layer *l = &resnet18[i];
          if (strncmp (l->name, only, strlen (only)) != 0)
            continue;
          timing t;
          if (time_layer (l, n, repeats, &t) != 0)
            return 1;
          int64_t oh = (l->hw + 2 * l->pad - l->k) / l->stride + 1;
          double flops = 2.0 * (double) (n * l->m * oh * oh * l->c * l->k * l->k);
          printf ("%-22s %5lld %10.3f %10.3f %10.3f %8.1f\n", l->name, (long long) n, 1e3 * t.forward,
                  1e3 * t.backward_dx, 1e3 * t.backward_all, flops / t.forward * 1e-9);
          total.forward += l->count * t.forward;
          total.backward_dx += l->count * t.backward_dx;
          total.backward_all += l->count * t.backward_all;
        }
      printf ("%-22s %5lld %10.3f %10.3f %10.3f\n\n", only[0] ? "these layers" : "all 20 convs",
              (long long) n, 1e3 * total.forward, 1e3 * total.backward_dx, 1e3 * total.backward_all);
    }
  return 0;
}
