/* Per-model preprocessing settings: presets, the sidecar JSON, where it lives, applying it. */
#include "io/model_settings.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/dataset.h"
#include "io/atomic_file.h"
#include "io/labels.h"

#define SETTINGS_MAX_FILE ((size_t) 1 << 20)
#define SETTINGS_MAX_RESIZE 8192

static const float imagenet_mean[3] = { 0.485f, 0.456f, 0.406f };
static const float imagenet_std[3] = { 0.229f, 0.224f, 0.225f };
/* Fashion-MNIST's training-set pixel statistics, as tools/convscope_logger.py documents them. */
static const float fashion_mean = 0.2860f, fashion_std = 0.3530f;

bool
cs_model_settings_preset (const char *name, int32_t channels, int32_t height,
                          cs_model_settings *s)
{
  memset (s, 0, sizeof *s);
  s->channels = channels > 0 && channels <= 4 ? channels : 1;
  bool imagenet = strcmp (name, "imagenet") == 0, fashion = strcmp (name, "fashion-mnist") == 0;
  if (!imagenet && !fashion && strcmp (name, "none") != 0)
    return false;
  snprintf (s->preset, sizeof s->preset, "%s", name);
  float gm = (imagenet_mean[0] + imagenet_mean[1] + imagenet_mean[2]) / 3;
  float gs = (imagenet_std[0] + imagenet_std[1] + imagenet_std[2]) / 3;
  for (int32_t c = 0; c < 4; c++)
    {
      s->mean[c] = imagenet ? (s->channels == 3 && c < 3 ? imagenet_mean[c] : gm) : fashion ? fashion_mean : 0.0f;
      s->std[c] = imagenet ? (s->channels == 3 && c < 3 ? imagenet_std[c] : gs) : fashion ? fashion_std : 1.0f;
    }
  /* 224 -> 256 as torchvision's weights transforms; other sizes keep the ratio. */
  s->resize = imagenet && height > 0 ? (int32_t) lround (height * 256.0 / 224.0) : 0;
  return true;
}

static bool
same_values (const cs_model_settings *a, const cs_model_settings *b)
{
  for (int32_t c = 0; c < a->channels; c++)
    if (fabsf (a->mean[c] - b->mean[c]) > 1e-6f || fabsf (a->std[c] - b->std[c]) > 1e-6f)
      return false;
  return a->resize == b->resize;
}

void
cs_model_settings_from_model (const cs_model *m, cs_model_settings *s)
{
  static const char *const presets[] = { "none", "imagenet", "fashion-mnist" };
  memset (s, 0, sizeof *s);
  s->channels = m->channels > 0 && m->channels <= 4 ? m->channels : 1;
  memcpy (s->mean, m->mean, sizeof s->mean);
  memcpy (s->std, m->std, sizeof s->std);
  s->resize = m->resize;
  snprintf (s->preset, sizeof s->preset, "custom");
  for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
    {
      cs_model_settings p;
      cs_model_settings_preset (presets[i], s->channels, m->height, &p);
      if (same_values (s, &p))
        {
          snprintf (s->preset, sizeof s->preset, "%s", presets[i]);
          return;
        }
    }
}

cs_status
cs_model_settings_apply (cs_model *m, const cs_model_settings *s, cs_error *err)
{
  for (int32_t c = 0; c < 4; c++)
    {
      int32_t k = c < s->channels ? c : s->channels - 1;
      m->mean[c] = s->mean[k];
      m->std[c] = s->std[k];
    }
  m->has_normalization = true;
  m->resize = s->resize;
  if (m->classes != NULL)
    return CS_OK;
  if (strcmp (s->preset, "imagenet") == 0 && m->n_classes == CS_IMAGENET_N_CLASSES)
    return cs_model_set_classes (m, CS_IMAGENET_N_CLASSES, cs_imagenet_classes, err);
  if (strcmp (s->preset, "fashion-mnist") == 0 && m->n_classes == 10)
    return cs_model_set_classes (m, 10, cs_fashion_mnist_classes, err);
  return CS_OK;
}

/* Reads a list of 1 or `channels` numbers (one is repeated) into v. */
static cs_status
read_values (const cJSON *a, const char *key, const char *name, int32_t *channels, float *v,
             cs_error *err)
{
  int n = cJSON_IsArray (a) ? cJSON_GetArraySize (a) : -1;
  if (n < 1 || n > 4)
    return cs_error_set (err, CS_ERR_FORMAT, "%s: \"%s\" must be a list of 1 to 4 numbers", name, key);
  if (*channels > 0 && n != *channels)
    return cs_error_set (err, CS_ERR_FORMAT, "%s: \"mean\" and \"std\" have different lengths", name);
  *channels = n;
  for (int i = 0; i < n; i++)
    {
      const cJSON *x = cJSON_GetArrayItem (a, i);
      if (!cJSON_IsNumber (x) || !isfinite (x->valuedouble) || fabs (x->valuedouble) > 1e6)
        return cs_error_set (err, CS_ERR_FORMAT, "%s: \"%s\"[%d] is not a finite number", name,
                             key, i);
      v[i] = (float) x->valuedouble;
    }
  for (int i = n; i < 4; i++)
    v[i] = v[n - 1];
  return CS_OK;
}

cs_status
cs_model_settings_parse (const char *text, size_t size, const char *name, cs_model_settings *s,
                         cs_error *err)
{
  memset (s, 0, sizeof *s);
  cJSON *root = cJSON_ParseWithLength (text, size);
  cs_status st = CS_OK;
  const cJSON *format = cJSON_GetObjectItemCaseSensitive (root, "format");
  const cJSON *preset = cJSON_GetObjectItemCaseSensitive (root, "preset");
  const cJSON *resize = cJSON_GetObjectItemCaseSensitive (root, "resize");
  if (!cJSON_IsObject (root))
    st = cs_error_set (err, CS_ERR_FORMAT, "%s: not a JSON object", name);
  else if (!cJSON_IsString (format) || strcmp (format->valuestring, CS_MODEL_SETTINGS_FORMAT) != 0)
    st = cs_error_set (err, CS_ERR_FORMAT, "%s: \"format\" is not \"%s\"", name,
                       CS_MODEL_SETTINGS_FORMAT);
  else if (preset != NULL && (!cJSON_IsString (preset) || strlen (preset->valuestring) >= sizeof s->preset))
    st = cs_error_set (err, CS_ERR_FORMAT, "%s: \"preset\" must be a short string", name);
  else if (resize != NULL && (!cJSON_IsNumber (resize) || resize->valuedouble < 0
                              || resize->valuedouble > SETTINGS_MAX_RESIZE
                              || resize->valuedouble != floor (resize->valuedouble)))
    st = cs_error_set (err, CS_ERR_FORMAT, "%s: \"resize\" must be an integer from 0 to %d", name,
                       SETTINGS_MAX_RESIZE);
  if (st == CS_OK)
    {
      snprintf (s->preset, sizeof s->preset, "%s", preset != NULL ? preset->valuestring : "custom");
      s->resize = resize != NULL ? (int32_t) resize->valuedouble : 0;
      st = read_values (cJSON_GetObjectItemCaseSensitive (root, "mean"), "mean", name,
                        &s->channels, s->mean, err);
    }
  if (st == CS_OK)
    st = read_values (cJSON_GetObjectItemCaseSensitive (root, "std"), "std", name, &s->channels,
                      s->std, err);
  for (int32_t c = 0; st == CS_OK && c < s->channels; c++)
    if (!(s->std[c] > 0))
      st = cs_error_set (err, CS_ERR_FORMAT, "%s: \"std\"[%d] must be positive", name, c);
  cJSON_Delete (root);
  return st;
}

char *
cs_model_settings_to_json (const cs_model_settings *s)
{
  cJSON *root = cJSON_CreateObject ();
  cJSON *mean = cJSON_CreateArray (), *std = cJSON_CreateArray ();
  cJSON_AddItemToObject (root, "format", cJSON_CreateString (CS_MODEL_SETTINGS_FORMAT));
  cJSON_AddItemToObject (root, "preset", cJSON_CreateString (s->preset));
  for (int32_t c = 0; c < s->channels && c < 4; c++)
    {
      cJSON_AddItemToArray (mean, cJSON_CreateNumber (s->mean[c]));
      cJSON_AddItemToArray (std, cJSON_CreateNumber (s->std[c]));
    }
  cJSON_AddItemToObject (root, "mean", mean);
  cJSON_AddItemToObject (root, "std", std);
  cJSON_AddItemToObject (root, "resize", cJSON_CreateNumber (s->resize));
  char *text = cJSON_Print (root);
  cJSON_Delete (root);
  return text;
}

static char *
concat (const char *a, const char *b)
{
  size_t n = strlen (a) + strlen (b) + 1;
  char *p = malloc (n);
  if (p != NULL)
    snprintf (p, n, "%s%s", a, b);
  return p;
}

char *
cs_model_settings_sidecar_path (const char *model_path)
{
  return concat (model_path, ".convscope.json");
}

static char *
data_home (void)
{
  const char *xdg = getenv ("XDG_DATA_HOME");
  if (xdg != NULL && xdg[0] == '/')
    return strdup (xdg);
  const char *home = getenv ("HOME");
  return home != NULL && home[0] == '/' ? concat (home, "/.local/share") : NULL;
}

char *
cs_model_settings_user_path (const char *model_path)
{
  char abs[PATH_MAX];
  const char *key = realpath (model_path, abs) != NULL ? abs : model_path;
  /* FNV-1a of the absolute path: one file per model, whatever characters the path holds. */
  uint64_t h = 1469598103934665603ull;
  for (const char *p = key; *p; p++)
    h = (h ^ (uint8_t) *p) * 1099511628211ull;
  char *base = data_home ();
  if (base == NULL)
    return NULL;
  char tail[96];
  snprintf (tail, sizeof tail, "/convscope/models/%016llx.convscope.json", (unsigned long long) h);
  char *p = concat (base, tail);
  free (base);
  return p;
}

static cs_status
read_settings (const char *path, cs_model_settings *s, bool *found, cs_error *err)
{
  if (access (path, F_OK) != 0)
    return CS_OK;
  uint8_t *data;
  size_t size;
  cs_status st = cs_file_read_all (path, SETTINGS_MAX_FILE, &data, &size, err);
  if (st == CS_OK)
    {
      st = cs_model_settings_parse ((const char *) data, size, path, s, err);
      free (data);
    }
  *found = st == CS_OK;
  return st;
}

cs_status
cs_model_settings_find (const char *model_path, cs_model_settings *s, bool *found, cs_error *err)
{
  *found = false;
  char *paths[2] = { cs_model_settings_sidecar_path (model_path),
                     cs_model_settings_user_path (model_path) };
  cs_status st = CS_OK;
  for (int i = 0; i < 2 && st == CS_OK && !*found; i++)
    if (paths[i] != NULL)
      st = read_settings (paths[i], s, found, err);
  free (paths[0]);
  free (paths[1]);
  return st;
}

/* mkdir -p of path's directory. */
static cs_status
make_parents (const char *path, cs_error *err)
{
  char *dir = strdup (path);
  if (dir == NULL)
    return cs_error_set (err, CS_ERR_MEMORY, "out of memory");
  for (char *p = dir + 1; *p; p++)
    if (*p == '/')
      {
        *p = '\0';
        if (mkdir (dir, 0755) != 0 && errno != EEXIST)
          {
            cs_status st = cs_error_set (err, CS_ERR_IO, "%s: %s", dir, strerror (errno));
            free (dir);
            return st;
          }
        *p = '/';
      }
  free (dir);
  return CS_OK;
}

static bool
dir_writable (const char *path)
{
  char *dir = strdup (path);
  if (dir == NULL)
    return false;
  char *slash = strrchr (dir, '/');
  bool ok;
  if (slash == NULL)
    ok = access (".", W_OK) == 0;
  else
    {
      *(slash == dir ? slash + 1 : slash) = '\0';
      ok = access (dir, W_OK) == 0;
    }
  free (dir);
  return ok;
}

cs_status
cs_model_settings_save (const char *model_path, const cs_model_settings *s, char **where,
                        cs_error *err)
{
  if (where != NULL)
    *where = NULL;
  char *text = cs_model_settings_to_json (s);
  char *path = cs_model_settings_sidecar_path (model_path);
  cs_status st = CS_OK;
  if (text == NULL || path == NULL)
    st = cs_error_set (err, CS_ERR_MEMORY, "out of memory");
  if (st == CS_OK && !dir_writable (path))
    {
      free (path);
      path = cs_model_settings_user_path (model_path);
      if (path == NULL)
        st = cs_error_set (err, CS_ERR_IO, "%s: the model's directory is read-only and there is "
                           "no home directory for its settings", model_path);
      else
        st = make_parents (path, err);
    }
  if (st == CS_OK)
    st = cs_file_write_all (path, text, strlen (text), err);
  if (st == CS_OK && where != NULL)
    *where = path;
  else
    free (path);
  free (text);
  return st;
}
