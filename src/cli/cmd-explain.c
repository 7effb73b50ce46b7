/* `convscope-cli explain MODEL INPUT --method M`: an attribution map, written as PNG and/or .npy. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli-commands.h"
#include "cli-common.h"
#include "cli-render.h"
#include "cli-saliency.h"
#include "io/image.h"
#include "io/npy.h"

enum {
  OPT_METHOD = CLI_OPT_FIRST_COMMAND,
  OPT_TARGET,
  OPT_LAYER,
  OPT_SAMPLES,
  OPT_NOISE,
  OPT_STEPS,
  OPT_BASELINE,
  OPT_SEED,
  OPT_WINDOW,
  OPT_STRIDE,
  OPT_BATCH,
  OPT_OUT,
  OPT_MAP,
  OPT_SAVE_MAP,
  OPT_SAVE_RAW,
  OPT_COLORMAP,
  OPT_ALPHA,
};

static const cli_option explain_options[] = {
  { "method", true, OPT_METHOD },
  { "target", true, OPT_TARGET },
  { "layer", true, OPT_LAYER },
  { "samples", true, OPT_SAMPLES },
  { "noise", true, OPT_NOISE },
  { "steps", true, OPT_STEPS },
  { "baseline", true, OPT_BASELINE },
  { "seed", true, OPT_SEED },
  { "window", true, OPT_WINDOW },
  { "stride", true, OPT_STRIDE },
  { "batch", true, OPT_BATCH },
  { "out", true, OPT_OUT },
  { "map", true, OPT_MAP },
  { "save-map", true, OPT_SAVE_MAP },
  { "save-raw", true, OPT_SAVE_RAW },
  { "colormap", true, OPT_COLORMAP },
  { "alpha", true, OPT_ALPHA },
  { NULL, false, 0 },
};

/* Every method id of CLI.md; only saliency is implemented so far. */
static const char *const methods[] = {
  "saliency", "guided-backprop", "deconvnet", "gradient-x-input", "smoothgrad",
  "integrated-gradients", "gradcam", "gradcam++", "guided-gradcam", "scorecam", "layercam",
  "occlusion", "rise", NULL,
};

/* Checks the options that later methods use, so that a typo fails the same way everywhere. */
static int
check_method_options (const cli_args *args)
{
  static const char *const baselines[] = { "zero", "blur", "uniform", NULL };
  int64_t i = 0;
  double d = 0;
  const char *s = NULL;
  int code;
  if ((code = cli_get_int (args, OPT_SAMPLES, "--samples", 1, 1000000, &i))
      || (code = cli_get_double (args, OPT_NOISE, "--noise", 0, 1e6, &d))
      || (code = cli_get_int (args, OPT_STEPS, "--steps", 1, 1000000, &i))
      || (code = cli_get_choice (args, OPT_BASELINE, "--baseline", baselines, &s))
      || (code = cli_get_int (args, OPT_SEED, "--seed", 0, INT64_MAX, &i))
      || (code = cli_get_int (args, OPT_WINDOW, "--window", 1, 1 << 20, &i))
      || (code = cli_get_int (args, OPT_STRIDE, "--stride", 1, 1 << 20, &i))
      || (code = cli_get_int (args, OPT_BATCH, "--batch", 1, 1 << 16, &i)))
    return code;
  return CLI_EXIT_OK;
}

static bool
has_suffix (const char *s, const char *suffix)
{
  size_t n = strlen (s), k = strlen (suffix);
  return n >= k && strcasecmp (s + n - k, suffix) == 0;
}

/* The picture the overlay is drawn on: the input image at its own size, or the .npy tensor. */
static int
overlay_base (const char *path, const cs_tensor *x, uint8_t **rgb, int32_t *w, int32_t *h)
{
  if (has_suffix (path, ".npy"))
    {
      *h = (int32_t) x->shape.dim[2];
      *w = (int32_t) x->shape.dim[3];
      *rgb = malloc ((size_t) *w * (size_t) *h * 3);
      if (*rgb == NULL)
        return cli_error (CLI_EXIT_FAILURE, path, "out of memory");
      cli_render_tensor (x, *rgb);
      return CLI_EXIT_OK;
    }
  cs_image img = { 0 };
  cs_error err = { 0 };
  if (cs_image_load (path, &img, &err) != CS_OK)
    return cli_fail (path, &err);
  *w = img.width;
  *h = img.height;
  *rgb = malloc ((size_t) img.width * (size_t) img.height * 3);
  if (*rgb == NULL)
    {
      cs_image_free (&img);
      return cli_error (CLI_EXIT_FAILURE, path, "out of memory");
    }
  for (int64_t i = 0; i < (int64_t) img.width * img.height; i++)
    for (int k = 0; k < 3; k++)
      (*rgb)[3 * i + k] = img.pixels[i * img.channels + (img.channels == 3 ? k : 0)];
  cs_image_free (&img);
  return CLI_EXIT_OK;
}

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
      return CLI_EXIT_OK;
    }
  if (args.n_positional != 2)
    return cli_error (CLI_EXIT_USAGE, "explain",
                      args.n_positional < 2 ? "expected MODEL and INPUT" : "expected one MODEL and one INPUT");
  if (args.values[OPT_METHOD] == NULL)
    return cli_error (CLI_EXIT_USAGE, "--method", "missing (e.g. --method saliency)");
  const char *method = NULL;
  if ((code = cli_get_choice (&args, OPT_METHOD, "--method", methods, &method)) != CLI_EXIT_OK)
    return code;
  if ((code = check_method_options (&args)) != CLI_EXIT_OK)
    return code;

  int64_t target = -1;
  const char *ts = args.values[OPT_TARGET];
  if (ts != NULL && strcmp (ts, "auto") != 0
      && (code = cli_get_int (&args, OPT_TARGET, "--target", 0, INT32_MAX, &target)) != CLI_EXIT_OK)
    return code;
  const char *cmap_name = "jet";
  double alpha = 0.5;
  if ((code = cli_get_choice (&args, OPT_COLORMAP, "--colormap", cli_colormap_names, &cmap_name))
      || (code = cli_get_double (&args, OPT_ALPHA, "--alpha", 0, 1, &alpha)))
    return code;
  cli_colormap cmap = CLI_CMAP_JET;
  for (int i = 0; cli_colormap_names[i] != NULL; i++)
    if (strcmp (cmap_name, cli_colormap_names[i]) == 0)
      cmap = (cli_colormap) i;
  if (strcmp (method, "saliency") != 0)
    return cli_error (CLI_EXIT_FAILURE, "--method", "%s is not implemented yet (available: saliency)", method);
  if ((code = cli_apply_threads (&args)) != CLI_EXIT_OK)
    return code;

  const char *model_path = args.positional[0], *input_path = args.positional[1];
  cs_model *m = cli_load_model (&args, model_path, &code);
  if (m == NULL)
    return code;
  cs_tensor x = { 0 }, seed = { 0 }, raw = { 0 }, map = { 0 };
  cs_exec *e = NULL;
  uint8_t *base = NULL, *overlay = NULL, *map_rgb = NULL;
  written_files written = { 0 };
  cli_norm norm;
  if ((code = cli_get_norm (&args, m, &norm)) != CLI_EXIT_OK)
    goto out;
  if (target >= m->n_classes)
    {
      code = cli_error (CLI_EXIT_USAGE, "--target", "class %lld, the model has %d classes (0 to %d)",
                        (long long) target, m->n_classes, m->n_classes - 1);
      goto out;
    }
  if ((code = cli_load_input (input_path, m, &norm, &x)) != CLI_EXIT_OK)
    goto out;

  cs_error err = { 0 };
  e = cs_exec_new (m, 1, &err);
  if (e == NULL)
    {
      code = cli_fail (model_path, &err);
      goto out;
    }
  int32_t t = (int32_t) target;
  if (cli_saliency_run (e, &x, &t, &seed, &err) != CS_OK)
    {
      code = cli_fail (model_path, &err);
      goto out;
    }
  const cs_tensor *logits = cs_exec_value (e, m->graph->output_node);
  const cs_tensor *grad = cs_exec_grad (e, m->graph->input_node);
  if (grad == NULL || cs_tensor_numel (grad) != cs_tensor_numel (&x))
    {
      code = cli_error (CLI_EXIT_FAILURE, model_path, "no input gradient was computed");
      goto out;
    }
  int32_t c = (int32_t) x.shape.dim[1], h = (int32_t) x.shape.dim[2], w = (int32_t) x.shape.dim[3];
  if (cs_tensor_alloc (&raw, &(cs_shape) { 3, { c, h, w } }, &err) != CS_OK
      || cs_tensor_alloc (&map, &(cs_shape) { 2, { h, w } }, &err) != CS_OK)
    {
      code = cli_fail (model_path, &err);
      goto out;
    }
  memcpy (raw.data, grad->data, (size_t) cs_tensor_numel (&raw) * sizeof (float));
  cli_saliency_map (raw.data, c, h, w, map.data);

  const char *out_path = args.values[OPT_OUT], *map_path = args.values[OPT_MAP];
  const char *save_map = args.values[OPT_SAVE_MAP], *save_raw = args.values[OPT_SAVE_RAW];
  int32_t bw = 0, bh = 0;
  if (out_path != NULL)
    {
      if ((code = overlay_base (input_path, &x, &base, &bw, &bh)) != CLI_EXIT_OK)
        goto out;
      overlay = malloc ((size_t) bw * (size_t) bh * 3);
      if (overlay == NULL)
        {
          code = cli_error (CLI_EXIT_FAILURE, out_path, "out of memory");
          goto out;
        }
      cli_render_overlay (base, bw, bh, map.data, h, w, cmap, (float) alpha, overlay);
    }
  if (map_path != NULL)
    {
      map_rgb = malloc ((size_t) w * (size_t) h * 3);
      if (map_rgb == NULL)
        {
          code = cli_error (CLI_EXIT_FAILURE, map_path, "out of memory");
          goto out;
        }
      cli_render_map (map.data, h, w, cmap, map_rgb);
    }

  const char *failed = NULL;
  if (save_raw != NULL && !failed)
    {
      if (cs_npy_save (save_raw, &raw, &err) != CS_OK)
        failed = save_raw;
      else
        written.written[written.n++] = save_raw;
    }
  if (save_map != NULL && !failed)
    {
      if (cs_npy_save (save_map, &map, &err) != CS_OK)
        failed = save_map;
      else
        written.written[written.n++] = save_map;
    }
  if (map_path != NULL && !failed)
    {
      if (cs_png_save (map_path, map_rgb, w, h, 3, &err) != CS_OK)
        failed = map_path;
      else
        written.written[written.n++] = map_path;
    }
  if (out_path != NULL && !failed)
    {
      if (cs_png_save (out_path, overlay, bw, bh, 3, &err) != CS_OK)
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

  int32_t classes = (int32_t) cs_tensor_numel (logits);
  float *p = malloc ((size_t) classes * sizeof (float));
  float prob = 0;
  if (p != NULL)
    {
      cli_softmax (logits->data, classes, p);
      prob = p[t];
      free (p);
    }
  char buf[16];
  if (args.values[CLI_OPT_JSON])
    {
      cJSON *doc = cJSON_CreateObject ();
      cJSON_AddStringToObject (doc, "input", input_path);
      cJSON_AddStringToObject (doc, "method", method);
      cJSON_AddNumberToObject (doc, "target", t);
      cJSON_AddStringToObject (doc, "label", cli_class_label (m, t, buf));
      cJSON_AddNumberToObject (doc, "logit", logits->data[t]);
      cJSON_AddNumberToObject (doc, "probability", prob);
      cJSON *shape = cJSON_AddArrayToObject (doc, "map_shape");
      cJSON_AddItemToArray (shape, cJSON_CreateNumber (h));
      cJSON_AddItemToArray (shape, cJSON_CreateNumber (w));
      shape = cJSON_AddArrayToObject (doc, "raw_shape");
      cJSON_AddItemToArray (shape, cJSON_CreateNumber (c));
      cJSON_AddItemToArray (shape, cJSON_CreateNumber (h));
      cJSON_AddItemToArray (shape, cJSON_CreateNumber (w));
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
      printf ("%s: %s of class %d (%s): logit %.4f, probability %.4f\n", input_path, method, t,
              cli_class_label (m, t, buf), logits->data[t], prob);
      for (int i = 0; i < written.n; i++)
        printf ("wrote %s\n", written.written[i]);
      code = CLI_EXIT_OK;
    }

out:
  free (base);
  free (overlay);
  free (map_rgb);
  cs_tensor_free (&x);
  cs_tensor_free (&seed);
  cs_tensor_free (&raw);
  cs_tensor_free (&map);
  cs_exec_free (e);
  cs_model_free (m);
  return code;
}
