/* Class-name files: parsing labels.txt / labels.json and finding them beside a model. */
#include "io/labels.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/atomic_file.h"

#define LABELS_MAX_FILE ((size_t) 16 << 20)
#define LABELS_MAX ((int32_t) 1 << 20)

void
cs_labels_free (int32_t n, char **labels)
{
  if (labels == NULL)
    return;
  for (int32_t i = 0; i < n; i++)
    free (labels[i]);
  free (labels);
}

/* Appends a copy of s[0..len) to *labels; false when out of memory. */
static bool
push (char ***labels, int32_t *n, int32_t *cap, const char *s, size_t len)
{
  if (*n == *cap)
    {
      int32_t c = *cap ? *cap * 2 : 64;
      char **l = realloc (*labels, sizeof *l * (size_t) c);
      if (l == NULL)
        return false;
      *labels = l;
      *cap = c;
    }
  char *copy = malloc (len + 1);
  if (copy == NULL)
    return false;
  memcpy (copy, s, len);
  copy[len] = '\0';
  (*labels)[(*n)++] = copy;
  return true;
}

static cs_status
parse_text (const char *path, const char *text, size_t size, int32_t *n, int32_t *cap,
            char ***labels, cs_error *err)
{
  size_t pos = 0;
  while (pos < size)
    {
      const char *nl = memchr (text + pos, '\n', size - pos);
      size_t end = nl != NULL ? (size_t) (nl - text) : size, len = end - pos;
      if (len > 0 && text[pos + len - 1] == '\r')
        len--;
      if (memchr (text + pos, '\0', len) != NULL)
        return cs_error_set (err, CS_ERR_FORMAT, "%s: line %d holds a NUL byte (not a text file)",
                             path, *n + 1);
      if (*n >= LABELS_MAX)
        return cs_error_set (err, CS_ERR_LIMIT, "%s: more than %d labels", path, LABELS_MAX);
      if (!push (labels, n, cap, text + pos, len))
        return cs_error_set (err, CS_ERR_MEMORY, "%s: out of memory", path);
      pos = end + 1;
    }
  return CS_OK;
}

/* {"0": "tench", "1": ...}: keys must be exactly 0..n-1. */
static cs_status
parse_object (const char *path, const cJSON *obj, int32_t *n, int32_t *cap, char ***labels,
              cs_error *err)
{
  int32_t count = cJSON_GetArraySize (obj);
  for (int32_t i = 0; i < count; i++)
    {
      char key[16];
      snprintf (key, sizeof key, "%d", i);
      const cJSON *v = cJSON_GetObjectItemCaseSensitive (obj, key);
      if (!cJSON_IsString (v))
        return cs_error_set (err, CS_ERR_FORMAT, "%s: no name for class \"%s\" (expected a list "
                             "of names or an object with keys \"0\" to \"%d\")", path, key,
                             count - 1);
      if (!push (labels, n, cap, v->valuestring, strlen (v->valuestring)))
        return cs_error_set (err, CS_ERR_MEMORY, "%s: out of memory", path);
    }
  return CS_OK;
}

static cs_status
parse_json (const char *path, const char *text, size_t size, int32_t *n, int32_t *cap,
            char ***labels, cs_error *err)
{
  cJSON *root = cJSON_ParseWithLength (text, size);
  if (root == NULL)
    return cs_error_set (err, CS_ERR_FORMAT, "%s: not valid JSON", path);
  const cJSON *list = root;
  if (cJSON_IsObject (root) && cJSON_GetObjectItemCaseSensitive (root, "classes") != NULL)
    list = cJSON_GetObjectItemCaseSensitive (root, "classes");
  cs_status st = CS_OK;
  if (cJSON_IsArray (list))
    {
      const cJSON *v;
      cJSON_ArrayForEach (v, list)
        {
          if (!cJSON_IsString (v))
            {
              st = cs_error_set (err, CS_ERR_FORMAT, "%s: label %d is not a string", path, *n);
              break;
            }
          if (*n >= LABELS_MAX || !push (labels, n, cap, v->valuestring, strlen (v->valuestring)))
            {
              st = cs_error_set (err, CS_ERR_MEMORY, "%s: too many labels", path);
              break;
            }
        }
    }
  else if (cJSON_IsObject (list))
    st = parse_object (path, list, n, cap, labels, err);
  else
    st = cs_error_set (err, CS_ERR_FORMAT, "%s: expected a list of class names", path);
  cJSON_Delete (root);
  return st;
}

static bool
has_suffix (const char *s, const char *suffix)
{
  size_t a = strlen (s), b = strlen (suffix);
  return a >= b && strcasecmp (s + a - b, suffix) == 0;
}

cs_status
cs_labels_load (const char *path, int32_t *n_labels, char ***labels, cs_error *err)
{
  *n_labels = 0;
  *labels = NULL;
  uint8_t *data;
  size_t size;
  cs_status st = cs_file_read_all (path, LABELS_MAX_FILE, &data, &size, err);
  if (st != CS_OK)
    return st;
  int32_t n = 0, cap = 0;
  char **l = NULL;
  if (has_suffix (path, ".json"))
    st = parse_json (path, (const char *) data, size, &n, &cap, &l, err);
  else
    st = parse_text (path, (const char *) data, size, &n, &cap, &l, err);
  free (data);
  if (st == CS_OK && n == 0)
    st = cs_error_set (err, CS_ERR_FORMAT, "%s: no labels", path);
  if (st != CS_OK)
    {
      cs_labels_free (n, l);
      return st;
    }
  *n_labels = n;
  *labels = l;
  return CS_OK;
}

char *
cs_labels_find_beside (const char *model_path)
{
  static const char *const names[] = { "labels.json", "labels.txt" };
  const char *slash = strrchr (model_path, '/');
  size_t dir_len = slash != NULL ? (size_t) (slash - model_path) + 1 : 0;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    {
      size_t len = dir_len + strlen (names[i]) + 1;
      char *p = malloc (len);
      if (p == NULL)
        return NULL;
      snprintf (p, len, "%.*s%s", (int) dir_len, model_path, names[i]);
      if (access (p, F_OK) == 0)
        return p;
      free (p);
    }
  return NULL;
}

cs_status
cs_labels_apply_beside (cs_model *m, const char *model_path, cs_error *err)
{
  char *path = cs_labels_find_beside (model_path);
  if (path == NULL)
    return CS_OK;
  int32_t n;
  char **labels;
  cs_status st = cs_labels_load (path, &n, &labels, err);
  if (st == CS_OK && n != m->n_classes)
    st = cs_error_set (err, CS_ERR_SHAPE, "%s: %d labels, but %s has %d outputs", path, n,
                       model_path, m->n_classes);
  if (st == CS_OK)
    st = cs_model_set_classes (m, n, (const char *const *) labels, err);
  cs_labels_free (n, labels);
  free (path);
  return st;
}
