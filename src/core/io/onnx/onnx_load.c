/* ONNX import entry points: parse the ModelProto, bind the input and initializers, convert the
 * nodes in order (folding constant ones), and build the cs_model with the initializer data. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/onnx.h"
#include "io/onnx/onnx_private.h"

#define CS_ONNX_MIN_OPSET 6
#define CS_ONNX_MAX_OPSET 17
#define CS_ONNX_MAX_FILE ((size_t) 4 << 30)

static uint32_t
hash_name (const char *s)
{
  uint32_t h = 2166136261u;

  for (; *s; s++)
    h = (h ^ (uint8_t) *s) * 16777619u;
  return h;
}

static cs_status
hash_grow (cs_onnx_ctx *ctx, cs_error *err)
{
  int32_t cap = ctx->hash_cap ? ctx->hash_cap * 2 : 256;
  int32_t *h = malloc ((size_t) cap * sizeof *h);

  if (h == NULL)
    return cs_error_set (err, CS_ERR_MEMORY, "%s: out of memory", ctx->file);
  for (int32_t k = 0; k < cap; k++)
    h[k] = -1;
  for (int32_t v = 0; v < ctx->n_values; v++)
    {
      uint32_t p = hash_name (ctx->values[v].name) & (uint32_t) (cap - 1);
      while (h[p] >= 0)
        p = (p + 1) & (uint32_t) (cap - 1);
      h[p] = v;
    }
  free (ctx->hash);
  ctx->hash = h;
  ctx->hash_cap = cap;
  return CS_OK;
}

cs_onnx_value *
cs_onnx_value_find (cs_onnx_ctx *ctx, const char *name)
{
  uint32_t p;

  if (ctx->hash_cap == 0 || name == NULL)
    return NULL;
  p = hash_name (name) & (uint32_t) (ctx->hash_cap - 1);
  while (ctx->hash[p] >= 0)
    {
      if (strcmp (ctx->values[ctx->hash[p]].name, name) == 0)
        return &ctx->values[ctx->hash[p]];
      p = (p + 1) & (uint32_t) (ctx->hash_cap - 1);
    }
  return NULL;
}

/* Binds name to a fresh entry; a later binding of the same name replaces the earlier one
 * (ONNX forbids it, but we prefer the newest rather than failing). */
static cs_onnx_value *
value_new (cs_onnx_ctx *ctx, const char *name, cs_error *err)
{
  cs_onnx_value *v = cs_onnx_value_find (ctx, name);
  uint32_t p;

  if (v != NULL)
    {
      if (v->kind == CS_ONNX_VALUE_CONST)
        cs_onnx_const_free (&v->c);
      v->node = -1;
      v->initializer = false;
      return v;
    }
  if ((ctx->n_values + 1) * 2 > ctx->hash_cap && hash_grow (ctx, err) != CS_OK)
    return NULL;
  if (ctx->n_values == ctx->cap_values)
    {
      int32_t cap = ctx->cap_values ? ctx->cap_values * 2 : 128;
      cs_onnx_value *nv = realloc (ctx->values, (size_t) cap * sizeof *nv);
      if (nv == NULL)
        {
          cs_error_set (err, CS_ERR_MEMORY, "%s: out of memory", ctx->file);
          return NULL;
        }
      ctx->values = nv;
      ctx->cap_values = cap;
    }
  v = &ctx->values[ctx->n_values];
  memset (v, 0, sizeof *v);
  v->name = strdup (name);
  v->node = -1;
  if (v->name == NULL)
    {
      cs_error_set (err, CS_ERR_MEMORY, "%s: out of memory", ctx->file);
      return NULL;
    }
  p = hash_name (name) & (uint32_t) (ctx->hash_cap - 1);
  while (ctx->hash[p] >= 0)
    p = (p + 1) & (uint32_t) (ctx->hash_cap - 1);
  ctx->hash[p] = ctx->n_values++;
  return v;
}

cs_status
cs_onnx_value_add_node (cs_onnx_ctx *ctx, const char *name, int32_t node, cs_error *err)
{
  cs_onnx_value *v = value_new (ctx, name, err);

  if (v == NULL)
    return err ? err->code : CS_ERR_MEMORY;
  v->kind = CS_ONNX_VALUE_NODE;
  v->node = node;
  return CS_OK;
}

cs_status
cs_onnx_value_add_const (cs_onnx_ctx *ctx, const char *name, cs_onnx_const *c, bool initializer,
                         cs_error *err)
{
  cs_onnx_value *v = value_new (ctx, name, err);

  if (v == NULL)
    {
      cs_onnx_const_free (c);
      return err ? err->code : CS_ERR_MEMORY;
    }
  v->kind = CS_ONNX_VALUE_CONST;
  v->initializer = initializer;
  v->c = *c;
  memset (c, 0, sizeof *c);
  return CS_OK;
}

cs_status
cs_onnx_node_error (cs_onnx_ctx *ctx, cs_error *err, cs_status code, const char *fmt, ...)
{
  char reason[CS_ERROR_MESSAGE_SIZE];
  va_list ap;
  const Onnx__NodeProto *n = ctx->node;

  va_start (ap, fmt);
  vsnprintf (reason, sizeof reason, fmt, ap);
  va_end (ap);
  return cs_error_set (err, code, "%s: node %d (%s '%s'): %s", ctx->file, ctx->node_index,
                       n->op_type ? n->op_type : "?", n->name ? n->name : "", reason);
}

bool
cs_onnx_has_input (const cs_onnx_ctx *ctx, int32_t k)
{
  return k >= 0 && (size_t) k < ctx->node->n_input && ctx->node->input[k] != NULL
         && ctx->node->input[k][0] != '\0';
}

cs_onnx_value *
cs_onnx_input (cs_onnx_ctx *ctx, int32_t k, cs_error *err)
{
  cs_onnx_value *v;

  if (!cs_onnx_has_input (ctx, k))
    {
      cs_onnx_node_error (ctx, err, CS_ERR_FORMAT, "missing input %d", k);
      return NULL;
    }
  v = cs_onnx_value_find (ctx, ctx->node->input[k]);
  if (v == NULL)
    cs_onnx_node_error (ctx, err, CS_ERR_FORMAT, "input '%s' is not produced by any earlier "
                        "node, initializer or graph input", ctx->node->input[k]);
  return v;
}

/* A graph node name not used yet: base, else base#2, base#3 ... */
static void
unique_name (cs_graph *g, const char *base, char *buf, size_t size)
{
  snprintf (buf, size, "%s", base);
  for (int k = 2; cs_graph_find (g, buf) >= 0; k++)
    snprintf (buf, size, "%s#%d", base, k);
}

int32_t
cs_onnx_input_node (cs_onnx_ctx *ctx, int32_t k, cs_error *err)
{
  cs_onnx_value *v = cs_onnx_input (ctx, k, err);
  char name[256];
  int32_t id;

  if (v == NULL)
    return -1;
  if (v->kind == CS_ONNX_VALUE_NODE || v->node >= 0)
    return v->node;
  unique_name (ctx->g, v->name, name, sizeof name);
  if (v->initializer && !v->c.is_int)
    {
      cs_shape s;
      if (v->c.ndim > CS_MAX_DIMS)
        {
          cs_onnx_node_error (ctx, err, CS_ERR_UNSUPPORTED, "initializer '%s' has rank %d",
                              v->name, v->c.ndim);
          return -1;
        }
      s = cs_shape_make (v->c.ndim, v->c.dim);
      id = cs_graph_add_param (ctx->g, name, &s, err);
    }
  else
    {
      cs_tensor t = { 0 };
      if (cs_onnx_const_to_tensor (&v->c, &t, err) != CS_OK)
        {
          cs_onnx_node_error (ctx, err, err ? err->code : CS_ERR_FORMAT, "constant '%s': %s",
                              v->name, err ? err->message : "");
          return -1;
        }
      id = cs_graph_add_const (ctx->g, name, &t, err);
      cs_tensor_free (&t);
    }
  if (id < 0)
    {
      char msg[CS_ERROR_MESSAGE_SIZE];
      snprintf (msg, sizeof msg, "%s", err ? err->message : "");
      cs_onnx_node_error (ctx, err, err ? err->code : CS_ERR_FORMAT, "%s", msg);
      return -1;
    }
  v->node = id;
  return id;
}

const cs_onnx_const *
cs_onnx_input_const (cs_onnx_ctx *ctx, int32_t k, cs_error *err)
{
  cs_onnx_value *v = cs_onnx_input (ctx, k, err);

  if (v == NULL)
    return NULL;
  if (v->kind != CS_ONNX_VALUE_CONST)
    {
      cs_onnx_node_error (ctx, err, CS_ERR_UNSUPPORTED, "input %d ('%s') must be known at load "
                          "time (a constant or initializer), but depends on the model input",
                          k, v->name);
      return NULL;
    }
  return &v->c;
}

cs_status
cs_onnx_input_shape (cs_onnx_ctx *ctx, int32_t k, cs_shape *shape, cs_error *err)
{
  cs_onnx_value *v = cs_onnx_input (ctx, k, err);

  if (v == NULL)
    return err ? err->code : CS_ERR_FORMAT;
  if (v->kind == CS_ONNX_VALUE_NODE)
    {
      *shape = ctx->g->nodes[v->node].shape;
      return CS_OK;
    }
  if (v->c.ndim > CS_MAX_DIMS)
    return cs_onnx_node_error (ctx, err, CS_ERR_UNSUPPORTED, "constant '%s' has rank %d",
                               v->name, v->c.ndim);
  *shape = cs_shape_make (v->c.ndim, v->c.dim);
  return CS_OK;
}

int32_t
cs_onnx_emit (cs_onnx_ctx *ctx, cs_op op, const char *suffix, const int32_t *inputs,
              int32_t n_inputs, const cs_attrs *attrs, bool bind, cs_error *err)
{
  const Onnx__NodeProto *n = ctx->node;
  char base[256], name[300];
  int32_t id;

  if (n->name != NULL && n->name[0] != '\0')
    snprintf (base, sizeof base, "%s%s", n->name, suffix ? suffix : "");
  else if (n->n_output > 0 && n->output[0][0] != '\0')
    snprintf (base, sizeof base, "%s%s", n->output[0], suffix ? suffix : "");
  else
    snprintf (base, sizeof base, "%s_%d%s", n->op_type, ctx->node_index, suffix ? suffix : "");
  unique_name (ctx->g, base, name, sizeof name);
  id = cs_graph_add_op (ctx->g, op, name, n->op_type, inputs, n_inputs, attrs, err);
  if (id < 0)
    {
      char msg[CS_ERROR_MESSAGE_SIZE];
      const char *m = err ? err->message : "invalid node", *p;
      /* The graph names the node as "node 'x' (Op): ..."; we name it our way. */
      if (strncmp (m, "node '", 6) == 0 && (p = strstr (m, "): ")) != NULL)
        m = p + 3;
      snprintf (msg, sizeof msg, "%s", m);
      cs_onnx_node_error (ctx, err, err && err->code != CS_OK ? err->code : CS_ERR_SHAPE, "%s", msg);
      return -1;
    }
  if (bind)
    {
      if (n->n_output < 1 || n->output[0][0] == '\0')
        {
          cs_onnx_node_error (ctx, err, CS_ERR_FORMAT, "node has no output");
          return -1;
        }
      if (cs_onnx_value_add_node (ctx, n->output[0], id, err) != CS_OK)
        return -1;
    }
  return id;
}

/* The graph input: the single one that is not an initializer, float, dim 0 the batch. */
static cs_status
bind_input (cs_onnx_ctx *ctx, const Onnx__GraphProto *gp, cs_error *err)
{
  const Onnx__ValueInfoProto *in = NULL;
  const Onnx__TypeProto__Tensor *tt;
  int64_t dims[CS_MAX_DIMS];
  cs_shape s;
  int32_t id, count = 0;

  for (size_t k = 0; k < gp->n_input; k++)
    {
      const cs_onnx_value *v = cs_onnx_value_find (ctx, gp->input[k]->name);
      if (v != NULL && v->initializer)
        continue;
      in = gp->input[k];
      count++;
    }
  if (count != 1)
    return cs_error_set (err, CS_ERR_UNSUPPORTED, "%s: the graph has %d inputs that are not "
                         "initializers; Convscope needs exactly one (the image)", ctx->file, count);
  if (in->name == NULL || in->type == NULL || in->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE
      || in->type->tensor_type->shape == NULL)
    return cs_error_set (err, CS_ERR_UNSUPPORTED, "%s: graph input '%s' has no tensor shape",
                         ctx->file, in->name ? in->name : "");
  tt = in->type->tensor_type;
  if (tt->has_elem_type && tt->elem_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)
    return cs_error_set (err, CS_ERR_UNSUPPORTED, "%s: graph input '%s' has element type %d "
                         "(only FLOAT is supported)", ctx->file, in->name, tt->elem_type);
  if (tt->shape->n_dim < 1 || tt->shape->n_dim > CS_MAX_DIMS)
    return cs_error_set (err, CS_ERR_UNSUPPORTED, "%s: graph input '%s' has rank %zu (1 to %d "
                         "supported)", ctx->file, in->name, tt->shape->n_dim, CS_MAX_DIMS);
  ctx->input_batch = 1;
  for (size_t k = 0; k < tt->shape->n_dim; k++)
    {
      const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[k];
      bool known = d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
      if (k == 0)
        {
          /* The batch: symbolic or fixed, it is 1 in the graph and N at run time. */
          if (known && d->dim_value > 0)
            ctx->input_batch = d->dim_value;
          dims[0] = 1;
          continue;
        }
      if (!known || d->dim_value <= 0)
        return cs_error_set (err, CS_ERR_UNSUPPORTED, "%s: graph input '%s' has a symbolic or "
                             "unknown dimension %zu ('%s'); only the batch (dim 0) may be "
                             "symbolic", ctx->file, in->name, k,
                             d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM
                             && d->dim_param ? d->dim_param : "?");
      dims[k] = d->dim_value;
    }
  s = cs_shape_make ((int32_t) tt->shape->n_dim, dims);
  if (cs_shape_numel (&s) < 0)
    return cs_error_set (err, CS_ERR_LIMIT, "%s: graph input '%s' is too large", ctx->file,
                         in->name);
  id = cs_graph_add_input (ctx->g, in->name, &s, err);
  if (id < 0)
    return cs_error_prefix (err, "%s", ctx->file);
  return cs_onnx_value_add_node (ctx, in->name, id, err);
}

static cs_status
convert_node (cs_onnx_ctx *ctx, cs_error *err)
{
  const Onnx__NodeProto *n = ctx->node;
  cs_onnx_convert_fn fn;
  bool all_const = true, handled = false;
  cs_status st;

  if (n->op_type == NULL)
    return cs_onnx_node_error (ctx, err, CS_ERR_FORMAT, "node has no op_type");
  if (n->domain != NULL && n->domain[0] != '\0' && strcmp (n->domain, "ai.onnx") != 0)
    return cs_onnx_node_error (ctx, err, CS_ERR_UNSUPPORTED, "unsupported operator %s of domain "
                               "'%s'", n->op_type, n->domain);
  for (size_t k = 0; k < n->n_input; k++)
    {
      const cs_onnx_value *v;
      if (n->input[k][0] == '\0')
        continue;
      v = cs_onnx_value_find (ctx, n->input[k]);
      if (v == NULL)
        return cs_onnx_node_error (ctx, err, CS_ERR_FORMAT, "input '%s' is not produced by any "
                                   "earlier node, initializer or graph input", n->input[k]);
      if (v->kind != CS_ONNX_VALUE_CONST)
        all_const = false;
    }
  /* Shape only needs its input's shape; everything else folds when all inputs are known. */
  if (all_const || strcmp (n->op_type, "Shape") == 0 || strcmp (n->op_type, "Size") == 0)
    {
      st = cs_onnx_fold (ctx, &handled, err);
      if (handled || st != CS_OK)
        return st;
    }
  fn = cs_onnx_nn_converter (n->op_type);
  if (fn == NULL)
    fn = cs_onnx_layout_converter (n->op_type);
  if (fn == NULL)
    return cs_onnx_node_error (ctx, err, CS_ERR_UNSUPPORTED, "unsupported operator %s (opset %lld)",
                               n->op_type, (long long) ctx->opset);
  return fn (ctx, err);
}

static void
ctx_clear (cs_onnx_ctx *ctx)
{
  for (int32_t k = 0; k < ctx->n_values; k++)
    {
      free (ctx->values[k].name);
      cs_onnx_const_free (&ctx->values[k].c);
    }
  free (ctx->values);
  free (ctx->hash);
  if (ctx->g)
    cs_graph_unref (ctx->g);
}

/* Copies initializer data into the weights of every parameter the graph ended up using. */
static cs_status
fill_weights (cs_onnx_ctx *ctx, cs_model *m, cs_error *err)
{
  for (int32_t k = 0; k < ctx->n_values; k++)
    {
      const cs_onnx_value *v = &ctx->values[k];
      const cs_node *node;
      cs_tensor *w;
      if (v->kind != CS_ONNX_VALUE_CONST || v->node < 0)
        continue;
      node = &ctx->g->nodes[v->node];
      if (node->op != CS_OP_PARAM)
        continue;
      w = &m->weights[node->param_index];
      if (cs_tensor_numel (w) != v->c.numel)
        return cs_error_set (err, CS_ERR_SHAPE, "%s: parameter '%s' has %lld elements, weights "
                             "have %lld", ctx->file, v->name, (long long) v->c.numel,
                             (long long) cs_tensor_numel (w));
      memcpy (w->data, v->c.f, (size_t) v->c.numel * sizeof (float));
    }
  return CS_OK;
}

static cs_model *
load_proto (const Onnx__ModelProto *mp, const char *file, cs_error *err)
{
  cs_onnx_ctx ctx;
  const Onnx__GraphProto *gp = mp->graph;
  cs_model *m = NULL;
  const cs_onnx_value *out;
  cs_status st;

  memset (&ctx, 0, sizeof ctx);
  ctx.file = file;
  ctx.opset = -1;
  if (gp == NULL)
    {
      cs_error_set (err, CS_ERR_FORMAT, "%s: not an ONNX model (no graph)", file);
      return NULL;
    }
  for (size_t k = 0; k < mp->n_opset_import; k++)
    {
      const Onnx__OperatorSetIdProto *o = mp->opset_import[k];
      if (o->domain == NULL || o->domain[0] == '\0' || strcmp (o->domain, "ai.onnx") == 0)
        ctx.opset = o->has_version ? o->version : 1;
    }
  if (ctx.opset < 0)
    {
      cs_error_set (err, CS_ERR_FORMAT, "%s: not an ONNX model (no opset_import for the "
                    "default domain)", file);
      return NULL;
    }
  if (ctx.opset < CS_ONNX_MIN_OPSET || ctx.opset > CS_ONNX_MAX_OPSET)
    {
      cs_error_set (err, CS_ERR_UNSUPPORTED, "%s: unsupported opset %lld (%d to %d supported)",
                    file, (long long) ctx.opset, CS_ONNX_MIN_OPSET, CS_ONNX_MAX_OPSET);
      return NULL;
    }
  ctx.g = cs_graph_new ();
  if (ctx.g == NULL)
    {
      cs_error_set (err, CS_ERR_MEMORY, "%s: out of memory", file);
      return NULL;
    }

  for (size_t k = 0; k < gp->n_initializer; k++)
    {
      const Onnx__TensorProto *t = gp->initializer[k];
      cs_onnx_const c;
      if (t->name == NULL || t->name[0] == '\0')
        {
          cs_error_set (err, CS_ERR_FORMAT, "%s: initializer %zu has no name", file, k);
          goto fail;
        }
      if (cs_onnx_const_from_proto (&c, t, err) != CS_OK)
        {
          cs_error_prefix (err, "%s", file);
          goto fail;
        }
      if (cs_onnx_value_add_const (&ctx, t->name, &c, true, err) != CS_OK)
        goto fail;
    }
  if (bind_input (&ctx, gp, err) != CS_OK)
    goto fail;

  for (size_t k = 0; k < gp->n_node; k++)
    {
      ctx.node_index = (int32_t) k;
      ctx.node = gp->node[k];
      if (convert_node (&ctx, err) != CS_OK)
        goto fail;
    }

  if (gp->n_output != 1)
    {
      cs_error_set (err, CS_ERR_UNSUPPORTED, "%s: the graph has %zu outputs; Convscope needs "
                    "exactly one (the logits)", file, gp->n_output);
      goto fail;
    }
  out = cs_onnx_value_find (&ctx, gp->output[0]->name);
  if (out == NULL)
    {
      cs_error_set (err, CS_ERR_FORMAT, "%s: graph output '%s' is not produced by any node", file,
                    gp->output[0]->name ? gp->output[0]->name : "");
      goto fail;
    }
  if (out->kind == CS_ONNX_VALUE_CONST)
    {
      cs_error_set (err, CS_ERR_UNSUPPORTED, "%s: graph output '%s' does not depend on the "
                    "input", file, out->name);
      goto fail;
    }
  ctx.g->output_node = out->node;
  cs_graph_derive_display_names (ctx.g);

  m = cs_model_new (ctx.g, err);
  if (m == NULL)
    {
      cs_error_prefix (err, "%s", file);
      goto fail;
    }
  st = fill_weights (&ctx, m, err);
  if (st != CS_OK)
    goto fail;
  free (m->path);
  m->path = strdup (file);
  ctx_clear (&ctx);
  return m;

fail:
  if (m)
    cs_model_free (m);
  ctx_clear (&ctx);
  return NULL;
}

cs_model *
cs_onnx_load_memory (const uint8_t *data, size_t size, const char *name, cs_error *err)
{
  Onnx__ModelProto *mp;
  cs_model *m;

  if (name == NULL)
    name = "<memory>";
  if (data == NULL || size == 0)
    {
      cs_error_set (err, CS_ERR_FORMAT, "%s: not an ONNX model (empty)", name);
      return NULL;
    }
  mp = onnx__model_proto__unpack (NULL, size, data);
  if (mp == NULL)
    {
      cs_error_set (err, CS_ERR_FORMAT, "%s: not an ONNX model (protobuf parse failed)", name);
      return NULL;
    }
  m = load_proto (mp, name, err);
  onnx__model_proto__free_unpacked (mp, NULL);
  return m;
}

cs_model *
cs_onnx_load (const char *path, cs_error *err)
{
  FILE *f = fopen (path, "rb");
  uint8_t *buf;
  long size;
  cs_model *m;

  if (f == NULL)
    {
      cs_error_set (err, CS_ERR_IO, "%s: cannot open: %s", path, strerror (errno));
      return NULL;
    }
  if (fseek (f, 0, SEEK_END) != 0 || (size = ftell (f)) < 0 || fseek (f, 0, SEEK_SET) != 0)
    {
      cs_error_set (err, CS_ERR_IO, "%s: cannot read: %s", path, strerror (errno));
      fclose (f);
      return NULL;
    }
  if ((size_t) size > CS_ONNX_MAX_FILE)
    {
      cs_error_set (err, CS_ERR_LIMIT, "%s: file of %ld bytes is too large", path, size);
      fclose (f);
      return NULL;
    }
  buf = malloc ((size_t) size + 1);
  if (buf == NULL)
    {
      cs_error_set (err, CS_ERR_MEMORY, "%s: out of memory", path);
      fclose (f);
      return NULL;
    }
  if (fread (buf, 1, (size_t) size, f) != (size_t) size)
    {
      cs_error_set (err, CS_ERR_IO, "%s: cannot read: %s", path, strerror (errno));
      free (buf);
      fclose (f);
      return NULL;
    }
  fclose (f);
  m = cs_onnx_load_memory (buf, (size_t) size, path, err);
  free (buf);
  return m;
}
