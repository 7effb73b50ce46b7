/* `convscope-cli evaluate MODEL INPUT... --methods ...`: how far to trust each method, by the
 * deletion and insertion AUCs (Petsiuk 2018) and the model-randomisation check (Adebayo 2018),
 * averaged over the inputs; a table, or JSON. Parse the options into a request, run every
 * method on every input, write the report. */
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

/* What the command was asked, checked. */
typedef struct {
  cli_args args;
  const char *model_path;
  int n_inputs;
  bool selected[CS_METHOD_COUNT], want[N_METRICS];
} evaluate_request;

/* What the run produced. */
typedef struct {
  cs_model *m;
  cs_tensor *inputs;
  cs_exec *e;
  method_result results[CS_METHOD_COUNT];
} evaluate_run;

#define STEPS CS_EVALUATION_STEPS

/* Parses argv into q; returns CLI_EXIT_OK, or an exit code (-1: --help was printed). */
static int
parse_request (int argc, char **argv, evaluate_request *q)
{
  cli_args *args = &q->args;
  int code = cli_parse (argc, argv, "evaluate", evaluate_options, args);
  if (code != CLI_EXIT_OK)
    return code;
  if (args->values[CLI_OPT_HELP])
    {
      cli_command_usage ("evaluate");
      cli_print_methods (stdout);
      return -1;
    }
  if (args->n_positional < 2)
    return cli_error (CLI_EXIT_USAGE, "evaluate", _("expected MODEL and at least one INPUT"));
  if (args->values[OPT_METHODS] == NULL)
    return cli_error (CLI_EXIT_USAGE, "--methods", _("missing (all, or a list such as gradcam,saliency)"));
  if ((code = cli_parse_methods (args->values[OPT_METHODS], "--methods", q->selected))
      || (code = parse_metrics (args->values[OPT_METRIC], q->want))
      || (code = cli_apply_threads (args)))
    return code;
  q->model_path = args->positional[0];
  q->n_inputs = args->n_positional - 1;
  return CLI_EXIT_OK;
}

/* Loads the model and the inputs and builds the exec: the methods' batch, or the curves'
 * (51 inputs each, worth a batch of their own) when larger. */
static int
load_request (const evaluate_request *q, evaluate_run *r, cs_attribution_params *p)
{
  int code;
  cs_error err = { 0 };
  cli_norm norm;
  int32_t batch = 1;
  r->m = cli_load_model (&q->args, q->model_path, &code);
  if (r->m == NULL)
    return code;
  r->inputs = calloc ((size_t) q->n_inputs, sizeof (cs_tensor));
  if (r->inputs == NULL)
    return cli_error (CLI_EXIT_FAILURE, "evaluate", _("out of memory"));
  if ((code = cli_get_norm (&q->args, r->m, &norm)) != CLI_EXIT_OK
      || (code = cli_attr_params (&q->args, &cli_attr_all_ids, r->m, p)) != CLI_EXIT_OK
      || (code = cli_attr_batch (&q->args, &cli_attr_all_ids, r->m, q->selected, &batch)) != CLI_EXIT_OK)
    return code;
  if (q->args.values[CLI_OPT_BATCH] == NULL && (q->want[METRIC_DELETION] || q->want[METRIC_INSERTION]))
    {
      int32_t b = cs_attribution_batch_hint (r->m, CS_METHOD_SCORECAM, 0);
      b = b < STEPS + 1 ? b : STEPS + 1;
      batch = b > batch ? b : batch;
    }
  for (int i = 0; i < q->n_inputs; i++)
    if ((code = cli_load_input (q->args.positional[i + 1], r->m, &norm, &r->inputs[i])) != CLI_EXIT_OK)
      return code;
  if ((r->e = cs_exec_new (r->m, batch, &err)) == NULL)
    return cli_fail (q->model_path, &err);
  return CLI_EXIT_OK;
}

/* Every selected method on every input; a method that fails on one input is reported and
 * the others go on. */
static int
run_request (const evaluate_request *q, evaluate_run *r)
{
  cs_attribution_params p = CS_ATTRIBUTION_PARAMS_DEFAULT;
  int code = load_request (q, r, &p);
  if (code != CLI_EXIT_OK)
    return code;
  int n_ok = 0;
  for (int k = 0; k < CS_METHOD_COUNT; k++)
    {
      if (!q->selected[k])
        continue;
      method_result *mr = &r->results[k];
      bool oom = false;
      for (int c = 0; c < 2; c++)
        {
          mr->auc[c] = calloc ((size_t) q->n_inputs, sizeof (double));
          mr->curve[c] = calloc ((size_t) STEPS + 1, sizeof (double));
          oom = oom || mr->auc[c] == NULL || mr->curve[c] == NULL;
        }
      if (oom)
        return cli_error (CLI_EXIT_FAILURE, "evaluate", _("out of memory"));
      p.method = (cs_method) k;
      for (int i = 0; i < q->n_inputs && !mr->failed; i++)
        {
          cs_error merr = { 0 };
          if (evaluate_one (r->e, &r->inputs[i], &p, q->want, i, q->n_inputs, p.seed, mr, &merr) != CS_OK)
            {
              mr->failed = true;
              snprintf (mr->error, sizeof mr->error, "%s: %s", q->args.positional[i + 1], merr.message);
              fprintf (stderr, "convscope-cli: warning: %s: %s\n", cs_method_id (p.method), mr->error);
            }
        }
      n_ok += !mr->failed;
    }
  if (n_ok == 0)
    return cli_error (CLI_EXIT_FAILURE, q->model_path, _("no method could be evaluated"));
  return CLI_EXIT_OK;
}

/* The mean Spearman rho of r over the inputs at layer index l. */
static double
mean_spearman (const method_result *r, int n_inputs, int32_t l)
{
  double s = 0;
  for (int i = 0; i < n_inputs; i++)
    s += r->spearman[i * r->n_layers + l];
  return s / n_inputs;
}

static cJSON *
method_json (const evaluate_request *q, const cs_graph *g, int k, const method_result *r)
{
  int n_inputs = q->n_inputs;
  cJSON *o = cJSON_CreateObject ();
  cJSON_AddStringToObject (o, "method", cs_method_id ((cs_method) k));
  if (r->failed)
    {
      cJSON_AddStringToObject (o, "error", r->error);
      return o;
    }
  for (int c = 0; c < 2; c++)
    {
      if (!q->want[c])
        continue;
      cJSON *mo = cJSON_AddObjectToObject (o, metric_names[c]);
      cJSON_AddNumberToObject (mo, "auc", mean (r->auc[c], n_inputs));
      cJSON_AddItemToObject (mo, "per_input", cJSON_CreateDoubleArray (r->auc[c], n_inputs));
      cJSON_AddItemToObject (mo, "curve", cJSON_CreateDoubleArray (r->curve[c], STEPS + 1));
    }
  if (q->want[METRIC_RANDOMIZATION])
    {
      cJSON *ro = cJSON_AddObjectToObject (o, "randomization");
      cJSON *layers = cJSON_AddArrayToObject (ro, "layers");
      cJSON *sp = cJSON_AddArrayToObject (ro, "spearman");
      cJSON *per = cJSON_AddArrayToObject (ro, "per_input");
      for (int32_t l = 0; l < r->n_layers; l++)
        {
          cJSON_AddItemToArray (layers, cJSON_CreateString (g->nodes[r->layers[l]].name));
          cJSON_AddItemToArray (sp, cJSON_CreateNumber (mean_spearman (r, n_inputs, l)));
        }
      for (int i = 0; i < n_inputs; i++)
        cJSON_AddItemToArray (per, cJSON_CreateDoubleArray (r->spearman + i * r->n_layers, r->n_layers));
    }
  return o;
}

static int
write_json (const evaluate_request *q, const evaluate_run *r)
{
  cJSON *doc = cJSON_CreateObject ();
  cJSON *list = cJSON_AddArrayToObject (doc, "inputs");
  for (int i = 0; i < q->n_inputs; i++)
    cJSON_AddItemToArray (list, cJSON_CreateString (q->args.positional[i + 1]));
  list = cJSON_AddArrayToObject (doc, "metrics");
  for (int i = 0; i < N_METRICS; i++)
    if (q->want[i])
      cJSON_AddItemToArray (list, cJSON_CreateString (metric_names[i]));
  cJSON_AddNumberToObject (doc, "steps", STEPS);
  cJSON *methods = cJSON_AddArrayToObject (doc, "methods");
  for (int k = 0; k < CS_METHOD_COUNT; k++)
    if (q->selected[k])
      cJSON_AddItemToArray (methods, method_json (q, r->m->graph, k, &r->results[k]));
  return cli_print_json (doc);
}

/* The per-layer randomisation table. */
static void
write_randomization_table (const evaluate_request *q, const evaluate_run *r)
{
  const cs_graph *g = r->m->graph;
  printf ("\n%s\n", _("Randomisation, Spearman rho after re-initialising from the output down to each layer:"));
  bool header = false;
  for (int k = 0; k < CS_METHOD_COUNT; k++)
    {
      const method_result *mr = &r->results[k];
      if (!q->selected[k] || mr->failed)
        continue;
      if (!header)
        {
          printf ("%-21s", "method");
          for (int32_t l = 0; l < mr->n_layers; l++)
            printf (" %10.10s", g->nodes[mr->layers[l]].name);
          printf ("\n");
          header = true;
        }
      printf ("%-21s", cs_method_id ((cs_method) k));
      for (int32_t l = 0; l < mr->n_layers; l++)
        printf (" %10.4f", mean_spearman (mr, q->n_inputs, l));
      printf ("\n");
    }
}

static int
write_table (const evaluate_request *q, const evaluate_run *r)
{
  int n_inputs = q->n_inputs;
  printf (ngettext ("%d input, %d steps; deletion AUC: lower is better, insertion AUC: higher is better;\n"
                    "randomisation: Spearman rho between the map and the map after re-initialising every layer\n"
                    "(near 0 is what a method that explains the model should give)\n\n",
                    "%d inputs, %d steps; deletion AUC: lower is better, insertion AUC: higher is better;\n"
                    "randomisation: Spearman rho between the map and the map after re-initialising every layer\n"
                    "(near 0 is what a method that explains the model should give)\n\n",
                    (unsigned long) n_inputs),
          n_inputs, STEPS);
  printf ("%-21s %10s %10s %14s\n", "method", "deletion", "insertion", "randomization");
  for (int k = 0; k < CS_METHOD_COUNT; k++)
    {
      if (!q->selected[k])
        continue;
      const method_result *mr = &r->results[k];
      if (mr->failed)
        {
          printf ("%-21s %s %s\n", cs_method_id ((cs_method) k), _("error:"), mr->error);
          continue;
        }
      printf ("%-21s", cs_method_id ((cs_method) k));
      for (int c = 0; c < 2; c++)
        if (q->want[c])
          printf (" %10.4f", mean (mr->auc[c], n_inputs));
        else
          printf (" %10s", "-");
      if (q->want[METRIC_RANDOMIZATION] && mr->n_layers > 0)
        printf (" %14.4f\n", mean_spearman (mr, n_inputs, mr->n_layers - 1));
      else
        printf (" %14s\n", "-");
    }
  if (q->want[METRIC_RANDOMIZATION])
    write_randomization_table (q, r);
  return CLI_EXIT_OK;
}

int
cli_cmd_evaluate (int argc, char **argv)
{
  evaluate_request q = { 0 };
  int code = parse_request (argc, argv, &q);
  if (code != CLI_EXIT_OK)
    return code < 0 ? CLI_EXIT_OK : code;
  evaluate_run r = { 0 };
  code = run_request (&q, &r);
  if (code == CLI_EXIT_OK)
    code = q.args.values[CLI_OPT_JSON] ? write_json (&q, &r) : write_table (&q, &r);
  for (int k = 0; k < CS_METHOD_COUNT; k++)
    free_result (&r.results[k]);
  for (int i = 0; r.inputs != NULL && i < q.n_inputs; i++)
    cs_tensor_free (&r.inputs[i]);
  free (r.inputs);
  cs_exec_free (r.e);
  cs_model_free (r.m);
  return code;
}
