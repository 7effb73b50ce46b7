/* Seeded subsets and label noise of a training job. */
#include "training/train_data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base/rng.h"
#include "io/atomic_file.h"
#include "training/subsets.h"

/* The test subset: n_test samples of the test split outside the validation subset. */
static cs_status
draw_test (const cs_train_options *o, cs_train_data *d, cs_error *err)
{
  int64_t total = d->ds.test.n, n_rest = total - d->n_val;
  if (n_rest < 1 || o->test_subset > n_rest)
    return cs_error_set (err, CS_ERR_ARGUMENT, "%s: a test subset of %lld needs that many test-split samples "
                         "outside the %lld of validation (the split has %lld)", o->dataset,
                         (long long) o->test_subset, (long long) d->n_val, (long long) total);
  int64_t *rest = malloc ((size_t) n_rest * sizeof *rest), *pick = NULL, k = 0, n_pick = 0;
  if (rest == NULL)
    return cs_error_set (err, CS_ERR_MEMORY, "out of memory");
  for (int64_t i = 0, v = 0; i < total; i++)
    {
      while (v < d->n_val && d->val_idx[v] < i)
        v++;
      if (v < d->n_val && d->val_idx[v] == i)
        continue;
      rest[k++] = i;
    }
  cs_status st = cs_dataset_subset (n_rest, o->test_subset, cs_train_stream_seed (o->seed, 4), &pick, &n_pick, err);
  if (st == CS_OK)
    {
      for (int64_t i = 0; i < n_pick; i++)
        pick[i] = rest[pick[i]];
      d->test_idx = pick;
      d->n_test = n_pick;
    }
  free (rest);
  return st;
}

static cs_status
inject_noise (const cs_train_options *o, cs_train_data *d, cs_error *err)
{
  int64_t count = (int64_t) llround (o->label_noise * (double) d->n_train), *pos = NULL, n_pos = 0;
  if (count < 1 || d->ds.n_classes < 2)
    return CS_OK;
  cs_status st = cs_dataset_subset (d->n_train, count, cs_train_stream_seed (o->seed, 3), &pos, &n_pos, err);
  if (st != CS_OK)
    return st;
  d->flipped = malloc ((size_t) n_pos * sizeof *d->flipped);
  d->original = malloc ((size_t) n_pos);
  d->noisy = malloc ((size_t) n_pos);
  if (d->flipped == NULL || d->original == NULL || d->noisy == NULL)
    {
      free (pos);
      return cs_error_set (err, CS_ERR_MEMORY, "out of memory");
    }
  cs_rng rng;
  cs_rng_seed (&rng, cs_train_stream_seed (o->seed, 5));
  for (int64_t i = 0; i < n_pos; i++)
    {
      int64_t idx = d->train_idx[pos[i]]; /* train_idx ascends, so flipped does too */
      uint8_t y = d->ds.train.labels[idx];
      uint8_t z = (uint8_t) ((y + 1 + cs_rng_below (&rng, (uint64_t) d->ds.n_classes - 1)) % d->ds.n_classes);
      d->flipped[i] = idx;
      d->original[i] = y;
      d->noisy[i] = z;
      d->ds.train.labels[idx] = z;
    }
  d->n_flipped = n_pos;
  free (pos);
  return CS_OK;
}

cs_status
cs_train_data_open (const cs_train_options *o, cs_train_data *d, cs_error *err)
{
  memset (d, 0, sizeof *d);
  if (!(o->label_noise >= 0 && o->label_noise <= 1) || o->test_subset < 0)
    return cs_error_set (err, CS_ERR_ARGUMENT, "label noise %g must lie in [0, 1], the test subset (%lld) not "
                         "be negative", o->label_noise, (long long) o->test_subset);
  cs_status st = cs_dataset_open (o->dataset, &d->ds, err);
  if (st == CS_OK)
    st = cs_train_subsets (&d->ds, o->train_subset, o->val_subset, o->seed, &d->train_idx, &d->n_train,
                           &d->val_idx, &d->n_val, err);
  if (st == CS_OK && o->test_subset > 0)
    st = draw_test (o, d, err);
  if (st == CS_OK)
    st = inject_noise (o, d, err);
  return st;
}

void
cs_train_data_free (cs_train_data *d)
{
  free (d->train_idx);
  free (d->val_idx);
  free (d->test_idx);
  free (d->flipped);
  free (d->original);
  free (d->noisy);
  cs_dataset_free (&d->ds);
  memset (d, 0, sizeof *d);
}

cs_status
cs_train_data_write_noise (const cs_train_data *d, double label_noise, const char *dir, cs_error *err)
{
  cJSON *root = cJSON_CreateObject ();
  cJSON *list = root != NULL ? cJSON_AddArrayToObject (root, "flipped") : NULL;
  if (list == NULL)
    {
      cJSON_Delete (root);
      return cs_error_set (err, CS_ERR_MEMORY, "out of memory");
    }
  cJSON_AddNumberToObject (root, "label_noise", label_noise);
  cJSON_AddStringToObject (root, "split", "train");
  for (int64_t i = 0; i < d->n_flipped; i++)
    {
      cJSON *row = cJSON_CreateArray ();
      cJSON_AddItemToArray (row, cJSON_CreateNumber ((double) d->flipped[i]));
      cJSON_AddItemToArray (row, cJSON_CreateNumber (d->original[i]));
      cJSON_AddItemToArray (row, cJSON_CreateNumber (d->noisy[i]));
      cJSON_AddItemToArray (list, row);
    }
  char *text = cJSON_PrintUnformatted (root);
  cJSON_Delete (root);
  size_t len = strlen (dir) + sizeof CS_LABEL_NOISE_FILE + 1;
  char *path = malloc (len);
  cs_status st;
  if (text == NULL || path == NULL)
    st = cs_error_set (err, CS_ERR_MEMORY, "out of memory");
  else
    {
      snprintf (path, len, "%s/%s", dir, CS_LABEL_NOISE_FILE);
      st = cs_file_write_all (path, text, strlen (text), err);
    }
  free (path);
  free (text);
  return st;
}
