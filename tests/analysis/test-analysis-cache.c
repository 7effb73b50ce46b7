/* analysis.json is untrusted input. Caches whose key matches the run but whose contents do not
 * (fewer epochs than run.json, a layer claiming 1e9 filters, an epoch of 1e300, a value of the
 * wrong type) are discarded and recomputed: run-info prints exactly what a fresh analysis
 * prints and the cache is rewritten whole. A run.json with more or fewer class names than the
 * model has outputs is refused by run-info as by every model load (predict), with one message.
 * argv[1]: convscope-cli, argv[2]: "run-info". */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/run_stats.h"
#include "io/model_load.h"
#include "io/run.h"
#include "synthetic-run.h"
#include "testlib.h"

static char dir[256];
static const char *prog, *subcommand;

static char *
cache_text (void)
{
  char path[512];
  snprintf (path, sizeof path, "%s/%s", dir, CS_ANALYSIS_FILE);
  return synth_slurp (path);
}

/* Keeps the first element of an array. */
static void
keep_first (cJSON *a)
{
  while (cJSON_IsArray (a) && cJSON_GetArraySize (a) > 1)
    cJSON_DeleteItemFromArray (a, cJSON_GetArraySize (a) - 1);
}

/* Issue: the key matches but the epochs and every per-layer array hold one element. */
static void
truncate_arrays (cJSON *doc)
{
  keep_first (cJSON_GetObjectItem (doc, "epochs"));
  keep_first (cJSON_GetObjectItem (doc, "checkpoint_errors"));
  cJSON *l;
  cJSON_ArrayForEach (l, cJSON_GetObjectItem (doc, "layers"))
    {
      cJSON *field;
      cJSON_ArrayForEach (field, l)
        keep_first (field);
    }
}

static void
huge_filters (cJSON *doc)
{
  cJSON *l = cJSON_GetArrayItem (cJSON_GetObjectItem (doc, "layers"), 0);
  cJSON_ReplaceItemInObject (l, "filters", cJSON_CreateNumber (1e9));
}

/* At the validation onset's epoch, which the agreement subtracts from the weights' one. */
static void
huge_epoch (cJSON *doc)
{
  cJSON_ReplaceItemInArray (cJSON_GetObjectItem (doc, "epochs"), 3, cJSON_CreateNumber (1e300));
}

static void
string_value (cJSON *doc)
{
  cJSON *l = cJSON_GetArrayItem (cJSON_GetObjectItem (doc, "layers"), 1);
  cJSON_ReplaceItemInArray (cJSON_GetObjectItem (l, "norm"), 2, cJSON_CreateString ("x"));
}

static void
huge_filter_change (cJSON *doc)
{
  cJSON *l = cJSON_GetArrayItem (cJSON_GetObjectItem (doc, "layers"), 1);
  cJSON_ReplaceItemInArray (cJSON_GetArrayItem (cJSON_GetObjectItem (l, "filter_change"), 3), 0,
                            cJSON_CreateNumber (1e300));
}

static void
extra_layer (cJSON *doc)
{
  cJSON *layers = cJSON_GetObjectItem (doc, "layers");
  cJSON_AddItemToArray (layers, cJSON_Duplicate (cJSON_GetArrayItem (layers, 0), true));
}

/* Writes the mutated cache, runs `run-info --json`, and expects the fresh analysis's document
 * and a cache rewritten to the valid one. */
static void
check_discarded (const char *what, void (*mutate) (cJSON *), const char *fresh, const char *cache)
{
  cJSON *doc = cJSON_Parse (cache);
  mutate (doc);
  char *text = cJSON_PrintUnformatted (doc);
  cJSON_Delete (doc);
  synth_write_text (dir, CS_ANALYSIS_FILE, text);
  free (text);

  char args[512], *out, *err;
  snprintf (args, sizeof args, "'%s' --json", dir);
  int code = synth_run_cli (dir, prog, subcommand, args, &out, &err);
  CHECK (code == 0 && strcmp (out, fresh) == 0, "%s: exit %d, the fresh analysis's document %s",
         what, code, err);
  free (out);
  free (err);
  char *rewritten = cache_text ();
  CHECK (strcmp (rewritten, cache) == 0, "%s: the cache is rewritten whole", what);
  free (rewritten);
}

static void
test_caches (void)
{
  char args[512], *fresh, *err;
  snprintf (args, sizeof args, "'%s' --json", dir);
  int code = synth_run_cli (dir, prog, subcommand, args, &fresh, &err);
  CHECK (code == 0 && fresh[0] == '{', "a fresh analysis: exit %d %s", code, err);
  /* Both onsets are found in this run: the crafted epoch below reaches their agreement. */
  cJSON *doc = cJSON_Parse (fresh);
  const cJSON *of = cJSON_GetObjectItem (doc, "overfitting");
  CHECK (cJSON_IsNumber (cJSON_GetObjectItem (of, "by_validation"))
         && cJSON_IsNumber (cJSON_GetObjectItem (of, "by_weights")), "both onsets found");
  cJSON_Delete (doc);
  free (err);
  char *cache = cache_text ();
  CHECK (cache[0] == '{', "analysis.json written");

  check_discarded ("fewer epochs than run.json", truncate_arrays, fresh, cache);
  check_discarded ("a layer with 1e9 filters", huge_filters, fresh, cache);
  check_discarded ("an epoch of 1e300", huge_epoch, fresh, cache);
  check_discarded ("a string where a number goes", string_value, fresh, cache);
  check_discarded ("a filter change beyond float", huge_filter_change, fresh, cache);
  check_discarded ("a layer the model does not have", extra_layer, fresh, cache);

  /* And the valid cache is used as it is. */
  char *out;
  code = synth_run_cli (dir, prog, subcommand, args, &out, &err);
  CHECK (code == 0 && strcmp (out, fresh) == 0, "the valid cache gives the same document");
  free (out);
  free (err);
  free (cache);
  free (fresh);
}

/* Three class names for a three-output model pass; two do not, in run-info (even with a
 * current cache) as in a model load, with the same message. */
static void
test_class_count (void)
{
  synth_run_write_run_json (dir, "[\"a\", \"b\"]");
  cs_error err = { 0 };
  cs_model *m = cs_model_load (dir, NULL, &err);
  CHECK (m == NULL && strstr (err.message, "2 class labels for a model with 3 outputs") != NULL,
         "model load (predict): %s", err.message);
  cs_model_free (m);

  char args[512], *out, *errtext;
  snprintf (args, sizeof args, "'%s' --json", dir);
  int code = synth_run_cli (dir, prog, subcommand, args, &out, &errtext);
  CHECK (code == 1 && synth_one_error_line (errtext) && strstr (errtext, err.message) != NULL
         && *out == '\0', "run-info: exit %d, %s", code, errtext);
  free (out);
  free (errtext);
  synth_run_write_run_json (dir, "[\"a\", \"b\", \"c\"]");
}

int
main (int argc, char **argv)
{
  if (argc < 3)
    {
      CHECK (false, "usage: test-analysis-cache CLI SUBCOMMAND");
      return test_done ();
    }
  prog = argv[1];
  subcommand = argv[2];
  cs_model *m = synth_run_build (dir, NULL, "[\"a\", \"b\", \"c\"]");
  if (m != NULL)
    {
      test_caches ();
      test_class_count ();
    }
  cs_model_free (m);
  synth_run_remove (dir);
  return test_done ();
}
