/* `convscope-cli compare MODEL INPUT --out sheet.png|pdf|svg`: every chosen method on one
 * input, side by side on one sheet with the prediction, colour bars and times. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli-attribution.h"
#include "cli-commands.h"
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
  { NULL, false, 0 },
};

static const char *const colormaps[] = { "jet", "viridis", "inferno", "gray", NULL };

static const char *
base_name (const char *path)
{
  const char *s = strrchr (path, '/');
  return s != NULL && s[1] != '\0' ? s + 1 : path;
}

int
cli_cmd_compare (int argc, char **argv)
{
  cli_args args;
  int code = cli_parse (argc, argv, "compare", compare_options, &args);
  if (code != CLI_EXIT_OK)
    return code;
  if (args.values[CLI_OPT_HELP])
    {
      cli_command_usage ("compare");
      cli_print_methods (stdout);
      return CLI_EXIT_OK;
    }
  if (args.n_positional != 2)
    return cli_error (CLI_EXIT_USAGE, "compare",
                      args.n_positional < 2 ? _("expected MODEL and INPUT") : _("expected one MODEL and one INPUT"));
  const char *out_path = args.values[OPT_OUT];
  if (out_path == NULL)
    return cli_error (CLI_EXIT_USAGE, "--out", _("missing (sheet.png, sheet.pdf or sheet.svg)"));
  cs_error err = { 0 };
  cs_sheet_format format;
  if (cs_sheet_format_from_path (out_path, &format, &err) != CS_OK)
    return cli_error (CLI_EXIT_USAGE, "--out", _("%s: expected a .png, .pdf or .svg file"), out_path);
  bool selected[CS_METHOD_COUNT];
  const char *cmap_name = "viridis";
  double alpha = 0.5;
  int64_t size = 192, columns = 0;
  if ((code = cli_parse_methods (args.values[OPT_METHODS], "--methods", selected))
      || (code = cli_get_choice (&args, OPT_COLORMAP, "--colormap", colormaps, &cmap_name))
      || (code = cli_get_double (&args, OPT_ALPHA, "--alpha", 0, 1, &alpha))
      || (code = cli_get_int (&args, OPT_SIZE, "--size", 48, 2048, &size))
      || (code = cli_get_int (&args, OPT_COLUMNS, "--columns", 1, 64, &columns))
      || (code = cli_apply_threads (&args)))
    return code;

  const char *model_path = args.positional[0], *input_path = args.positional[1];
  cs_model *m = cli_load_model (&args, model_path, &code);
  if (m == NULL)
    return code;
  cs_tensor x = { 0 };
  cs_exec *e = NULL;
  cs_attribution results[CS_METHOD_COUNT];
  cs_error errors[CS_METHOD_COUNT];
  char subtitles[CS_METHOD_COUNT][192];
  cs_sheet_panel panels[CS_METHOD_COUNT];
  memset (results, 0, sizeof results);
  int32_t n_panels = 0, n_ok = 0, batch = 1;
  cli_norm norm;
  cs_attribution_params p = CS_ATTRIBUTION_PARAMS_DEFAULT;
  if ((code = cli_get_norm (&args, m, &norm)) != CLI_EXIT_OK
      || (code = cli_attr_params (&args, &cli_attr_all_ids, m, &p)) != CLI_EXIT_OK
      || (code = cli_attr_batch (&args, &cli_attr_all_ids, m, selected, &batch)) != CLI_EXIT_OK
      || (code = cli_load_input (input_path, m, &norm, &x)) != CLI_EXIT_OK)
    goto out;
  if ((e = cs_exec_new (m, batch, &err)) == NULL || cs_exec_forward (e, &x, &err) != CS_OK)
    {
      code = cli_fail (model_path, &err);
      goto out;
    }
  const cs_tensor *logits = cs_exec_value (e, m->graph->output_node);
  if ((code = cli_check_output (input_path, logits)) != CLI_EXIT_OK)
    goto out;
  int32_t classes = (int32_t) cs_tensor_numel (logits), predicted = 0;
  for (int32_t i = 1; i < classes; i++)
    if (logits->data[i] > logits->data[predicted])
      predicted = i;
  float *probs = malloc ((size_t) classes * sizeof (float));
  float predicted_p = 0;
  if (probs != NULL)
    {
      cli_softmax (logits->data, classes, probs);
      predicted_p = probs[predicted];
      free (probs);
    }

  /* A method that fails (a CAM on a model without a spatial layer, say) gets a panel that
   * says why; the sheet is still written when at least one method worked. */
  for (int k = 0; k < CS_METHOD_COUNT; k++)
    {
      if (!selected[k])
        continue;
      cs_method method = (cs_method) k;
      p.method = method;
      cli_progress progress;
      cli_progress_init (&progress, cs_method_id (method));
      errors[k] = (cs_error) { 0 };
      cs_status st = cs_attribution_run (e, &x, &p, &progress.progress, &results[k], &errors[k]);
      cli_progress_done (&progress);
      cs_sheet_panel *panel = &panels[n_panels++];
      *panel = (cs_sheet_panel) { .title = cs_method_title (method), .subtitle = subtitles[k],
                                  .min = 0, .max = 1, .milliseconds = -1 };
      snprintf (subtitles[k], sizeof subtitles[k], "%s", cs_method_citation (method));
      if (st != CS_OK)
        {
          fprintf (stderr, "convscope-cli: warning: %s: %s\n", cs_method_id (method), errors[k].message);
          panel->error = errors[k].message;
          continue;
        }
      n_ok++;
      if (results[k].layer >= 0)
        snprintf (subtitles[k], sizeof subtitles[k], "%s \xC2\xB7 layer %s", cs_method_citation (method),
                  m->graph->nodes[results[k].layer].name);
      panel->map = results[k].map.data;
      panel->map_h = (int32_t) results[k].map.shape.dim[0];
      panel->map_w = (int32_t) results[k].map.shape.dim[1];
      panel->milliseconds = results[k].seconds * 1e3;
    }
  if (n_ok == 0)
    {
      code = cli_error (CLI_EXIT_FAILURE, model_path, _("no method could explain this input (first: %s)"),
                        panels[0].error ? panels[0].error : "?");
      goto out;
    }

  char title[512], label[16], tlabel[16];
  snprintf (title, sizeof title, "%s \xE2\x80\x94 %s", base_name (model_path), base_name (input_path));
  int32_t target = p.target >= 0 ? p.target : predicted;
  cs_sheet sheet = {
    .title = title, .input = &x,
    .mean = norm.set ? norm.mean : m->mean, .std = norm.set ? norm.std : m->std,
    .predicted_label = NULL, .probability = predicted_p,
    .target_label = target != predicted ? cli_class_label (m, target, tlabel) : NULL,
    .overlay = { .colormap = cs_colormap_from_name (cmap_name), .alpha = (float) alpha,
                 .grayscale = args.values[OPT_GRAYSCALE] != NULL },
    .panel_size = (int32_t) size, .columns = (int32_t) columns,
    .panels = panels, .n_panels = n_panels,
  };
  char predicted_text[96];
  snprintf (predicted_text, sizeof predicted_text, "%s (class %d)", cli_class_label (m, predicted, label), predicted);
  sheet.predicted_label = m->classes != NULL ? predicted_text : cli_class_label (m, predicted, label);
  if (cs_sheet_write (&sheet, out_path, &err) != CS_OK)
    {
      code = cli_fail (out_path, &err);
      goto out;
    }
  if (args.values[CLI_OPT_JSON])
    {
      cJSON *doc = cJSON_CreateObject ();
      cJSON_AddStringToObject (doc, "input", input_path);
      cJSON_AddStringToObject (doc, "out", out_path);
      cJSON_AddNumberToObject (doc, "predicted", predicted);
      cJSON_AddStringToObject (doc, "label", cli_class_label (m, predicted, label));
      cJSON_AddNumberToObject (doc, "probability", predicted_p);
      cJSON_AddNumberToObject (doc, "target", target);
      cJSON *list = cJSON_AddArrayToObject (doc, "methods");
      for (int k = 0; k < CS_METHOD_COUNT; k++)
        if (selected[k])
          {
            cJSON *o = cJSON_CreateObject ();
            cJSON_AddStringToObject (o, "method", cs_method_id ((cs_method) k));
            if (results[k].map.data != NULL)
              {
                cJSON_AddNumberToObject (o, "milliseconds", results[k].seconds * 1e3);
                if (results[k].layer >= 0)
                  cJSON_AddStringToObject (o, "layer", m->graph->nodes[results[k].layer].name);
              }
            else
              cJSON_AddStringToObject (o, "error", errors[k].message);
            cJSON_AddItemToArray (list, o);
          }
      code = cli_print_json (doc);
    }
  else
    {
      for (int k = 0; k < CS_METHOD_COUNT; k++)
        if (selected[k] && results[k].map.data != NULL)
          printf ("%-21s %9.1f ms\n", cs_method_id ((cs_method) k), results[k].seconds * 1e3);
      printf (_("wrote %s\n"), out_path);
      code = CLI_EXIT_OK;
    }

out:
  for (int k = 0; k < CS_METHOD_COUNT; k++)
    cs_attribution_free (&results[k]);
  cs_tensor_free (&x);
  cs_exec_free (e);
  cs_model_free (m);
  cs_sheet_release_caches ();
  return code;
}
