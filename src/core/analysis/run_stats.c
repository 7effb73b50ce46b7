/* Weight statistics over a run directory: one checkpoint at a time, cached in analysis.json. */
#include "analysis/run_stats.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/atomic_file.h"
#include "io/model_load.h"
#include "io/safetensors.h"

/* A cache larger than this is not ours (or is damaged): recompute rather than read it. */
#define CACHE_MAX_BYTES ((size_t) 1 << 30)

void
cs_run_stats_free (cs_run_stats *s)
{
  if (s == NULL)
    return;
  for (int32_t i = 0; i < s->n_layers; i++)
    {
      cs_layer_series *l = &s->layers[i];
      free (l->name);
      free (l->op);
      free (l->norm);
      free (l->relative_change);
      free (l->cosine_to_previous);
      free (l->distance_from_init);
      free (l->rotation);
      free (l->alpha);
      free (l->stable_rank);
      free (l->filter_change);
    }
  free (s->layers);
  free (s->epochs);
  free (s);
}

const cs_layer_series *
cs_run_stats_layer (const cs_run_stats *s, const char *name)
{
  for (int32_t i = 0; i < s->n_layers; i++)
    if (strcmp (s->layers[i].name, name) == 0)
      return &s->layers[i];
  return NULL;
}

static const char *
layer_op_name (cs_op op)
{
  return op == CS_OP_CONV2D ? "conv2d" : op == CS_OP_GEMM ? "linear" : "matmul";
}

/* Allocates the series of one layer for n epochs (all NaN). */
static bool
series_init (cs_layer_series *l, const char *name, const char *op, int64_t n_filters, int32_t n)
{
  l->name = strdup (name);
  l->op = strdup (op);
  l->n_filters = n_filters;
  double **cols[] = { &l->norm, &l->relative_change, &l->cosine_to_previous,
                      &l->distance_from_init, &l->rotation, &l->alpha, &l->stable_rank };
  bool ok = l->name != NULL && l->op != NULL;
  for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++)
    {
      *cols[c] = malloc ((size_t) n * sizeof (double));
      ok = ok && *cols[c] != NULL;
      for (int32_t e = 0; *cols[c] != NULL && e < n; e++)
        (*cols[c])[e] = NAN;
    }
  if (n_filters > 0 && (int64_t) n > INT64_MAX / n_filters)
    return false;
  l->filter_change = malloc ((size_t) (n * n_filters) * sizeof (float) + 1);
  for (int64_t k = 0; l->filter_change != NULL && k < n * n_filters; k++)
    l->filter_change[k] = NAN;
  return ok && l->filter_change != NULL;
}

static cs_run_stats *
stats_new (const int32_t *epochs, int32_t n_epochs, int32_t n_layers, cs_error *err)
{
  cs_run_stats *s = calloc (1, sizeof *s);
  if (s == NULL)
    goto oom;
  s->n_epochs = n_epochs;
  s->epochs = malloc ((size_t) (n_epochs > 0 ? n_epochs : 1) * sizeof *s->epochs);
  s->layers = calloc ((size_t) (n_layers > 0 ? n_layers : 1), sizeof *s->layers);
  if (s->epochs == NULL || s->layers == NULL)
    goto oom;
  memcpy (s->epochs, epochs, (size_t) n_epochs * sizeof *epochs);
  return s;

oom:
  cs_run_stats_free (s);
  cs_error_set (err, CS_ERR_MEMORY, "out of memory for the statistics of %d layers", n_layers);
  return NULL;
}

cs_run_stats *
cs_run_stats_compute (const cs_run *run, const cs_progress *progress, cs_error *err)
{
  if (run->n_epochs == 0)
    {
      cs_error_set (err, CS_ERR_FORMAT, "%s: the run has no epochs", run->path);
      return NULL;
    }
  /* The first epoch's model gives the graph every later checkpoint is laid over. */
  cs_load_options o = CS_LOAD_OPTIONS_DEFAULT;
  o.epoch = run->epochs[0].epoch;
  cs_model *init = cs_model_load (run->path, &o, err);
  if (init == NULL)
    return NULL;
  const cs_graph *g = init->graph;
  cs_weight_layer *layers = NULL;
  int32_t n_layers = 0;
  cs_model *prev = NULL, *cur = NULL;
  int32_t *numbers = malloc ((size_t) run->n_epochs * sizeof *numbers);
  cs_run_stats *s = NULL;
  if (numbers == NULL)
    {
      cs_error_set (err, CS_ERR_MEMORY, "out of memory");
      goto fail;
    }
  for (int32_t e = 0; e < run->n_epochs; e++)
    numbers[e] = run->epochs[e].epoch;
  if (cs_weight_layers_find (g, &layers, &n_layers, err) != CS_OK)
    goto fail;
  s = stats_new (numbers, run->n_epochs, n_layers, err);
  if (s == NULL)
    goto fail;
  s->n_layers = n_layers;
  for (int32_t i = 0; i < n_layers; i++)
    if (!series_init (&s->layers[i], g->nodes[layers[i].node].name,
                      layer_op_name (g->nodes[layers[i].node].op), layers[i].n_filters,
                      run->n_epochs))
      {
        cs_error_set (err, CS_ERR_MEMORY, "out of memory for the statistics of layer '%s'",
                      g->nodes[layers[i].node].name);
        goto fail;
      }

  for (int32_t e = 0; e < run->n_epochs; e++)
    {
      if (e == 0)
        cur = init;
      else
        {
          cur = cs_model_clone (init, err);
          if (cur == NULL)
            goto fail;
          if (cs_safetensors_apply (cur, run->epochs[e].checkpoint, false, err) != CS_OK)
            goto fail;
        }
      for (int32_t i = 0; i < n_layers; i++)
        {
          if (cs_progress_cancelled (progress))
            {
              cs_error_set (err, CS_ERR_CANCELLED, "%s: weight analysis cancelled", run->path);
              goto fail;
            }
          const cs_weight_layer *l = &layers[i];
          cs_layer_series *ls = &s->layers[i];
          cs_weight_epoch_stats st;
          if (cs_weight_epoch_compute (l, cur->weights[l->param].data,
                                       prev != NULL ? prev->weights[l->param].data : NULL,
                                       init->weights[l->param].data, true,
                                       ls->filter_change + (int64_t) e * ls->n_filters, &st, err)
              != CS_OK)
            {
              cs_error_prefix (err, "%s: layer '%s'", run->epochs[e].checkpoint, ls->name);
              goto fail;
            }
          ls->norm[e] = st.norm;
          ls->relative_change[e] = st.relative_change;
          ls->cosine_to_previous[e] = st.cosine_to_previous;
          ls->distance_from_init[e] = st.distance_from_init;
          ls->rotation[e] = st.rotation;
          ls->alpha[e] = st.alpha;
          ls->stable_rank[e] = st.stable_rank;
          cs_progress_report (progress, ((double) e * n_layers + i + 1)
                                        / ((double) run->n_epochs * n_layers));
        }
      if (prev != init)
        cs_model_free (prev);
      prev = cur;
      cur = NULL;
    }
  if (n_layers == 0)
    cs_progress_report (progress, 1.0);
  if (prev != init)
    cs_model_free (prev);
  cs_model_free (init);
  free (layers);
  free (numbers);
  return s;

fail:
  if (cur != init && cur != prev)
    cs_model_free (cur);
  if (prev != init)
    cs_model_free (prev);
  cs_model_free (init);
  free (layers);
  free (numbers);
  cs_run_stats_free (s);
  return NULL;
}

/* ---- the cache ---- */

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

static cJSON *
double_array (const double *v, int32_t n)
{
  cJSON *a = cJSON_CreateArray ();
  for (int32_t i = 0; i < n; i++)
    cJSON_AddItemToArray (a, isfinite (v[i]) ? cJSON_CreateNumber (v[i]) : cJSON_CreateNull ());
  return a;
}

static cJSON *
float_array (const float *v, int64_t n)
{
  cJSON *a = cJSON_CreateArray ();
  for (int64_t i = 0; i < n; i++)
    cJSON_AddItemToArray (a, isfinite (v[i]) ? cJSON_CreateNumber (v[i]) : cJSON_CreateNull ());
  return a;
}

static const char *const series_names[] = { "norm", "relative_change", "cosine_to_previous",
                                             "distance_from_init", "rotation", "alpha",
                                             "stable_rank" };
#define N_SERIES 7

static double **
series_columns (cs_layer_series *l, double **cols)
{
  cols[0] = l->norm;
  cols[1] = l->relative_change;
  cols[2] = l->cosine_to_previous;
  cols[3] = l->distance_from_init;
  cols[4] = l->rotation;
  cols[5] = l->alpha;
  cols[6] = l->stable_rank;
  return cols;
}

static cJSON *
cache_document (const cs_run *run, cs_run_stats *s)
{
  cJSON *doc = cJSON_CreateObject ();
  cJSON_AddStringToObject (doc, "format", "convscope-analysis/1");
  cJSON_AddItemToObject (doc, "key", cache_key (run));
  cJSON_AddItemToObject (doc, "epochs", cJSON_CreateIntArray (s->epochs, s->n_epochs));
  cJSON *layers = cJSON_AddArrayToObject (doc, "layers");
  for (int32_t i = 0; i < s->n_layers; i++)
    {
      cs_layer_series *l = &s->layers[i];
      cJSON *o = cJSON_CreateObject ();
      cJSON_AddStringToObject (o, "name", l->name);
      cJSON_AddStringToObject (o, "op", l->op);
      cJSON_AddNumberToObject (o, "filters", (double) l->n_filters);
      double *cols[N_SERIES];
      series_columns (l, cols);
      for (int c = 0; c < N_SERIES; c++)
        cJSON_AddItemToObject (o, series_names[c], double_array (cols[c], s->n_epochs));
      cJSON *fc = cJSON_AddArrayToObject (o, "filter_change");
      for (int32_t e = 0; e < s->n_epochs; e++)
        cJSON_AddItemToArray (fc, float_array (l->filter_change + (int64_t) e * l->n_filters,
                                               l->n_filters));
      cJSON_AddItemToArray (layers, o);
    }
  return doc;
}

static bool
read_numbers (const cJSON *a, int64_t n, double *d, float *f)
{
  if (!cJSON_IsArray (a) || cJSON_GetArraySize (a) != n)
    return false;
  int64_t i = 0;
  const cJSON *v;
  cJSON_ArrayForEach (v, a)
    {
      double x;
      if (cJSON_IsNull (v))
        x = NAN;
      else if (cJSON_IsNumber (v))
        x = v->valuedouble;
      else
        return false;
      if (d != NULL)
        d[i] = x;
      else
        f[i] = (float) x;
      i++;
    }
  return true;
}

/* The statistics of a cache document whose key matches, or NULL (stale or malformed: the
 * caller recomputes). */
static cs_run_stats *
cache_parse (const cJSON *doc, const cJSON *key)
{
  const cJSON *format = cJSON_GetObjectItemCaseSensitive (doc, "format");
  if (!cJSON_IsString (format) || strcmp (format->valuestring, "convscope-analysis/1") != 0
      || !cJSON_Compare (cJSON_GetObjectItemCaseSensitive (doc, "key"), key, true))
    return NULL;
  const cJSON *epochs = cJSON_GetObjectItemCaseSensitive (doc, "epochs");
  const cJSON *layers = cJSON_GetObjectItemCaseSensitive (doc, "layers");
  if (!cJSON_IsArray (epochs) || !cJSON_IsArray (layers))
    return NULL;
  int32_t n = cJSON_GetArraySize (epochs), n_layers = cJSON_GetArraySize (layers);
  double *ep = malloc ((size_t) (n > 0 ? n : 1) * sizeof *ep);
  int32_t *numbers = malloc ((size_t) (n > 0 ? n : 1) * sizeof *numbers);
  cs_run_stats *s = NULL;
  if (ep == NULL || numbers == NULL || !read_numbers (epochs, n, ep, NULL))
    goto fail;
  for (int32_t e = 0; e < n; e++)
    numbers[e] = (int32_t) ep[e];
  s = stats_new (numbers, n, n_layers, NULL);
  if (s == NULL)
    goto fail;
  const cJSON *jl;
  cJSON_ArrayForEach (jl, layers)
    {
      const cJSON *name = cJSON_GetObjectItemCaseSensitive (jl, "name");
      const cJSON *op = cJSON_GetObjectItemCaseSensitive (jl, "op");
      const cJSON *filters = cJSON_GetObjectItemCaseSensitive (jl, "filters");
      if (!cJSON_IsString (name) || !cJSON_IsString (op) || !cJSON_IsNumber (filters)
          || filters->valuedouble < 0 || filters->valuedouble > 1e9)
        goto fail;
      cs_layer_series *l = &s->layers[s->n_layers++];
      if (!series_init (l, name->valuestring, op->valuestring, (int64_t) filters->valuedouble, n))
        goto fail;
      double *cols[N_SERIES];
      series_columns (l, cols);
      for (int c = 0; c < N_SERIES; c++)
        if (!read_numbers (cJSON_GetObjectItemCaseSensitive (jl, series_names[c]), n, cols[c],
                           NULL))
          goto fail;
      const cJSON *fc = cJSON_GetObjectItemCaseSensitive (jl, "filter_change");
      if (!cJSON_IsArray (fc) || cJSON_GetArraySize (fc) != n)
        goto fail;
      int32_t e = 0;
      const cJSON *row;
      cJSON_ArrayForEach (row, fc)
        if (!read_numbers (row, l->n_filters, NULL, l->filter_change + (int64_t) e++ * l->n_filters))
          goto fail;
    }
  free (ep);
  free (numbers);
  s->from_cache = true;
  return s;

fail:
  free (ep);
  free (numbers);
  cs_run_stats_free (s);
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

cs_run_stats *
cs_run_stats_load (const cs_run *run, const cs_progress *progress, cs_error *err)
{
  char *path = cache_path (run);
  if (path == NULL)
    {
      cs_error_set (err, CS_ERR_MEMORY, "out of memory");
      return NULL;
    }
  cJSON *key = cache_key (run);
  uint8_t *text = NULL;
  size_t size = 0;
  cs_run_stats *s = NULL;
  if (cs_file_read_all (path, CACHE_MAX_BYTES, &text, &size, NULL) == CS_OK)
    {
      cJSON *doc = cJSON_ParseWithLength ((const char *) text, size);
      free (text);
      if (doc != NULL)
        s = cache_parse (doc, key);
      cJSON_Delete (doc);
    }
  if (s != NULL)
    {
      cs_progress_report (progress, 1.0);
      cJSON_Delete (key);
      free (path);
      return s;
    }
  cJSON_Delete (key);
  s = cs_run_stats_compute (run, progress, err);
  if (s != NULL)
    {
      cJSON *doc = cache_document (run, s);
      char *out = doc != NULL ? cJSON_PrintUnformatted (doc) : NULL;
      /* Best effort: a read-only run (an installed demo) is analysed every time instead. */
      if (out != NULL)
        cs_file_write_all (path, out, strlen (out), NULL);
      free (out);
      cJSON_Delete (doc);
    }
  free (path);
  return s;
}
