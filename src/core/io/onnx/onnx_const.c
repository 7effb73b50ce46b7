/* Load-time constants: decoding TensorProto (initializers, Constant nodes) with size checks
 * before any allocation, and conversion to runtime float tensors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io/onnx/onnx_private.h"

void
cs_onnx_const_free (cs_onnx_const *c)
{
  free (c->i);
  free (c->f);
  memset (c, 0, sizeof *c);
}

cs_status
cs_onnx_const_alloc (cs_onnx_const *c, int32_t ndim, const int64_t *dim, bool is_int,
                     cs_error *err)
{
  int64_t numel = 1;

  memset (c, 0, sizeof *c);
  if (ndim < 0 || ndim > CS_ONNX_MAX_DIMS)
    return cs_error_set (err, CS_ERR_UNSUPPORTED, "tensor of rank %d (at most %d)", ndim,
                         CS_ONNX_MAX_DIMS);
  for (int32_t k = 0; k < ndim; k++)
    {
      if (dim[k] < 0)
        return cs_error_set (err, CS_ERR_FORMAT, "negative dimension %lld", (long long) dim[k]);
      if (dim[k] > 0 && numel > CS_MAX_ELEMENTS / dim[k])
        return cs_error_set (err, CS_ERR_LIMIT, "tensor larger than %lld elements",
                             (long long) CS_MAX_ELEMENTS);
      numel *= dim[k];
      c->dim[k] = dim[k];
    }
  c->ndim = ndim;
  c->numel = numel;
  c->is_int = is_int;
  /* One spare element so that empty tensors still get a non-NULL buffer. */
  if (is_int)
    c->i = calloc ((size_t) numel + 1, sizeof *c->i);
  else
    c->f = calloc ((size_t) numel + 1, sizeof *c->f);
  if (c->i == NULL && c->f == NULL)
    return cs_error_set (err, CS_ERR_MEMORY, "out of memory for a %lld-element tensor",
                         (long long) numel);
  return CS_OK;
}

static float
half_to_float (uint16_t h)
{
  uint32_t sign = (uint32_t) (h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
  float v;

  if (exp == 0)
    v = ldexpf ((float) man, -24);
  else if (exp == 31)
    v = man ? NAN : INFINITY;
  else
    v = ldexpf ((float) (man | 0x400), (int) exp - 25);
  return sign ? -v : v;
}

static int64_t
elem_size (int32_t dt)
{
  switch (dt)
    {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT32:
      return 4;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT64:
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
      return 8;
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16:
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT16:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT16:
      return 2;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT8:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8:
    case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL:
      return 1;
    default:
      return 0;
    }
}

static const char *
dtype_name (int32_t dt)
{
  static const char *names[] = { "UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16",
                                 "INT32", "INT64", "STRING", "BOOL", "FLOAT16", "DOUBLE",
                                 "UINT32", "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16" };

  return dt >= 0 && dt <= 16 ? names[dt] : "unknown";
}

/* Element k of little-endian raw data of type dt, as double (floats) or int64. */
static void
raw_get (const uint8_t *p, int32_t dt, bool *is_int, double *fv, int64_t *iv)
{
  union { uint8_t b[8]; float f; double d; int64_t i64; uint64_t u64; int32_t i32; uint32_t u32;
          int16_t i16; uint16_t u16; int8_t i8; } u;
  int64_t sz = elem_size (dt);

  memcpy (u.b, p, (size_t) sz);
  *is_int = true;
  switch (dt)
    {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: *is_int = false; *fv = u.f; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: *is_int = false; *fv = u.d; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16: *is_int = false; *fv = half_to_float (u.u16); break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: *iv = u.i64; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT64: *iv = (int64_t) u.u64; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: *iv = u.i32; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT32: *iv = u.u32; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT16: *iv = u.i16; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT16: *iv = u.u16; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT8: *iv = u.i8; break;
    default: *iv = u.b[0]; break;
    }
}

cs_status
cs_onnx_const_from_proto (cs_onnx_const *c, const Onnx__TensorProto *t, cs_error *err)
{
  int32_t dt = t->data_type;
  bool is_int;
  int64_t n, sz = elem_size (dt);
  cs_status st;

  memset (c, 0, sizeof *c);
  if (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
    return cs_error_set (err, CS_ERR_UNSUPPORTED,
                         "tensor '%s' uses external data (not supported; re-export with the "
                         "weights inside the .onnx file)", t->name ? t->name : "");
  if (sz == 0)
    return cs_error_set (err, CS_ERR_UNSUPPORTED, "tensor '%s' has data type %s (%d)",
                         t->name ? t->name : "", dtype_name (dt), dt);
  is_int = !(dt == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT || dt == ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE
             || dt == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16);
  if (t->n_dims > CS_ONNX_MAX_DIMS)
    return cs_error_set (err, CS_ERR_UNSUPPORTED, "tensor '%s' has rank %zu (at most %d)",
                         t->name ? t->name : "", t->n_dims, CS_ONNX_MAX_DIMS);
  /* Check the claimed size against the data actually present before allocating. */
  {
    int64_t numel = 1;
    for (size_t k = 0; k < t->n_dims; k++)
      {
        if (t->dims[k] < 0)
          return cs_error_set (err, CS_ERR_FORMAT, "tensor '%s' has a negative dimension",
                               t->name ? t->name : "");
        if (t->dims[k] > 0 && numel > CS_MAX_ELEMENTS / t->dims[k])
          return cs_error_set (err, CS_ERR_LIMIT, "initializer or constant '%s' claims more than %lld elements",
                               t->name ? t->name : "", (long long) CS_MAX_ELEMENTS);
        numel *= t->dims[k];
      }
    n = numel;
  }
  if (t->has_raw_data)
    {
      if ((int64_t) t->raw_data.len != n * sz)
        return cs_error_set (err, CS_ERR_FORMAT, "tensor '%s' has %zu bytes of data for %lld "
                             "elements of %s", t->name ? t->name : "", t->raw_data.len,
                             (long long) n, dtype_name (dt));
    }
  else
    {
      size_t have;
      switch (dt)
        {
        case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: have = t->n_float_data; break;
        case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: have = t->n_double_data; break;
        case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: have = t->n_int64_data; break;
        case ONNX__TENSOR_PROTO__DATA_TYPE__UINT64:
        case ONNX__TENSOR_PROTO__DATA_TYPE__UINT32: have = t->n_uint64_data; break;
        default: have = t->n_int32_data; break; /* int32, int16, int8, uint*, bool, float16 */
        }
      if ((int64_t) have != n)
        return cs_error_set (err, CS_ERR_FORMAT, "tensor '%s' has %zu values for %lld elements",
                             t->name ? t->name : "", have, (long long) n);
    }

  st = cs_onnx_const_alloc (c, (int32_t) t->n_dims, t->dims, is_int, err);
  if (st != CS_OK)
    return st;
  for (int64_t k = 0; k < n; k++)
    {
      double fv = 0;
      int64_t iv = 0;
      bool ii;

      if (t->has_raw_data)
        raw_get (t->raw_data.data + k * sz, dt, &ii, &fv, &iv);
      else
        switch (dt)
          {
          case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: fv = t->float_data[k]; break;
          case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: fv = t->double_data[k]; break;
          case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16:
            fv = half_to_float ((uint16_t) t->int32_data[k]);
            break;
          case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: iv = t->int64_data[k]; break;
          case ONNX__TENSOR_PROTO__DATA_TYPE__UINT64:
          case ONNX__TENSOR_PROTO__DATA_TYPE__UINT32: iv = (int64_t) t->uint64_data[k]; break;
          default: iv = t->int32_data[k]; break;
          }
      if (is_int)
        c->i[k] = iv;
      else
        c->f[k] = (float) fv;
    }
  return CS_OK;
}

double
cs_onnx_const_get (const cs_onnx_const *c, int64_t k)
{
  return c->is_int ? (double) c->i[k] : (double) c->f[k];
}

int64_t
cs_onnx_const_get_int (const cs_onnx_const *c, int64_t k)
{
  if (c->is_int)
    return c->i[k];
  if (!(c->f[k] > -9e18f && c->f[k] < 9e18f))
    return 0;
  return (int64_t) c->f[k];
}

cs_status
cs_onnx_const_to_tensor (const cs_onnx_const *c, cs_tensor *t, cs_error *err)
{
  cs_shape s;
  cs_status st;

  if (c->ndim > CS_MAX_DIMS)
    return cs_error_set (err, CS_ERR_UNSUPPORTED, "constant of rank %d (at most %d at run time)",
                         c->ndim, CS_MAX_DIMS);
  s = cs_shape_make (c->ndim, c->dim);
  st = cs_tensor_alloc (t, &s, err);
  if (st != CS_OK)
    return st;
  for (int64_t k = 0; k < c->numel; k++)
    t->data[k] = c->is_int ? (float) c->i[k] : c->f[k];
  return CS_OK;
}
