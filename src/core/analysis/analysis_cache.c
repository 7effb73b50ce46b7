/* analysis.json: the run's weight statistics cached in its directory. The file is untrusted
 * input: its key must match the run, and every count and value is checked against the run and
 * its model before anything is allocated from it; a cache that fails is recomputed whole. */
#include "analysis/run_stats.h"

#include <cjson/cJSON.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/atomic_file.h"
#include "io/json_number.h"

/* A cache larger than this is not ours (or is damaged): recompute rather than read it. */
#define CACHE_MAX_BYTES ((size_t) 1 << 30)
/* A recorded checkpoint error longer than this is not one we wrote. */
#define REASON_MAX 1024

/* A path as the key records it: relative to the run directory when inside it, so that a moved
 * run keeps its cache. */
static const char *
relative_to (const char *path, const char *dir)
{
  size_t n = strlen (dir);
  if (strcmp (dir, ".") != 0 && strncmp (path, dir, n) == 0 && path[n] == '/')
    return path + n + 1;
  return path;
}

static cJSON *
file_key (const char *path, const char *dir)
{
  struct stat st;
  cJSON *o = cJSON_CreateObject ();
  cJSON_AddStringToObject (o, "path", relative_to (path, dir));
  if (stat (path, &st) != 0)
    {
      cJSON_AddNullToObject (o, "size");
      return o;
    }
  char mtime[48];
  snprintf (mtime, sizeof mtime, "%lld.%09ld", (long long) st.st_mtim.tv_sec,
            (long) st.st_mtim.tv_nsec);
  cJSON_AddNumberToObject (o, "size", (double) st.st_size);
  cJSON_AddStringToObject (o, "mtime", mtime);
  return o;
}

/* What the statistics depend on: the algorithm's version, the architecture and every
 * checkpoint (run.json itself is left out: the trainer rewrites it with new metrics). */
static cJSON *
cache_key (const cs_run *run)
{
  cJSON *key = cJSON_CreateObject ();
  cJSON_AddNumberToObject (key, "version", CS_ANALYSIS_VERSION);
  cJSON_AddItemToObject (key, "model", file_key (run->model, run->dir));
  cJSON *cps = cJSON_AddArrayToObject (key, "checkpoints");
  for (int32_t e = 0; e < run->n_epochs; e++)
    {
      cJSON *k = file_key (run->epochs[e].checkpoint, run->dir);
      cJSON_AddNumberToObject (k, "epoch", run->epochs[e].epoch);
      cJSON_AddItemToArray (cps, k);
    }
  return key;
}

/* A layer's name, op, filter count and series (NaN as null): what analysis.json and the
 * run-info JSON both hold of a layer. */
cJSON *
cs_layer_series_json (const cs_layer_series *l, int32_t n)
{
  cJSON *o = cJSON_CreateObject ();
  cJSON_AddStringToObject (o, "name", l->name);
  cJSON_AddStringToObject (o, "op", l->op);
  cJSON_AddNumberToObject (o, "filters", (double) l->n_filters);
  double *cols[CS_RUN_STATS_N_SERIES];
  cs_run_stats_series (l, cols);
  for (int c = 0; c < CS_RUN_STATS_N_SERIES; c++)
    {
      cJSON *a = cJSON_AddArrayToObject (o, cs_run_stats_series_names[c]);
      for (int32_t e = 0; a != NULL && e < n; e++)
        cJSON_AddItemToArray (a, cs_json_number (cols[c][e]));
    }
  return o;
}

static cJSON *
float_array (const float *v, int64_t n)
{
  cJSON *a = cJSON_CreateArray ();
  for (int64_t i = 0; i < n; i++)
    cJSON_AddItemToArray (a, cs_json_number (v[i]));
  return a;
}

static cJSON *
cache_document (const cs_run *run, const cs_run_stats *s)
{
  cJSON *doc = cJSON_CreateObject ();
  cJSON_AddStringToObject (doc, "format", CS_ANALYSIS_FORMAT);
  cJSON_AddItemToObject (doc, "key", cache_key (run));
  cJSON_AddItemToObject (doc, "epochs", cJSON_CreateIntArray (s->epochs, s->n_epochs));
  cJSON *errors = cJSON_AddArrayToObject (doc, "checkpoint_errors");
  for (int32_t e = 0; e < s->n_epochs; e++)
    cJSON_AddItemToArray (errors, s->checkpoint_error[e] != NULL
                                    ? cJSON_CreateString (s->checkpoint_error[e])
                                    : cJSON_CreateNull ());
  cJSON *layers = cJSON_AddArrayToObject (doc, "layers");
  for (int32_t i = 0; i < s->n_layers; i++)
    {
      const cs_layer_series *l = &s->layers[i];
      cJSON *o = cs_layer_series_json (l, s->n_epochs);
      cJSON *fc = cJSON_AddArrayToObject (o, "filter_change");
      for (int32_t e = 0; e < s->n_epochs; e++)
        cJSON_AddItemToArray (fc, float_array (l->filter_change + (int64_t) e * l->n_filters,
                                               l->n_filters));
      cJSON_AddItemToArray (layers, o);
    }
  return doc;
}

/* ---- validation: nothing is allocated from the file's counts ---- */

/* An array of exactly n entries, each null or a finite number of magnitude <= limit. */
static bool
numbers_valid (const cJSON *a, int64_t n, double limit)
{
  if (!cJSON_IsArray (a))
    return false;
  int64_t i = 0;
  const cJSON *v;
  cJSON_ArrayForEach (v, a)
    {
      if (++i > n)
        return false;
      if (!cJSON_IsNull (v)
          && !(cJSON_IsNumber (v) && isfinite (v->valuedouble) && fabs (v->valuedouble) <= limit))
        return false;
    }
  return i == n;
}

static bool
same_string (const cJSON *v, const char *expected)
{
  return cJSON_IsString (v) && strcmp (v->valuestring, expected) == 0;
}

/* The epochs are the run's, one checkpoint error slot each. */
static bool
epochs_valid (const cJSON *doc, const cs_run *run)
{
  const cJSON *epochs = cJSON_GetObjectItemCaseSensitive (doc, "epochs");
  const cJSON *errors = cJSON_GetObjectItemCaseSensitive (doc, "checkpoint_errors");
  if (!cJSON_IsArray (epochs) || !cJSON_IsArray (errors))
    return false;
  int32_t e = 0;
  const cJSON *v;
  cJSON_ArrayForEach (v, epochs)
    {
      if (e >= run->n_epochs || !cJSON_IsNumber (v)
          || v->valuedouble != (double) run->epochs[e].epoch)
        return false;
      e++;
    }
  if (e != run->n_epochs)
    return false;
  e = 0;
  cJSON_ArrayForEach (v, errors)
    {
      if (e >= run->n_epochs
          || !(cJSON_IsNull (v) || (cJSON_IsString (v) && strlen (v->valuestring) < REASON_MAX)))
        return false;
      e++;
    }
  return e == run->n_epochs;
}

/* One layer: the model's layer, with n values per series and n rows of n_filters changes. */
static bool
layer_valid (const cJSON *jl, const cs_graph *g, const cs_weight_layer *wl, int32_t n)
{
  const cJSON *filters = cJSON_GetObjectItemCaseSensitive (jl, "filters");
  const cs_node *node = &g->nodes[wl->node];
  if (!cJSON_IsObject (jl) || !same_string (cJSON_GetObjectItemCaseSensitive (jl, "name"), node->name)
      || !same_string (cJSON_GetObjectItemCaseSensitive (jl, "op"), cs_run_stats_op_name (node->op))
      || !cJSON_IsNumber (filters) || filters->valuedouble != (double) wl->n_filters)
    return false;
  for (int c = 0; c < CS_RUN_STATS_N_SERIES; c++)
    if (!numbers_valid (cJSON_GetObjectItemCaseSensitive (jl, cs_run_stats_series_names[c]), n,
                        DBL_MAX))
      return false;
  const cJSON *fc = cJSON_GetObjectItemCaseSensitive (jl, "filter_change");
  if (!cJSON_IsArray (fc))
    return false;
  int32_t rows = 0;
  const cJSON *row;
  cJSON_ArrayForEach (row, fc)
    if (++rows > n || !numbers_valid (row, wl->n_filters, FLT_MAX))
      return false;
  return rows == n;
}

/* The document describes this run over this model, entirely. */
static bool
document_valid (const cJSON *doc, const cJSON *key, const cs_run *run, const cs_graph *g,
                const cs_weight_layer *layers, int32_t n_layers)
{
  if (!same_string (cJSON_GetObjectItemCaseSensitive (doc, "format"), CS_ANALYSIS_FORMAT)
      || !cJSON_Compare (cJSON_GetObjectItemCaseSensitive (doc, "key"), key, true)
      || !epochs_valid (doc, run))
    return false;
  const cJSON *jl, *jlayers = cJSON_GetObjectItemCaseSensitive (doc, "layers");
  if (!cJSON_IsArray (jlayers))
    return false;
  int32_t i = 0;
  cJSON_ArrayForEach (jl, jlayers)
    if (i >= n_layers || !layer_valid (jl, g, &layers[i++], run->n_epochs))
      return false;
  return i == n_layers;
}

/* ---- reading a validated document into sizes from the run and the model ---- */

static void
read_numbers (const cJSON *a, double *d, float *f)
{
  int64_t i = 0;
  const cJSON *v;
  cJSON_ArrayForEach (v, a)
    {
      double x = cJSON_IsNull (v) ? NAN : v->valuedouble;
      if (d != NULL)
        d[i++] = x;
      else
        f[i++] = (float) x;
    }
}

static cs_run_stats *
cache_read (const cJSON *doc, const cs_run *run, const cs_graph *g, const cs_weight_layer *layers,
            int32_t n_layers, cs_error *err)
{
  cs_run_stats *s = cs_run_stats_new (run, n_layers, err);
  if (s == NULL)
    return NULL;
  int32_t e = 0;
  const cJSON *v;
  cJSON_ArrayForEach (v, cJSON_GetObjectItemCaseSensitive (doc, "checkpoint_errors"))
    {
      if (cJSON_IsString (v) && !cs_run_stats_mark_unavailable (s, e, v->valuestring))
        goto oom;
      e++;
    }
  s->n_layers = n_layers;
  int32_t i = 0;
  const cJSON *jl;
  cJSON_ArrayForEach (jl, cJSON_GetObjectItemCaseSensitive (doc, "layers"))
    {
      const cs_weight_layer *wl = &layers[i];
      cs_layer_series *l = &s->layers[i++];
      if (!cs_layer_series_init (l, g->nodes[wl->node].name,
                                 cs_run_stats_op_name (g->nodes[wl->node].op), wl->n_filters,
                                 run->n_epochs))
        goto oom;
      double *cols[CS_RUN_STATS_N_SERIES];
      cs_run_stats_series (l, cols);
      for (int c = 0; c < CS_RUN_STATS_N_SERIES; c++)
        read_numbers (cJSON_GetObjectItemCaseSensitive (jl, cs_run_stats_series_names[c]),
                      cols[c], NULL);
      int64_t row = 0;
      const cJSON *r;
      cJSON_ArrayForEach (r, cJSON_GetObjectItemCaseSensitive (jl, "filter_change"))
        read_numbers (r, NULL, l->filter_change + row++ * l->n_filters);
    }
  s->from_cache = true;
  return s;

oom:
  cs_run_stats_free (s);
  cs_error_set (err, CS_ERR_MEMORY, "out of memory");
  return NULL;
}

static char *
cache_path (const cs_run *run)
{
  size_t n = strlen (run->dir) + strlen (CS_ANALYSIS_FILE) + 2;
  char *p = malloc (n);
  if (p != NULL)
    snprintf (p, n, "%s/%s", run->dir, CS_ANALYSIS_FILE);
  return p;
}

/* The cache's statistics if it exists and passes validation, else NULL (err set only when
 * memory ran out). */
static cs_run_stats *
cache_load (const char *path, const cs_run *run, const cs_model *model, cs_error *err)
{
  uint8_t *text = NULL;
  size_t size = 0;
  if (cs_file_read_all (path, CACHE_MAX_BYTES, &text, &size, NULL) != CS_OK)
    return NULL;
  cJSON *doc = cJSON_ParseWithLength ((const char *) text, size);
  free (text);
  if (doc == NULL)
    return NULL;
  cs_weight_layer *layers = NULL;
  int32_t n_layers = 0;
  cs_run_stats *s = NULL;
  cJSON *key = cache_key (run);
  if (key != NULL && cs_weight_layers_find (model->graph, &layers, &n_layers, NULL) == CS_OK
      && document_valid (doc, key, run, model->graph, layers, n_layers))
    s = cache_read (doc, run, model->graph, layers, n_layers, err);
  free (layers);
  cJSON_Delete (key);
  cJSON_Delete (doc);
  return s;
}

static void
cache_write (const char *path, const cs_run *run, const cs_run_stats *s)
{
  cJSON *doc = cache_document (run, s);
  char *out = doc != NULL ? cJSON_PrintUnformatted (doc) : NULL;
  /* Best effort, atomically (a temporary file renamed over it): a read-only run (an installed
   * demo) is analysed every time instead. */
  if (out != NULL)
    cs_file_write_all (path, out, strlen (out), NULL);
  free (out);
  cJSON_Delete (doc);
}

cs_run_stats *
cs_run_stats_load (const cs_run *run, const cs_progress *progress, cs_error *err)
{
  cs_model *model = cs_run_stats_model (run, err);
  char *path = model != NULL ? cache_path (run) : NULL;
  cs_run_stats *s = NULL;
  if (model != NULL && path == NULL)
    cs_error_set (err, CS_ERR_MEMORY, "out of memory");
  if (path == NULL)
    goto done;
  cs_error cache_err = { 0 };
  s = cache_load (path, run, model, &cache_err);
  if (s != NULL)
    cs_progress_report (progress, 1.0);
  else if (cache_err.code != CS_OK)
    {
      if (err != NULL)
        *err = cache_err;
    }
  else if ((s = cs_run_stats_compute_over (run, model, progress, err)) != NULL)
    cache_write (path, run, s);

done:
  free (path);
  cs_model_free (model);
  return s;
}
