/* `convscope-cli bench MODEL --task T`: times one workload; model load and a warm-up run excluded. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/rng.h"
#include "base/threads.h"
#include "cli-commands.h"
#include "cli-common.h"
#include "cli-saliency.h"
#include "attribution/attribution.h"
#include "training/trainer.h"

enum { OPT_TASK = CLI_OPT_FIRST_COMMAND, OPT_BATCH, OPT_REPEAT };

static const cli_option bench_options[] = {
  { "task", true, OPT_TASK },
  { "batch", true, OPT_BATCH },
  { "repeat", true, OPT_REPEAT },
  { NULL, false, 0 },
};

static const char *const tasks[] = {
  "forward", "saliency", "gradcam", "smoothgrad", "integrated-gradients", "scorecam", "occlusion",
  "occlusion-full", "rise", "compare-all", "train-step", NULL,
};

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* A task that is an attribution method: one cs_attribution_run with docs/methods.md's defaults on one
 * input, its samples/steps/masks in batches of the exec's max batch (--batch). */
static cs_status
run_method (cs_exec *e, const cs_tensor *x, cs_method method, bool full_forwards, cs_error *err)
{
  cs_attribution_params p = CS_ATTRIBUTION_PARAMS_DEFAULT;
  p.method = method;
  p.full_forwards = full_forwards;
  cs_attribution a = { 0 };
  cs_status st = cs_attribution_run (e, x, &p, NULL, &a, err);
  cs_attribution_free (&a);
  return st;
}

/* compare-all: the thirteen methods one after the other, as `compare --methods all` runs them. */
static cs_status
run_all_methods (cs_exec *e, const cs_tensor *x, cs_error *err)
{
  for (int k = 0; k < CS_METHOD_COUNT; k++)
    {
      cs_status st = run_method (e, x, (cs_method) k, false, err);
      if (st != CS_OK)
        return cs_error_prefix (err, "%s", cs_method_id ((cs_method) k));
    }
  return CS_OK;
}

static cs_status
run_once (cs_exec *e, cs_trainer *t, const cs_tensor *x, bool saliency, cs_method method, bool full,
          int32_t *targets, cs_tensor *seed, cs_error *err)
{
  if (t != NULL)
    {
      /* train-step: targets holds the batch's labels */
      double loss;
      int32_t correct;
      return cs_trainer_step (t, x, targets, &loss, &correct, err);
    }
  if (method == CS_METHOD_COUNT + 1)
    return run_all_methods (e, x, err);
  if (method != CS_METHOD_COUNT)
    return run_method (e, x, method, full, err);
  if (!saliency)
    return cs_exec_forward (e, x, err);
  for (int64_t i = 0; i < x->shape.dim[0]; i++)
    targets[i] = -1;
  return cli_saliency_run (e, x, targets, seed, err);
}

int
cli_cmd_bench (int argc, char **argv)
{
  cli_args args;
  int code = cli_parse (argc, argv, "bench", bench_options, &args);
  if (code != CLI_EXIT_OK)
    return code;
  if (args.values[CLI_OPT_HELP])
    {
      cli_command_usage ("bench");
      return CLI_EXIT_OK;
    }
  if (args.n_positional != 1)
    return cli_error (CLI_EXIT_USAGE, "bench", args.n_positional ? _("expected one MODEL") : _("missing MODEL"));
  if (args.values[OPT_TASK] == NULL)
    return cli_error (CLI_EXIT_USAGE, "--task", _("missing (forward, saliency, gradcam, smoothgrad, integrated-gradients, scorecam, "
                                               "occlusion, occlusion-full, rise, compare-all, train-step)"));
  const char *task = NULL;
  int64_t batch = 1, repeat = 10;
  if ((code = cli_get_choice (&args, OPT_TASK, "--task", tasks, &task))
      || (code = cli_get_int (&args, OPT_BATCH, "--batch", 1, 4096, &batch))
      || (code = cli_get_int (&args, OPT_REPEAT, "--repeat", 1, 1000000, &repeat)))
    return code;
  bool saliency = strcmp (task, "saliency") == 0;
  bool train = strcmp (task, "train-step") == 0;
  /* gradcam, smoothgrad, integrated-gradients, scorecam, occlusion, rise: the method on one
   * input; compare-all (CS_METHOD_COUNT + 1): every method on one input. */
  bool all = strcmp (task, "compare-all") == 0;
  /* occlusion-full: occlusion by one full forward per window, the reference that its
   * incremental inference (task occlusion) is timed against */
  bool full = strcmp (task, "occlusion-full") == 0;
  cs_method method = saliency || train ? CS_METHOD_COUNT
                     : all ? (cs_method) (CS_METHOD_COUNT + 1)
                     : full ? CS_METHOD_OCCLUSION : cs_method_from_id (task);
  if (!saliency && !train && method == CS_METHOD_COUNT && strcmp (task, "forward") != 0)
    return cli_error (CLI_EXIT_FAILURE, "--task", _("%s is not a task"), task);
  if (train && args.values[OPT_BATCH] == NULL)
    batch = 64; /* a typical mini-batch */
  if ((code = cli_apply_threads (&args)) != CLI_EXIT_OK)
    return code;

  const char *model_path = args.positional[0];
  cs_model *m = cli_load_model (&args, model_path, &code);
  if (m == NULL)
    return code;
  cs_error err = { 0 };
  cs_tensor x = { 0 }, seed = { 0 };
  cs_exec *e = NULL;
  cs_trainer *t = NULL;
  double *times = calloc ((size_t) repeat, sizeof (double));
  int32_t *targets = calloc ((size_t) batch, sizeof (int32_t));
  if (times == NULL || targets == NULL)
    {
      code = cli_error (CLI_EXIT_FAILURE, "--repeat", _("out of memory"));
      goto out;
    }
  /* A fixed pseudo-random input in a normalised image's range. */
  /* A method task explains one input; --batch (default: the method's batch hint) is then the
   * exec's batch, the chunk its samples go through the network in. */
  int64_t exec_batch = batch;
  if (method != CS_METHOD_COUNT)
    {
      if (args.values[OPT_BATCH] == NULL)
        {
          exec_batch = 1;
          for (int k = 0; k < CS_METHOD_COUNT; k++)
            if (all ? true : k == (int) method)
              {
                int32_t hint = cs_attribution_batch_hint (m, (cs_method) k, 0);
                exec_batch = hint > exec_batch ? hint : exec_batch;
              }
        }
      batch = 1;
    }
  /* train-step: one SGD step (forward in training mode, softmax cross-entropy, parameter
   * gradients, update with the trainer's default SGD) on a batch of fixed labels. */
  cs_trainer_config tcfg = { .optimizer = cs_optimizer_config_default (CS_OPTIMIZER_SGD),
                             .batch = (int32_t) batch, .seed = 1, .slices = 0 };
  cs_shape shape = cs_shape_4d (batch, m->channels, m->height, m->width);
  if (cs_tensor_alloc (&x, &shape, &err) != CS_OK
      || (train ? (t = cs_trainer_new (m, &tcfg, &err)) == NULL
                : (e = cs_exec_new (m, (int32_t) exec_batch, &err)) == NULL))
    {
      code = cli_fail (model_path, &err);
      goto out;
    }
  for (int64_t i = 0; i < batch; i++)
    targets[i] = m->n_classes > 0 ? (int32_t) (i % m->n_classes) : 0;
  cs_rng rng;
  cs_rng_seed (&rng, 42);
  for (int64_t i = 0; i < cs_tensor_numel (&x); i++)
    x.data[i] = 2.0f * cs_rng_uniform (&rng) - 1.0f;

  /* The warm-up run allocates lazily sized buffers and warms caches; it is not timed. */
  if (run_once (e, t, &x, saliency, method, full, targets, &seed, &err) != CS_OK)
    {
      code = cli_fail (model_path, &err);
      goto out;
    }
  for (int64_t r = 0; r < repeat; r++)
    {
      double t0 = cs_clock_seconds (CLOCK_MONOTONIC);
      if (run_once (e, t, &x, saliency, method, full, targets, &seed, &err) != CS_OK)
        {
          code = cli_fail (model_path, &err);
          goto out;
        }
      times[r] = 1e3 * (cs_clock_seconds (CLOCK_MONOTONIC) - t0);
    }
  qsort (times, (size_t) repeat, sizeof (double), compare_doubles);
  double median = repeat % 2 ? times[repeat / 2] : 0.5 * (times[repeat / 2 - 1] + times[repeat / 2]);
  if (args.values[CLI_OPT_JSON])
    {
      cJSON *doc = cJSON_CreateObject ();
      cJSON_AddStringToObject (doc, "model", model_path);
      cJSON_AddStringToObject (doc, "task", task);
      cJSON_AddNumberToObject (doc, "batch", (double) exec_batch);
      cJSON_AddNumberToObject (doc, "repeat", (double) repeat);
      cJSON_AddNumberToObject (doc, "threads", cs_threads_get ());
      cJSON_AddStringToObject (doc, "blas_kernel", cs_blas_kernel_name ());
      cJSON_AddNumberToObject (doc, "median_ms", median);
      cJSON_AddNumberToObject (doc, "min_ms", times[0]);
      cJSON_AddNumberToObject (doc, "max_ms", times[repeat - 1]);
      code = cli_print_json (doc);
    }
  else
    {
      printf ("model=%s task=%s batch=%lld repeat=%lld threads=%d blas_kernel=%s\n", model_path, task,
              (long long) exec_batch, (long long) repeat, cs_threads_get (), cs_blas_kernel_name ());
      printf ("median_ms=%.3f min_ms=%.3f max_ms=%.3f\n", median, times[0], times[repeat - 1]);
      code = CLI_EXIT_OK;
    }

out:
  free (times);
  free (targets);
  cs_tensor_free (&x);
  cs_tensor_free (&seed);
  cs_exec_free (e);
  cs_trainer_free (t);
  cs_model_free (m);
  return code;
}
