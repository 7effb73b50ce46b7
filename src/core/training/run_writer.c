/* Run directory writer: every file goes through a temporary file and a rename, and run.json
 * is written last, so that whatever run.json lists is complete on disk. */
#include "training/run_writer.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "io/atomic_file.h"
#include "io/model_json.h"
#include "io/safetensors.h"
#include "training/run_lock.h"

#define RUN_JSON_MAX_BYTES ((size_t) 64 << 20)

struct cs_run_writer {
  char *dir;
  char *run_json;
  char *model_path;
  cJSON *root;
  int32_t last_epoch;
};

void
cs_run_writer_free (cs_run_writer *w)
{
  if (w == NULL)
    return;
  free (w->dir);
  free (w->run_json);
  free (w->model_path);
  cJSON_Delete (w->root);
  free (w);
}

static cs_run_writer *
writer_new (const char *dir, cs_error *err)
{
  cs_run_writer *w = calloc (1, sizeof *w);
  if (w == NULL || (w->dir = strdup (dir)) == NULL
      || (w->run_json = cs_run_file_path (dir, "run.json")) == NULL)
    {
      cs_run_writer_free (w);
      cs_error_set (err, CS_ERR_MEMORY, "out of memory");
      return NULL;
    }
  w->last_epoch = -1;
  return w;
}

static cs_status
make_dir (const char *path, cs_error *err)
{
  struct stat sb;
  if (mkdir (path, 0777) == 0)
    return CS_OK;
  if (errno == EEXIST && stat (path, &sb) == 0 && S_ISDIR (sb.st_mode))
    return CS_OK;
  return cs_error_set (err, CS_ERR_IO, "%s: cannot create the directory: %s", path,
                       errno == EEXIST ? "a file is in the way" : strerror (errno));
}

/* The shortest decimal that reads back as the same float ("0.2860406", not 17 digits). */
static cJSON *
float_number (float f)
{
  char buf[32];
  for (int prec = 6; prec <= 9; prec++)
    {
      snprintf (buf, sizeof buf, "%.*g", prec, (double) f);
      if ((float) strtod (buf, NULL) == f)
        break;
    }
  return cJSON_CreateNumber (strtod (buf, NULL));
}

static cJSON *
metric (double v)
{
  return isfinite (v) ? cJSON_CreateNumber (v) : cJSON_CreateNull ();
}

cs_run_writer *
cs_run_writer_create (const char *dir, const cs_graph *g, cs_run_header *h, cs_error *err)
{
  char name_buf[256];
  cJSON *dataset = h->dataset, *train = h->train;
  h->dataset = h->train = NULL;
  cs_run_writer *w = writer_new (dir, err);
  if (w == NULL)
    goto fail;
  if (access (w->run_json, F_OK) == 0)
    {
      cs_error_set (err, CS_ERR_ARGUMENT, "%s: already holds a run (--resume continues it)", dir);
      goto fail;
    }
  char *ck = cs_run_file_path (dir, "checkpoints");
  cs_status st = ck != NULL ? make_dir (dir, err) : cs_error_set (err, CS_ERR_MEMORY, "out of memory");
  if (st == CS_OK)
    st = make_dir (ck, err);
  free (ck);
  if (st != CS_OK)
    goto fail;
  if ((w->model_path = cs_run_file_path (dir, "model.json")) == NULL)
    {
      cs_error_set (err, CS_ERR_MEMORY, "out of memory");
      goto fail;
    }
  if (cs_model_json_save (g, w->model_path, err) != CS_OK)
    goto fail;

  char created[32];
  time_t now = time (NULL);
  struct tm tm;
  strftime (created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", gmtime_r (&now, &tm));
  const char *name = h->name;
  if (name == NULL)
    {
      const char *end = dir + strlen (dir);
      while (end > dir + 1 && end[-1] == '/')
        end--;
      const char *base = end;
      while (base > dir && base[-1] != '/')
        base--;
      snprintf (name_buf, sizeof name_buf, "%.*s", (int) (end - base), base);
      name = name_buf;
    }
  cJSON *root = w->root = cJSON_CreateObject ();
  cJSON *input = cJSON_CreateObject ();
  cJSON *mean = cJSON_CreateArray (), *std = cJSON_CreateArray (), *classes = cJSON_CreateArray ();
  if (root == NULL || input == NULL || mean == NULL || std == NULL || classes == NULL)
    {
      cJSON_Delete (input);
      cJSON_Delete (mean);
      cJSON_Delete (std);
      cJSON_Delete (classes);
      cs_error_set (err, CS_ERR_MEMORY, "out of memory");
      goto fail;
    }
  cJSON_AddStringToObject (root, "format", CS_RUN_FORMAT);
  cJSON_AddStringToObject (root, "name", name);
  cJSON_AddStringToObject (root, "created", created);
  cJSON_AddStringToObject (root, "model", "model.json");
  cJSON_AddNumberToObject (input, "channels", h->channels);
  cJSON_AddNumberToObject (input, "height", h->height);
  cJSON_AddNumberToObject (input, "width", h->width);
  for (int32_t c = 0; c < h->channels; c++)
    {
      cJSON_AddItemToArray (mean, float_number (h->mean[c]));
      cJSON_AddItemToArray (std, float_number (h->std[c]));
    }
  cJSON_AddItemToObject (input, "mean", mean);
  cJSON_AddItemToObject (input, "std", std);
  cJSON_AddItemToObject (root, "input", input);
  for (int32_t k = 0; k < h->n_classes; k++)
    cJSON_AddItemToArray (classes, cJSON_CreateString (h->classes[k]));
  cJSON_AddItemToObject (root, "classes", classes);
  cJSON_AddItemToObject (root, "dataset", dataset != NULL ? dataset : cJSON_CreateObject ());
  cJSON_AddItemToObject (root, "train", train != NULL ? train : cJSON_CreateObject ());
  dataset = train = NULL;
  if (cJSON_AddArrayToObject (root, "epochs") == NULL)
    {
      cs_error_set (err, CS_ERR_MEMORY, "out of memory");
      goto fail;
    }
  return w;

fail:
  cJSON_Delete (dataset);
  cJSON_Delete (train);
  cs_run_writer_free (w);
  return NULL;
}

cs_run_writer *
cs_run_writer_resume (const char *dir, cs_error *err)
{
  cs_run_writer *w = writer_new (dir, err);
  if (w == NULL)
    return NULL;
  uint8_t *text = NULL;
  size_t size = 0;
  if (cs_file_read_all (w->run_json, RUN_JSON_MAX_BYTES, &text, &size, err) != CS_OK)
    {
      cs_run_writer_free (w);
      return NULL;
    }
  w->root = cJSON_ParseWithLength ((const char *) text, size);
  free (text);
  const cJSON *fmt = cJSON_GetObjectItemCaseSensitive (w->root, "format");
  const cJSON *model = cJSON_GetObjectItemCaseSensitive (w->root, "model");
  const cJSON *epochs = cJSON_GetObjectItemCaseSensitive (w->root, "epochs");
  if (w->root == NULL || !cJSON_IsString (fmt) || strcmp (fmt->valuestring, CS_RUN_FORMAT) != 0
      || !cJSON_IsArray (epochs))
    {
      cs_error_set (err, CS_ERR_FORMAT, "%s: not a %s run.json (format or epochs missing)", w->run_json,
                    CS_RUN_FORMAT);
      cs_run_writer_free (w);
      return NULL;
    }
  if (!cJSON_IsString (model) || strcmp (model->valuestring, "model.json") != 0)
    {
      cs_error_set (err, CS_ERR_UNSUPPORTED, "%s: only runs of a native model.json can be resumed",
                    w->run_json);
      cs_run_writer_free (w);
      return NULL;
    }
  w->model_path = cs_run_file_path (dir, "model.json");
  const cJSON *last = cJSON_GetArrayItem (epochs, cJSON_GetArraySize (epochs) - 1);
  const cJSON *num = cJSON_GetObjectItemCaseSensitive (last, "epoch");
  if (w->model_path == NULL || (last != NULL && !cJSON_IsNumber (num)))
    {
      cs_error_set (err, CS_ERR_FORMAT, "%s: the last epoch has no number", w->run_json);
      cs_run_writer_free (w);
      return NULL;
    }
  w->last_epoch = last != NULL ? num->valueint : -1;
  return w;
}

const cJSON *
cs_run_writer_json (const cs_run_writer *w)
{
  return w->root;
}

const char *
cs_run_writer_dir (const cs_run_writer *w)
{
  return w->dir;
}

int32_t
cs_run_writer_last_epoch (const cs_run_writer *w)
{
  return w->last_epoch;
}

const char *
cs_run_writer_model_path (const cs_run_writer *w)
{
  return w->model_path;
}

static char *
relative_checkpoint (int32_t epoch)
{
  char buf[64];
  snprintf (buf, sizeof buf, "checkpoints/epoch-%04d.safetensors", epoch);
  return strdup (buf);
}

char *
cs_run_writer_checkpoint_path (const cs_run_writer *w, int32_t epoch)
{
  char *rel = relative_checkpoint (epoch);
  char *p = rel != NULL ? cs_run_file_path (w->dir, rel) : NULL;
  free (rel);
  return p;
}

void
cs_run_writer_set_epochs (cs_run_writer *w, int32_t epochs)
{
  cJSON *train = cJSON_GetObjectItemCaseSensitive (w->root, "train");
  if (!cJSON_IsObject (train))
    return;
  cJSON *n = cJSON_GetObjectItemCaseSensitive (train, "epochs");
  if (cJSON_IsNumber (n))
    cJSON_SetNumberValue (n, epochs);
  else
    cJSON_AddNumberToObject (train, "epochs", epochs);
}

/* Deletes the optimizer files listed in state (an old "optimizer_state" object). */
static void
remove_state_files (const cs_run_writer *w, const cJSON *state)
{
  const cJSON *files = cJSON_GetObjectItemCaseSensitive (state, "files");
  const cJSON *f;
  cJSON_ArrayForEach (f, files)
    if (cJSON_IsString (f) && strncmp (f->valuestring, "checkpoints/optimizer-", 22) == 0)
      {
        char *p = cs_run_file_path (w->dir, f->valuestring);
        if (p != NULL)
          unlink (p);
        free (p);
      }
}

static cs_status
save_optimizer (cs_run_writer *w, cs_optimizer *opt, int32_t epoch, cJSON **state_out, cs_error *err)
{
  cJSON *state = cJSON_CreateObject ();
  cJSON *files = cJSON_CreateObject ();
  if (state == NULL || files == NULL)
    {
      cJSON_Delete (state);
      cJSON_Delete (files);
      return cs_error_set (err, CS_ERR_MEMORY, "out of memory");
    }
  cJSON_AddNumberToObject (state, "epoch", epoch);
  cJSON_AddStringToObject (state, "optimizer", cs_optimizer_kind_name (cs_optimizer_config_get (opt)->kind));
  cJSON_AddNumberToObject (state, "steps", (double) cs_optimizer_steps (opt));
  cJSON_AddItemToObject (state, "files", files);
  /* Before the first step the state is all zeros and unused: nothing to save. */
  for (int32_t i = 0; cs_optimizer_steps (opt) > 0 && i < cs_optimizer_n_states (opt); i++)
    {
      char rel[128];
      snprintf (rel, sizeof rel, "checkpoints/optimizer-%04d-%s.safetensors", epoch,
                cs_optimizer_state_name (opt, i));
      char *path = cs_run_file_path (w->dir, rel);
      cs_status st = path != NULL ? cs_safetensors_save (cs_optimizer_state (opt, i), path, err)
                                  : cs_error_set (err, CS_ERR_MEMORY, "out of memory");
      free (path);
      cJSON_AddStringToObject (files, cs_optimizer_state_name (opt, i), rel);
      if (st != CS_OK)
        {
          remove_state_files (w, state);
          cJSON_Delete (state);
          return st;
        }
    }
  *state_out = state;
  return CS_OK;
}

cs_status
cs_run_writer_add_epoch (cs_run_writer *w, const cs_model *m, cs_optimizer *opt, const cs_run_metrics *mt,
                         cs_error *err)
{
  if (mt->epoch <= w->last_epoch)
    return cs_error_set (err, CS_ERR_ARGUMENT, "%s: epoch %d is already written", w->dir, mt->epoch);
  char *rel = relative_checkpoint (mt->epoch);
  char *path = rel != NULL ? cs_run_file_path (w->dir, rel) : NULL;
  cs_status st = path != NULL ? cs_safetensors_save (m, path, err)
                              : cs_error_set (err, CS_ERR_MEMORY, "out of memory");
  free (path);
  cJSON *state = NULL;
  if (st == CS_OK && opt != NULL)
    st = save_optimizer (w, opt, mt->epoch, &state, err);
  cJSON *entry = st == CS_OK ? cJSON_CreateObject () : NULL;
  if (st == CS_OK && entry == NULL)
    st = cs_error_set (err, CS_ERR_MEMORY, "out of memory");
  if (st != CS_OK)
    {
      free (rel);
      cJSON_Delete (state);
      return st;
    }
  cJSON_AddNumberToObject (entry, "epoch", mt->epoch);
  cJSON_AddStringToObject (entry, "checkpoint", rel);
  free (rel);
  cJSON_AddItemToObject (entry, "train_loss", metric (mt->train_loss));
  cJSON_AddItemToObject (entry, "train_accuracy", metric (mt->train_accuracy));
  cJSON_AddItemToObject (entry, "val_loss", metric (mt->val_loss));
  cJSON_AddItemToObject (entry, "val_accuracy", metric (mt->val_accuracy));
  cJSON_AddItemToObject (entry, "learning_rate", metric (mt->learning_rate));
  cJSON_AddItemToObject (entry, "seconds", metric (mt->seconds));
  if (!isnan (mt->test_loss))
    cJSON_AddItemToObject (entry, "test_loss", metric (mt->test_loss));
  if (!isnan (mt->test_accuracy))
    cJSON_AddItemToObject (entry, "test_accuracy", metric (mt->test_accuracy));
  if (!isnan (mt->eb_criterion))
    cJSON_AddItemToObject (entry, "eb_criterion", metric (mt->eb_criterion));
  cJSON *epochs = cJSON_GetObjectItemCaseSensitive (w->root, "epochs");
  cJSON_AddItemToArray (epochs, entry);
  cJSON *old_state = cJSON_DetachItemFromObjectCaseSensitive (w->root, "optimizer_state");
  if (state != NULL)
    cJSON_AddItemToObject (w->root, "optimizer_state", state);

  char *text = cJSON_Print (w->root);
  st = text != NULL ? cs_file_write_all (w->run_json, text, strlen (text), err)
                    : cs_error_set (err, CS_ERR_MEMORY, "out of memory");
  free (text);
  if (st != CS_OK)
    {
      /* run.json on disk still describes the previous epoch: put the document back. */
      cJSON_Delete (cJSON_DetachItemFromArray (epochs, cJSON_GetArraySize (epochs) - 1));
      cJSON_DeleteItemFromObjectCaseSensitive (w->root, "optimizer_state");
      if (old_state != NULL)
        cJSON_AddItemToObject (w->root, "optimizer_state", old_state);
      return st;
    }
  const cJSON *old_epoch = cJSON_GetObjectItemCaseSensitive (old_state, "epoch");
  if (old_state != NULL && (!cJSON_IsNumber (old_epoch) || old_epoch->valueint != mt->epoch))
    remove_state_files (w, old_state);
  cJSON_Delete (old_state);
  w->last_epoch = mt->epoch;
  return CS_OK;
}

cs_status
cs_run_writer_load_optimizer (const cs_run_writer *w, cs_optimizer *opt, cs_error *err)
{
  const cJSON *state = cJSON_GetObjectItemCaseSensitive (w->root, "optimizer_state");
  const char *kind = cs_optimizer_kind_name (cs_optimizer_config_get (opt)->kind);
  if (state == NULL)
    {
      if (w->last_epoch <= 0)
        {
          cs_optimizer_set_steps (opt, 0);
          return CS_OK;
        }
      return cs_error_set (err, CS_ERR_FORMAT, "%s: no optimizer state, so the run cannot continue "
                           "exactly", w->run_json);
    }
  const cJSON *epoch = cJSON_GetObjectItemCaseSensitive (state, "epoch");
  const cJSON *name = cJSON_GetObjectItemCaseSensitive (state, "optimizer");
  const cJSON *steps = cJSON_GetObjectItemCaseSensitive (state, "steps");
  const cJSON *files = cJSON_GetObjectItemCaseSensitive (state, "files");
  if (!cJSON_IsNumber (epoch) || epoch->valueint != w->last_epoch || !cJSON_IsString (name)
      || !cJSON_IsNumber (steps) || steps->valuedouble < 0 || !cJSON_IsObject (files))
    return cs_error_set (err, CS_ERR_FORMAT, "%s: \"optimizer_state\" does not describe epoch %d",
                         w->run_json, w->last_epoch);
  if (strcmp (name->valuestring, kind) != 0)
    return cs_error_set (err, CS_ERR_ARGUMENT, "%s: the run was trained with %s, not %s", w->run_json,
                         name->valuestring, kind);
  int64_t n_steps = (int64_t) steps->valuedouble;
  for (int32_t i = 0; n_steps > 0 && i < cs_optimizer_n_states (opt); i++)
    {
      const cJSON *f = cJSON_GetObjectItemCaseSensitive (files, cs_optimizer_state_name (opt, i));
      if (!cJSON_IsString (f))
        return cs_error_set (err, CS_ERR_FORMAT, "%s: \"optimizer_state\" lacks %s", w->run_json,
                             cs_optimizer_state_name (opt, i));
      char *path = cs_run_file_path (w->dir, f->valuestring);
      if (path == NULL)
        return cs_error_set (err, CS_ERR_MEMORY, "out of memory");
      cs_status st = cs_safetensors_apply (cs_optimizer_state (opt, i), path, false, err);
      free (path);
      if (st != CS_OK)
        return st;
    }
  cs_optimizer_set_steps (opt, n_steps);
  return CS_OK;
}
