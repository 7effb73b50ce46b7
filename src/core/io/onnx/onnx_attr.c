/* Reading ONNX node attributes with their defaults. */
#include <string.h>

#include "io/onnx/onnx_private.h"

const Onnx__AttributeProto *
cs_onnx_attr (const cs_onnx_ctx *ctx, const char *name)
{
  const Onnx__NodeProto *n = ctx->node;

  for (size_t k = 0; k < n->n_attribute; k++)
    if (n->attribute[k]->name != NULL && strcmp (n->attribute[k]->name, name) == 0)
      return n->attribute[k];
  return NULL;
}

int64_t
cs_onnx_attr_int (const cs_onnx_ctx *ctx, const char *name, int64_t def)
{
  const Onnx__AttributeProto *a = cs_onnx_attr (ctx, name);

  if (a == NULL)
    return def;
  if (a->has_i)
    return a->i;
  /* Some exporters write ints as floats. */
  if (a->has_f && a->f > -9e18f && a->f < 9e18f)
    return (int64_t) a->f;
  return def;
}

float
cs_onnx_attr_float (const cs_onnx_ctx *ctx, const char *name, float def)
{
  const Onnx__AttributeProto *a = cs_onnx_attr (ctx, name);

  if (a == NULL)
    return def;
  if (a->has_f)
    return a->f;
  if (a->has_i)
    return (float) a->i;
  return def;
}

const char *
cs_onnx_attr_string (const cs_onnx_ctx *ctx, const char *name, const char *def, char *buf,
                     size_t size)
{
  const Onnx__AttributeProto *a = cs_onnx_attr (ctx, name);
  size_t len;

  if (a == NULL || !a->has_s)
    return def;
  len = a->s.len < size - 1 ? a->s.len : size - 1;
  if (len > 0)
    memcpy (buf, a->s.data, len);
  buf[len] = '\0';
  return buf;
}

int32_t
cs_onnx_attr_ints (const cs_onnx_ctx *ctx, const char *name, int64_t *out, int32_t max)
{
  const Onnx__AttributeProto *a = cs_onnx_attr (ctx, name);

  if (a == NULL)
    return -1;
  if (a->n_ints > (size_t) max)
    return -2;
  for (size_t k = 0; k < a->n_ints; k++)
    out[k] = a->ints[k];
  return (int32_t) a->n_ints;
}

int32_t
cs_onnx_axis (int64_t axis, int32_t rank)
{
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis >= rank)
    return -1;
  return (int32_t) axis;
}
