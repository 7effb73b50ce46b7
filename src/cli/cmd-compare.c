/* `convscope-cli compare MODEL INPUT --out sheet.png|pdf|svg`: every chosen method on one
 * input, side by side on one sheet with the prediction, colour bars and times. Parse the
 * options into a request, run the methods (within --budget), write the sheet and the report. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli-attribution.h"
#include "cli-commands.h"
#include "base/softmax.h"
#include "base/duration.h"
#include "cli-common.h"
#include "render/sheet.h"

enum {
  OPT_METHODS = CLI_OPT_FIRST_ATTR_COMMAND,
  OPT_OUT,
  OPT_COLORMAP,
  OPT_ALPHA,
  OPT_GRAYSCALE,
  OPT_SIZE,
  OPT_COLUMNS,
  OPT_BUDGET,
};

static const cli_option compare_options[] = {
  { "methods", true, OPT_METHODS },
  CLI_ATTR_OPTION_ROWS,
  { "out", true, OPT_OUT },
  { "colormap", true, OPT_COLORMAP },
  { "alpha", true, OPT_ALPHA },
  { "grayscale", false, OPT_GRAYSCALE },
  { "size", true, OPT_SIZE },
  { "columns", true, OPT_COLUMNS },
  { "budget", true, OPT_BUDGET },
  { NULL, false, 0 },
};

static const char *const colormaps[] = { "jet", "viridis", "inferno", "gray", NULL };

/* What the command was asked, checked. */
typedef struct {
  cli_args args;
  const char *out_path, *model_path, *input_path, *cmap_name;
  bool selected[CS_METHOD_COUNT];
  double alpha, budget;
  int64_t size, columns;
} compare_request;

/* What the run produced. */
typedef struct {
  cs_model *m;
  cs_tensor x;
  cs_exec *e;
  cli_norm norm;
  cs_attribution_params p;
  int32_t predicted;
  float predicted_p;
  cs_attribution results[CS_METHOD_COUNT];
  cs_error errors[CS_METHOD_COUNT];
} compare_run;

static const char *
base_name (const char *path)
{
  const char *s = strrchr (path, '/');
  return s != NULL && s[1] != '\0' ? s + 1 : path;
}

/* Parses argv into q; returns CLI_EXIT_OK, or an exit code (-1: --help was printed). */
static int
parse_request (int argc, char **argv, compare_request *q)
{
  int code = cli_parse (argc, argv, "compare", compare_options, &q->args);
  if (code != CLI_EXIT_OK)
    return code;
  cli_args *args = &q->args;
  if (args->values[CLI_OPT_HELP])
    {
      cli_command_usage ("compare");
      cli_print_methods (stdout);
      return -1;
    }
  if (args->n_positional != 2)
    return cli_error (CLI_EXIT_USAGE, "compare",
                      args->n_positional < 2 ? _("expected MODEL and INPUT") : _("expected one MODEL and one INPUT"));
  q->out_path = args->values[OPT_OUT];
  if (q->out_path == NULL)
    return cli_error (CLI_EXIT_USAGE, "--out", _("missing (sheet.png, sheet.pdf or sheet.svg)"));
  cs_error err = { 0 };
  cs_sheet_format format;
  if (cs_sheet_format_from_path (q->out_path, &format, &err) != CS_OK)
    return cli_error (CLI_EXIT_USAGE, "--out", _("%s: expected a .png, .pdf or .svg file"), q->out_path);
  q->cmap_name = "viridis";
  q->alpha = 0.5;
  q->budget = 0;
  q->size = 192;
  q->columns = 0;
  if ((code = cli_parse_methods (args->values[OPT_METHODS], "--methods", q->selected))
      || (code = cli_get_choice (args, OPT_COLORMAP, "--colormap", colormaps, &q->cmap_name))
      || (code = cli_get_double (args, OPT_ALPHA, "--alpha", 0, 1, &q->alpha))
      || (code = cli_get_double (args, OPT_BUDGET, "--budget", 0.001, 1e6, &q->budget))
      || (code = cli_get_int (args, OPT_SIZE, "--size", 48, 2048, &q->size))
      || (code = cli_get_int (args, OPT_COLUMNS, "--columns", 1, 64, &q->columns))
      || (code = cli_apply_threads (args)))
    return code;
  q->model_path = args->positional[0];
  q->input_path = args->positional[1];
  return CLI_EXIT_OK;
}

/* Runs every selected method. Within a budget the one-pass methods run first, then each
 * sampling method gets an equal share of what is left; a method that fails is reported and
 * the others go on. Returns how many methods produced a map. */
static int
run_methods (const compare_request *q, compare_run *r)
{
  double start = cs_attribution_now ();
  int sampling_left = 0, n_ok = 0;
  for (int k = 0; k < CS_METHOD_COUNT; k++)
    sampling_left += q->selected[k] && cs_method_is_sampling ((cs_method) k);
  for (int pass = 0; pass < 2; pass++)
    for (int k = 0; k < CS_METHOD_COUNT; k++)
      {
        cs_method method = (cs_method) k;
        if (!q->selected[k] || cs_method_is_sampling (method) != (pass == 1))
          continue;
        cs_refine refine = { 0 };
        if (q->budget > 0 && pass == 1)
          {
            double left = q->budget - (cs_attribution_now () - start);
            refine.budget_seconds = (left > 1e-3 ? left : 1e-3) / sampling_left--;
          }
        r->p.method = method;
        cli_progress progress;
        cli_progress_init (&progress, cs_method_id (method));
        r->errors[k] = (cs_error) { 0 };
        cs_status st = cs_attribution_run_refined (r->e, &r->x, &r->p, &progress.progress, &refine,
                                                   &r->results[k], &r->errors[k]);
        cli_progress_done (&progress);
        if (st != CS_OK)
          fprintf (stderr, "convscope-cli: warning: %s: %s\n", cs_method_id (method), r->errors[k].message);
        else
          n_ok++;
      }
  return n_ok;
}

/* Loads the model and input and runs the methods into r. */
static int
run_request (const compare_request *q, compare_run *r)
{
  int code;
  cs_error err = { 0 };
  int32_t batch = 1;
  r->p = CS_ATTRIBUTION_PARAMS_DEFAULT;
  r->m = cli_load_model (&q->args, q->model_path, &code);
  if (r->m == NULL)
    return code;
  if ((code = cli_get_norm (&q->args, r->m, &r->norm)) != CLI_EXIT_OK
      || (code = cli_attr_params (&q->args, &cli_attr_all_ids, r->m, &r->p)) != CLI_EXIT_OK
      || (code = cli_attr_batch (&q->args, &cli_attr_all_ids, r->m, q->selected, &batch)) != CLI_EXIT_OK
      || (code = cli_load_input (q->input_path, r->m, &r->norm, &r->x)) != CLI_EXIT_OK)
    return code;
  if ((r->e = cs_exec_new (r->m, batch, &err)) == NULL
      || cli_predict (r->e, r->m, &r->x, &r->predicted, &r->predicted_p, &err) != CS_OK)
    return cli_fail (q->model_path, &err);
  if ((code = cli_check_output (q->input_path, cs_exec_value (r->e, r->m->graph->output_node))) != CLI_EXIT_OK)
    return code;
  if (run_methods (q, r) == 0)
    {
      const char *first = "?";
      for (int k = CS_METHOD_COUNT - 1; k >= 0; k--)
        if (q->selected[k])
          first = r->errors[k].message;
      return cli_error (CLI_EXIT_FAILURE, q->model_path, _("no method could explain this input (first: %s)"),
                        first);
    }
  return CLI_EXIT_OK;
}

/* One panel per selected method, in the canonical order; a failed method's panel says why,
 * one stopped by the budget says how far it got. */
static int32_t
make_panels (const compare_request *q, const compare_run *r, cs_sheet_panel *panels,
             char (*subtitles)[192])
{
  int32_t n = 0;
  for (int k = 0; k < CS_METHOD_COUNT; k++)
    {
      if (!q->selected[k])
        continue;
      const cs_attribution *a = &r->results[k];
      cs_sheet_panel *panel = &panels[n++];
      *panel = (cs_sheet_panel) { .title = cs_method_title ((cs_method) k), .subtitle = subtitles[k],
                                  .min = 0, .max = 1, .milliseconds = -1 };
      int len = snprintf (subtitles[k], sizeof subtitles[k], "%s", cs_method_citation ((cs_method) k));
      if (a->map.data == NULL)
        {
          panel->error = r->errors[k].message;
          continue;
        }
      if (a->layer >= 0)
        len += snprintf (subtitles[k] + len, sizeof subtitles[k] - (size_t) len, " \xC2\xB7 layer %s",
                         r->m->graph->nodes[a->layer].name);
      if (a->completed < 1 && len < (int) sizeof subtitles[k])
        snprintf (subtitles[k] + len, sizeof subtitles[k] - (size_t) len,
                  " \xC2\xB7 budget: %.1f%% done", 100.0 * a->completed);
      panel->map = a->map.data;
      panel->map_h = (int32_t) a->map.shape.dim[0];
      panel->map_w = (int32_t) a->map.shape.dim[1];
      panel->milliseconds = a->seconds * 1e3;
    }
  return n;
}

static int
write_json (const compare_request *q, const compare_run *r, int32_t target)
{
  char label[16];
  cJSON *doc = cJSON_CreateObject ();
  cJSON_AddStringToObject (doc, "input", q->input_path);
  cJSON_AddStringToObject (doc, "out", q->out_path);
  cJSON_AddNumberToObject (doc, "predicted", r->predicted);
  cJSON_AddStringToObject (doc, "label", cli_class_label (r->m, r->predicted, label));
  cJSON_AddNumberToObject (doc, "probability", r->predicted_p);
  cJSON_AddNumberToObject (doc, "target", target);
  if (q->budget > 0)
    cJSON_AddNumberToObject (doc, "budget_seconds", q->budget);
  cJSON *list = cJSON_AddArrayToObject (doc, "methods");
  for (int k = 0; k < CS_METHOD_COUNT; k++)
    if (q->selected[k])
      {
        const cs_attribution *a = &r->results[k];
        cJSON *o = cJSON_CreateObject ();
        cJSON_AddStringToObject (o, "method", cs_method_id ((cs_method) k));
        if (a->map.data != NULL)
          {
            cJSON_AddNumberToObject (o, "milliseconds", a->seconds * 1e3);
            cJSON_AddNumberToObject (o, "completed", a->completed);
            cJSON_AddNumberToObject (o, "passes", a->passes);
            if (a->layer >= 0)
              cJSON_AddStringToObject (o, "layer", r->m->graph->nodes[a->layer].name);
          }
        else
          cJSON_AddStringToObject (o, "error", r->errors[k].message);
        cJSON_AddItemToArray (list, o);
      }
  return cli_print_json (doc);
}

/* Writes the sheet, then the JSON report or one line per method. */
static int
write_outputs (const compare_request *q, compare_run *r)
{
  cs_sheet_panel panels[CS_METHOD_COUNT];
  char subtitles[CS_METHOD_COUNT][192];
  int32_t n_panels = make_panels (q, r, panels, subtitles);
  char title[512], label[16], tlabel[16], predicted_text[96];
  if (q->budget > 0)
    snprintf (title, sizeof title, "%s \xE2\x80\x94 %s \xE2\x80\x94 budget %g s", base_name (q->model_path),
              base_name (q->input_path), q->budget);
  else
    snprintf (title, sizeof title, "%s \xE2\x80\x94 %s", base_name (q->model_path), base_name (q->input_path));
  int32_t target = r->p.target >= 0 ? r->p.target : r->predicted;
  cs_sheet sheet = {
    .title = title, .input = &r->x,
    .mean = r->norm.set ? r->norm.mean : r->m->mean, .std = r->norm.set ? r->norm.std : r->m->std,
    .probability = r->predicted_p,
    .target_label = target != r->predicted ? cli_class_label (r->m, target, tlabel) : NULL,
    .overlay = { .colormap = cs_colormap_from_name (q->cmap_name), .alpha = (float) q->alpha,
                 .grayscale = q->args.values[OPT_GRAYSCALE] != NULL },
    .panel_size = (int32_t) q->size, .columns = (int32_t) q->columns,
    .panels = panels, .n_panels = n_panels,
  };
  snprintf (predicted_text, sizeof predicted_text, "%s (class %d)",
            cli_class_label (r->m, r->predicted, label), r->predicted);
  sheet.predicted_label = r->m->classes != NULL ? predicted_text : cli_class_label (r->m, r->predicted, label);
  cs_error err = { 0 };
  if (cs_sheet_write (&sheet, q->out_path, &err) != CS_OK)
    return cli_fail (q->out_path, &err);
  if (q->args.values[CLI_OPT_JSON])
    return write_json (q, r, target);
  for (int k = 0; k < CS_METHOD_COUNT; k++)
    if (q->selected[k] && r->results[k].map.data != NULL)
      {
        const cs_attribution *a = &r->results[k];
        char time[32];
        cs_format_duration (a->seconds, time, sizeof time);
        if (a->completed < 1)
          printf ("%-21s %12s  (budget: %.1f%% done)\n", cs_method_id ((cs_method) k), time,
                  100.0 * a->completed);
        else
          printf ("%-21s %12s\n", cs_method_id ((cs_method) k), time);
      }
  printf (_("wrote %s\n"), q->out_path);
  return CLI_EXIT_OK;
}

int
cli_cmd_compare (int argc, char **argv)
{
  compare_request q = { 0 };
  int code = parse_request (argc, argv, &q);
  if (code != CLI_EXIT_OK)
    return code < 0 ? CLI_EXIT_OK : code;
  compare_run r = { 0 };
  code = run_request (&q, &r);
  if (code == CLI_EXIT_OK)
    code = write_outputs (&q, &r);
  for (int k = 0; k < CS_METHOD_COUNT; k++)
    cs_attribution_free (&r.results[k]);
  cs_tensor_free (&r.x);
  cs_exec_free (r.e);
  cs_model_free (r.m);
  cs_sheet_release_caches ();
  return code;
}
