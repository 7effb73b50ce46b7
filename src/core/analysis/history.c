/* Each example's history across a run's epochs: which examples, and one forward pass of every
 * checkpoint over them (see history.h). */
#include "analysis/history.h"
#include "analysis/history-private.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/dataset.h"
#include "data/run_example.h"
#include "io/model_load.h"
#include "io/atomic_file.h"
#include "training/train_run.h"
#include "training/subsets.h"

static bool
json_int (const cJSON *o, const char *key, int64_t *v)
{
  const cJSON *i = cJSON_GetObjectItemCaseSensitive (o, key);
  if (!cJSON_IsNumber (i) || !(i->valuedouble >= 0) || i->valuedouble > 9.0e15
      || i->valuedouble != floor (i->valuedouble))
    return false;
  *v = (int64_t) i->valuedouble;
  return true;
}

/* Every index of a split, in order. */
static cs_status
all_indices (int64_t n, int64_t **idx, cs_error *err)
{
  *idx = malloc ((size_t) (n > 0 ? n : 1) * sizeof **idx);
  if (*idx == NULL)
    return cs_error_set (err, CS_ERR_MEMORY, "out of memory for %lld example indices", (long long) n);
  for (int64_t i = 0; i < n; i++)
    (*idx)[i] = i;
  return CS_OK;
}

/* The data set spec a run records: its "spec" (convscope-cli train), or a known "name" with a
 * "dir" (or Debian's copy of Fashion-MNIST); a relative "dir" is relative to the run directory,
 * as every path in run.json is. NULL when there is none. */
static char *
dataset_spec (const cs_run *run, const cJSON *d, bool *drawn)
{
  *drawn = cJSON_IsString (cJSON_GetObjectItemCaseSensitive (d, "spec"));
  const cJSON *name = cJSON_GetObjectItemCaseSensitive (d, "name");
  if (!*drawn && (!cJSON_IsString (name) || (strcmp (name->valuestring, "fashion-mnist") != 0
                                             && strcmp (name->valuestring, "mnist") != 0)))
    return NULL;
  return cs_run_dataset_spec (run);
}

/* A run trained with --label-noise learned the noisy labels: they are the labels the history
 * and the suspects judge against. Reads CS_LABEL_NOISE_FILE when the run has one; every entry
 * is checked against the data set (an untrusted file). */
static cs_status
apply_label_noise (const cs_run *run, cs_dataset *ds, cs_error *err)
{
  size_t len = strlen (run->dir) + sizeof "/" CS_LABEL_NOISE_FILE;
  char *path = malloc (len);
  if (path == NULL)
    return cs_error_set (err, CS_ERR_MEMORY, "out of memory");
  snprintf (path, len, "%s/%s", run->dir, CS_LABEL_NOISE_FILE);
  uint8_t *text = NULL;
  size_t size = 0;
  cs_error read_err = { 0 };
  if (access (path, F_OK) != 0)
    {
      free (path);
      return CS_OK;
    }
  cs_status st = cs_file_read_all (path, (size_t) 1 << 28, &text, &size, &read_err);
  cJSON *doc = st == CS_OK ? cJSON_ParseWithLength ((const char *) text, size) : NULL;
  const cJSON *flipped = cJSON_GetObjectItemCaseSensitive (doc, "flipped"), *f;
  if (st != CS_OK)
    st = cs_error_set (err, read_err.code, "%s", read_err.message);
  else if (!cJSON_IsArray (flipped))
    st = cs_error_set (err, CS_ERR_FORMAT, "%s: no \"flipped\" list", path);
  const cJSON *entries = st == CS_OK ? flipped : NULL;
  cJSON_ArrayForEach (f, entries)
    {
      const cJSON *i = cJSON_GetArrayItem (f, 0), *noisy = cJSON_GetArrayItem (f, 2);
      if (!cJSON_IsNumber (i) || !cJSON_IsNumber (noisy) || !(i->valuedouble >= 0)
          || i->valuedouble >= (double) ds->train.n || i->valuedouble != floor (i->valuedouble)
          || !(noisy->valuedouble >= 0) || noisy->valuedouble >= ds->n_classes)
        {
          st = cs_error_set (err, CS_ERR_FORMAT, "%s: a flipped entry out of the data set's range", path);
          break;
        }
      ds->train.labels[(int64_t) i->valuedouble] = (uint8_t) noisy->valuedouble;
    }
  cJSON_Delete (doc);
  free (text);
  free (path);
  return st;
}

cs_status
cs_history_examples_of_run (const cs_run *run, cs_dataset *ds, char **spec_out, int64_t **train_idx,
                            int64_t *n_train, int64_t **test_idx, int64_t *n_test, cs_error *err)
{
  memset (ds, 0, sizeof *ds);
  *spec_out = NULL;
  *train_idx = *test_idx = NULL;
  cJSON *d = run->dataset_json != NULL ? cJSON_Parse (run->dataset_json) : NULL;
  cJSON *t = run->train_json != NULL ? cJSON_Parse (run->train_json) : NULL;
  bool drawn = false;
  char *spec = d != NULL ? dataset_spec (run, d, &drawn) : NULL;
  cs_status st = CS_OK;
  int64_t ntr = 0, nte = 0, seed = 0;
  if (spec == NULL)
    {
      st = cs_error_set (err, CS_ERR_UNSUPPORTED, "%s: the run names no data set Convscope can read "
                         "(\"dataset\": {\"spec\": ...} or {\"name\": \"fashion-mnist\"|\"mnist\", \"dir\": ...})",
                         run->path);
      goto done;
    }
  if (drawn && (!json_int (d, "train_subset", &ntr) || !json_int (d, "val_subset", &nte)
                || !json_int (t, "seed", &seed)))
    {
      st = cs_error_set (err, CS_ERR_FORMAT, "%s: \"dataset\" names a spec but lacks train_subset, "
                         "val_subset or the \"train\" seed", run->path);
      goto done;
    }
  if ((st = cs_dataset_open (spec, ds, err)) != CS_OK || (st = apply_label_noise (run, ds, err)) != CS_OK)
    goto done;
  if (drawn)
    st = cs_train_subsets (ds, ntr, nte, (uint64_t) seed, train_idx, n_train, test_idx, n_test, err);
  else
    {
      *n_train = ds->train.n;
      *n_test = ds->test.n;
      st = all_indices (ds->train.n, train_idx, err);
      if (st == CS_OK)
        st = all_indices (ds->test.n, test_idx, err);
    }
done:
  cJSON_Delete (d);
  cJSON_Delete (t);
  if (st == CS_OK)
    *spec_out = spec;
  else
    {
      cs_dataset_free (ds);
      free (spec);
      free (*train_idx);
      free (*test_idx);
      *train_idx = *test_idx = NULL;
    }
  return st;
}

void
cs_history_free (cs_history *h)
{
  if (h == NULL)
    return;
  for (int s = 0; s < CS_HISTORY_N_SPLITS; s++)
    {
      cs_history_examples *x = &h->split[s];
      free (x->index);
      free (x->label);
      free (x->prob);
      free (x->margin);
      free (x->pred);
      free (x->other);
    }
  free (h->epochs);
  free (h->dataset);
  free (h);
}

cs_status
cs_history_examples_alloc (cs_history_examples *x, int64_t n, int32_t n_epochs, cs_error *err)
{
  size_t cells = (size_t) (n > 0 ? n : 1) * (size_t) n_epochs;
  x->n = n;
  if (x->index == NULL)
    x->index = malloc ((size_t) (n > 0 ? n : 1) * sizeof *x->index);
  x->label = malloc ((size_t) (n > 0 ? n : 1));
  x->prob = malloc (cells * sizeof (float));
  x->margin = malloc (cells * sizeof (float));
  x->pred = malloc (cells);
  x->other = malloc (cells);
  if (x->index == NULL || x->label == NULL || x->prob == NULL || x->margin == NULL || x->pred == NULL
      || x->other == NULL)
    return cs_error_set (err, CS_ERR_MEMORY, "out of memory for the history of %lld examples over %d epochs",
                         (long long) n, n_epochs);
  return CS_OK;
}

/* The data set's images must be what the model takes, and its labels its classes. */
static cs_status
check_fit (const cs_model *m, const cs_dataset *ds, const cs_run *run, cs_error *err)
{
  if (ds->train.channels != m->channels || ds->train.height != m->height || ds->train.width != m->width)
    return cs_error_set (err, CS_ERR_SHAPE, "%s: the data set's images are %dx%dx%d, the model takes %dx%dx%d",
                         run->path, ds->train.channels, ds->train.height, ds->train.width, m->channels,
                         m->height, m->width);
  if (m->n_classes < 2 || m->n_classes > 255 || ds->n_classes > m->n_classes)
    return cs_error_set (err, CS_ERR_UNSUPPORTED, "%s: the model has %d outputs for %d classes (the history "
                         "takes 2 to 255 outputs, at least one per class)", run->path, m->n_classes,
                         ds->n_classes);
  return CS_OK;
}

cs_history *
cs_history_compute (const cs_run *run, const cs_progress *progress, cs_error *err)
{
  if (run->n_epochs < 1)
    {
      cs_error_set (err, CS_ERR_FORMAT, "%s: the run has no epochs", run->path);
      return NULL;
    }
  cs_history *h = calloc (1, sizeof *h);
  int64_t *idx[CS_HISTORY_N_SPLITS] = { NULL, NULL }, n[CS_HISTORY_N_SPLITS] = { 0, 0 };
  cs_dataset ds = { 0 };
  cs_model *first = NULL;
  cs_status st = h != NULL ? CS_OK : cs_error_set (err, CS_ERR_MEMORY, "out of memory");
  if (st == CS_OK)
    st = cs_history_examples_of_run (run, &ds, &h->dataset, &idx[0], &n[0], &idx[1], &n[1], err);
  if (st == CS_OK)
    {
      cs_load_options o = CS_LOAD_OPTIONS_DEFAULT;
      o.epoch = run->epochs[0].epoch;
      first = cs_model_load (run->path, &o, err);
      st = first != NULL ? check_fit (first, &ds, run, err) : err->code;
    }
  if (st == CS_OK)
    {
      h->n_epochs = run->n_epochs;
      h->n_classes = first->n_classes;
      h->epochs = malloc ((size_t) run->n_epochs * sizeof *h->epochs);
      st = h->epochs != NULL ? CS_OK : cs_error_set (err, CS_ERR_MEMORY, "out of memory");
      for (int32_t e = 0; st == CS_OK && e < run->n_epochs; e++)
        h->epochs[e] = run->epochs[e].epoch;
    }
  const cs_dataset_split *splits[CS_HISTORY_N_SPLITS] = { &ds.train, &ds.test };
  for (int s = 0; st == CS_OK && s < CS_HISTORY_N_SPLITS; s++)
    {
      cs_history_examples *x = &h->split[s];
      x->index = idx[s];
      idx[s] = NULL;
      if ((st = cs_history_examples_alloc (x, n[s], run->n_epochs, err)) != CS_OK)
        break;
      for (int64_t i = 0; i < x->n; i++)
        x->label[i] = splits[s]->labels[x->index[i]];
    }
  if (st == CS_OK)
    st = cs_history_compute_epochs (run, first, &ds, h, progress, err);
  cs_model_free (first);
  cs_dataset_free (&ds);
  free (idx[0]);
  free (idx[1]);
  if (st != CS_OK)
    {
      cs_history_free (h);
      return NULL;
    }
  return h;
}

cs_history *
cs_history_get (const cs_run *run, const cs_progress *progress, bool *from_cache, cs_error *err)
{
  char *path = cs_history_path (run);
  if (path == NULL)
    {
      cs_error_set (err, CS_ERR_MEMORY, "out of memory");
      return NULL;
    }
  cs_error cache_err = { 0 };
  cs_history *h = cs_history_read (path, run, &cache_err);
  if (from_cache != NULL)
    *from_cache = h != NULL;
  if (h == NULL)
    {
      h = cs_history_compute (run, progress, err);
      /* A run directory we cannot write keeps working, without its cache. */
      cs_error write_err = { 0 };
      if (h != NULL)
        (void) cs_history_write (h, path, run, &write_err);
    }
  free (path);
  return h;
}
