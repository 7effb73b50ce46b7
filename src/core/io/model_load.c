/* Loading a MODEL argument: run directory (or run.json), .onnx, or model.json; then --weights. */
#include "io/model_load.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/atomic_file.h"
#include "io/io-config.h"
#include "io/labels.h"
#include "io/model_json.h"
#include "io/model_settings.h"
#include "io/onnx.h"
#include "io/run.h"
#include "io/safetensors.h"

#define PEEK_MAX_FILE ((size_t) 64 << 20)

static bool
has_suffix (const char *s, const char *suffix)
{
  size_t a = strlen (s), b = strlen (suffix);
  return a >= b && strcasecmp (s + a - b, suffix) == 0;
}

static cs_model *
load_onnx (const char *path, cs_error *err)
{
#if CS_HAVE_ONNX
  return cs_onnx_load (path, err);
#else
  cs_error_set (err, CS_ERR_UNSUPPORTED, "%s: this build has no ONNX support", path);
  return NULL;
#endif
}

static cs_model *
load_architecture (const char *path, uint64_t seed, cs_error *err)
{
  if (has_suffix (path, ".onnx"))
    return load_onnx (path, err);
  return cs_model_json_load (path, seed, err);
}

cs_status
cs_run_check_model (const cs_run *r, const cs_model *m, cs_error *err)
{
  if (r->channels > 0
      && (r->channels != m->channels || r->height != m->height || r->width != m->width))
    return cs_error_set (err, CS_ERR_SHAPE, "%s: input is %dx%dx%d but %s takes %dx%dx%d",
                         r->path, r->channels, r->height, r->width, r->model, m->channels,
                         m->height, m->width);
  if (r->n_classes > 0 && r->n_classes != m->n_classes)
    return cs_error_set (err, CS_ERR_SHAPE, "%s: %d class labels for a model with %d outputs",
                         r->path, r->n_classes, m->n_classes);
  return CS_OK;
}

static cs_model *
load_run (const char *path, const cs_load_options *o, cs_error *err)
{
  cs_run *r = cs_run_load (path, err);
  if (r == NULL)
    return NULL;
  cs_model *m = load_architecture (r->model, o->init_seed, err);
  if (m == NULL)
    goto fail;
  if (cs_run_check_model (r, m, err) != CS_OK)
    goto fail;
  if (r->n_epochs == 0)
    {
      cs_error_set (err, CS_ERR_FORMAT, "%s: the run has no epochs", r->path);
      goto fail;
    }
  int32_t idx = cs_run_epoch_index (r, o->epoch);
  if (idx < 0)
    {
      cs_error_set (err, CS_ERR_ARGUMENT, "%s: no epoch %d (the run has epochs %d to %d)",
                    r->path, o->epoch, r->epochs[0].epoch, r->epochs[r->n_epochs - 1].epoch);
      goto fail;
    }
  if (cs_safetensors_apply (m, r->epochs[idx].checkpoint, false, err) != CS_OK)
    goto fail;
  if (cs_model_check_finite (m, err) != CS_OK)
    {
      cs_error_prefix (err, "%s", r->epochs[idx].checkpoint);
      goto fail;
    }
  if (r->n_mean > 0)
    {
      memcpy (m->mean, r->mean, sizeof m->mean);
      memcpy (m->std, r->std, sizeof m->std);
      m->has_normalization = true;
    }
  if (r->n_classes > 0
      && cs_model_set_classes (m, r->n_classes, (const char *const *) r->classes, err) != CS_OK)
    {
      cs_error_prefix (err, "%s", r->path);
      goto fail;
    }
  free (m->path);
  m->path = strdup (r->path);
  cs_run_free (r);
  return m;

fail:
  cs_model_free (m);
  cs_run_free (r);
  return NULL;
}

static cs_status
apply_settings (cs_model *m, const char *path, cs_error *err)
{
  cs_model_settings s;
  bool found;
  cs_status st = cs_model_settings_find (path, &s, &found, err);
  if (st != CS_OK || !found)
    return st;
  if (s.channels != 1 && s.channels != m->channels)
    return cs_error_set (err, CS_ERR_SHAPE, "%s: %d mean/std values, the model has %d input "
                         "channels", path, s.channels, m->channels);
  return cs_model_settings_apply (m, &s, err);
}

/* The "format" of a JSON file, to tell run.json from model.json whatever their names. */
static bool
is_run_json (const char *path, cs_error *err, cs_status *st)
{
  uint8_t *text;
  size_t size;
  *st = cs_file_read_all (path, PEEK_MAX_FILE, &text, &size, err);
  if (*st != CS_OK)
    return false;
  cJSON *root = cJSON_ParseWithLength ((const char *) text, size);
  free (text);
  const cJSON *format = cJSON_GetObjectItemCaseSensitive (root, "format");
  bool run = cJSON_IsString (format) && strncmp (format->valuestring, "convscope-run/", 14) == 0;
  cJSON_Delete (root);
  return run;
}

cs_model *
cs_model_load (const char *path, const cs_load_options *opts, cs_error *err)
{
  cs_load_options o = opts != NULL ? *opts : CS_LOAD_OPTIONS_DEFAULT;
  struct stat sb;
  if (stat (path, &sb) != 0)
    {
      if (errno == ENOENT || errno == ENOTDIR)
        cs_error_set (err, CS_ERR_IO, "%s: no such file", path);
      else
        cs_error_set (err, CS_ERR_IO, "%s: %s", path, strerror (errno));
      return NULL;
    }
  cs_model *m = NULL;
  cs_status st = CS_OK;
  bool run = S_ISDIR (sb.st_mode);
  if (run)
    m = load_run (path, &o, err);
  else if (has_suffix (path, ".onnx"))
    m = load_onnx (path, err);
  else if (has_suffix (path, ".json"))
    {
      if ((run = is_run_json (path, err, &st)))
        m = load_run (path, &o, err);
      else if (st == CS_OK)
        m = cs_model_json_load (path, o.init_seed, err);
    }
  else
    cs_error_set (err, CS_ERR_UNSUPPORTED, "%s: unknown model format (expected .onnx, "
                  "model.json or a run directory)", path);
  if (m != NULL && o.weights != NULL
      && cs_safetensors_apply (m, o.weights, false, err) != CS_OK)
    {
      cs_model_free (m);
      return NULL;
    }
  /* A bare model's conventions come from beside it (a run's from run.json): its labels file
   * and the preprocessing remembered for it. */
  if (m != NULL && !run && (cs_labels_apply_beside (m, path, err) != CS_OK
                            || apply_settings (m, path, err) != CS_OK))
    {
      cs_model_free (m);
      return NULL;
    }
  if (m != NULL && (!run || o.weights != NULL) && cs_model_check_finite (m, err) != CS_OK)
    {
      cs_error_prefix (err, "%s", o.weights != NULL ? o.weights : path);
      cs_model_free (m);
      return NULL;
    }
  return m;
}
