/* Study specs: the grid of SPEC.json expanded into training options, one per run. */
#include "analysis/study_spec.h"

#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "io/atomic_file.h"

/* The grid's axes, in expansion order (the last varies fastest). Seeds vary slowest, so that
 * a study stopped part-way holds whole replicates of the grid rather than half of it. The
 * optimizer comes before lr and weight decay: choosing it resets them to its defaults. */
enum { AX_SEEDS, AX_ARCH, AX_TRAIN_SUBSET, AX_OPTIMIZER, AX_LR, AX_LABEL_NOISE, AX_WEIGHT_DECAY, AX_SCHEDULE,
       AX_AUGMENT, N_AXES };
static const char *const axis_keys[N_AXES] = { "seeds", "arch", "train_subset", "optimizer", "lr",
                                               "label_noise", "weight_decay", "lr_schedule", "augment" };

static char *
join_path (const char *dir, const char *name)
{
  if (name[0] == '/' || dir == NULL || dir[0] == '\0')
    return strdup (name);
  size_t n = strlen (dir) + strlen (name) + 2;
  char *p = malloc (n);
  if (p != NULL)
    snprintf (p, n, "%s/%s", dir, name);
  return p;
}

/* The values of axis key: a list, or a single value taken as a list of one; NULL when absent. */
static cs_status
axis_values (const cJSON *root, int axis, const char *path, const cJSON **first, int32_t *n, cs_error *err)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive (root, axis_keys[axis]);
  *first = NULL;
  *n = 1;
  if (v == NULL)
    return CS_OK;
  if (cJSON_IsArray (v))
    {
      *n = cJSON_GetArraySize (v);
      *first = v->child;
      if (*n < 1)
        return cs_error_set (err, CS_ERR_FORMAT, "%s: \"%s\" is an empty list", path, axis_keys[axis]);
      return CS_OK;
    }
  *first = v;
  return CS_OK;
}

static const cJSON *
nth (const cJSON *first, int32_t n, bool single)
{
  if (single)
    return first;
  for (int32_t i = 0; first != NULL && i < n; i++)
    first = first->next;
  return first;
}

static bool
get_fixed_int (const cJSON *root, const char *key, int64_t min, int64_t max, int64_t *v)
{
  const cJSON *item = cJSON_GetObjectItemCaseSensitive (root, key);
  if (item == NULL)
    return true;
  if (!cJSON_IsNumber (item) || item->valuedouble != floor (item->valuedouble) || item->valuedouble < (double) min
      || item->valuedouble > (double) max)
    return false;
  *v = (int64_t) item->valuedouble;
  return true;
}

/* Applies value v of axis to o; false when it has the wrong type or range. */
static bool
apply_axis (int axis, const cJSON *v, cs_study_spec *s, int32_t arch_i, cs_train_options *o)
{
  switch (axis)
    {
    case AX_ARCH:
      o->arch = s->archs[arch_i];
      return true;
    case AX_TRAIN_SUBSET:
      if (!cJSON_IsNumber (v) || v->valuedouble < 1 || v->valuedouble != floor (v->valuedouble))
        return false;
      o->train_subset = (int64_t) v->valuedouble;
      return true;
    case AX_OPTIMIZER:
      {
        cs_optimizer_kind kind;
        if (!cJSON_IsString (v) || !cs_optimizer_kind_parse (v->valuestring, &kind))
          return false;
        /* Its default rate unless the "lr" axis (applied after) sets one. */
        double mom = o->optimizer.momentum;
        o->optimizer = cs_optimizer_config_default (kind);
        if (kind == CS_OPTIMIZER_SGD)
          o->optimizer.momentum = mom;
        return true;
      }
    case AX_LR:
      if (!cJSON_IsNumber (v) || !(v->valuedouble > 0) || !isfinite (v->valuedouble))
        return false;
      o->optimizer.lr = v->valuedouble;
      return true;
    case AX_LABEL_NOISE:
      if (!cJSON_IsNumber (v) || !(v->valuedouble >= 0 && v->valuedouble <= 1))
        return false;
      o->label_noise = v->valuedouble;
      return true;
    case AX_WEIGHT_DECAY:
      if (!cJSON_IsNumber (v) || !(v->valuedouble >= 0 && v->valuedouble < 1e6))
        return false;
      o->optimizer.weight_decay = v->valuedouble;
      return true;
    case AX_SCHEDULE:
      return cJSON_IsString (v) && cs_lr_schedule_parse (v->valuestring, &o->schedule);
    case AX_AUGMENT:
      if (!cJSON_IsBool (v))
        return false;
      o->augment = cJSON_IsTrue (v);
      return true;
    case AX_SEEDS:
      if (!cJSON_IsNumber (v) || v->valuedouble < 0 || v->valuedouble > 9e15
          || v->valuedouble != floor (v->valuedouble))
        return false;
      o->seed = (uint64_t) v->valuedouble;
      return true;
    default:
      return false;
    }
}

static cs_status
parse_archs (cs_study_spec *s, const cJSON *root, const char *spec_dir, cs_error *err)
{
  const cJSON *first;
  int32_t n;
  cs_status st = axis_values (root, AX_ARCH, s->path, &first, &n, err);
  if (st != CS_OK)
    return st;
  if (first == NULL)
    return cs_error_set (err, CS_ERR_FORMAT, "%s: \"arch\" is missing (model.json paths)", s->path);
  s->archs = calloc ((size_t) n, sizeof *s->archs);
  if (s->archs == NULL)
    return cs_error_set (err, CS_ERR_MEMORY, "out of memory");
  s->n_archs = n;
  for (int32_t i = 0; i < n; i++)
    {
      const cJSON *a = nth (first, i, !cJSON_IsArray (cJSON_GetObjectItemCaseSensitive (root, "arch")));
      if (!cJSON_IsString (a) || a->valuestring[0] == '\0')
        return cs_error_set (err, CS_ERR_FORMAT, "%s: \"arch\" entry %d is not a path", s->path, i);
      if ((s->archs[i] = join_path (spec_dir, a->valuestring)) == NULL)
        return cs_error_set (err, CS_ERR_MEMORY, "out of memory");
    }
  return CS_OK;
}

/* The options every point shares. */
static cs_status
parse_fixed (cs_study_spec *s, const cJSON *root, cs_train_options *base, cs_error *err)
{
  const cJSON *ds = cJSON_GetObjectItemCaseSensitive (root, "dataset");
  int64_t epochs = -1, val = 0, test = 0, batch = base->batch;
  double mom = base->optimizer.momentum;
  const cJSON *jm = cJSON_GetObjectItemCaseSensitive (root, "momentum");
  if (!cJSON_IsString (ds) || ds->valuestring[0] == '\0')
    return cs_error_set (err, CS_ERR_FORMAT, "%s: \"dataset\" is missing (fashion-mnist, mnist:DIR ...)", s->path);
  if (!get_fixed_int (root, "epochs", 1, 100000, &epochs) || epochs < 1)
    return cs_error_set (err, CS_ERR_FORMAT, "%s: \"epochs\" must be an integer from 1 to 100000", s->path);
  if (!get_fixed_int (root, "val_subset", 1, INT64_C (1) << 40, &val)
      || !get_fixed_int (root, "test_subset", 1, INT64_C (1) << 40, &test)
      || !get_fixed_int (root, "batch", 1, 65536, &batch))
    return cs_error_set (err, CS_ERR_FORMAT, "%s: \"val_subset\", \"test_subset\" and \"batch\" must be "
                         "positive integers", s->path);
  if (jm != NULL && (!cJSON_IsNumber (jm) || !(jm->valuedouble >= 0 && jm->valuedouble < 1)))
    return cs_error_set (err, CS_ERR_FORMAT, "%s: \"momentum\" must lie in [0, 1)", s->path);
  if (jm != NULL)
    mom = jm->valuedouble;
  if ((s->dataset = strdup (ds->valuestring)) == NULL)
    return cs_error_set (err, CS_ERR_MEMORY, "out of memory");
  base->dataset = s->dataset;
  base->epochs = (int32_t) epochs;
  base->val_subset = val;
  base->test_subset = test;
  base->batch = (int32_t) batch;
  base->optimizer.momentum = mom;
  s->epochs = (int32_t) epochs;
  return CS_OK;
}

/* Expands the grid: point i's coordinate on each axis from i in mixed radix. */
static cs_status
expand (cs_study_spec *s, const cJSON *root, const cs_train_options *base, const char *out_dir, cs_error *err)
{
  const cJSON *first[N_AXES];
  int32_t count[N_AXES];
  bool single[N_AXES];
  int64_t total = 1;
  for (int a = 0; a < N_AXES; a++)
    {
      cs_status st = axis_values (root, a, s->path, &first[a], &count[a], err);
      if (st != CS_OK)
        return st;
      single[a] = !cJSON_IsArray (cJSON_GetObjectItemCaseSensitive (root, axis_keys[a]));
      total *= count[a];
      if (total > CS_STUDY_MAX_POINTS)
        return cs_error_set (err, CS_ERR_LIMIT, "%s: the grid has more than %d points", s->path,
                             CS_STUDY_MAX_POINTS);
    }
  s->points = calloc ((size_t) total, sizeof *s->points);
  if (s->points == NULL)
    return cs_error_set (err, CS_ERR_MEMORY, "out of memory");
  s->n_points = (int32_t) total;
  for (int32_t i = 0; i < s->n_points; i++)
    {
      cs_study_point *p = &s->points[i];
      p->index = i;
      p->train = *base;
      int64_t rest = i;
      int32_t coord[N_AXES];
      for (int a = N_AXES - 1; a >= 0; a--)
        {
          coord[a] = (int32_t) (rest % count[a]);
          rest /= count[a];
        }
      for (int a = 0; a < N_AXES; a++)
        if (first[a] != NULL && !apply_axis (a, nth (first[a], coord[a], single[a]), s, coord[a], &p->train))
          return cs_error_set (err, CS_ERR_FORMAT, "%s: \"%s\" entry %d has the wrong type or range", s->path,
                               axis_keys[a], coord[a]);
      char name[32];
      snprintf (name, sizeof name, "run-%04d", i);
      if ((p->dir = join_path (out_dir, name)) == NULL)
        return cs_error_set (err, CS_ERR_MEMORY, "out of memory");
      p->train.out = p->dir;
      p->train.name = NULL;
    }
  return CS_OK;
}

cs_study_spec *
cs_study_spec_parse (const char *text, const char *path, const char *out_dir, cs_error *err)
{
  cs_study_spec *s = calloc (1, sizeof *s);
  char *dir_copy = strdup (path);
  if (s == NULL || dir_copy == NULL || (s->path = strdup (path)) == NULL || (s->text = strdup (text)) == NULL)
    {
      free (dir_copy);
      cs_study_spec_free (s);
      cs_error_set (err, CS_ERR_MEMORY, "out of memory");
      return NULL;
    }
  cJSON *root = cJSON_Parse (text);
  cs_status st = CS_OK;
  if (!cJSON_IsObject (root))
    st = cs_error_set (err, CS_ERR_FORMAT, "%s: not a JSON object", path);
  cs_train_options base = cs_train_options_default ();
  if (st == CS_OK)
    st = parse_archs (s, root, dirname (dir_copy), err);
  if (st == CS_OK)
    st = parse_fixed (s, root, &base, err);
  if (st == CS_OK)
    st = expand (s, root, &base, out_dir, err);
  cJSON_Delete (root);
  free (dir_copy);
  if (st != CS_OK)
    {
      cs_study_spec_free (s);
      return NULL;
    }
  return s;
}

cs_study_spec *
cs_study_spec_load (const char *path, const char *out_dir, cs_error *err)
{
  uint8_t *data = NULL;
  size_t size = 0;
  if (cs_file_read_all (path, 1 << 20, &data, &size, err) != CS_OK)
    return NULL;
  char *text = realloc (data, size + 1);
  if (text == NULL)
    {
      free (data);
      cs_error_set (err, CS_ERR_MEMORY, "out of memory");
      return NULL;
    }
  text[size] = '\0';
  if (strlen (text) != size)
    {
      free (text);
      cs_error_set (err, CS_ERR_FORMAT, "%s: not a JSON text (NUL byte)", path);
      return NULL;
    }
  cs_study_spec *s = cs_study_spec_parse (text, path, out_dir, err);
  free (text);
  return s;
}

void
cs_study_spec_free (cs_study_spec *s)
{
  if (s == NULL)
    return;
  for (int32_t i = 0; i < s->n_points; i++)
    free (s->points[i].dir);
  free (s->points);
  for (int32_t i = 0; i < s->n_archs; i++)
    free (s->archs[i]);
  free (s->archs);
  free (s->dataset);
  free (s->path);
  free (s->text);
  free (s);
}

bool
cs_study_shard_parse (const char *text, int32_t *index, int32_t *count)
{
  char *end;
  long i = strtol (text, &end, 10);
  if (end == text || *end != '/' || i < 0)
    return false;
  const char *rest = end + 1;
  long n = strtol (rest, &end, 10);
  if (end == rest || *end != '\0' || n < 1 || n > 100000 || i >= n)
    return false;
  *index = (int32_t) i;
  *count = (int32_t) n;
  return true;
}
