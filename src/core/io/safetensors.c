/* safetensors: header validation, conversion of float dtypes into a model's weights (from a
 * mapped file), and an atomic F32 writer. Layout: u64 LE header length, JSON header, data. */
#include "io/safetensors.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/atomic_file.h"

#define ST_MAX_HEADER ((uint64_t) 100 << 20) /* the reference implementation's own limit */

typedef enum { ST_F32, ST_F16, ST_BF16, ST_F64, ST_OTHER } st_kind;

typedef struct {
  const char *name;          /* points into the cJSON tree */
  st_kind kind;
  const char *dtype;
  cs_shape shape;
  uint64_t begin, end;       /* relative to the data section */
} st_entry;

typedef struct {
  cJSON *root;
  st_entry *entries;
  int32_t n;
  const uint8_t *data;       /* the data section */
  uint64_t data_size;
} st_file;

static const struct {
  const char *name;
  uint32_t size;
  st_kind kind;
} st_dtypes[] = {
  { "F32", 4, ST_F32 }, { "F16", 2, ST_F16 }, { "BF16", 2, ST_BF16 }, { "F64", 8, ST_F64 },
  { "I64", 8, ST_OTHER }, { "I32", 4, ST_OTHER }, { "I16", 2, ST_OTHER }, { "I8", 1, ST_OTHER },
  { "U64", 8, ST_OTHER }, { "U32", 4, ST_OTHER }, { "U16", 2, ST_OTHER }, { "U8", 1, ST_OTHER },
  { "BOOL", 1, ST_OTHER }, { "F8_E4M3", 1, ST_OTHER }, { "F8_E5M2", 1, ST_OTHER },
};

static void
st_file_clear (st_file *f)
{
  cJSON_Delete (f->root);
  free (f->entries);
  memset (f, 0, sizeof *f);
}

/* A JSON number that is an exact non-negative integer no larger than max. */
static bool
json_uint (const cJSON *item, uint64_t max, uint64_t *out)
{
  if (!cJSON_IsNumber (item))
    return false;
  double d = item->valuedouble;
  if (!(d >= 0) || d > (double) max || d != floor (d) || d > 9007199254740992.0)
    return false;
  *out = (uint64_t) d;
  return true;
}

static int
compare_begin (const void *a, const void *b)
{
  const st_entry *x = *(const st_entry *const *) a, *y = *(const st_entry *const *) b;
  if (x->begin != y->begin)
    return x->begin < y->begin ? -1 : 1;
  return x->end < y->end ? -1 : x->end > y->end;
}

static cs_status
parse_entry (const cJSON *item, st_entry *e, uint64_t data_size, const char *name, cs_error *err)
{
  e->name = item->string;
  if (!cJSON_IsObject (item))
    return cs_error_set (err, CS_ERR_FORMAT, "%s: tensor '%s': not a JSON object", name, e->name);
  const cJSON *dtype = cJSON_GetObjectItemCaseSensitive (item, "dtype");
  const cJSON *shape = cJSON_GetObjectItemCaseSensitive (item, "shape");
  const cJSON *offsets = cJSON_GetObjectItemCaseSensitive (item, "data_offsets");
  if (!cJSON_IsString (dtype) || !cJSON_IsArray (shape) || !cJSON_IsArray (offsets))
    return cs_error_set (err, CS_ERR_FORMAT, "%s: tensor '%s': needs dtype, shape and "
                         "data_offsets", name, e->name);
  uint32_t item_size = 0;
  for (size_t i = 0; i < sizeof st_dtypes / sizeof st_dtypes[0]; i++)
    if (strcmp (dtype->valuestring, st_dtypes[i].name) == 0)
      {
        item_size = st_dtypes[i].size;
        e->kind = st_dtypes[i].kind;
        e->dtype = st_dtypes[i].name;
      }
  if (item_size == 0)
    return cs_error_set (err, CS_ERR_FORMAT, "%s: tensor '%s': unknown dtype '%.32s'", name,
                         e->name, dtype->valuestring);
  int n_dims = cJSON_GetArraySize (shape);
  if (n_dims > CS_MAX_DIMS)
    return cs_error_set (err, CS_ERR_UNSUPPORTED, "%s: tensor '%s': more than %d dimensions",
                         name, e->name, CS_MAX_DIMS);
  e->shape.ndim = n_dims;
  int32_t d = 0;
  const cJSON *dim;
  cJSON_ArrayForEach (dim, shape)
    {
      uint64_t v;
      if (!json_uint (dim, UINT64_MAX, &v))
        return cs_error_set (err, CS_ERR_FORMAT, "%s: tensor '%s': bad shape", name, e->name);
      if (v > (uint64_t) CS_MAX_ELEMENTS)
        return cs_error_set (err, CS_ERR_LIMIT, "%s: tensor '%s': dimension %llu is larger than "
                             "%lld", name, e->name, (unsigned long long) v,
                             (long long) CS_MAX_ELEMENTS);
      e->shape.dim[d++] = (int64_t) v;
    }
  int64_t numel = cs_shape_numel (&e->shape);
  if (numel < 0)
    return cs_error_set (err, CS_ERR_LIMIT, "%s: tensor '%s': more than %lld elements", name,
                         e->name, (long long) CS_MAX_ELEMENTS);
  if (cJSON_GetArraySize (offsets) != 2
      || !json_uint (cJSON_GetArrayItem (offsets, 0), data_size, &e->begin)
      || !json_uint (cJSON_GetArrayItem (offsets, 1), data_size, &e->end) || e->end < e->begin)
    return cs_error_set (err, CS_ERR_FORMAT, "%s: tensor '%s': data_offsets out of the %llu "
                         "bytes of data", name, e->name, (unsigned long long) data_size);
  if ((uint64_t) numel * item_size != e->end - e->begin)
    return cs_error_set (err, CS_ERR_FORMAT, "%s: tensor '%s': %s of %lld elements needs %llu "
                         "bytes, data_offsets give %llu", name, e->name, e->dtype,
                         (long long) numel, (unsigned long long) numel * item_size,
                         (unsigned long long) (e->end - e->begin));
  return CS_OK;
}

/* Validates the whole header against the buffer: a header that lies is an error, never a read
 * out of bounds. */
static cs_status
st_parse (const uint8_t *data, size_t size, const char *name, st_file *f, cs_error *err)
{
  memset (f, 0, sizeof *f);
  if (size < 8)
    return cs_error_set (err, CS_ERR_FORMAT, "%s: not a safetensors file (too short)", name);
  uint64_t n = 0;
  for (int i = 7; i >= 0; i--)
    n = n << 8 | data[i];
  if (n > size - 8)
    return cs_error_set (err, CS_ERR_FORMAT, "%s: safetensors header length %llu exceeds the "
                         "file size %zu", name, (unsigned long long) n, size);
  if (n > ST_MAX_HEADER)
    return cs_error_set (err, CS_ERR_LIMIT, "%s: safetensors header of %llu bytes is too long",
                         name, (unsigned long long) n);
  if (n < 2 || data[8] != '{')
    return cs_error_set (err, CS_ERR_FORMAT, "%s: not a safetensors file (no JSON header)", name);
  const char *end = NULL;
  f->root = cJSON_ParseWithLengthOpts ((const char *) data + 8, (size_t) n, &end, false);
  if (f->root == NULL || !cJSON_IsObject (f->root))
    {
      st_file_clear (f);
      return cs_error_set (err, CS_ERR_FORMAT, "%s: safetensors header is not a JSON object", name);
    }
  /* The header may be padded with spaces; anything else after the object is a lie. */
  for (const char *p = end; p < (const char *) data + 8 + n; p++)
    if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r' && *p != '\0')
      {
        st_file_clear (f);
        return cs_error_set (err, CS_ERR_FORMAT, "%s: trailing bytes after the safetensors header",
                             name);
      }
  f->data = data + 8 + n;
  f->data_size = size - 8 - n;
  int count = cJSON_GetArraySize (f->root);
  f->entries = calloc ((size_t) (count > 0 ? count : 1), sizeof *f->entries);
  if (f->entries == NULL)
    {
      st_file_clear (f);
      return cs_error_set (err, CS_ERR_MEMORY, "%s: out of memory", name);
    }
  const cJSON *item;
  cJSON_ArrayForEach (item, f->root)
    {
      if (item->string != NULL && strcmp (item->string, "__metadata__") == 0)
        {
          if (!cJSON_IsObject (item))
            {
              st_file_clear (f);
              return cs_error_set (err, CS_ERR_FORMAT, "%s: __metadata__ is not an object", name);
            }
          continue;
        }
      cs_status st = parse_entry (item, &f->entries[f->n], f->data_size, name, err);
      if (st != CS_OK)
        {
          st_file_clear (f);
          return st;
        }
      f->n++;
    }
  /* Sort views by offset to find overlaps in n log n. */
  st_entry **order = malloc ((size_t) (f->n > 0 ? f->n : 1) * sizeof *order);
  if (order == NULL)
    {
      st_file_clear (f);
      return cs_error_set (err, CS_ERR_MEMORY, "%s: out of memory", name);
    }
  for (int32_t i = 0; i < f->n; i++)
    order[i] = &f->entries[i];
  qsort (order, (size_t) f->n, sizeof *order, compare_begin);
  for (int32_t i = 1; i < f->n; i++)
    if (order[i]->begin < order[i - 1]->end)
      {
        cs_status st = cs_error_set (err, CS_ERR_FORMAT, "%s: tensor '%s': data overlaps tensor "
                                     "'%s'", name, order[i]->name, order[i - 1]->name);
        free (order);
        st_file_clear (f);
        return st;
      }
  free (order);
  return CS_OK;
}

static float
half_to_float (uint16_t h)
{
  uint32_t sign = (uint32_t) (h >> 15) << 31;
  uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0)
    {
      /* zero or subnormal: mant * 2^-24 */
      float v = (float) mant * 5.9604644775390625e-8f;
      return sign ? -v : v;
    }
  else if (exp == 31)
    bits = sign | 0x7f800000u | (mant << 13);
  else
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  float f;
  memcpy (&f, &bits, 4);
  return f;
}

static void
convert (const st_entry *e, const uint8_t *src, float *dst, int64_t n)
{
  switch (e->kind)
    {
    case ST_F32:
      memcpy (dst, src, (size_t) n * 4);
      break;
    case ST_F64:
      for (int64_t i = 0; i < n; i++)
        {
          double d;
          memcpy (&d, src + 8 * i, 8);
          dst[i] = (float) d;
        }
      break;
    case ST_F16:
      for (int64_t i = 0; i < n; i++)
        dst[i] = half_to_float ((uint16_t) (src[2 * i] | src[2 * i + 1] << 8));
      break;
    case ST_BF16:
      for (int64_t i = 0; i < n; i++)
        {
          uint32_t bits = (uint32_t) (src[2 * i] | src[2 * i + 1] << 8) << 16;
          memcpy (&dst[i], &bits, 4);
        }
      break;
    case ST_OTHER:
      break;
    }
}

cs_status
cs_safetensors_apply_memory (cs_model *m, const uint8_t *data, size_t size, const char *name,
                             bool allow_missing, cs_error *err)
{
  st_file f;
  cs_status st = st_parse (data, size, name, &f, err);
  if (st != CS_OK)
    return st;
  int32_t n_params = m->graph->n_params;
  bool *seen = calloc ((size_t) (n_params > 0 ? n_params : 1), sizeof *seen);
  if (seen == NULL)
    {
      st_file_clear (&f);
      return cs_error_set (err, CS_ERR_MEMORY, "%s: out of memory", name);
    }
  /* Check everything before writing anything, so that a bad file leaves m as it was. */
  for (int32_t i = 0; i < f.n && st == CS_OK; i++)
    {
      const st_entry *e = &f.entries[i];
      int32_t p = cs_model_param_index (m, e->name);
      if (p < 0)
        continue;
      char a[128], b[128];
      if (e->kind == ST_OTHER)
        st = cs_error_set (err, CS_ERR_UNSUPPORTED, "%s: tensor '%s': dtype %s is not a float "
                           "type (F32, F16, BF16, F64)", name, e->name, e->dtype);
      else if (!cs_shape_equal (&e->shape, &m->weights[p].shape))
        st = cs_error_set (err, CS_ERR_SHAPE, "%s: tensor '%s' has shape %s, the model expects %s",
                           name, e->name, cs_shape_format (&e->shape, a, sizeof a),
                           cs_shape_format (&m->weights[p].shape, b, sizeof b));
      else if (seen[p])
        st = cs_error_set (err, CS_ERR_FORMAT, "%s: tensor '%s' appears twice", name, e->name);
      seen[p] = true;
    }
  for (int32_t p = 0; p < n_params && st == CS_OK && !allow_missing; p++)
    if (!seen[p])
      st = cs_error_set (err, CS_ERR_FORMAT, "%s: parameter '%s' is missing", name,
                         m->graph->nodes[m->graph->param_nodes[p]].name);
  for (int32_t i = 0; i < f.n && st == CS_OK; i++)
    {
      const st_entry *e = &f.entries[i];
      int32_t p = cs_model_param_index (m, e->name);
      if (p >= 0)
        convert (e, f.data + e->begin, m->weights[p].data, cs_shape_numel (&e->shape));
    }
  free (seen);
  st_file_clear (&f);
  return st;
}

cs_status
cs_safetensors_apply (cs_model *m, const char *path, bool allow_missing, cs_error *err)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      if (errno == ENOENT)
        return cs_error_set (err, CS_ERR_IO, "%s: no such file", path);
      return cs_error_set (err, CS_ERR_IO, "%s: cannot open: %s", path, strerror (errno));
    }
  struct stat sb;
  if (fstat (fd, &sb) != 0 || !S_ISREG (sb.st_mode))
    {
      close (fd);
      return cs_error_set (err, CS_ERR_IO, "%s: not a regular file", path);
    }
  size_t size = (size_t) sb.st_size;
  if (size < 8)
    {
      close (fd);
      return cs_error_set (err, CS_ERR_FORMAT, "%s: not a safetensors file (too short)", path);
    }
  /* Mapped, not read: checkpoints of large models should cost page cache, not a copy. */
  void *map = mmap (NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
  int e = errno;
  close (fd);
  if (map == MAP_FAILED)
    return cs_error_set (err, CS_ERR_IO, "%s: cannot map: %s", path, strerror (e));
  cs_status st = cs_safetensors_apply_memory (m, map, size, path, allow_missing, err);
  munmap (map, size);
  return st;
}

cs_status
cs_safetensors_save (const cs_model *m, const char *path, cs_error *err)
{
  const cs_graph *g = m->graph;
  cJSON *root = cJSON_CreateObject ();
  cJSON *meta = cJSON_AddObjectToObject (root, "__metadata__");
  if (meta == NULL || cJSON_AddStringToObject (meta, "format", "pt") == NULL)
    goto oom;
  uint64_t offset = 0;
  for (int32_t p = 0; p < g->n_params; p++)
    {
      const cs_tensor *t = &m->weights[p];
      int64_t n = cs_tensor_numel (t);
      cJSON *e = cJSON_AddObjectToObject (root, g->nodes[g->param_nodes[p]].name);
      cJSON *shape = e != NULL ? cJSON_AddArrayToObject (e, "shape") : NULL;
      cJSON *offs = e != NULL ? cJSON_AddArrayToObject (e, "data_offsets") : NULL;
      if (shape == NULL || offs == NULL || cJSON_AddStringToObject (e, "dtype", "F32") == NULL)
        goto oom;
      for (int32_t d = 0; d < t->shape.ndim; d++)
        cJSON_AddItemToArray (shape, cJSON_CreateNumber ((double) t->shape.dim[d]));
      cJSON_AddItemToArray (offs, cJSON_CreateNumber ((double) offset));
      offset += (uint64_t) n * 4;
      cJSON_AddItemToArray (offs, cJSON_CreateNumber ((double) offset));
    }
  char *header = cJSON_PrintUnformatted (root);
  cJSON_Delete (root);
  if (header == NULL)
    return cs_error_set (err, CS_ERR_MEMORY, "%s: out of memory", path);
  /* Pad the header with spaces so that the data is 8-byte aligned, as the reference writer does. */
  size_t hlen = strlen (header);
  size_t padded = (hlen + 7) / 8 * 8;
  uint8_t len_bytes[8];
  for (int i = 0; i < 8; i++)
    len_bytes[i] = (uint8_t) ((uint64_t) padded >> (8 * i));

  cs_atomic_file f;
  cs_status st = cs_atomic_open (&f, path, err);
  if (st != CS_OK)
    {
      free (header);
      return st;
    }
  bool ok = fwrite (len_bytes, 1, 8, f.fp) == 8 && fwrite (header, 1, hlen, f.fp) == hlen;
  for (size_t i = hlen; i < padded && ok; i++)
    ok = fputc (' ', f.fp) != EOF;
  free (header);
  for (int32_t p = 0; p < g->n_params && ok; p++)
    {
      int64_t n = cs_tensor_numel (&m->weights[p]);
      ok = n == 0 || fwrite (m->weights[p].data, 4, (size_t) n, f.fp) == (size_t) n;
    }
  if (!ok)
    {
      int e = errno;
      cs_atomic_abort (&f);
      return cs_error_set (err, CS_ERR_IO, "%s: cannot write: %s", path, strerror (e));
    }
  return cs_atomic_commit (&f, err);

oom:
  cJSON_Delete (root);
  return cs_error_set (err, CS_ERR_MEMORY, "%s: out of memory", path);
}
