/* Dense float32 tensors: allocation with a hard size bound, shapes, views. */
#include "base/tensor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

cs_shape
cs_shape_make (int32_t ndim, const int64_t *dims)
{
  cs_shape s = { 0 };
  if (ndim < 0 || ndim > CS_MAX_DIMS)
    {
      s.ndim = -1;
      return s;
    }
  s.ndim = ndim;
  for (int32_t i = 0; i < ndim; i++)
    s.dim[i] = dims[i];
  return s;
}

cs_shape
cs_shape_4d (int64_t n, int64_t c, int64_t h, int64_t w)
{
  return cs_shape_make (4, (int64_t[]) { n, c, h, w });
}

int64_t
cs_shape_numel (const cs_shape *s)
{
  if (s->ndim < 0 || s->ndim > CS_MAX_DIMS)
    return -1;
  int64_t n = 1;
  for (int32_t i = 0; i < s->ndim; i++)
    {
      if (s->dim[i] < 0)
        return -1;
      if (s->dim[i] == 0)
        return 0;
      if (n > CS_MAX_ELEMENTS / s->dim[i])
        return -1;
      n *= s->dim[i];
    }
  return n <= CS_MAX_ELEMENTS ? n : -1;
}

bool
cs_shape_equal (const cs_shape *a, const cs_shape *b)
{
  if (a->ndim != b->ndim)
    return false;
  for (int32_t i = 0; i < a->ndim; i++)
    if (a->dim[i] != b->dim[i])
      return false;
  return true;
}

const char *
cs_shape_format (const cs_shape *s, char *buf, size_t size)
{
  size_t used = 0;
  if (size == 0)
    return buf;
  buf[0] = '\0';
  used += (size_t) snprintf (buf, size, "[");
  for (int32_t i = 0; i < s->ndim && used < size; i++)
    used += (size_t) snprintf (buf + used, size - used, i ? ", %lld" : "%lld", (long long) s->dim[i]);
  if (used < size)
    snprintf (buf + used, size - used, "]");
  return buf;
}

float *
cs_alloc_floats (int64_t count)
{
  if (count < 0 || count > CS_MAX_ELEMENTS)
    return NULL;
  size_t bytes = (size_t) (count > 0 ? count : 1) * sizeof (float);
  bytes = (bytes + 63) & ~(size_t) 63;
  float *p = aligned_alloc (64, bytes);
  if (p != NULL)
    memset (p, 0, bytes);
  return p;
}

void
cs_free_floats (float *p)
{
  free (p);
}

cs_status
cs_tensor_alloc (cs_tensor *t, const cs_shape *shape, cs_error *err)
{
  char buf[128];
  memset (t, 0, sizeof *t);
  int64_t n = cs_shape_numel (shape);
  if (n < 0)
    return cs_error_set (err, CS_ERR_LIMIT, "tensor of shape %s is larger than %lld elements",
                         cs_shape_format (shape, buf, sizeof buf), (long long) CS_MAX_ELEMENTS);
  t->data = cs_alloc_floats (n);
  if (t->data == NULL)
    return cs_error_set (err, CS_ERR_MEMORY, "cannot allocate a tensor of shape %s",
                         cs_shape_format (shape, buf, sizeof buf));
  t->shape = *shape;
  t->owned = true;
  return CS_OK;
}

cs_tensor
cs_tensor_view (const cs_shape *shape, float *data)
{
  cs_tensor t = { .shape = *shape, .data = data, .owned = false };
  return t;
}

void
cs_tensor_free (cs_tensor *t)
{
  if (t == NULL)
    return;
  if (t->owned)
    cs_free_floats (t->data);
  memset (t, 0, sizeof *t);
}

int64_t
cs_tensor_numel (const cs_tensor *t)
{
  return cs_shape_numel (&t->shape);
}

void
cs_tensor_zero (cs_tensor *t)
{
  int64_t n = cs_tensor_numel (t);
  if (n > 0 && t->data != NULL)
    memset (t->data, 0, (size_t) n * sizeof (float));
}

cs_status
cs_tensor_copy (cs_tensor *dst, const cs_tensor *src, cs_error *err)
{
  cs_status st = cs_tensor_alloc (dst, &src->shape, err);
  if (st != CS_OK)
    return st;
  int64_t n = cs_tensor_numel (src);
  if (n > 0)
    memcpy (dst->data, src->data, (size_t) n * sizeof (float));
  return CS_OK;
}
