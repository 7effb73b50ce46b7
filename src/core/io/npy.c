/* NumPy .npy arrays (format versions 1.0, 2.0, 3.0): bounds-checked reader, float32 writer. */
#include "io/npy.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "io/atomic_file.h"

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAX_HEADER (1 << 20)           /* numpy itself refuses headers over 10 kB by default */
#define NPY_MAX_FILE ((size_t) 9 << 30)    /* CS_MAX_ELEMENTS doubles plus a header */

/* A cursor over the header's Python dict literal. */
typedef struct {
  const char *p, *end;
} npy_lexer;

static void
skip_space (npy_lexer *lx)
{
  while (lx->p < lx->end && isspace ((unsigned char) *lx->p))
    lx->p++;
}

static bool
accept (npy_lexer *lx, char c)
{
  skip_space (lx);
  if (lx->p < lx->end && *lx->p == c)
    {
      lx->p++;
      return true;
    }
  return false;
}

/* Reads a quoted string (no escapes: numpy never writes them in keys or descr). */
static bool
read_string (npy_lexer *lx, char *buf, size_t size)
{
  skip_space (lx);
  if (lx->p >= lx->end || (*lx->p != '\'' && *lx->p != '"'))
    return false;
  char q = *lx->p++;
  size_t n = 0;
  while (lx->p < lx->end && *lx->p != q)
    {
      if (n + 1 >= size || *lx->p == '\\')
        return false;
      buf[n++] = *lx->p++;
    }
  if (lx->p >= lx->end)
    return false;
  lx->p++;
  buf[n] = '\0';
  return true;
}

static bool
read_word (npy_lexer *lx, const char *word)
{
  skip_space (lx);
  size_t n = strlen (word);
  if ((size_t) (lx->end - lx->p) >= n && memcmp (lx->p, word, n) == 0)
    {
      lx->p += n;
      return true;
    }
  return false;
}

/* A shape tuple "(3, 4)", "(5,)" or "()"; dims bounded so that products cannot overflow. */
static cs_status
read_shape (npy_lexer *lx, cs_shape *shape, const char *name, cs_error *err)
{
  shape->ndim = 0;
  if (!accept (lx, '('))
    return cs_error_set (err, CS_ERR_FORMAT, "%s: .npy header: shape is not a tuple", name);
  while (!accept (lx, ')'))
    {
      skip_space (lx);
      if (lx->p >= lx->end || !isdigit ((unsigned char) *lx->p))
        return cs_error_set (err, CS_ERR_FORMAT, "%s: .npy header: bad shape tuple", name);
      int64_t v = 0;
      while (lx->p < lx->end && isdigit ((unsigned char) *lx->p))
        {
          if (v > CS_MAX_ELEMENTS)
            return cs_error_set (err, CS_ERR_LIMIT, "%s: array dimension is larger than %lld",
                                 name, (long long) CS_MAX_ELEMENTS);
          v = v * 10 + (*lx->p++ - '0');
        }
      if (lx->p < lx->end && *lx->p == 'L')
        lx->p++; /* Python 2 longs */
      if (shape->ndim >= CS_MAX_DIMS)
        return cs_error_set (err, CS_ERR_UNSUPPORTED, "%s: arrays of more than %d dimensions "
                             "are not supported", name, CS_MAX_DIMS);
      if (v > CS_MAX_ELEMENTS)
        return cs_error_set (err, CS_ERR_LIMIT, "%s: array dimension is larger than %lld",
                             name, (long long) CS_MAX_ELEMENTS);
      shape->dim[shape->ndim++] = v;
      if (!accept (lx, ','))
        {
          if (!accept (lx, ')'))
            return cs_error_set (err, CS_ERR_FORMAT, "%s: .npy header: bad shape tuple", name);
          break;
        }
    }
  return CS_OK;
}

cs_status
cs_npy_parse (const uint8_t *data, size_t size, const char *name, cs_tensor *out, cs_error *err)
{
  memset (out, 0, sizeof *out);
  if (size < 10 || memcmp (data, NPY_MAGIC, 6) != 0)
    return cs_error_set (err, CS_ERR_FORMAT, "%s: not a .npy file", name);
  int major = data[6];
  size_t header_len, header_start;
  if (major == 1)
    {
      header_len = (size_t) data[8] | (size_t) data[9] << 8;
      header_start = 10;
    }
  else if (major == 2 || major == 3)
    {
      if (size < 12)
        return cs_error_set (err, CS_ERR_FORMAT, "%s: truncated .npy header", name);
      header_len = (size_t) data[8] | (size_t) data[9] << 8 | (size_t) data[10] << 16
                   | (size_t) data[11] << 24;
      header_start = 12;
    }
  else
    return cs_error_set (err, CS_ERR_UNSUPPORTED, "%s: .npy format version %d.%d is not supported",
                         name, major, data[7]);
  if (header_len > NPY_MAX_HEADER)
    return cs_error_set (err, CS_ERR_LIMIT, "%s: .npy header of %zu bytes is too long", name,
                         header_len);
  if (header_len > size - header_start)
    return cs_error_set (err, CS_ERR_FORMAT, "%s: truncated .npy header", name);

  npy_lexer lx = { (const char *) data + header_start,
                   (const char *) data + header_start + header_len };
  char descr[32] = "";
  int fortran = -1;
  bool have_shape = false;
  cs_shape shape = { 0 };
  if (!accept (&lx, '{'))
    return cs_error_set (err, CS_ERR_FORMAT, "%s: .npy header is not a dict", name);
  while (!accept (&lx, '}'))
    {
      char key[32];
      if (!read_string (&lx, key, sizeof key) || !accept (&lx, ':'))
        return cs_error_set (err, CS_ERR_FORMAT, "%s: .npy header: bad dict", name);
      if (strcmp (key, "descr") == 0)
        {
          if (!read_string (&lx, descr, sizeof descr))
            return cs_error_set (err, CS_ERR_UNSUPPORTED, "%s: .npy dtype is not a simple type",
                                 name);
        }
      else if (strcmp (key, "fortran_order") == 0)
        {
          if (read_word (&lx, "False"))
            fortran = 0;
          else if (read_word (&lx, "True"))
            fortran = 1;
          else
            return cs_error_set (err, CS_ERR_FORMAT, "%s: .npy header: bad fortran_order", name);
        }
      else if (strcmp (key, "shape") == 0)
        {
          cs_status st = read_shape (&lx, &shape, name, err);
          if (st != CS_OK)
            return st;
          have_shape = true;
        }
      else
        return cs_error_set (err, CS_ERR_FORMAT, "%s: .npy header: unknown key '%s'", name, key);
      if (!accept (&lx, ','))
        {
          if (!accept (&lx, '}'))
            return cs_error_set (err, CS_ERR_FORMAT, "%s: .npy header: bad dict", name);
          break;
        }
    }
  if (descr[0] == '\0' || fortran < 0 || !have_shape)
    return cs_error_set (err, CS_ERR_FORMAT, "%s: .npy header lacks descr, fortran_order or shape",
                         name);
  size_t item;
  if (strcmp (descr, "<f4") == 0)
    item = 4;
  else if (strcmp (descr, "<f8") == 0)
    item = 8;
  else
    return cs_error_set (err, CS_ERR_UNSUPPORTED, "%s: .npy dtype '%s' is not supported "
                         "(float32 or float64 little-endian)", name, descr);
  if (fortran)
    return cs_error_set (err, CS_ERR_UNSUPPORTED, "%s: Fortran-ordered .npy arrays are not "
                         "supported", name);
  int64_t n = cs_shape_numel (&shape);
  if (n < 0)
    return cs_error_set (err, CS_ERR_LIMIT, "%s: array is larger than %lld elements", name,
                         (long long) CS_MAX_ELEMENTS);
  size_t offset = header_start + header_len;
  if ((uint64_t) n * item > size - offset)
    return cs_error_set (err, CS_ERR_FORMAT, "%s: truncated .npy data (%zu of %llu bytes)", name,
                         size - offset, (unsigned long long) n * item);
  cs_status st = cs_tensor_alloc (out, &shape, err);
  if (st != CS_OK)
    return cs_error_prefix (err, "%s", name);
  const uint8_t *src = data + offset;
  if (item == 4)
    memcpy (out->data, src, (size_t) n * 4);
  else
    for (int64_t i = 0; i < n; i++)
      {
        double d;
        memcpy (&d, src + 8 * i, 8);
        out->data[i] = (float) d;
      }
  return CS_OK;
}

cs_status
cs_npy_load (const char *path, cs_tensor *out, cs_error *err)
{
  uint8_t *data;
  size_t size;
  memset (out, 0, sizeof *out);
  cs_status st = cs_file_read_all (path, NPY_MAX_FILE, &data, &size, err);
  if (st != CS_OK)
    return st;
  st = cs_npy_parse (data, size, path, out, err);
  free (data);
  return st;
}

cs_status
cs_npy_save (const char *path, const cs_tensor *t, cs_error *err)
{
  int64_t n = cs_tensor_numel (t);
  if (n < 0 || (n > 0 && t->data == NULL))
    return cs_error_set (err, CS_ERR_ARGUMENT, "%s: invalid tensor", path);
  char dict[256];
  int len = snprintf (dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
  for (int32_t i = 0; i < t->shape.ndim; i++)
    len += snprintf (dict + len, sizeof dict - (size_t) len, "%lld,%s", (long long) t->shape.dim[i],
                     i + 1 < t->shape.ndim ? " " : "");
  if (t->shape.ndim > 1)
    len--; /* numpy writes "(2, 3)" but "(5,)" */
  len += snprintf (dict + len, sizeof dict - (size_t) len, "), }");
  /* Pad with spaces and a newline so that the data starts on a 64-byte boundary. */
  size_t total = 10 + (size_t) len + 1;
  size_t padded = (total + 63) / 64 * 64;
  uint8_t header[320];
  memcpy (header, NPY_MAGIC "\x01\x00", 8);
  size_t hlen = padded - 10;
  header[8] = (uint8_t) (hlen & 0xff);
  header[9] = (uint8_t) (hlen >> 8);
  memcpy (header + 10, dict, (size_t) len);
  memset (header + 10 + len, ' ', padded - 10 - (size_t) len - 1);
  header[padded - 1] = '\n';

  cs_atomic_file f;
  cs_status st = cs_atomic_open (&f, path, err);
  if (st != CS_OK)
    return st;
  if (fwrite (header, 1, padded, f.fp) != padded
      || (n > 0 && fwrite (t->data, sizeof (float), (size_t) n, f.fp) != (size_t) n))
    {
      int e = errno;
      cs_atomic_abort (&f);
      return cs_error_set (err, CS_ERR_IO, "%s: cannot write: %s", path, strerror (e));
    }
  return cs_atomic_commit (&f, err);
}
