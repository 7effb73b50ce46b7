/* `convscope-cli features MODEL --layer NAME [--units all|a,b,...] --out sheet.png|.pdf|.svg`:
 * activation-maximisation images of a layer's units, one titled panel each. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli-commands.h"
#include "cli-common.h"
#include "cli-features.h"
#include "features/actmax.h"
#include "render/sheet.h"

enum {
  OPT_LAYER = CLI_OPT_FIRST_COMMAND,
  OPT_UNITS,
  OPT_OUT,
  OPT_STEPS,
  OPT_LR,
  OPT_PARAM,
  OPT_BLUR,
  OPT_JITTER,
  OPT_SCALE,
  OPT_ROTATE,
  OPT_DECAY,
  OPT_SEED,
  OPT_BATCH,
  OPT_ZOOM,
  OPT_SIZE,
  OPT_COLUMNS,
};

static const cli_option features_options[] = {
  { "layer", true, OPT_LAYER },
  { "units", true, OPT_UNITS },
  { "out", true, OPT_OUT },
  { "steps", true, OPT_STEPS },
  { "lr", true, OPT_LR },
  { "param", true, OPT_PARAM },
  { "blur", true, OPT_BLUR },
  { "jitter", true, OPT_JITTER },
  { "scale", true, OPT_SCALE },
  { "rotate", true, OPT_ROTATE },
  { "decay", true, OPT_DECAY },
  { "seed", true, OPT_SEED },
  { "batch", true, OPT_BATCH },
  { "zoom", true, OPT_ZOOM },
  { "size", true, OPT_SIZE },
  { "columns", true, OPT_COLUMNS },
  { NULL, false, 0 },
};

static int
read_params (const cli_args *args, cs_actmax_params *p, int64_t *batch, int64_t *zoom)
{
  static const char *const params[] = { "fourier", "pixel", NULL };
  int64_t steps = p->steps, jitter = p->jitter, seed = 0;
  double lr = p->learning_rate, blur = p->blur_sigma, scale = p->scale_range, rot = p->rotate_degrees,
         decay = p->l2_decay;
  const char *param = "fourier";
  int code;
  if ((code = cli_get_int (args, OPT_STEPS, "--steps", 1, 100000, &steps))
      || (code = cli_get_double (args, OPT_LR, "--lr", 1e-6, 10, &lr))
      || (code = cli_get_choice (args, OPT_PARAM, "--param", params, &param))
      || (code = cli_get_double (args, OPT_BLUR, "--blur", 0, 10, &blur))
      || (code = cli_get_int (args, OPT_JITTER, "--jitter", -1, 1024, &jitter))
      || (code = cli_get_double (args, OPT_SCALE, "--scale", 0, 0.9, &scale))
      || (code = cli_get_double (args, OPT_ROTATE, "--rotate", 0, 180, &rot))
      || (code = cli_get_double (args, OPT_DECAY, "--decay", 0, 1e6, &decay))
      || (code = cli_get_int (args, OPT_SEED, "--seed", 0, INT64_MAX, &seed))
      || (code = cli_get_int (args, OPT_BATCH, "--batch", 1, 1024, batch))
      || (code = cli_get_int (args, OPT_ZOOM, "--zoom", 1, 64, zoom)))
    return code;
  p->steps = (int32_t) steps;
  p->learning_rate = (float) lr;
  p->param = strcmp (param, "pixel") == 0 ? CS_IMAGE_PARAM_PIXEL : CS_IMAGE_PARAM_FOURIER;
  p->blur_sigma = (float) blur;
  p->jitter = (int32_t) jitter;
  p->scale_range = (float) scale;
  p->rotate_degrees = (float) rot;
  p->l2_decay = (float) decay;
  p->seed = (uint64_t) seed;
  return CLI_EXIT_OK;
}

/* One titled panel per unit under a header naming the model, layer and parameters. */
static int
write_sheet (const cli_args *args, const char *model_path, const char *layer, const cs_actmax_params *p,
             const cs_actmax_result *r, int32_t n_layer_units, int32_t size, int32_t columns, const char *path)
{
  int32_t n = r->n_units, c = (int32_t) r->images.shape.dim[1], h = (int32_t) r->images.shape.dim[2],
          w = (int32_t) r->images.shape.dim[3];
  cs_sheet_image *panels = calloc ((size_t) n, sizeof *panels);
  char (*text)[2][96] = calloc ((size_t) n, sizeof *text);
  if (panels == NULL || text == NULL)
    {
      free (panels);
      free (text);
      return cli_error (CLI_EXIT_FAILURE, path, _("out of memory"));
    }
  for (int32_t i = 0; i < n; i++)
    {
      snprintf (text[i][0], sizeof text[i][0], "unit %d \xC2\xB7 activation %.3f", r->units[i], (double) r->final[i]);
      snprintf (text[i][1], sizeof text[i][1], "from %.3f at the start", (double) r->initial[i]);
      panels[i] = (cs_sheet_image) { .title = text[i][0], .subtitle = text[i][1],
                                     .image = r->images.data + (int64_t) i * c * h * w,
                                     .channels = c, .height = h, .width = w };
    }
  char model[512], title[1024], subtitle[512], blur[32];
  cli_model_title (args, model_path, model, sizeof model);
  snprintf (title, sizeof title, "%s \xC2\xB7 layer %s \xC2\xB7 %d of %d units", model, layer, n, n_layer_units);
  if (p->param == CS_IMAGE_PARAM_PIXEL)
    snprintf (blur, sizeof blur, ", blur %g px", (double) p->blur_sigma);
  else
    blur[0] = '\0';
  int32_t jitter = p->jitter >= 0 ? p->jitter : (w + 15) / 16;
  snprintf (subtitle, sizeof subtitle,
            "activation maximisation: %d steps of Adam, lr %g, %s image%s; jitter \xC2\xB1%d px, scale "
            "\xC2\xB1%g%%, rotation \xC2\xB1%g\xC2\xB0, L2 %g, seed %llu; %.2f s",
            p->steps, (double) p->learning_rate, p->param == CS_IMAGE_PARAM_PIXEL ? "pixel" : "Fourier", blur, jitter,
            (double) p->scale_range * 100, (double) p->rotate_degrees, (double) p->l2_decay,
            (unsigned long long) p->seed, r->seconds);
  cs_image_sheet sheet = { .title = title, .subtitle = subtitle, .panel_size = size, .columns = columns,
                           .images = panels, .n_images = n };
  cs_error err = { 0 };
  int code = cs_image_sheet_write (&sheet, path, &err) == CS_OK ? CLI_EXIT_OK : cli_fail (path, &err);
  cs_sheet_release_caches ();
  free (panels);
  free (text);
  return code;
}

int
cli_cmd_features (int argc, char **argv)
{
  cli_args args;
  int code = cli_parse (argc, argv, "features", features_options, &args);
  if (code != CLI_EXIT_OK)
    return code;
  if (args.values[CLI_OPT_HELP])
    {
      cli_command_usage ("features");
      return CLI_EXIT_OK;
    }
  if (args.n_positional != 1)
    return cli_error (CLI_EXIT_USAGE, "features", args.n_positional ? _("one MODEL expected") : _("missing MODEL"));
  const char *layer = args.values[OPT_LAYER], *out = args.values[OPT_OUT];
  if (layer == NULL)
    return cli_error (CLI_EXIT_USAGE, "features", _("missing --layer NAME"));
  if (out == NULL)
    return cli_error (CLI_EXIT_USAGE, "--out", _("missing (sheet.png, sheet.pdf or sheet.svg)"));
  cs_sheet_format format;
  cs_error ferr = { 0 };
  if (cs_sheet_format_from_path (out, &format, &ferr) != CS_OK)
    return cli_error (CLI_EXIT_USAGE, "--out", _("%s: expected a .png, .pdf or .svg file"), out);
  cs_actmax_params p = CS_ACTMAX_PARAMS_DEFAULT;
  int64_t batch = 32, zoom = 0, size = 0, columns = 0;
  if ((code = read_params (&args, &p, &batch, &zoom)) != CLI_EXIT_OK
      || (code = cli_get_int (&args, OPT_SIZE, "--size", 48, 2048, &size)) != CLI_EXIT_OK
      || (code = cli_get_int (&args, OPT_COLUMNS, "--columns", 1, 64, &columns)) != CLI_EXIT_OK
      || (code = cli_apply_threads (&args)) != CLI_EXIT_OK)
    return code;

  const char *model_path = args.positional[0];
  cs_model *m = cli_load_model (&args, model_path, &code);
  if (m == NULL)
    return code;
  int32_t n_units_layer, n_units = 0;
  int32_t node = cli_find_unit_layer (m, layer, &n_units_layer);
  int32_t *units = node < 0 ? NULL : cli_parse_units (args.values[OPT_UNITS], n_units_layer, &n_units);
  if (units == NULL)
    {
      cs_model_free (m);
      return CLI_EXIT_USAGE;
    }
  /* --zoom (before --size existed) magnifies the image; --size sets the picture's side. */
  if (size == 0 && zoom > 0)
    size = zoom * (m->height > m->width ? m->height : m->width);
  if (size > 2048)
    size = 2048;
  cs_error err = { 0 };
  cs_exec *e = cs_exec_new (m, (int32_t) (batch < n_units ? batch : n_units), &err);
  cs_actmax_result r = { 0 };
  cs_progress prog = { cli_progress_stderr, (void *) "features", NULL };
  if (e == NULL || cs_actmax_run (e, node, units, n_units, &p, NULL, NULL, &prog, &r, &err) != CS_OK)
    code = cli_fail (model_path, &err);
  else
    code = write_sheet (&args, model_path, layer, &p, &r, n_units_layer, (int32_t) size, (int32_t) columns, out);
  if (code == CLI_EXIT_OK)
    {
      if (args.values[CLI_OPT_JSON])
        {
          cJSON *doc = cJSON_CreateObject ();
          cJSON_AddStringToObject (doc, "layer", layer);
          cJSON_AddStringToObject (doc, "out", out);
          cJSON_AddNumberToObject (doc, "steps", p.steps);
          cJSON_AddNumberToObject (doc, "seconds", r.seconds);
          cJSON *arr = cJSON_AddArrayToObject (doc, "units");
          for (int32_t i = 0; i < n_units; i++)
            {
              cJSON *o = cJSON_CreateObject ();
              cJSON_AddNumberToObject (o, "unit", units[i]);
              cJSON_AddNumberToObject (o, "initial_activation", r.initial[i]);
              cJSON_AddNumberToObject (o, "activation", r.final[i]);
              cJSON_AddItemToArray (arr, o);
            }
          code = cli_print_json (doc);
        }
      else
        {
          printf (_("%s: %d units of '%s', %d steps in %.2f s (panels left to right, top to bottom)\n"), out, n_units,
                  layer, p.steps, r.seconds);
          for (int32_t i = 0; i < n_units; i++)
            printf (_("  unit %4d  activation %.4f (start %.4f)\n"), units[i], r.final[i], r.initial[i]);
        }
    }
  cs_actmax_result_free (&r);
  cs_exec_free (e);
  free (units);
  cs_model_free (m);
  return code;
}
