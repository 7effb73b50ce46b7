/* Examples of a run's recorded data set, so that commands can be pointed at "test:N". */
#include "data/run_example.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool
cs_run_example_parse (const char *arg, bool *train, int64_t *index)
{
  const char *digits;
  if (strncmp (arg, "test:", 5) == 0)
    digits = arg + 5;
  else if (strncmp (arg, "train:", 6) == 0)
    digits = arg + 6;
  else
    return false;
  if (*digits < '0' || *digits > '9')
    return false;
  char *end;
  errno = 0;
  long long v = strtoll (digits, &end, 10);
  if (*end != '\0' || errno != 0)
    return false;
  *train = arg[1] == 'r';
  *index = v;
  return true;
}

char *
cs_run_dataset_spec (const cs_run *run)
{
  cJSON *root = run != NULL && run->dataset_json != NULL ? cJSON_Parse (run->dataset_json) : NULL;
  const cJSON *spec = cJSON_GetObjectItemCaseSensitive (root, "spec");
  const cJSON *name = cJSON_GetObjectItemCaseSensitive (root, "name");
  const cJSON *dir = cJSON_GetObjectItemCaseSensitive (root, "dir");
  char *out = NULL;
  size_t len;
  if (cJSON_IsString (spec))
    out = strdup (spec->valuestring);
  else if (cJSON_IsString (name) && cJSON_IsString (dir)
           && (out = malloc (len = strlen (name->valuestring) + strlen (dir->valuestring) + 2)) != NULL)
    snprintf (out, len, "%s:%s", name->valuestring, dir->valuestring);
  else if (cJSON_IsString (name) && strcmp (name->valuestring, "fashion-mnist") == 0)
    out = strdup ("fashion-mnist");
  cJSON_Delete (root);
  /* "mnist:DIR" with DIR relative to the run directory. */
  char *colon = out != NULL ? strchr (out, ':') : NULL;
  if (colon != NULL && colon[1] != '\0' && colon[1] != '/')
    {
      len = strlen (out) + strlen (run->dir) + 2;
      char *abs = malloc (len);
      if (abs != NULL)
        snprintf (abs, len, "%.*s:%s/%s", (int) (colon - out), out, run->dir, colon + 1);
      free (out);
      out = abs;
    }
  return out;
}

/* Example index of split s as an interleaved 8-bit image. */
static cs_status
split_image (const cs_dataset_split *s, int64_t index, cs_image *img, cs_error *err)
{
  size_t hw = (size_t) s->height * (size_t) s->width, c = (size_t) s->channels;
  const uint8_t *src = s->images + (size_t) index * hw * c;
  img->pixels = malloc (hw * c);
  if (img->pixels == NULL)
    return cs_error_set (err, CS_ERR_MEMORY, "out of memory");
  for (size_t i = 0; i < hw; i++) /* planar (C, H, W) to interleaved */
    for (size_t k = 0; k < c; k++)
      img->pixels[i * c + k] = src[k * hw + i];
  img->width = s->width;
  img->height = s->height;
  img->channels = s->channels;
  return CS_OK;
}

cs_status
cs_run_examples_load (const char *run_path, bool train, int64_t first, int32_t n,
                      cs_image *imgs, int32_t *labels, int32_t *n_loaded, cs_error *err)
{
  memset (imgs, 0, sizeof *imgs * (size_t) (n > 0 ? n : 0));
  *n_loaded = 0;
  cs_run *run = cs_run_load (run_path, err);
  if (run == NULL)
    return err != NULL ? err->code : CS_ERR_FORMAT;
  char *spec = cs_run_dataset_spec (run);
  cs_status st = CS_OK;
  cs_dataset ds;
  memset (&ds, 0, sizeof ds);
  if (spec == NULL)
    st = cs_error_set (err, CS_ERR_ARGUMENT, "%s: the run names no data set (run.json has no "
                       "\"dataset\" with a \"spec\" or a \"name\" and \"dir\")", run->path);
  if (st == CS_OK && (st = cs_dataset_open (spec, &ds, err)) != CS_OK)
    cs_error_prefix (err, "%s", run->path);
  const cs_dataset_split *s = train ? &ds.train : &ds.test;
  if (st == CS_OK && (first < 0 || first >= s->n))
    st = cs_error_set (err, CS_ERR_ARGUMENT, "%s:%lld: the %s split of %s has %lld examples "
                       "(0 to %lld)", train ? "train" : "test", (long long) first,
                       train ? "train" : "test", spec, (long long) s->n, (long long) s->n - 1);
  if (st == CS_OK && s->channels != 1 && s->channels != 3)
    st = cs_error_set (err, CS_ERR_UNSUPPORTED, "%s: %d-channel examples are not images", spec,
                       s->channels);
  for (int32_t i = 0; st == CS_OK && i < n && first + i < s->n; i++)
    {
      st = split_image (s, first + i, &imgs[i], err);
      if (st == CS_OK)
        {
          labels[i] = s->labels[first + i];
          (*n_loaded)++;
        }
    }
  cs_dataset_free (&ds);
  free (spec);
  cs_run_free (run);
  return st;
}

cs_status
cs_run_example_load (const char *run_path, bool train, int64_t index, cs_image *img,
                     int32_t *label, cs_error *err)
{
  int32_t n;
  return cs_run_examples_load (run_path, train, index, 1, img, label, &n, err);
}
