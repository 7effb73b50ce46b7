/* The best single-thread CPU time of a whole model's forward and of its backward to the input,
 * in one process: comparable between two builds on a machine busy with other jobs, where wall
 * times (convscope-cli bench) move by 2x between identical runs.
 *
 * Usage: bench-exec MODEL.onnx [REPEATS [BATCH]]   (defaults 25 and 1; the first run is not
 * counted)
 *
 * One thread, CLOCK_THREAD_CPUTIME_ID: time the thread spends waiting for a CPU is not
 * counted, what other jobs do to the caches is. Alternate the two builds a few times and
 * compare the minima. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "base/threads.h"
#include "base/clock.h"
#include "exec/exec.h"
#include "io/onnx.h"

static double
cpu_now (void)
{
  return cs_clock_seconds (CLOCK_THREAD_CPUTIME_ID);
}

int
main (int argc, char **argv)
{
  cs_blas_select_kernel (argc, argv);
  if (argc < 2)
    {
      fprintf (stderr, "usage: bench-exec MODEL.onnx [REPEATS]\n");
      return 2;
    }
  int repeats = argc > 2 ? atoi (argv[2]) : 25;
  if (repeats < 1)
    repeats = 1;
  int batch = argc > 3 ? atoi (argv[3]) : 1;
  if (batch < 1)
    batch = 1;
  cs_threads_set (1);
  cs_error err = { 0 };
  cs_model *m = cs_onnx_load (argv[1], &err);
  cs_exec *e = m != NULL ? cs_exec_new (m, batch, &err) : NULL;
  if (e == NULL)
    {
      fprintf (stderr, "bench-exec: %s: %s\n", argv[1], err.message);
      cs_model_free (m);
      return 1;
    }
  const cs_node *in = &m->graph->nodes[m->graph->input_node];
  cs_shape xs = in->shape;
  xs.dim[0] = batch;
  cs_tensor x, seed;
  cs_tensor_alloc (&x, &xs, NULL);
  for (int64_t i = 0; i < cs_tensor_numel (&x); i++)
    x.data[i] = (float) ((i * 7919) % 1000) / 1000.0f - 0.5f;
  const int32_t out = m->graph->output_node;
  double best_f = 1e30, best_b = 1e30;
  int status = 0;
  for (int r = 0; r <= repeats && status == 0; r++)
    {
      double t0 = cpu_now ();
      status |= cs_exec_forward (e, &x, &err) != CS_OK;
      double t1 = cpu_now ();
      if (status == 0 && r == 0)
        {
          /* The seed: d(each sample's first logit), the shape of the output. */
          cs_tensor_alloc (&seed, &cs_exec_value (e, out)->shape, NULL);
          for (int s = 0; s < batch; s++)
            seed.data[s * (cs_tensor_numel (&seed) / batch)] = 1.0f;
        }
      status |= status == 0 && cs_exec_backward (e, out, &seed, CS_GRAD_INPUT, &err) != CS_OK;
      double t2 = cpu_now ();
      if (r > 0 && t1 - t0 < best_f)
        best_f = t1 - t0;
      if (r > 0 && t2 - t1 < best_b)
        best_b = t2 - t1;
    }
  if (status != 0)
    fprintf (stderr, "bench-exec: %s: %s\n", argv[1], err.message);
  else
    printf ("forward_ms=%.2f backward_ms=%.2f (best CPU time of %d at batch %d, 1 thread, OpenBLAS "
            "kernel %s)\n", 1e3 * best_f, 1e3 * best_b, repeats, batch, cs_blas_kernel_name ());
  if (status == 0)
    cs_tensor_free (&seed);
  cs_tensor_free (&x);
  cs_exec_free (e);
  cs_model_free (m);
  return status;
}
