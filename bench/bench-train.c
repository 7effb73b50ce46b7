/* Training throughput: images per second of SGD steps on a small CNN (or ARCH), batch 64.
 * Usage: bench-train [THREADS] [STEPS] [bn|plain|model.json] [BATCH]
 * bn: conv-bn-relu-pool, conv-relu-pool, dropout, linear; plain: the same without batch norm. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/rng.h"
#include "base/clock.h"
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
  return cs_clock_seconds (c);
}

int
main (int argc, char **argv)
{
  cs_blas_select_kernel (argc, argv);
  int threads = argc > 1 ? atoi (argv[1]) : 0;
  int steps = argc > 2 ? atoi (argv[2]) : 20;
  const char *which = argc > 3 ? argv[3] : "bn";
  bool plain = strcmp (which, "plain") == 0;
  const char *arch = plain || strcmp (which, "bn") == 0 || strcmp (which, "-") == 0 ? NULL : which;
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
      char text[2048];
      snprintf (text, sizeof text, "%s", arch_json);
      if (plain)
        {
          /* drop the batch-norm node */
          char *bn = strstr (text, "  {\"name\": \"bn1\"");
          char *end = bn != NULL ? strchr (bn, '}') : NULL;
          if (end != NULL)
            memmove (bn, end + 2, strlen (end + 2) + 1);
        }
      cs_graph *g = cs_model_json_parse (text, strlen (text), "bench", &err);
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
  /* One exec with threaded ops (slices = 1), then the trainer's own choice (one slice per
   * thread unless the model has batch norm). */
  for (int mode = 0; mode < 2; mode++)
    {
      cs_trainer_config cfg = { .optimizer = cs_optimizer_config_default (CS_OPTIMIZER_SGD), .batch = batch,
                                .seed = 1, .slices = mode == 0 ? 1 : 0 };
      cs_trainer *t = cs_trainer_new (m, &cfg, &err);
      if (t == NULL)
        {
          fprintf (stderr, "%s\n", err.message);
          return 1;
        }
      if (mode == 1 && cs_trainer_slices (t) == 1)
        {
          cs_trainer_free (t);
          break;
        }
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
      printf ("threads=%d slices=%d kernel=%s batch=%d steps=%d wall_ms_per_step=%.2f cpu_ms_per_step=%.2f "
              "images_per_s=%.0f\n", cs_threads_get (), cs_trainer_slices (t), cs_blas_kernel_name (), batch, steps,
              1e3 * w / steps, 1e3 * cpu / steps, batch * steps / w);
      cs_trainer_free (t);
    }
  cs_tensor_free (&x);
  cs_model_free (m);
  return 0;
}
