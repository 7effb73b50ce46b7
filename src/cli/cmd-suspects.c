/* `convscope-cli suspects RUN [--top K] [--json]`: the training examples whose history says
 * their label is likely wrong, most suspicious first (docs/cli/suspects.md). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "analysis/example_measures.h"
#include "cli-commands.h"
#include "cli-common.h"
#include "cli-history.h"

enum { OPT_TOP = CLI_OPT_FIRST_COMMAND };

static const cli_option suspect_options[] = {
  { "top", true, OPT_TOP },
  { NULL, false, 0 },
};

static void
add_measures (cJSON *o, const cs_example_measures *m)
{
  cJSON_AddNumberToObject (o, "aum", m->aum);
  cJSON_AddNumberToObject (o, "confidence", m->confidence);
  cJSON_AddNumberToObject (o, "variability", m->variability);
  cJSON_AddNumberToObject (o, "correctness", m->correctness);
  cJSON_AddNumberToObject (o, "forgetting", m->forgetting);
  cJSON_AddBoolToObject (o, "ever_learned", m->ever_learned);
  if (m->learned_at >= 0)
    cJSON_AddNumberToObject (o, "learned_at", m->learned_at);
  else
    cJSON_AddNullToObject (o, "learned_at");
}

static int
write_json (const cs_run *run, const cs_history *h, const cs_example_measures *m, const int64_t *order,
            int64_t top)
{
  const cs_history_examples *x = &h->split[CS_HISTORY_TRAIN];
  cJSON *doc = cJSON_CreateObject ();
  cJSON_AddStringToObject (doc, "dataset", h->dataset);
  cJSON_AddNumberToObject (doc, "examples", (double) x->n);
  cJSON *list = cJSON_AddArrayToObject (doc, "suspects");
  char a[16], b[16];
  for (int64_t r = 0; r < top; r++)
    {
      int64_t i = order[r];
      cJSON *o = cJSON_CreateObject ();
      cJSON_AddNumberToObject (o, "index", (double) x->index[i]);
      cJSON_AddNumberToObject (o, "label", x->label[i]);
      cJSON_AddStringToObject (o, "label_name", cli_history_class (run, x->label[i], a));
      cJSON_AddNumberToObject (o, "likely_label", m[i].likely_label);
      cJSON_AddStringToObject (o, "likely_label_name", cli_history_class (run, m[i].likely_label, b));
      add_measures (o, &m[i]);
      cJSON_AddItemToArray (list, o);
    }
  return cli_print_json (doc);
}

static void
write_text (const cs_run *run, const cs_history *h, const cs_history_examples *x, const cs_example_measures *m,
            const int64_t *order, int64_t top)
{
  char a[16], b[16];
  printf (_("%lld training examples over %d epochs of %s; most likely mislabelled first (lowest area under "
            "the margin):\n"), (long long) x->n, h->n_epochs, h->dataset);
  printf ("%-4s %-8s %-16s %-16s %8s %8s %8s %6s\n", _("rank"), _("index"), _("label"), _("likely label"),
          _("AUM"), _("conf."), _("var."), _("forgot"));
  for (int64_t r = 0; r < top; r++)
    {
      int64_t i = order[r];
      printf ("%-4lld %-8lld %-16.16s %-16.16s %8.3f %8.3f %8.3f %6d\n", (long long) r + 1,
              (long long) x->index[i], cli_history_class (run, x->label[i], a),
              cli_history_class (run, m[i].likely_label, b), m[i].aum, m[i].confidence, m[i].variability,
              m[i].forgetting);
    }
}

int
cli_cmd_suspects (int argc, char **argv)
{
  cli_args args;
  int code = cli_parse_run_command (argc, argv, "suspects", suspect_options, &args);
  if (code != CLI_EXIT_OK)
    return code == CLI_HELP_SHOWN ? CLI_EXIT_OK : code;
  int64_t top = 20;
  if ((code = cli_get_int (&args, OPT_TOP, "--top", 1, INT32_MAX, &top)) != CLI_EXIT_OK)
    return code;
  cs_run *run;
  cs_history *h;
  if ((code = cli_history_load (args.positional[0], &run, &h)) != CLI_EXIT_OK)
    return code;
  cs_error err = { 0 };
  const cs_history_examples *x = &h->split[CS_HISTORY_TRAIN];
  cs_example_measures *m = cs_history_measures (h, CS_HISTORY_TRAIN, &err);
  int64_t *order = malloc ((size_t) (x->n > 0 ? x->n : 1) * sizeof *order);
  if (m == NULL || order == NULL || cs_history_rank_suspects (m, x->n, order, &err) != CS_OK)
    {
      if (order == NULL)
        cs_error_set (&err, CS_ERR_MEMORY, "out of memory");
      code = cli_fail (run->path, &err);
    }
  else
    {
      if (top > x->n)
        top = x->n;
      if (args.values[CLI_OPT_JSON] != NULL)
        code = write_json (run, h, m, order, top);
      else
        write_text (run, h, x, m, order, top);
    }
  free (order);
  free (m);
  cs_history_free (h);
  cs_run_free (run);
  return code;
}
