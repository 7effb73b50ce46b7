/* `convscope-cli top-examples MODEL --layer NAME --unit K --dataset SPEC`: the data set's images
 * that activate a unit most, with the receptive field of the maximising position. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli-commands.h"
#include "cli-common.h"
#include "cli-features.h"
#include "data/dataset.h"
#include "features/topk.h"
#include "render/sheet.h"

enum {
  OPT_LAYER = CLI_OPT_FIRST_COMMAND,
  OPT_UNIT,
  OPT_DATASET,
  OPT_SPLIT,
  OPT_TOP,
  OPT_OUT,
  OPT_REDUCE,
  OPT_BATCH,
  OPT_LIMIT,
  OPT_SIZE,
  OPT_COLUMNS,
};

static const cli_option top_options[] = {
  { "layer", true, OPT_LAYER },
  { "unit", true, OPT_UNIT },
  { "dataset", true, OPT_DATASET },
  { "split", true, OPT_SPLIT },
  { "top", true, OPT_TOP },
  { "out", true, OPT_OUT },
  { "reduce", true, OPT_REDUCE },
  { "batch", true, OPT_BATCH },
  { "limit", true, OPT_LIMIT },
  { "size", true, OPT_SIZE },
  { "columns", true, OPT_COLUMNS },
  { NULL, false, 0 },
};

/* What the sheet's header says about the pass that found the examples. */
typedef struct {
  const char *model_title, *layer, *split_name, *dataset, *reduce;
  int64_t unit, n_images;
  int32_t size, columns;
} sheet_header;

/* The examples as titled panels (rank and label; activation and index), each with the
 * receptive field of its maximising position outlined. */
static int
write_sheet (const cs_dataset *ds, const cs_dataset_split *split, const cs_top_example *ex, int32_t count,
             const sheet_header *hd, const char *path)
{
  int32_t c = split->channels, h = split->height, w = split->width;
  int64_t chw = (int64_t) c * h * w;
  float *pixels = malloc ((size_t) (count > 0 ? count : 1) * (size_t) chw * sizeof (float));
  cs_sheet_image *panels = calloc ((size_t) (count > 0 ? count : 1), sizeof *panels);
  cs_sheet_box *boxes = calloc ((size_t) (count > 0 ? count : 1), sizeof *boxes);
  char (*text)[2][128] = calloc ((size_t) (count > 0 ? count : 1), sizeof *text);
  if (pixels == NULL || panels == NULL || boxes == NULL || text == NULL)
    {
      free (pixels);
      free (panels);
      free (boxes);
      free (text);
      return cli_error (CLI_EXIT_FAILURE, path, _("out of memory"));
    }
  for (int32_t i = 0; i < count; i++)
    {
      float *img = pixels + (int64_t) i * chw;
      for (int64_t k = 0; k < chw; k++)
        img[k] = split->images[ex[i].index * chw + k] / 255.0f;
      char number[16];
      const char *label = ds->classes != NULL && ex[i].label >= 0 && ex[i].label < ds->n_classes
                            ? ds->classes[ex[i].label] : NULL;
      if (label == NULL)
        {
          snprintf (number, sizeof number, "label %d", ex[i].label);
          label = ex[i].label >= 0 ? number : "unlabelled";
        }
      snprintf (text[i][0], sizeof text[i][0], "%d. %s", i + 1, label);
      snprintf (text[i][1], sizeof text[i][1], "activation %.3f \xC2\xB7 image %lld", (double) ex[i].activation,
                (long long) ex[i].index);
      boxes[i] = (cs_sheet_box) { ex[i].box[0], ex[i].box[1], ex[i].box[2], ex[i].box[3] };
      panels[i] = (cs_sheet_image) { .title = text[i][0], .subtitle = text[i][1], .image = img, .channels = c,
                                     .height = h, .width = w, .boxes = &boxes[i], .n_boxes = 1 };
    }
  char title[1024], subtitle[512];
  snprintf (title, sizeof title, "%s \xC2\xB7 layer %s \xC2\xB7 unit %lld", hd->model_title, hd->layer,
            (long long) hd->unit);
  snprintf (subtitle, sizeof subtitle,
            "top %d of %lld %s images of %s by the %s activation over positions; red: the receptive field of "
            "the maximising position", count, (long long) hd->n_images, hd->split_name, hd->dataset, hd->reduce);
  cs_image_sheet sheet = { .title = title, .subtitle = subtitle, .panel_size = hd->size, .columns = hd->columns,
                           .images = panels, .n_images = count };
  cs_error err = { 0 };
  int code = cs_image_sheet_write (&sheet, path, &err) == CS_OK ? CLI_EXIT_OK : cli_fail (path, &err);
  cs_sheet_release_caches ();
  free (pixels);
  free (panels);
  free (boxes);
  free (text);
  return code;
}

int
cli_cmd_top_examples (int argc, char **argv)
{
  cli_args args;
  int code = cli_parse (argc, argv, "top-examples", top_options, &args);
  if (code != CLI_EXIT_OK)
    return code;
  if (args.values[CLI_OPT_HELP])
    {
      cli_command_usage ("top-examples");
      return CLI_EXIT_OK;
    }
  if (args.n_positional != 1)
    return cli_error (CLI_EXIT_USAGE, "top-examples", args.n_positional ? _("one MODEL expected") : _("missing MODEL"));
  static const char *const splits[] = { "test", "train", NULL }, *const reduces[] = { "max", "mean", NULL };
  const char *layer = args.values[OPT_LAYER], *spec = args.values[OPT_DATASET], *out = args.values[OPT_OUT];
  const char *split_name = "test", *reduce = "max";
  int64_t unit = -1, top = 9, batch = 256, limit = 0, size = 0, columns = 0;
  if (layer == NULL || args.values[OPT_UNIT] == NULL || spec == NULL)
    return cli_error (CLI_EXIT_USAGE, "top-examples", _("--layer NAME, --unit K and --dataset SPEC are required"));
  if ((code = cli_get_int (&args, OPT_UNIT, "--unit", 0, INT32_MAX, &unit))
      || (code = cli_get_int (&args, OPT_TOP, "--top", 1, 10000, &top))
      || (code = cli_get_int (&args, OPT_BATCH, "--batch", 1, 4096, &batch))
      || (code = cli_get_int (&args, OPT_LIMIT, "--limit", 0, INT64_MAX, &limit))
      || (code = cli_get_choice (&args, OPT_SPLIT, "--split", splits, &split_name))
      || (code = cli_get_choice (&args, OPT_REDUCE, "--reduce", reduces, &reduce))
      || (code = cli_get_int (&args, OPT_SIZE, "--size", 48, 2048, &size))
      || (code = cli_get_int (&args, OPT_COLUMNS, "--columns", 1, 64, &columns))
      || (code = cli_apply_threads (&args)))
    return code;
  cs_sheet_format format;
  cs_error ferr = { 0 };
  if (out != NULL && cs_sheet_format_from_path (out, &format, &ferr) != CS_OK)
    return cli_error (CLI_EXIT_USAGE, "--out", _("%s: expected a .png, .pdf or .svg file"), out);

  const char *model_path = args.positional[0];
  cs_model *m = cli_load_model (&args, model_path, &code);
  if (m == NULL)
    return code;
  cli_norm norm;
  int32_t n_units;
  int32_t node = -1;
  if ((code = cli_get_norm (&args, m, &norm)) != CLI_EXIT_OK || (node = cli_find_unit_layer (m, layer, &n_units)) < 0)
    {
      cs_model_free (m);
      return node < 0 && code == CLI_EXIT_OK ? CLI_EXIT_USAGE : code;
    }
  if (unit >= n_units)
    {
      cs_model_free (m);
      return cli_error (CLI_EXIT_USAGE, "--unit", _("'%s' has %d units (0..%d)"), layer, n_units, n_units - 1);
    }
  cs_error err = { 0 };
  cs_dataset ds = { 0 };
  if (cs_dataset_open (spec, &ds, &err) != CS_OK)
    {
      cs_model_free (m);
      return cli_fail (spec, &err);
    }
  const cs_dataset_split *split = strcmp (split_name, "train") == 0 ? &ds.train : &ds.test;
  if (split->channels != m->channels || split->height != m->height || split->width != m->width)
    {
      code = cli_error (CLI_EXIT_FAILURE, spec, _("images are %dx%dx%d, the model takes %dx%dx%d"), split->channels,
                        split->height, split->width, m->channels, m->height, m->width);
      cs_dataset_free (&ds);
      cs_model_free (m);
      return code;
    }
  int64_t n = limit > 0 && limit < split->n ? limit : split->n;
  cs_exec *e = cs_exec_new (m, (int32_t) batch, &err);
  cs_topk_params p = { node, (int32_t) unit, (int32_t) top, strcmp (reduce, "mean") == 0 ? CS_TOPK_MEAN : CS_TOPK_MAX };
  cs_topk_result r = { 0 };
  cs_progress prog = { cli_progress_stderr, (void *) "top-examples", NULL };
  if (e == NULL
      || cs_topk_run_split (e, split, n, norm.set ? norm.mean : m->mean, norm.set ? norm.std : m->std,
                            &p, &prog, &r, &err) != CS_OK)
    code = cli_fail (model_path, &err);
  else
    {
      int32_t count;
      const cs_top_example *ex = cs_topk_channel (&r, (int32_t) unit, &count);
      char model_title[512];
      cli_model_title (&args, model_path, model_title, sizeof model_title);
      sheet_header hd = { model_title, layer, split_name, ds.name != NULL ? ds.name : spec, reduce, unit, n,
                          (int32_t) size, (int32_t) columns };
      code = out != NULL ? write_sheet (&ds, split, ex, count, &hd, out) : CLI_EXIT_OK;
      if (code == CLI_EXIT_OK && args.values[CLI_OPT_JSON])
        {
          cJSON *doc = cJSON_CreateObject ();
          cJSON_AddStringToObject (doc, "layer", layer);
          cJSON_AddNumberToObject (doc, "unit", (double) unit);
          cJSON *arr = cJSON_AddArrayToObject (doc, "examples");
          for (int32_t i = 0; i < count; i++)
            {
              cJSON *o = cJSON_CreateObject ();
              cJSON_AddNumberToObject (o, "index", (double) ex[i].index);
              cJSON_AddNumberToObject (o, "label", ex[i].label);
              cJSON_AddNumberToObject (o, "activation", ex[i].activation);
              cJSON_AddItemToObject (o, "box", cJSON_CreateIntArray (ex[i].box, 4));
              cJSON_AddItemToArray (arr, o);
            }
          code = cli_print_json (doc);
        }
      else if (code == CLI_EXIT_OK)
        {
          printf (_("top %d of %lld %s images for unit %lld of '%s' (%s over positions), %.2f s\n"), count,
                  (long long) n, split_name, (long long) unit, layer, reduce, r.seconds);
          for (int32_t i = 0; i < count; i++)
            printf (_("  %2d  image %6lld  label %-14s activation %9.4f  box [%d, %d, %d, %d)\n"), i + 1,
                    (long long) ex[i].index,
                    ds.classes != NULL && ex[i].label >= 0 && ex[i].label < ds.n_classes ? ds.classes[ex[i].label] : "?",
                    ex[i].activation, ex[i].box[0], ex[i].box[1], ex[i].box[2], ex[i].box[3]);
        }
    }
  cs_topk_result_free (&r);
  cs_exec_free (e);
  cs_dataset_free (&ds);
  cs_model_free (m);
  return code;
}
