/* run.json (convscope-run/1): parsed and validated with cJSON into a cs_run. */
#include "io/run.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/atomic_file.h"

#define RUN_FORMAT "convscope-run/1"
#define RUN_MAX_FILE ((size_t) 64 << 20)
#define RUN_MAX_CLASSES 1000000

static char *
join_path (const char *dir, const char *rel)
{
  if (rel[0] == '/' || strcmp (dir, ".") == 0)
    return strdup (rel);
  size_t a = strlen (dir), b = strlen (rel);
  char *p = malloc (a + b + 2);
  if (p == NULL)
    return NULL;
  memcpy (p, dir, a);
  p[a] = '/';
  memcpy (p + a + 1, rel, b + 1);
  return p;
}

static double
metric (const cJSON *epoch, const char *key)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive (epoch, key);
  return cJSON_IsNumber (v) ? v->valuedouble : NAN;
}

static bool
small_int (const cJSON *v, int64_t min, int64_t max, int32_t *out)
{
  if (!cJSON_IsNumber (v) || v->valuedouble != floor (v->valuedouble) || v->valuedouble < min
      || v->valuedouble > max)
    return false;
  *out = (int32_t) v->valuedouble;
  return true;
}

static char *
optional_string (const cJSON *root, const char *key)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive (root, key);
  return cJSON_IsString (v) ? strdup (v->valuestring) : NULL;
}

static cs_status
parse_input (cs_run *r, const cJSON *input, const char *name, cs_error *err)
{
  if (!cJSON_IsObject (input)
      || !small_int (cJSON_GetObjectItemCaseSensitive (input, "channels"), 1, 4, &r->channels)
      || !small_int (cJSON_GetObjectItemCaseSensitive (input, "height"), 1, 16384, &r->height)
      || !small_int (cJSON_GetObjectItemCaseSensitive (input, "width"), 1, 16384, &r->width))
    return cs_error_set (err, CS_ERR_FORMAT, "%s: \"input\" needs channels (1 to 4), height and "
                         "width", name);
  const cJSON *mean = cJSON_GetObjectItemCaseSensitive (input, "mean");
  const cJSON *std = cJSON_GetObjectItemCaseSensitive (input, "std");
  if (mean == NULL && std == NULL)
    return CS_OK;
  if (!cJSON_IsArray (mean) || !cJSON_IsArray (std) || cJSON_GetArraySize (mean) != r->channels
      || cJSON_GetArraySize (std) != r->channels)
    return cs_error_set (err, CS_ERR_FORMAT, "%s: \"input\": mean and std need %d values each",
                         name, r->channels);
  for (int32_t c = 0; c < r->channels; c++)
    {
      const cJSON *m = cJSON_GetArrayItem (mean, c), *s = cJSON_GetArrayItem (std, c);
      if (!cJSON_IsNumber (m) || !cJSON_IsNumber (s) || !isfinite (m->valuedouble)
          || !(s->valuedouble > 0) || !isfinite (s->valuedouble))
        return cs_error_set (err, CS_ERR_FORMAT, "%s: \"input\": mean must be numbers and std "
                             "positive numbers", name);
      r->mean[c] = (float) m->valuedouble;
      r->std[c] = (float) s->valuedouble;
    }
  r->n_mean = r->channels;
  return CS_OK;
}

static cs_status
parse_epochs (cs_run *r, const cJSON *epochs, const char *name, cs_error *err)
{
  if (epochs == NULL)
    return CS_OK;
  if (!cJSON_IsArray (epochs))
    return cs_error_set (err, CS_ERR_FORMAT, "%s: \"epochs\" must be a list", name);
  int n = cJSON_GetArraySize (epochs);
  r->epochs = calloc ((size_t) (n > 0 ? n : 1), sizeof *r->epochs);
  if (r->epochs == NULL)
    return cs_error_set (err, CS_ERR_MEMORY, "%s: out of memory", name);
  const cJSON *e;
  cJSON_ArrayForEach (e, epochs)
    {
      cs_run_epoch *ep = &r->epochs[r->n_epochs];
      const cJSON *ck = cJSON_GetObjectItemCaseSensitive (e, "checkpoint");
      if (!cJSON_IsObject (e)
          || !small_int (cJSON_GetObjectItemCaseSensitive (e, "epoch"), 0, INT32_MAX, &ep->epoch)
          || !cJSON_IsString (ck))
        return cs_error_set (err, CS_ERR_FORMAT, "%s: epochs[%d] needs \"epoch\" (an integer) "
                             "and \"checkpoint\"", name, r->n_epochs);
      if (r->n_epochs > 0 && ep->epoch <= r->epochs[r->n_epochs - 1].epoch)
        return cs_error_set (err, CS_ERR_FORMAT, "%s: epochs[%d]: epoch %d does not follow "
                             "epoch %d", name, r->n_epochs, ep->epoch,
                             r->epochs[r->n_epochs - 1].epoch);
      ep->checkpoint = join_path (r->dir, ck->valuestring);
      if (ep->checkpoint == NULL)
        return cs_error_set (err, CS_ERR_MEMORY, "%s: out of memory", name);
      ep->train_loss = metric (e, "train_loss");
      ep->train_accuracy = metric (e, "train_accuracy");
      ep->val_loss = metric (e, "val_loss");
      ep->val_accuracy = metric (e, "val_accuracy");
      ep->learning_rate = metric (e, "learning_rate");
      ep->seconds = metric (e, "seconds");
      r->n_epochs++;
    }
  return CS_OK;
}

static cs_status
parse_root (cs_run *r, const cJSON *root, const char *name, cs_error *err)
{
  const cJSON *format = cJSON_GetObjectItemCaseSensitive (root, "format");
  if (!cJSON_IsString (format) || strcmp (format->valuestring, RUN_FORMAT) != 0)
    return cs_error_set (err, CS_ERR_FORMAT, "%s: not a run.json (\"format\" is not \""
                         RUN_FORMAT "\")", name);
  const cJSON *model = cJSON_GetObjectItemCaseSensitive (root, "model");
  if (!cJSON_IsString (model) || model->valuestring[0] == '\0')
    return cs_error_set (err, CS_ERR_FORMAT, "%s: \"model\" must name the model file", name);
  r->model = join_path (r->dir, model->valuestring);
  r->name = optional_string (root, "name");
  r->created = optional_string (root, "created");
  if (r->model == NULL)
    return cs_error_set (err, CS_ERR_MEMORY, "%s: out of memory", name);
  const cJSON *input = cJSON_GetObjectItemCaseSensitive (root, "input");
  cs_status st;
  if (input != NULL && (st = parse_input (r, input, name, err)) != CS_OK)
    return st;
  const cJSON *classes = cJSON_GetObjectItemCaseSensitive (root, "classes");
  if (classes != NULL)
    {
      int n = cJSON_IsArray (classes) ? cJSON_GetArraySize (classes) : -1;
      if (n < 0 || n > RUN_MAX_CLASSES)
        return cs_error_set (err, CS_ERR_FORMAT, "%s: \"classes\" must be a list of labels", name);
      r->classes = calloc ((size_t) (n > 0 ? n : 1), sizeof *r->classes);
      if (r->classes == NULL)
        return cs_error_set (err, CS_ERR_MEMORY, "%s: out of memory", name);
      const cJSON *c;
      cJSON_ArrayForEach (c, classes)
        {
          if (!cJSON_IsString (c))
            return cs_error_set (err, CS_ERR_FORMAT, "%s: classes[%d] is not a string", name,
                                 r->n_classes);
          if ((r->classes[r->n_classes++] = strdup (c->valuestring)) == NULL)
            return cs_error_set (err, CS_ERR_MEMORY, "%s: out of memory", name);
        }
    }
  const cJSON *dataset = cJSON_GetObjectItemCaseSensitive (root, "dataset");
  const cJSON *train = cJSON_GetObjectItemCaseSensitive (root, "train");
  r->dataset_json = dataset != NULL ? cJSON_PrintUnformatted (dataset) : NULL;
  r->train_json = train != NULL ? cJSON_PrintUnformatted (train) : NULL;
  const cJSON *epochs = cJSON_GetObjectItemCaseSensitive (root, "epochs");
  r->epochs_json = cJSON_IsArray (epochs) ? cJSON_PrintUnformatted (epochs) : NULL;
  if (cJSON_IsArray (epochs) && r->epochs_json == NULL)
    return cs_error_set (err, CS_ERR_MEMORY, "%s: out of memory", name);
  return parse_epochs (r, cJSON_GetObjectItemCaseSensitive (root, "epochs"), name, err);
}

cs_run *
cs_run_parse (const char *text, size_t size, const char *name, const char *dir, cs_error *err)
{
  cs_run *r = calloc (1, sizeof *r);
  if (r == NULL || (r->dir = strdup (dir != NULL ? dir : ".")) == NULL
      || (r->path = strdup (name)) == NULL)
    {
      cs_run_free (r);
      cs_error_set (err, CS_ERR_MEMORY, "%s: out of memory", name);
      return NULL;
    }
  cJSON *root = cJSON_ParseWithLength (text, size);
  cs_status st;
  if (root == NULL || !cJSON_IsObject (root))
    st = cs_error_set (err, CS_ERR_FORMAT, "%s: not a JSON object", name);
  else
    st = parse_root (r, root, name, err);
  cJSON_Delete (root);
  if (st != CS_OK)
    {
      cs_run_free (r);
      return NULL;
    }
  return r;
}

cs_run *
cs_run_load (const char *path, cs_error *err)
{
  struct stat sb;
  if (stat (path, &sb) != 0)
    {
      if (errno == ENOENT)
        cs_error_set (err, CS_ERR_IO, "%s: no such file", path);
      else
        cs_error_set (err, CS_ERR_IO, "%s: %s", path, strerror (errno));
      return NULL;
    }
  char *dir, *file;
  if (S_ISDIR (sb.st_mode))
    {
      dir = strdup (path);
      file = join_path (path, "run.json");
    }
  else
    {
      const char *slash = strrchr (path, '/');
      dir = slash == NULL ? strdup (".")
            : slash == path ? strdup ("/") : strndup (path, (size_t) (slash - path));
      file = strdup (path);
    }
  cs_run *r = NULL;
  uint8_t *text = NULL;
  size_t size;
  if (dir == NULL || file == NULL)
    cs_error_set (err, CS_ERR_MEMORY, "%s: out of memory", path);
  else if (cs_file_read_all (file, RUN_MAX_FILE, &text, &size, err) == CS_OK)
    r = cs_run_parse ((const char *) text, size, file, dir, err);
  free (text);
  free (dir);
  free (file);
  return r;
}

void
cs_run_free (cs_run *r)
{
  if (r == NULL)
    return;
  for (int32_t i = 0; i < r->n_epochs; i++)
    free (r->epochs[i].checkpoint);
  free (r->epochs);
  for (int32_t i = 0; i < r->n_classes; i++)
    free (r->classes[i]);
  free (r->classes);
  free (r->dir);
  free (r->path);
  free (r->name);
  free (r->created);
  free (r->model);
  free (r->dataset_json);
  free (r->train_json);
  free (r->epochs_json);
  free (r);
}

int32_t
cs_run_epoch_index (const cs_run *r, int32_t epoch)
{
  if (r->n_epochs == 0)
    return -1;
  if (epoch == -1)
    return r->n_epochs - 1;
  for (int32_t i = 0; i < r->n_epochs; i++)
    if (r->epochs[i].epoch == epoch)
      return i;
  return -1;
}
