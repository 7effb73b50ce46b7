/* `convscope-cli history RUN [--json] [--csv]`: each example's history across the run's epochs,
 * summarised, and how well the early epochs anticipate the final model's mistakes
 * (docs/cli/history.md). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "analysis/example_measures.h"
#include "cli-commands.h"
#include "cli-common.h"
#include "cli-history.h"

enum { OPT_CSV = CLI_OPT_FIRST_COMMAND };

static const cli_option history_options[] = {
  { "csv", false, OPT_CSV },
  { NULL, false, 0 },
};

static int64_t
final_errors (const cs_history *h, cs_history_split s)
{
  const cs_history_examples *x = &h->split[s];
  int64_t wrong = 0;
  for (int64_t i = 0; i < x->n; i++)
    wrong += x->pred[i * h->n_epochs + h->n_epochs - 1] != x->label[i];
  return wrong;
}

static int
write_json (const cs_history *h, const double *auroc)
{
  cJSON *doc = cJSON_CreateObject ();
  cJSON_AddStringToObject (doc, "dataset", h->dataset);
  cJSON_AddNumberToObject (doc, "train_examples", (double) h->split[CS_HISTORY_TRAIN].n);
  cJSON_AddNumberToObject (doc, "test_examples", (double) h->split[CS_HISTORY_TEST].n);
  cJSON_AddNumberToObject (doc, "final_train_errors", (double) final_errors (h, CS_HISTORY_TRAIN));
  cJSON_AddNumberToObject (doc, "final_test_errors", (double) final_errors (h, CS_HISTORY_TEST));
  cJSON *list = cJSON_AddArrayToObject (doc, "early_auroc");
  for (int32_t k = 0; k < h->n_epochs; k++)
    {
      cJSON *o = cJSON_CreateObject ();
      cJSON_AddNumberToObject (o, "epoch", h->epochs[k]);
      if (isfinite (auroc[k]))
        cJSON_AddNumberToObject (o, "auroc", auroc[k]);
      else
        cJSON_AddNullToObject (o, "auroc");
      cJSON_AddItemToArray (list, o);
    }
  return cli_print_json (doc);
}

/* One row per example of both splits: the measures of example_measures.h. */
static int
write_csv (const cs_history *h)
{
  static const char *const names[] = { "train", "test" };
  printf ("split,index,label,likely_label,confidence,variability,correctness,aum,forgetting,ever_learned,"
          "learned_at,final_prediction\n");
  for (int s = 0; s < CS_HISTORY_N_SPLITS; s++)
    {
      cs_error err = { 0 };
      const cs_history_examples *x = &h->split[s];
      cs_example_measures *m = cs_history_measures (h, (cs_history_split) s, &err);
      if (m == NULL)
        return cli_fail ("history", &err);
      for (int64_t i = 0; i < x->n; i++)
        printf ("%s,%lld,%d,%d,%.6g,%.6g,%.6g,%.6g,%d,%d,%d,%d\n", names[s], (long long) x->index[i],
                x->label[i], m[i].likely_label, m[i].confidence, m[i].variability, m[i].correctness, m[i].aum,
                m[i].forgetting, m[i].ever_learned, m[i].learned_at, x->pred[i * h->n_epochs + h->n_epochs - 1]);
      free (m);
    }
  return CLI_EXIT_OK;
}

static void
write_text (const cs_history *h, const double *auroc)
{
  printf (_("Data set: %s; %lld training and %lld validation examples over %d checkpoints.\n"), h->dataset,
          (long long) h->split[CS_HISTORY_TRAIN].n, (long long) h->split[CS_HISTORY_TEST].n, h->n_epochs);
  printf (_("Mistakes of the last epoch: %lld training, %lld validation.\n"),
          (long long) final_errors (h, CS_HISTORY_TRAIN), (long long) final_errors (h, CS_HISTORY_TEST));
  printf (_("Anticipating them from the first epochs (validation examples ranked by their mean margin over "
            "epochs 0..k; AUROC against the last epoch's mistakes, 0.5 = chance):\n"));
  printf ("%6s %8s\n", _("epoch"), "AUROC");
  for (int32_t k = 0; k < h->n_epochs; k++)
    if (isfinite (auroc[k]))
      printf ("%6d %8.3f\n", h->epochs[k], auroc[k]);
    else
      printf ("%6d %8s\n", h->epochs[k], "-");
}

int
cli_cmd_history (int argc, char **argv)
{
  cli_args args;
  int code = cli_parse_run_command (argc, argv, "history", history_options, &args);
  if (code != CLI_EXIT_OK)
    return code == CLI_HELP_SHOWN ? CLI_EXIT_OK : code;
  if (args.values[CLI_OPT_JSON] != NULL && args.values[OPT_CSV] != NULL)
    return cli_error (CLI_EXIT_USAGE, "history", _("--json and --csv exclude each other"));
  cs_run *run;
  cs_history *h;
  if ((code = cli_history_load (args.positional[0], &run, &h)) != CLI_EXIT_OK)
    return code;
  double *auroc = malloc ((size_t) h->n_epochs * sizeof *auroc);
  if (auroc == NULL)
    code = cli_error (CLI_EXIT_FAILURE, "history", "out of memory");
  else if (args.values[OPT_CSV] != NULL)
    code = write_csv (h);
  else
    {
      cs_history_early_auroc (h, auroc);
      if (args.values[CLI_OPT_JSON] != NULL)
        code = write_json (h, auroc);
      else
        write_text (h, auroc);
    }
  free (auroc);
  cs_history_free (h);
  cs_run_free (run);
  return code;
}
