/* `convscope-cli shortcuts RUN [--method M] [--per-class N] [--layer NAME] [--epoch N] [--json]`:
 * per class, what the explanations of its correctly classified validation images share — SpRAy
 * clusters and a flagged small box where the attribution mass sits (docs/cli/shortcuts.md). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#include "analysis/history.h"
#include "analysis/shortcuts.h"
#include "cli-attribution.h"
#include "cli-commands.h"
#include "cli-common.h"
#include "cli-history.h"

enum { OPT_METHOD = CLI_OPT_FIRST_COMMAND, OPT_PER_CLASS, OPT_LAYER };

static const cli_option shortcut_options[] = {
  { "method", true, OPT_METHOD },
  { "per-class", true, OPT_PER_CLASS },
  { "layer", true, OPT_LAYER },
  { NULL, false, 0 },
};

static cJSON *
box_json (const int32_t box[4])
{
  cJSON *a = cJSON_CreateArray ();
  for (int i = 0; i < 4; i++)
    cJSON_AddItemToArray (a, cJSON_CreateNumber (box[i]));
  return a;
}

static int
write_json (const cs_run *run, const cs_shortcut_report *r, cs_method method)
{
  cJSON *doc = cJSON_CreateObject ();
  cJSON_AddStringToObject (doc, "method", cs_method_id (method));
  cJSON *shape = cJSON_AddArrayToObject (doc, "map_shape");
  cJSON_AddItemToArray (shape, cJSON_CreateNumber (r->height));
  cJSON_AddItemToArray (shape, cJSON_CreateNumber (r->width));
  cJSON *classes = cJSON_AddArrayToObject (doc, "classes");
  char buf[16];
  for (int32_t c = 0; c < r->n_classes; c++)
    {
      const cs_shortcut_class *k = &r->classes[c];
      cJSON *o = cJSON_CreateObject ();
      cJSON_AddNumberToObject (o, "class", k->cls);
      cJSON_AddStringToObject (o, "label", cli_history_class (run, k->cls, buf));
      cJSON_AddBoolToObject (o, "flagged", k->flagged);
      cJSON_AddItemToObject (o, "box", k->flagged ? box_json (k->box) : cJSON_CreateNull ());
      cJSON_AddItemToObject (o, "densest_box", box_json (k->box));
      cJSON_AddNumberToObject (o, "box_mass", k->box_mass);
      cJSON_AddNumberToObject (o, "box_images", k->box_images);
      cJSON_AddNumberToObject (o, "images", k->n_images);
      cJSON_AddNumberToObject (o, "eigengap", k->eigengap);
      cJSON *cl = cJSON_AddArrayToObject (o, "clusters");
      for (int32_t j = 0; j < k->n_clusters; j++)
        {
          cJSON *x = cJSON_CreateObject ();
          cJSON_AddNumberToObject (x, "size", k->clusters[j].size);
          cJSON *mem = cJSON_AddArrayToObject (x, "members");
          for (int32_t i = 0; i < k->clusters[j].size; i++)
            cJSON_AddItemToArray (mem, cJSON_CreateNumber ((double) k->clusters[j].members[i]));
          cJSON *mean = cJSON_AddArrayToObject (x, "mean_map");
          for (int32_t t = 0; t < r->height * r->width; t++)
            cJSON_AddItemToArray (mean, cJSON_CreateNumber (k->clusters[j].mean_map[t]));
          cJSON_AddItemToArray (cl, x);
        }
      cJSON_AddItemToArray (classes, o);
    }
  return cli_print_json (doc);
}

static void
write_text (const cs_run *run, const cs_shortcut_report *r, cs_method method)
{
  char buf[16];
  printf (_("Explained with %s; per class: images, SpRAy cluster sizes, the densest small box.\n"),
          cs_method_title (method));
  for (int32_t c = 0; c < r->n_classes; c++)
    {
      const cs_shortcut_class *k = &r->classes[c];
      printf ("%-16.16s %3d  [", cli_history_class (run, k->cls, buf), k->n_images);
      for (int32_t j = 0; j < k->n_clusters; j++)
        printf ("%s%d", j > 0 ? " " : "", k->clusters[j].size);
      printf (_("]  box (%d,%d)-(%d,%d): %.0f%% of the mass, %.0f%% of the images%s\n"), k->box[0], k->box[1],
              k->box[2], k->box[3], 100.0 * k->box_mass, 100.0 * k->box_images,
              k->flagged ? _("  FLAGGED: a shortcut?") : "");
    }
}

/* Reads the options into o; returns a CLI exit code. */
static int
parse_options (const cli_args *args, const cs_model *m, cs_shortcut_options *o)
{
  const char *method = args->values[OPT_METHOD] != NULL ? args->values[OPT_METHOD] : "layercam";
  o->method = cs_method_from_id (method);
  if (o->method == CS_METHOD_COUNT)
    return cli_error (CLI_EXIT_USAGE, "--method", _("unknown method '%s'"), method);
  int64_t per_class = 32;
  int code = cli_get_int (args, OPT_PER_CLASS, "--per-class", 3, 10000, &per_class);
  o->per_class = (int32_t) per_class;
  o->layer = -1;
  if (code == CLI_EXIT_OK && args->values[OPT_LAYER] != NULL)
    code = cli_resolve_layer (m, args->values[OPT_LAYER], &o->layer);
  o->mean = m->mean;
  o->std = m->std;
  return code;
}

int
cli_cmd_shortcuts (int argc, char **argv)
{
  cli_args args;
  int code = cli_parse_run_command (argc, argv, "shortcuts", shortcut_options, &args);
  if (code != CLI_EXIT_OK)
    return code == CLI_HELP_SHOWN ? CLI_EXIT_OK : code;
  cs_error err = { 0 };
  cs_run *run = cs_run_load (args.positional[0], &err);
  if (run == NULL)
    return cli_fail (args.positional[0], &err);
  cs_model *m = cli_load_model (&args, args.positional[0], &code);
  cs_shortcut_options o = { 0 };
  if (m != NULL)
    code = parse_options (&args, m, &o);
  cs_dataset ds = { 0 };
  char *spec = NULL;
  int64_t *train_idx = NULL, *test_idx = NULL, n_train = 0, n_test = 0;
  if (m != NULL && code == CLI_EXIT_OK)
    {
      if (cs_history_examples_of_run (run, &ds, &spec, &train_idx, &n_train, &test_idx, &n_test, &err) != CS_OK)
        code = cli_fail (run->path, &err);
      else
        {
          cs_shortcut_report *r = cs_shortcuts_analyse (m, &ds, test_idx, n_test, &o, NULL, &err);
          if (r == NULL)
            code = cli_fail (run->path, &err);
          else if (args.values[CLI_OPT_JSON] != NULL)
            code = write_json (run, r, o.method);
          else
            write_text (run, r, o.method);
          cs_shortcut_report_free (r);
        }
    }
  cs_dataset_free (&ds);
  free (spec);
  free (train_idx);
  free (test_idx);
  cs_model_free (m);
  cs_run_free (run);
  return code;
}
