/* Training throughput: images per second of SGD steps on a small CNN (or ARCH), batch 64.
 * Usage: bench-train [THREADS] [STEPS] [model.json|-] [BATCH] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/rng.h"
#include "base/threads.h"
#include "io/model_json.h"
#include "training/trainer.h"

static const char *arch_json =
  "{\"format\": \"convscope-model/1\", \"input\": [1, 28, 28], \"nodes\": ["
  "  {\"name\": \"conv1\", \"op\": \"conv2d\", \"out_channels\": 8, \"kernel\": 3, \"padding\": 1},"
  "  {\"name\": \"bn1\", \"op\": \"batchnorm2d\"},"
  "  {\"name\": \"relu1\", \"op\": \"relu\"},"
  "  {\"name\": \"pool1\", \"op\": \"maxpool2d\", \"kernel\": 2},"
  "  {\"name\": \"conv2\", \"op\": \"conv2d\", \"out_channels\": 16, \"kernel\": 3, \"padding\": 1},"
  "  {\"name\": \"relu2\", \"op\": \"relu\"},"
  "  {\"name\": \"pool2\", \"op\": \"maxpool2d\", \"kernel\": 2},"
  "  {\"name\": \"flat\", \"op\": \"flatten\"},"
  "  {\"name\": \"drop\", \"op\": \"dropout\", \"p\": 0.25},"
  "  {\"name\": \"fc\", \"op\": \"linear\", \"out_features\": 10}]}";

static double
now (clockid_t c)
{
  struct timespec ts;
  clock_gettime (c, &ts);
  return (double) ts.tv_sec + 1e-9 * (double) ts.tv_nsec;
}

int
main (int argc, char **argv)
{
  cs_blas_select_kernel (argc, argv);
  int threads = argc > 1 ? atoi (argv[1]) : 0;
  int steps = argc > 2 ? atoi (argv[2]) : 20;
  const char *arch = argc > 3 && strcmp (argv[3], "-") != 0 ? argv[3] : NULL;
  int batch = argc > 4 ? atoi (argv[4]) : 64;
  if (batch < 1 || batch > 4096)
    batch = 64;
  cs_threads_set (threads);
  cs_error err = { 0 };
  cs_model *m;
  if (arch != NULL)
    m = cs_model_json_load (arch, 1, &err);
  else
    {
      cs_graph *g = cs_model_json_parse (arch_json, strlen (arch_json), "bench", &err);
      m = g != NULL ? cs_model_new (g, &err) : NULL;
      if (g != NULL)
        cs_graph_unref (g);
      if (m != NULL)
        cs_model_init_weights (m, 1);
    }
  if (m == NULL)
    {
      fprintf (stderr, "%s\n", err.message);
      return 1;
    }
  cs_trainer_config cfg = { .optimizer = cs_optimizer_config_default (CS_OPTIMIZER_SGD), .batch = batch, .seed = 1 };
  cs_trainer *t = cs_trainer_new (m, &cfg, &err);
  cs_shape s = cs_shape_4d (batch, m->channels, m->height, m->width);
  cs_tensor x;
  cs_tensor_alloc (&x, &s, &err);
  cs_rng rng;
  cs_rng_seed (&rng, 3);
  for (int64_t i = 0; i < cs_tensor_numel (&x); i++)
    x.data[i] = (float) cs_rng_normal (&rng);
  int32_t labels[4096];
  for (int i = 0; i < batch; i++)
    labels[i] = i % 10;
  double loss;
  int32_t c;
  cs_trainer_step (t, &x, labels, &loss, &c, &err);
  double w0 = now (CLOCK_MONOTONIC), c0 = now (CLOCK_PROCESS_CPUTIME_ID);
  for (int i = 0; i < steps; i++)
    if (cs_trainer_step (t, &x, labels, &loss, &c, &err) != CS_OK)
      {
        fprintf (stderr, "%s\n", err.message);
        return 1;
      }
  double w = now (CLOCK_MONOTONIC) - w0, cpu = now (CLOCK_PROCESS_CPUTIME_ID) - c0;
  printf ("threads=%d kernel=%s batch=%d steps=%d wall_ms_per_step=%.2f cpu_ms_per_step=%.2f images_per_s=%.0f\n",
          cs_threads_get (), cs_blas_kernel_name (), batch, steps, 1e3 * w / steps, 1e3 * cpu / steps,
          batch * steps / w);

  /* The alternative design, for comparison: the batch split in one slice per thread, one exec
   * each with single-threaded ops, gradients summed in a fixed order, one optimizer step. */
  int n_split = cs_threads_get ();
  if (n_split > 1 && batch % n_split == 0)
    {
      int per = batch / n_split;
      cs_trainer *slices[64];
      cs_trainer_config scfg = cfg;
      scfg.batch = per;
      for (int k = 0; k < n_split; k++)
        slices[k] = cs_trainer_new (m, &scfg, &err);
      const cs_graph *g = m->graph;
      cs_tensor *sum = calloc ((size_t) g->n_params, sizeof *sum);
      const cs_tensor **grads = calloc ((size_t) g->n_params, sizeof *grads);
      for (int32_t p = 0; p < g->n_params; p++)
        {
          cs_tensor_alloc (&sum[p], &m->weights[p].shape, &err);
          grads[p] = &sum[p];
        }
      cs_shape ss = cs_shape_4d (per, m->channels, m->height, m->width);
      int64_t plane = (int64_t) m->channels * m->height * m->width;
      w0 = now (CLOCK_MONOTONIC);
      c0 = now (CLOCK_PROCESS_CPUTIME_ID);
      for (int i = 0; i < steps + 1; i++)
        {
          if (i == 1)
            {
              w0 = now (CLOCK_MONOTONIC);
              c0 = now (CLOCK_PROCESS_CPUTIME_ID);
            }
          cs_threads_set (1);
#pragma omp parallel for num_threads (n_split) schedule (static, 1)
          for (int k = 0; k < n_split; k++)
            {
              cs_tensor xs = cs_tensor_view (&ss, x.data + (int64_t) k * per * plane);
              double l;
              int32_t cc;
              cs_error e2 = { 0 };
              cs_trainer_gradients (slices[k], &xs, labels + k * per, &l, &cc, &e2);
            }
          cs_threads_set (n_split);
          for (int32_t p = 0; p < g->n_params; p++)
            {
              int64_t n = cs_tensor_numel (&sum[p]);
              float *d = sum[p].data;
              const float *g0 = cs_trainer_param_grad (slices[0], p)->data;
              for (int64_t j = 0; j < n; j++)
                d[j] = g0[j];
              for (int k = 1; k < n_split; k++)
                {
                  const float *gk = cs_trainer_param_grad (slices[k], p)->data;
                  for (int64_t j = 0; j < n; j++)
                    d[j] += gk[j];
                }
            }
          cs_optimizer_step (cs_trainer_optimizer (t), m, grads);
        }
      w = now (CLOCK_MONOTONIC) - w0;
      cpu = now (CLOCK_PROCESS_CPUTIME_ID) - c0;
      printf ("split into %d slices of %d: wall_ms_per_step=%.2f cpu_ms_per_step=%.2f images_per_s=%.0f\n",
              n_split, per, 1e3 * w / steps, 1e3 * cpu / steps, batch * steps / w);
      for (int32_t p = 0; p < g->n_params; p++)
        cs_tensor_free (&sum[p]);
      free (sum);
      free (grads);
      for (int k = 0; k < n_split; k++)
        cs_trainer_free (slices[k]);
    }
  cs_tensor_free (&x);
  cs_trainer_free (t);
  cs_model_free (m);
  return 0;
}
