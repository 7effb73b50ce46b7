/* `convscope-cli explain MODEL INPUT --method M`: one attribution map, written as an overlay
 * PNG, a map PNG and/or .npy files, with the prediction and the method's parameters. Parse
 * the options into a request, run the method (within --budget), render, write, report. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli-attribution.h"
#include "cli-features.h"
#include "cli-commands.h"
#include "base/softmax.h"
#include "base/duration.h"
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
  OPT_BUDGET,
  OPT_SIZE,
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
  { "budget", true, OPT_BUDGET },
  { "size", true, OPT_SIZE },
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

/* The method's parameters with the driver's defaults filled in (docs/cli/explain.md), as JSON. */
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
      {
        int32_t window, stride;
        cs_occlusion_default_window (m->height, m->width, &window, &stride);
        window = p->window ? p->window : window;
        cJSON_AddNumberToObject (o, "window", window);
        cJSON_AddNumberToObject (o, "stride", p->stride ? p->stride : stride < window ? stride : window);
      }
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

/* What the command was asked, checked. */
typedef struct {
  cli_args args;
  const char *model_path, *input_path, *method_id;
  const char *out_path, *map_path, *save_map, *save_raw;
  cs_method method;
  bool selected[CS_METHOD_COUNT];
  cs_colormap cmap;
  double alpha, budget;
  int64_t size;                /* --out's longer side in pixels; 0: the model's input size */
} explain_request;

/* What the run produced, and the pictures made from it. */
typedef struct {
  cs_model *m;
  cs_tensor x, plane;
  cs_exec *e;
  cli_norm norm;
  cs_attribution_params p;
  int32_t batch, predicted;
  float predicted_p;
  cs_attribution a;
  uint8_t *overlay, *map_rgba;
  int32_t oh, ow;              /* the overlay's size */
  const float *shown;          /* the map as drawn: a.map, or the signed plane */
  int32_t sh, sw;
  written_files written;
} explain_run;

/* The de-normalised input (opaque RGBA, w×h) resampled bilinearly to ow×oh, through the
 * preprocessing's own resize (an RGB image scaled to [0,1] with mean 0 and std 1). */
static cs_status
scale_base (const uint8_t *rgba, int32_t w, int32_t h, int32_t ow, int32_t oh, uint8_t *out,
            cs_error *err)
{
  static const float zero[3] = { 0, 0, 0 }, one[3] = { 1, 1, 1 };
  cs_image img = { .width = w, .height = h, .channels = 3, .pixels = malloc ((size_t) w * h * 3) };
  cs_tensor t = { 0 };

  if (img.pixels == NULL)
    return cs_error_set (err, CS_ERR_MEMORY, "out of memory");
  for (size_t i = 0; i < (size_t) w * h; i++)
    for (int c = 0; c < 3; c++)
      img.pixels[i * 3 + c] = rgba[i * 4 + c];
  cs_status st = cs_image_to_tensor (&img, 3, oh, ow, zero, one, &t, err);
  free (img.pixels);
  if (st != CS_OK)
    return st;
  size_t plane = (size_t) ow * oh;
  for (size_t i = 0; i < plane; i++)
    {
      for (int c = 0; c < 3; c++)
        out[i * 4 + c] = (uint8_t) lrintf (fminf (fmaxf (t.data[c * plane + i], 0.0f), 1.0f) * 255.0f);
      out[i * 4 + 3] = 255;
    }
  cs_tensor_free (&t);
  return CS_OK;
}

/* Parses argv into q; returns CLI_EXIT_OK, or an exit code (-1: --help was printed). */
static int
parse_request (int argc, char **argv, explain_request *q)
{
  cli_args *args = &q->args;
  int code = cli_parse (argc, argv, "explain", explain_options, args);
  if (code != CLI_EXIT_OK)
    return code;
  if (args->values[CLI_OPT_HELP])
    {
      cli_command_usage ("explain");
      cli_print_methods (stdout);
      return -1;
    }
  if (args->n_positional != 2)
    return cli_error (CLI_EXIT_USAGE, "explain",
                      args->n_positional < 2 ? _("expected MODEL and INPUT") : _("expected one MODEL and one INPUT"));
  q->method_id = args->values[OPT_METHOD];
  if (q->method_id == NULL)
    return cli_error (CLI_EXIT_USAGE, "--method", _("missing (e.g. --method gradcam; see --help)"));
  if (strchr (q->method_id, ',') != NULL || strcmp (q->method_id, "all") == 0)
    return cli_error (CLI_EXIT_USAGE, "--method", _("explain takes one method (compare takes several)"));
  if ((code = cli_parse_methods (q->method_id, "--method", q->selected)) != CLI_EXIT_OK)
    return code;
  q->method = cs_method_from_id (q->method_id);

  const char *cmap_name = "viridis";
  q->alpha = 0.5;
  q->budget = 0;
  q->size = 0;
  if ((code = cli_get_choice (args, OPT_COLORMAP, "--colormap", colormaps, &cmap_name))
      || (code = cli_get_double (args, OPT_ALPHA, "--alpha", 0, 1, &q->alpha))
      || (code = cli_get_double (args, OPT_BUDGET, "--budget", 0.001, 1e6, &q->budget))
      || (code = cli_get_int (args, OPT_SIZE, "--size", 16, 4096, &q->size))
      || (code = cli_apply_threads (args)))
    return code;
  if (args->values[OPT_SIZE] != NULL && args->values[OPT_OUT] == NULL)
    return cli_error (CLI_EXIT_USAGE, "--size", _("sets the size of --out's overlay; give --out too"));
  q->cmap = cs_colormap_from_name (cmap_name);
  q->model_path = args->positional[0];
  q->input_path = args->positional[1];
  q->out_path = args->values[OPT_OUT];
  q->map_path = args->values[OPT_MAP];
  q->save_map = args->values[OPT_SAVE_MAP];
  q->save_raw = args->values[OPT_SAVE_RAW];
  return CLI_EXIT_OK;
}

/* Loads the model and input, predicts, and runs the method into r->a. */
static int
run_request (const explain_request *q, explain_run *r)
{
  int code;
  cs_error err = { 0 };
  r->m = cli_load_model (&q->args, q->model_path, &code);
  if (r->m == NULL)
    return code;
  r->p = CS_ATTRIBUTION_PARAMS_DEFAULT;
  r->p.method = q->method;
  r->batch = 1;
  const char *unit = q->args.values[OPT_UNIT];
  if ((code = cli_get_norm (&q->args, r->m, &r->norm)) != CLI_EXIT_OK
      || (code = cli_attr_params (&q->args, &cli_attr_all_ids, r->m, &r->p)) != CLI_EXIT_OK
      || (unit != NULL
          && (code = cli_parse_unit_spec (r->m, unit, &r->p.unit_layer, &r->p.unit_channel)) != CLI_EXIT_OK)
      || (code = cli_attr_batch (&q->args, &cli_attr_all_ids, r->m, q->selected, &r->batch)) != CLI_EXIT_OK
      || (code = cli_load_input (q->input_path, r->m, &r->norm, &r->x)) != CLI_EXIT_OK)
    return code;
  if (q->args.values[CLI_OPT_LAYER] != NULL && !cs_method_is_cam (q->method))
    {
      /* The prefix stays English, like the error prefix: scripts grep for it. */
      fprintf (stderr, "convscope-cli: warning: --layer: ");
      fprintf (stderr, _("%s does not use a layer; ignored\n"), q->method_id);
    }
  /* The prediction on the input as given, whatever class is explained. */
  if ((r->e = cs_exec_new (r->m, r->batch, &err)) == NULL
      || cli_predict (r->e, r->m, &r->x, &r->predicted, &r->predicted_p, &err) != CS_OK)
    return cli_fail (q->model_path, &err);
  if ((code = cli_check_output (q->input_path, cs_exec_value (r->e, r->m->graph->output_node))) != CLI_EXIT_OK)
    return code;

  cli_progress progress;
  cli_progress_init (&progress, q->method_id);
  cs_refine refine = { .budget_seconds = q->budget };
  cs_status st = cs_attribution_run_refined (r->e, &r->x, &r->p, &progress.progress, &refine, &r->a, &err);
  cli_progress_done (&progress);
  return st == CS_OK ? CLI_EXIT_OK : cli_fail (q->method_id, &err);
}

/* The pictures asked for: the overlay over the input and/or the coloured map. */
static int
render_outputs (const explain_request *q, explain_run *r)
{
  cs_error err = { 0 };
  /* What is shown: the displayed map, or the signed raw attribution for the diverging map. */
  r->shown = r->a.map.data;
  r->sh = (int32_t) r->a.map.shape.dim[0];
  r->sw = (int32_t) r->a.map.shape.dim[1];
  if (cs_colormap_is_signed (q->cmap))
    {
      if (cs_render_signed_plane (&r->a.raw, &r->plane, &err) != CS_OK)
        return cli_fail (q->method_id, &err);
      r->shown = r->plane.data;
      r->sh = (int32_t) r->plane.shape.dim[0];
      r->sw = (int32_t) r->plane.shape.dim[1];
    }
  int32_t h = r->m->height, w = r->m->width;
  if (q->out_path != NULL)
    {
      cs_overlay_options o = { .colormap = q->cmap, .alpha = (float) q->alpha,
                               .grayscale = q->args.values[OPT_GRAYSCALE] != NULL };
      /* --size scales the longer side; the map is resampled once, straight to that size. */
      r->ow = w;
      r->oh = h;
      if (q->size > 0)
        {
          double f = (double) q->size / (w > h ? w : h);
          r->ow = (int32_t) (w > h ? q->size : fmax (1, lround (w * f)));
          r->oh = (int32_t) (w > h ? fmax (1, lround (h * f)) : q->size);
        }
      uint8_t *base = malloc ((size_t) w * (size_t) h * 4);
      uint8_t *scaled = r->ow != w || r->oh != h ? malloc ((size_t) r->ow * (size_t) r->oh * 4) : NULL;
      r->overlay = malloc ((size_t) r->ow * (size_t) r->oh * 4);
      if (base == NULL || r->overlay == NULL || (scaled == NULL && (r->ow != w || r->oh != h)))
        {
          free (base);
          free (scaled);
          return cli_error (CLI_EXIT_FAILURE, q->out_path, _("out of memory"));
        }
      const float *mean = r->norm.set ? r->norm.mean : r->m->mean;
      const float *std = r->norm.set ? r->norm.std : r->m->std;
      cs_status st = cs_render_input (&r->x, mean, std, o.grayscale, base, &err);
      if (st == CS_OK && scaled != NULL)
        st = scale_base (base, w, h, r->ow, r->oh, scaled, &err);
      if (st == CS_OK)
        st = cs_render_overlay (scaled != NULL ? scaled : base, r->ow, r->oh, r->shown, r->sh, r->sw, &o,
                                r->overlay, &err);
      free (base);
      free (scaled);
      if (st != CS_OK)
        return cli_fail (q->out_path, &err);
    }
  if (q->map_path != NULL)
    {
      r->map_rgba = malloc ((size_t) r->sw * (size_t) r->sh * 4);
      if (r->map_rgba == NULL)
        return cli_error (CLI_EXIT_FAILURE, q->map_path, _("out of memory"));
      cs_colormap_apply (q->cmap, r->shown, (int64_t) r->sw * r->sh, r->map_rgba);
    }
  return CLI_EXIT_OK;
}

/* Writes the files, each atomically; on a failure removes the ones this run wrote. */
static int
write_files (const explain_request *q, explain_run *r)
{
  cs_error err = { 0 };
  const char *failed = NULL;
  written_files *written = &r->written;
  if (q->save_raw != NULL && !failed)
    {
      if (cs_npy_save (q->save_raw, &r->a.raw, &err) != CS_OK)
        failed = q->save_raw;
      else
        written->written[written->n++] = q->save_raw;
    }
  if (q->save_map != NULL && !failed)
    {
      if (cs_npy_save (q->save_map, &r->a.map, &err) != CS_OK)
        failed = q->save_map;
      else
        written->written[written->n++] = q->save_map;
    }
  if (q->map_path != NULL && !failed)
    {
      if (cs_png_save (q->map_path, r->map_rgba, r->sw, r->sh, 4, &err) != CS_OK)
        failed = q->map_path;
      else
        written->written[written->n++] = q->map_path;
    }
  if (q->out_path != NULL && !failed)
    {
      if (cs_png_save (q->out_path, r->overlay, r->ow, r->oh, 4, &err) != CS_OK)
        failed = q->out_path;
      else
        written->written[written->n++] = q->out_path;
    }
  if (failed)
    {
      remove_written (written);
      return cli_fail (failed, &err);
    }
  return CLI_EXIT_OK;
}

static int
write_json (const explain_request *q, const explain_run *r)
{
  char buf[16], pbuf[16];
  const cs_attribution *a = &r->a;
  cJSON *doc = cJSON_CreateObject ();
  cJSON_AddStringToObject (doc, "input", q->input_path);
  cJSON_AddStringToObject (doc, "method", q->method_id);
  cJSON_AddStringToObject (doc, "title", cs_method_title (q->method));
  cJSON_AddNumberToObject (doc, "target", a->target);
  cJSON_AddStringToObject (doc, "label", cli_class_label (r->m, a->target, buf));
  cJSON_AddNumberToObject (doc, "logit", a->target_logit);
  cJSON_AddNumberToObject (doc, "probability", a->target_probability);
  cJSON *pred = cJSON_AddObjectToObject (doc, "prediction");
  cJSON_AddNumberToObject (pred, "class", r->predicted);
  cJSON_AddStringToObject (pred, "label", cli_class_label (r->m, r->predicted, pbuf));
  cJSON_AddNumberToObject (pred, "probability", r->predicted_p);
  cJSON_AddItemToObject (doc, "parameters", parameters_json (r->m, &r->p, a, r->batch));
  if (a->layer >= 0)
    cJSON_AddStringToObject (doc, "layer", r->m->graph->nodes[a->layer].name);
  else
    cJSON_AddNullToObject (doc, "layer");
  cJSON_AddNumberToObject (doc, "milliseconds", a->seconds * 1e3);
  cJSON_AddNumberToObject (doc, "passes", a->passes);
  cJSON_AddNumberToObject (doc, "completed", a->completed);
  if (q->budget > 0)
    cJSON_AddNumberToObject (doc, "budget_seconds", q->budget);
  add_shape (doc, "map_shape", &a->map);
  add_shape (doc, "raw_shape", &a->raw);
  cJSON_AddBoolToObject (doc, "raw_signed", a->raw_is_signed);
  cJSON *outputs = cJSON_AddObjectToObject (doc, "outputs");
  static const char *const keys[] = { "save_raw", "save_map", "map", "out" };
  const char *paths[] = { q->save_raw, q->save_map, q->map_path, q->out_path };
  for (int i = 0; i < 4; i++)
    if (paths[i] != NULL)
      cJSON_AddStringToObject (outputs, keys[i], paths[i]);
  return cli_print_json (doc);
}

static int
write_report (const explain_request *q, const explain_run *r)
{
  if (q->args.values[CLI_OPT_JSON])
    return write_json (q, r);
  char buf[16], pbuf[16];
  const cs_attribution *a = &r->a;
  printf (_("%s: predicted %d (%s), probability %.4f\n"), q->input_path, r->predicted,
          cli_class_label (r->m, r->predicted, pbuf), r->predicted_p);
  printf (_("%s of class %d (%s): logit %.4f, probability %.4f"), _(cs_method_title (q->method)), a->target,
          cli_class_label (r->m, a->target, buf), a->target_logit, a->target_probability);
  if (a->layer >= 0)
    printf (_(", layer %s"), r->m->graph->nodes[a->layer].name);
  {
    char time[32];
    cs_format_duration (a->seconds, time, sizeof time);
    printf (", %s", time);
  }
  if (a->completed < 1)
    printf (_(", stopped by the budget at %.1f%%"), 100.0 * a->completed);
  printf ("\n");
  for (int i = 0; i < r->written.n; i++)
    printf (_("wrote %s\n"), r->written.written[i]);
  return CLI_EXIT_OK;
}

int
cli_cmd_explain (int argc, char **argv)
{
  explain_request q = { 0 };
  int code = parse_request (argc, argv, &q);
  if (code != CLI_EXIT_OK)
    return code < 0 ? CLI_EXIT_OK : code;
  explain_run r = { 0 };
  code = run_request (&q, &r);
  if (code == CLI_EXIT_OK)
    code = render_outputs (&q, &r);
  if (code == CLI_EXIT_OK)
    code = write_files (&q, &r);
  if (code == CLI_EXIT_OK)
    code = write_report (&q, &r);
  free (r.overlay);
  free (r.map_rgba);
  cs_attribution_free (&r.a);
  cs_tensor_free (&r.plane);
  cs_tensor_free (&r.x);
  cs_exec_free (r.e);
  cs_model_free (r.m);
  return code;
}
