/* `convscope-cli evaluate MODEL INPUT... --methods ...`: how far to trust each method, by the
 * deletion and insertion AUCs (Petsiuk 2018) and the model-randomisation check (Adebayo 2018),
 * averaged over the inputs; a table, or JSON. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli-attribution.h"
#include "cli-commands.h"
#include "cli-common.h"
#include "evaluation/evaluation.h"

enum {
  OPT_METHODS = CLI_OPT_FIRST_ATTR_COMMAND,
  OPT_METRIC,
};

static const cli_option evaluate_options[] = {
  { "methods", true, OPT_METHODS },
  { "metric", true, OPT_METRIC },
  CLI_ATTR_OPTION_ROWS,
  { NULL, false, 0 },
};

enum { METRIC_DELETION, METRIC_INSERTION, METRIC_RANDOMIZATION, N_METRICS };
static const char *const metric_names[N_METRICS] = { "deletion", "insertion", "randomization" };

static int
parse_metrics (const char *list, bool want[N_METRICS])
{
  for (int i = 0; i < N_METRICS; i++)
    want[i] = list == NULL;
  if (list == NULL)
    return CLI_EXIT_OK;
  const char *s = list;
  while (*s != '\0')
    {
      size_t len = strcspn (s, ",");
      int found = -1;
      for (int i = 0; i < N_METRICS; i++)
        if (strlen (metric_names[i]) == len && strncmp (s, metric_names[i], len) == 0)
          found = i;
      if (found < 0)
        return cli_error (CLI_EXIT_USAGE, "--metric", _("unknown metric in '%s' (expected deletion, insertion, randomization)"), list);
      want[found] = true;
      s += len;
      if (*s == ',')
        s++;
    }
  return CLI_EXIT_OK;
}

/* One method's results over all inputs. */
typedef struct {
  bool failed;
  char error[CS_ERROR_MESSAGE_SIZE + 4096];
  double *auc[2];          /* [metric][input] */
  double *curve[2];        /* mean curve, steps + 1 points */
  double *spearman;        /* [input * n_layers + layer] */
  int32_t n_layers;
  int32_t *layers;
} method_result;

static double
mean (const double *v, int n)
{
  double s = 0;
  for (int i = 0; i < n; i++)
    s += v[i];
  return n > 0 ? s / n : 0;
}

static void
free_result (method_result *r)
{
  for (int i = 0; i < 2; i++)
    {
      free (r->auc[i]);
      free (r->curve[i]);
    }
  free (r->spearman);
  free (r->layers);
}

/* Runs the method on one input and the chosen metrics on its map. */
static cs_status
evaluate_one (cs_exec *e, const cs_tensor *x, const cs_attribution_params *p, const bool want[N_METRICS],
              int input, int n_inputs, uint64_t seed, method_result *r, cs_error *err)
{
  cli_progress progress;
  char label[96];
  snprintf (label, sizeof label, _("%s (input %d/%d)"), cs_method_id (p->method), input + 1, n_inputs);
  cli_progress_init (&progress, label);
  cs_attribution a = { 0 };
  cs_status st = cs_attribution_run (e, x, p, &progress.progress, &a, err);
  for (int k = 0; k < 2 && st == CS_OK; k++)
    {
      if (!want[k])
        continue;
      cs_curve c = { 0 };
      st = cs_evaluation_curve (e, x, &a.map, a.target, k == 0 ? CS_CURVE_DELETION : CS_CURVE_INSERTION,
                                0, CS_BASELINE_ZERO, seed, &progress.progress, &c, err);
      if (st != CS_OK)
        break;
      r->auc[k][input] = c.auc;
      for (int32_t i = 0; i <= c.steps; i++)
        r->curve[k][i] += c.probability[i] / n_inputs;
      cs_curve_free (&c);
    }
  if (st == CS_OK && want[METRIC_RANDOMIZATION])
    {
      cs_randomization rnd = { 0 };
      st = cs_evaluation_randomization (e, x, p, &a, seed, &progress.progress, &rnd, err);
      if (st == CS_OK)
        {
          if (r->layers == NULL)
            {
              r->n_layers = rnd.n_layers;
              r->layers = malloc ((size_t) rnd.n_layers * sizeof (int32_t));
              r->spearman = calloc ((size_t) (rnd.n_layers * n_inputs), sizeof (double));
              if (r->layers == NULL || r->spearman == NULL)
                st = cs_error_set (err, CS_ERR_MEMORY, "out of memory");
              else
                memcpy (r->layers, rnd.layers, (size_t) rnd.n_layers * sizeof (int32_t));
            }
          if (st == CS_OK)
            memcpy (r->spearman + input * r->n_layers, rnd.spearman, (size_t) rnd.n_layers * sizeof (double));
          cs_randomization_free (&rnd);
        }
    }
  cli_progress_done (&progress);
  cs_attribution_free (&a);
  return st;
}

int
cli_cmd_evaluate (int argc, char **argv)
{
  cli_args args;
  int code = cli_parse (argc, argv, "evaluate", evaluate_options, &args);
  if (code != CLI_EXIT_OK)
    return code;
  if (args.values[CLI_OPT_HELP])
    {
      cli_command_usage ("evaluate");
      cli_print_methods (stdout);
      return CLI_EXIT_OK;
    }
  if (args.n_positional < 2)
    return cli_error (CLI_EXIT_USAGE, "evaluate", _("expected MODEL and at least one INPUT"));
  if (args.values[OPT_METHODS] == NULL)
    return cli_error (CLI_EXIT_USAGE, "--methods", _("missing (all, or a list such as gradcam,saliency)"));
  bool selected[CS_METHOD_COUNT], want[N_METRICS];
  if ((code = cli_parse_methods (args.values[OPT_METHODS], "--methods", selected))
      || (code = parse_metrics (args.values[OPT_METRIC], want))
      || (code = cli_apply_threads (&args)))
    return code;

  const char *model_path = args.positional[0];
  int n_inputs = args.n_positional - 1;
  cs_model *m = cli_load_model (&args, model_path, &code);
  if (m == NULL)
    return code;
  cs_tensor *inputs = calloc ((size_t) n_inputs, sizeof (cs_tensor));
  method_result results[CS_METHOD_COUNT];
  memset (results, 0, sizeof results);
  cs_exec *e = NULL;
  cs_error err = { 0 };
  cli_norm norm;
  int32_t batch = 1;
  int32_t steps = CS_EVALUATION_STEPS;
  cs_attribution_params p = CS_ATTRIBUTION_PARAMS_DEFAULT;
  if (inputs == NULL)
    {
      code = cli_error (CLI_EXIT_FAILURE, "evaluate", _("out of memory"));
      goto out;
    }
  if ((code = cli_get_norm (&args, m, &norm)) != CLI_EXIT_OK
      || (code = cli_attr_params (&args, &cli_attr_all_ids, m, &p)) != CLI_EXIT_OK
      || (code = cli_attr_batch (&args, &cli_attr_all_ids, m, selected, &batch)) != CLI_EXIT_OK)
    goto out;
  /* The curves push 51 inputs each: worth a batch of their own. */
  if (args.values[CLI_OPT_BATCH] == NULL && (want[METRIC_DELETION] || want[METRIC_INSERTION]))
    {
      int32_t b = cs_attribution_batch_hint (m, CS_METHOD_SCORECAM, 0);
      b = b < steps + 1 ? b : steps + 1;
      batch = b > batch ? b : batch;
    }
  for (int i = 0; i < n_inputs; i++)
    if ((code = cli_load_input (args.positional[i + 1], m, &norm, &inputs[i])) != CLI_EXIT_OK)
      goto out;
  if ((e = cs_exec_new (m, batch, &err)) == NULL)
    {
      code = cli_fail (model_path, &err);
      goto out;
    }

  int n_ok = 0;
  for (int k = 0; k < CS_METHOD_COUNT; k++)
    {
      if (!selected[k])
        continue;
      method_result *r = &results[k];
      bool oom = false;
      for (int c = 0; c < 2; c++)
        {
          r->auc[c] = calloc ((size_t) n_inputs, sizeof (double));
          r->curve[c] = calloc ((size_t) steps + 1, sizeof (double));
          oom = oom || r->auc[c] == NULL || r->curve[c] == NULL;
        }
      if (oom)
        {
          code = cli_error (CLI_EXIT_FAILURE, "evaluate", _("out of memory"));
          goto out;
        }
      p.method = (cs_method) k;
      for (int i = 0; i < n_inputs && !r->failed; i++)
        {
          cs_error merr = { 0 };
          uint64_t seed = p.seed;
          if (evaluate_one (e, &inputs[i], &p, want, i, n_inputs, seed, r, &merr) != CS_OK)
            {
              r->failed = true;
              snprintf (r->error, sizeof r->error, "%s: %s", args.positional[i + 1], merr.message);
              fprintf (stderr, "convscope-cli: warning: %s: %s\n", cs_method_id (p.method), r->error);
            }
        }
      n_ok += !r->failed;
    }
  if (n_ok == 0)
    {
      code = cli_error (CLI_EXIT_FAILURE, model_path, _("no method could be evaluated"));
      goto out;
    }

  const cs_graph *g = m->graph;
  if (args.values[CLI_OPT_JSON])
    {
      cJSON *doc = cJSON_CreateObject ();
      cJSON *list = cJSON_AddArrayToObject (doc, "inputs");
      for (int i = 0; i < n_inputs; i++)
        cJSON_AddItemToArray (list, cJSON_CreateString (args.positional[i + 1]));
      list = cJSON_AddArrayToObject (doc, "metrics");
      for (int i = 0; i < N_METRICS; i++)
        if (want[i])
          cJSON_AddItemToArray (list, cJSON_CreateString (metric_names[i]));
      cJSON_AddNumberToObject (doc, "steps", steps);
      cJSON *methods = cJSON_AddArrayToObject (doc, "methods");
      for (int k = 0; k < CS_METHOD_COUNT; k++)
        {
          if (!selected[k])
            continue;
          method_result *r = &results[k];
          cJSON *o = cJSON_CreateObject ();
          cJSON_AddStringToObject (o, "method", cs_method_id ((cs_method) k));
          if (r->failed)
            {
              cJSON_AddStringToObject (o, "error", r->error);
              cJSON_AddItemToArray (methods, o);
              continue;
            }
          for (int c = 0; c < 2; c++)
            {
              if (!want[c])
                continue;
              cJSON *mo = cJSON_AddObjectToObject (o, metric_names[c]);
              cJSON_AddNumberToObject (mo, "auc", mean (r->auc[c], n_inputs));
              cJSON_AddItemToObject (mo, "per_input", cJSON_CreateDoubleArray (r->auc[c], n_inputs));
              cJSON_AddItemToObject (mo, "curve", cJSON_CreateDoubleArray (r->curve[c], steps + 1));
            }
          if (want[METRIC_RANDOMIZATION])
            {
              cJSON *ro = cJSON_AddObjectToObject (o, "randomization");
              cJSON *layers = cJSON_AddArrayToObject (ro, "layers");
              cJSON *sp = cJSON_AddArrayToObject (ro, "spearman");
              cJSON *per = cJSON_AddArrayToObject (ro, "per_input");
              for (int32_t l = 0; l < r->n_layers; l++)
                {
                  cJSON_AddItemToArray (layers, cJSON_CreateString (g->nodes[r->layers[l]].name));
                  double s = 0;
                  for (int i = 0; i < n_inputs; i++)
                    s += r->spearman[i * r->n_layers + l];
                  cJSON_AddItemToArray (sp, cJSON_CreateNumber (s / n_inputs));
                }
              for (int i = 0; i < n_inputs; i++)
                cJSON_AddItemToArray (per, cJSON_CreateDoubleArray (r->spearman + i * r->n_layers, r->n_layers));
            }
          cJSON_AddItemToArray (methods, o);
        }
      code = cli_print_json (doc);
      goto out;
    }

  printf (ngettext ("%d input, %d steps; deletion AUC: lower is better, insertion AUC: higher is better;\n"
                    "randomisation: Spearman rho between the map and the map after re-initialising every layer\n"
                    "(near 0 is what a method that explains the model should give)\n\n",
                    "%d inputs, %d steps; deletion AUC: lower is better, insertion AUC: higher is better;\n"
                    "randomisation: Spearman rho between the map and the map after re-initialising every layer\n"
                    "(near 0 is what a method that explains the model should give)\n\n",
                    (unsigned long) n_inputs),
          n_inputs, steps);
  printf ("%-21s %10s %10s %14s\n", "method", "deletion", "insertion", "randomization");
  for (int k = 0; k < CS_METHOD_COUNT; k++)
    {
      if (!selected[k])
        continue;
      method_result *r = &results[k];
      if (r->failed)
        {
          printf ("%-21s %s %s\n", cs_method_id ((cs_method) k), _("error:"), r->error);
          continue;
        }
      printf ("%-21s", cs_method_id ((cs_method) k));
      for (int c = 0; c < 2; c++)
        if (want[c])
          printf (" %10.4f", mean (r->auc[c], n_inputs));
        else
          printf (" %10s", "-");
      if (want[METRIC_RANDOMIZATION] && r->n_layers > 0)
        {
          double s = 0;
          for (int i = 0; i < n_inputs; i++)
            s += r->spearman[i * r->n_layers + r->n_layers - 1];
          printf (" %14.4f\n", s / n_inputs);
        }
      else
        printf (" %14s\n", "-");
    }
  if (want[METRIC_RANDOMIZATION])
    {
      printf ("\n%s\n", _("Randomisation, Spearman rho after re-initialising from the output down to each layer:"));
      bool header = false;
      for (int k = 0; k < CS_METHOD_COUNT; k++)
        {
          method_result *r = &results[k];
          if (!selected[k] || r->failed)
            continue;
          if (!header)
            {
              printf ("%-21s", "method");
              for (int32_t l = 0; l < r->n_layers; l++)
                printf (" %10.10s", g->nodes[r->layers[l]].name);
              printf ("\n");
              header = true;
            }
          printf ("%-21s", cs_method_id ((cs_method) k));
          for (int32_t l = 0; l < r->n_layers; l++)
            {
              double s = 0;
              for (int i = 0; i < n_inputs; i++)
                s += r->spearman[i * r->n_layers + l];
              printf (" %10.4f", s / n_inputs);
            }
          printf ("\n");
        }
    }
  code = CLI_EXIT_OK;

out:
  for (int k = 0; k < CS_METHOD_COUNT; k++)
    free_result (&results[k]);
  for (int i = 0; inputs != NULL && i < n_inputs; i++)
    cs_tensor_free (&inputs[i]);
  free (inputs);
  cs_exec_free (e);
  cs_model_free (m);
  return code;
}
