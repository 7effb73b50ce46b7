/* `convscope-cli explain MODEL INPUT --method M`: one attribution map, written as an overlay
 * PNG, a map PNG and/or .npy files, with the prediction and the method's parameters. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli-attribution.h"
#include "cli-features.h"
#include "cli-commands.h"
#include "cli-common.h"
#include "io/image.h"
#include "io/npy.h"
#include "render/overlay.h"

enum {
  OPT_METHOD = CLI_OPT_FIRST_ATTR_COMMAND,
  OPT_OUT,
  OPT_MAP,
  OPT_SAVE_MAP,
  OPT_SAVE_RAW,
  OPT_COLORMAP,
  OPT_ALPHA,
  OPT_GRAYSCALE,
  OPT_UNIT,
};

static const cli_option explain_options[] = {
  { "method", true, OPT_METHOD },
  CLI_ATTR_OPTION_ROWS,
  { "out", true, OPT_OUT },
  { "map", true, OPT_MAP },
  { "save-map", true, OPT_SAVE_MAP },
  { "save-raw", true, OPT_SAVE_RAW },
  { "colormap", true, OPT_COLORMAP },
  { "alpha", true, OPT_ALPHA },
  { "grayscale", false, OPT_GRAYSCALE },
  { "unit", true, OPT_UNIT },
  { NULL, false, 0 },
};

static const char *const colormaps[] = { "jet", "viridis", "inferno", "gray", "diverging", NULL };

/* Outputs are all computed first, then written one by one (each atomically); if one write
 * fails, the ones already written by this run are removed, so a failure leaves no output. */
typedef struct {
  const char *written[4];
  int n;
} written_files;

static void
remove_written (written_files *w)
{
  for (int i = 0; i < w->n; i++)
    remove (w->written[i]);
  w->n = 0;
}

static const char *
baseline_name (cs_baseline b)
{
  return b == CS_BASELINE_BLUR ? "blur" : b == CS_BASELINE_UNIFORM ? "uniform" : "zero";
}

/* The method's parameters with the driver's defaults filled in (CLI.md), as JSON. */
static cJSON *
parameters_json (const cs_model *m, const cs_attribution_params *p, const cs_attribution *a,
                 int32_t batch)
{
  cJSON *o = cJSON_CreateObject ();
  cJSON_AddNumberToObject (o, "target", a->target);
  cJSON_AddBoolToObject (o, "target_auto", p->target < 0);
  if (p->unit_layer >= 0)
    {
      /* the explained score is this unit's mean activation, not the target's logit */
      cJSON *unit = cJSON_AddObjectToObject (o, "unit");
      cJSON_AddStringToObject (unit, "layer", m->graph->nodes[p->unit_layer].name);
      cJSON_AddNumberToObject (unit, "channel", p->unit_channel);
    }
  cJSON_AddNumberToObject (o, "batch", batch);
  switch (p->method)
    {
    case CS_METHOD_SMOOTHGRAD:
      cJSON_AddNumberToObject (o, "samples", p->samples ? p->samples : 50);
      cJSON_AddNumberToObject (o, "noise", p->noise > 0 ? p->noise : 0.15);
      cJSON_AddNumberToObject (o, "seed", (double) p->seed);
      break;
    case CS_METHOD_INTEGRATED_GRADIENTS:
      cJSON_AddNumberToObject (o, "steps", p->steps ? p->steps : 50);
      cJSON_AddStringToObject (o, "baseline", baseline_name (p->baseline));
      if (p->baseline == CS_BASELINE_UNIFORM)
        cJSON_AddNumberToObject (o, "seed", (double) p->seed);
      break;
    case CS_METHOD_OCCLUSION:
      cJSON_AddNumberToObject (o, "window", p->window ? p->window : 8);
      cJSON_AddNumberToObject (o, "stride", p->stride ? p->stride : 4);
      cJSON_AddStringToObject (o, "baseline", baseline_name (p->baseline));
      break;
    case CS_METHOD_RISE:
      cJSON_AddNumberToObject (o, "samples", p->samples ? p->samples : 4000);
      cJSON_AddNumberToObject (o, "seed", (double) p->seed);
      break;
    default:
      break;
    }
  if (cs_method_is_cam (p->method) && a->layer >= 0)
    cJSON_AddStringToObject (o, "layer", m->graph->nodes[a->layer].name);
  return o;
}

static void
add_shape (cJSON *doc, const char *key, const cs_tensor *t)
{
  cJSON *a = cJSON_AddArrayToObject (doc, key);
  for (int i = 0; i < t->shape.ndim; i++)
    cJSON_AddItemToArray (a, cJSON_CreateNumber ((double) t->shape.dim[i]));
}

int
cli_cmd_explain (int argc, char **argv)
{
  cli_args args;
  int code = cli_parse (argc, argv, "explain", explain_options, &args);
  if (code != CLI_EXIT_OK)
    return code;
  if (args.values[CLI_OPT_HELP])
    {
      cli_command_usage ("explain");
      cli_print_methods (stdout);
      return CLI_EXIT_OK;
    }
  if (args.n_positional != 2)
    return cli_error (CLI_EXIT_USAGE, "explain",
                      args.n_positional < 2 ? _("expected MODEL and INPUT") : _("expected one MODEL and one INPUT"));
  const char *method_id = args.values[OPT_METHOD];
  if (method_id == NULL)
    return cli_error (CLI_EXIT_USAGE, "--method", _("missing (e.g. --method gradcam; see --help)"));
  bool selected[CS_METHOD_COUNT];
  if (strchr (method_id, ',') != NULL || strcmp (method_id, "all") == 0)
    return cli_error (CLI_EXIT_USAGE, "--method", _("explain takes one method (compare takes several)"));
  if ((code = cli_parse_methods (method_id, "--method", selected)) != CLI_EXIT_OK)
    return code;
  cs_method method = cs_method_from_id (method_id);

  const char *cmap_name = "viridis";
  double alpha = 0.5;
  if ((code = cli_get_choice (&args, OPT_COLORMAP, "--colormap", colormaps, &cmap_name))
      || (code = cli_get_double (&args, OPT_ALPHA, "--alpha", 0, 1, &alpha)))
    return code;
  cs_colormap cmap = cs_colormap_from_name (cmap_name);
  if ((code = cli_apply_threads (&args)) != CLI_EXIT_OK)
    return code;

  const char *model_path = args.positional[0], *input_path = args.positional[1];
  cs_model *m = cli_load_model (&args, model_path, &code);
  if (m == NULL)
    return code;
  cs_tensor x = { 0 }, plane = { 0 };
  cs_exec *e = NULL;
  cs_attribution a = { 0 };
  uint8_t *base = NULL, *overlay = NULL, *map_rgba = NULL;
  written_files written = { 0 };
  cs_error err = { 0 };
  cli_norm norm;
  cs_attribution_params p = CS_ATTRIBUTION_PARAMS_DEFAULT;
  p.method = method;
  int32_t batch = 1;
  if ((code = cli_get_norm (&args, m, &norm)) != CLI_EXIT_OK
      || (code = cli_attr_params (&args, &cli_attr_all_ids, m, &p)) != CLI_EXIT_OK
      || (args.values[OPT_UNIT] != NULL
          && (code = cli_parse_unit_spec (m, args.values[OPT_UNIT], &p.unit_layer, &p.unit_channel))
               != CLI_EXIT_OK)
      || (code = cli_attr_batch (&args, &cli_attr_all_ids, m, selected, &batch)) != CLI_EXIT_OK
      || (code = cli_load_input (input_path, m, &norm, &x)) != CLI_EXIT_OK)
    goto out;
  if (args.values[CLI_OPT_LAYER] != NULL && !cs_method_is_cam (method))
    {
      /* The prefix stays English, like the error prefix: scripts grep for it. */
      fprintf (stderr, "convscope-cli: warning: --layer: ");
      fprintf (stderr, _("%s does not use a layer; ignored\n"), method_id);
    }

  if ((e = cs_exec_new (m, batch, &err)) == NULL)
    {
      code = cli_fail (model_path, &err);
      goto out;
    }
  /* The prediction on the input as given, whatever class is explained. */
  if (cs_exec_forward (e, &x, &err) != CS_OK)
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

  cli_progress progress;
  cli_progress_init (&progress, method_id);
  cs_status st = cs_attribution_run (e, &x, &p, &progress.progress, &a, &err);
  cli_progress_done (&progress);
  if (st != CS_OK)
    {
      code = cli_fail (method_id, &err);
      goto out;
    }

  /* What is shown: the displayed map, or the signed raw attribution for the diverging map. */
  const float *shown = a.map.data;
  int32_t sh = (int32_t) a.map.shape.dim[0], sw = (int32_t) a.map.shape.dim[1];
  if (cs_colormap_is_signed (cmap))
    {
      if (cs_render_signed_plane (&a.raw, &plane, &err) != CS_OK)
        {
          code = cli_fail (method_id, &err);
          goto out;
        }
      shown = plane.data;
      sh = (int32_t) plane.shape.dim[0];
      sw = (int32_t) plane.shape.dim[1];
    }
  const char *out_path = args.values[OPT_OUT], *map_path = args.values[OPT_MAP];
  const char *save_map = args.values[OPT_SAVE_MAP], *save_raw = args.values[OPT_SAVE_RAW];
  int32_t h = m->height, w = m->width;
  if (out_path != NULL)
    {
      cs_overlay_options o = { .colormap = cmap, .alpha = (float) alpha,
                               .grayscale = args.values[OPT_GRAYSCALE] != NULL };
      base = malloc ((size_t) w * (size_t) h * 4);
      overlay = malloc ((size_t) w * (size_t) h * 4);
      if (base == NULL || overlay == NULL)
        {
          code = cli_error (CLI_EXIT_FAILURE, out_path, _("out of memory"));
          goto out;
        }
      const float *mean = norm.set ? norm.mean : m->mean, *std = norm.set ? norm.std : m->std;
      if (cs_render_input (&x, mean, std, o.grayscale, base, &err) != CS_OK
          || cs_render_overlay (base, w, h, shown, sh, sw, &o, overlay, &err) != CS_OK)
        {
          code = cli_fail (out_path, &err);
          goto out;
        }
    }
  if (map_path != NULL)
    {
      map_rgba = malloc ((size_t) sw * (size_t) sh * 4);
      if (map_rgba == NULL)
        {
          code = cli_error (CLI_EXIT_FAILURE, map_path, _("out of memory"));
          goto out;
        }
      cs_colormap_apply (cmap, shown, (int64_t) sw * sh, map_rgba);
    }

  const char *failed = NULL;
  if (save_raw != NULL && !failed)
    {
      if (cs_npy_save (save_raw, &a.raw, &err) != CS_OK)
        failed = save_raw;
      else
        written.written[written.n++] = save_raw;
    }
  if (save_map != NULL && !failed)
    {
      if (cs_npy_save (save_map, &a.map, &err) != CS_OK)
        failed = save_map;
      else
        written.written[written.n++] = save_map;
    }
  if (map_path != NULL && !failed)
    {
      if (cs_png_save (map_path, map_rgba, sw, sh, 4, &err) != CS_OK)
        failed = map_path;
      else
        written.written[written.n++] = map_path;
    }
  if (out_path != NULL && !failed)
    {
      if (cs_png_save (out_path, overlay, w, h, 4, &err) != CS_OK)
        failed = out_path;
      else
        written.written[written.n++] = out_path;
    }
  if (failed)
    {
      remove_written (&written);
      code = cli_fail (failed, &err);
      goto out;
    }

  char buf[16], pbuf[16];
  if (args.values[CLI_OPT_JSON])
    {
      cJSON *doc = cJSON_CreateObject ();
      cJSON_AddStringToObject (doc, "input", input_path);
      cJSON_AddStringToObject (doc, "method", method_id);
      cJSON_AddStringToObject (doc, "title", cs_method_title (method));
      cJSON_AddNumberToObject (doc, "target", a.target);
      cJSON_AddStringToObject (doc, "label", cli_class_label (m, a.target, buf));
      cJSON_AddNumberToObject (doc, "logit", a.target_logit);
      cJSON_AddNumberToObject (doc, "probability", a.target_probability);
      cJSON *pred = cJSON_AddObjectToObject (doc, "prediction");
      cJSON_AddNumberToObject (pred, "class", predicted);
      cJSON_AddStringToObject (pred, "label", cli_class_label (m, predicted, pbuf));
      cJSON_AddNumberToObject (pred, "probability", predicted_p);
      cJSON_AddItemToObject (doc, "parameters", parameters_json (m, &p, &a, batch));
      if (a.layer >= 0)
        cJSON_AddStringToObject (doc, "layer", m->graph->nodes[a.layer].name);
      else
        cJSON_AddNullToObject (doc, "layer");
      cJSON_AddNumberToObject (doc, "milliseconds", a.seconds * 1e3);
      cJSON_AddNumberToObject (doc, "passes", a.passes);
      add_shape (doc, "map_shape", &a.map);
      add_shape (doc, "raw_shape", &a.raw);
      cJSON_AddBoolToObject (doc, "raw_signed", a.raw_is_signed);
      cJSON *outputs = cJSON_AddObjectToObject (doc, "outputs");
      static const char *const keys[] = { "save_raw", "save_map", "map", "out" };
      const char *paths[] = { save_raw, save_map, map_path, out_path };
      for (int i = 0; i < 4; i++)
        if (paths[i] != NULL)
          cJSON_AddStringToObject (outputs, keys[i], paths[i]);
      code = cli_print_json (doc);
    }
  else
    {
      printf (_("%s: predicted %d (%s), probability %.4f\n"), input_path, predicted,
              cli_class_label (m, predicted, pbuf), predicted_p);
      printf (_("%s of class %d (%s): logit %.4f, probability %.4f"), _(cs_method_title (method)), a.target,
              cli_class_label (m, a.target, buf), a.target_logit, a.target_probability);
      if (a.layer >= 0)
        printf (_(", layer %s"), m->graph->nodes[a.layer].name);
      printf (", %.1f ms\n", a.seconds * 1e3);
      for (int i = 0; i < written.n; i++)
        printf (_("wrote %s\n"), written.written[i]);
      code = CLI_EXIT_OK;
    }

out:
  free (base);
  free (overlay);
  free (map_rgba);
  cs_attribution_free (&a);
  cs_tensor_free (&plane);
  cs_tensor_free (&x);
  cs_exec_free (e);
  cs_model_free (m);
  return code;
}
