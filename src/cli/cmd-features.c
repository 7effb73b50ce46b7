/* `convscope-cli features MODEL --layer NAME [--units all|a,b,...] --out sheet.png`:
 * activation-maximisation images of a layer's units, one panel each. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli-commands.h"
#include "cli-common.h"
#include "cli-features.h"
#include "features/actmax.h"
#include "io/image.h"

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

/* The images on a grid, gap pixels apart, as one RGB PNG (written atomically). */
static int
write_grid (const cs_actmax_result *r, int32_t zoom, const char *path)
{
  const int32_t gap = 4;
  int32_t n = r->n_units, c = (int32_t) r->images.shape.dim[1], h = (int32_t) r->images.shape.dim[2],
          w = (int32_t) r->images.shape.dim[3];
  int32_t cols = n < 8 ? n : 8, rows = (n + cols - 1) / cols;
  int32_t cw = w * zoom, ch = h * zoom;
  int32_t W = cols * cw + (cols + 1) * gap, H = rows * ch + (rows + 1) * gap;
  if ((int64_t) W * H > (int64_t) 1 << 28)
    return cli_error (CLI_EXIT_USAGE, "--zoom", _("the sheet would be %dx%d pixels"), W, H);
  uint8_t *canvas = malloc ((size_t) W * (size_t) H * 3);
  if (canvas == NULL)
    return cli_error (CLI_EXIT_FAILURE, path, _("out of memory"));
  memset (canvas, 48, (size_t) W * (size_t) H * 3);
  for (int32_t i = 0; i < n; i++)
    cli_blit_image (r->images.data + (int64_t) i * c * h * w, c, h, w, zoom, canvas, W,
                    gap + (i % cols) * (cw + gap), gap + (i / cols) * (ch + gap));
  cs_error err = { 0 };
  int code = cs_png_save (path, canvas, W, H, 3, &err) == CS_OK ? CLI_EXIT_OK : cli_fail (path, &err);
  free (canvas);
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
    return cli_error (CLI_EXIT_USAGE, "features", _("missing --out sheet.png"));
  size_t len = strlen (out);
  if (len < 4 || strcasecmp (out + len - 4, ".png") != 0)
    return cli_error (CLI_EXIT_USAGE, out, _("only a .png sheet is written for now (PDF/SVG come with the Cairo sheet)"));
  cs_actmax_params p = CS_ACTMAX_PARAMS_DEFAULT;
  int64_t batch = 32, zoom = 0;
  if ((code = read_params (&args, &p, &batch, &zoom)) != CLI_EXIT_OK || (code = cli_apply_threads (&args)) != CLI_EXIT_OK)
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
  if (zoom == 0)
    zoom = m->height >= 96 ? 1 : (96 + m->height - 1) / m->height;
  cs_error err = { 0 };
  cs_exec *e = cs_exec_new (m, (int32_t) (batch < n_units ? batch : n_units), &err);
  cs_actmax_result r = { 0 };
  cs_progress prog = { cli_progress_stderr, (void *) "features", NULL };
  if (e == NULL || cs_actmax_run (e, node, units, n_units, &p, NULL, NULL, &prog, &r, &err) != CS_OK)
    code = cli_fail (model_path, &err);
  else
    code = write_grid (&r, (int32_t) zoom, out);
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
