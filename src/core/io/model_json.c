/* model.json (format convscope-model/1): nodes with PyTorch-like attributes turned into graph
 * nodes and <node>.weight/.bias parameters, and the same written back from a graph. */
#include "io/model_json.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/ops.h"
#include "io/atomic_file.h"

#define MODEL_JSON_FORMAT "convscope-model/1"
#define MODEL_JSON_MAX_FILE ((size_t) 64 << 20)
#define MODEL_JSON_MAX_NODES 100000
#define MODEL_JSON_MAX_INT (1 << 24) /* channels, kernels, strides: far beyond any real model */
#define INPUT_NAME "input"

typedef struct {
  const char *file;
  int32_t index;             /* node index in "nodes", -1 outside the list */
  const char *node;          /* its name, or NULL */
  cs_error *err;
} parse_ctx;

static cs_status __attribute__ ((format (printf, 3, 4)))
fail (parse_ctx *c, cs_status code, const char *fmt, ...)
{
  char reason[CS_ERROR_MESSAGE_SIZE];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (reason, sizeof reason, fmt, ap);
  va_end (ap);
  if (c->index < 0)
    return cs_error_set (c->err, code, "%s: %s", c->file, reason);
  if (c->node == NULL)
    return cs_error_set (c->err, code, "%s: node %d: %s", c->file, c->index, reason);
  return cs_error_set (c->err, code, "%s: node %d '%.100s': %s", c->file, c->index, c->node, reason);
}

static bool
json_int (const cJSON *v, int64_t *out)
{
  if (!cJSON_IsNumber (v) || v->valuedouble != floor (v->valuedouble)
      || fabs (v->valuedouble) > 1e15)
    return false;
  *out = (int64_t) v->valuedouble;
  return true;
}

/* An integer attribute in [min, max], or def when absent. */
static cs_status
get_int (parse_ctx *c, const cJSON *node, const char *key, int64_t def, bool required,
         int64_t min, int64_t max, int64_t *out)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive (node, key);
  if (v == NULL)
    {
      if (required)
        return fail (c, CS_ERR_FORMAT, "missing attribute '%s'", key);
      *out = def;
      return CS_OK;
    }
  if (!json_int (v, out))
    return fail (c, CS_ERR_FORMAT, "%s must be an integer", key);
  if (*out < min || *out > max)
    return fail (c, CS_ERR_FORMAT, "%s must be %s", key,
                 min == 1 ? "positive" : min == 0 ? "non-negative" : "in range");
  return CS_OK;
}

/* A size: an int or an [h, w] pair, each in [min, MODEL_JSON_MAX_INT]. */
static cs_status
get_size (parse_ctx *c, const cJSON *node, const char *key, const int32_t *def, int64_t min,
          int32_t out[2])
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive (node, key);
  int64_t hw[2];
  if (v == NULL)
    {
      if (def == NULL)
        return fail (c, CS_ERR_FORMAT, "missing attribute '%s'", key);
      out[0] = def[0];
      out[1] = def[1];
      return CS_OK;
    }
  if (json_int (v, &hw[0]))
    hw[1] = hw[0];
  else if (!cJSON_IsArray (v) || cJSON_GetArraySize (v) != 2
           || !json_int (cJSON_GetArrayItem (v, 0), &hw[0])
           || !json_int (cJSON_GetArrayItem (v, 1), &hw[1]))
    return fail (c, CS_ERR_FORMAT, "%s must be an integer or an [h, w] pair", key);
  for (int i = 0; i < 2; i++)
    if (hw[i] < min || hw[i] > MODEL_JSON_MAX_INT)
      return fail (c, CS_ERR_FORMAT, "%s must be %s", key, min > 0 ? "positive" : "non-negative");
  out[0] = (int32_t) hw[0];
  out[1] = (int32_t) hw[1];
  return CS_OK;
}

static cs_status
get_bool (parse_ctx *c, const cJSON *node, const char *key, bool def, bool *out)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive (node, key);
  if (v == NULL)
    *out = def;
  else if (cJSON_IsBool (v))
    *out = cJSON_IsTrue (v);
  else
    return fail (c, CS_ERR_FORMAT, "%s must be true or false", key);
  return CS_OK;
}

static cs_status
get_float (parse_ctx *c, const cJSON *node, const char *key, double def, double min, double max,
           bool min_open, float *out)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive (node, key);
  double d = def;
  if (v != NULL && !cJSON_IsNumber (v))
    return fail (c, CS_ERR_FORMAT, "%s must be a number", key);
  if (v != NULL)
    d = v->valuedouble;
  if (!(d >= min && d <= max) || (min_open && d == min))
    return fail (c, CS_ERR_FORMAT, "%s = %g is out of range", key, d);
  *out = (float) d;
  return CS_OK;
}

/* The ops, their graph op and the attributes each accepts besides name, op and inputs; a typo
 * is an error, not a default. */
static const struct {
  const char *op;
  cs_op kind;
  const char *keys[8];
} op_keys[] = {
  { "conv2d", CS_OP_CONV2D,
    { "out_channels", "kernel", "stride", "padding", "dilation", "groups", "bias" } },
  { "linear", CS_OP_GEMM, { "out_features", "bias" } },
  { "maxpool2d", CS_OP_MAXPOOL, { "kernel", "stride", "padding", "ceil_mode" } },
  { "avgpool2d", CS_OP_AVGPOOL,
    { "kernel", "stride", "padding", "ceil_mode", "count_include_pad" } },
  { "global_avgpool", CS_OP_GLOBAL_AVGPOOL, { NULL } },
  { "batchnorm2d", CS_OP_BATCHNORM, { "eps", "momentum" } },
  { "relu", CS_OP_RELU, { NULL } },
  { "leaky_relu", CS_OP_LEAKY_RELU, { "slope" } },
  { "sigmoid", CS_OP_SIGMOID, { NULL } },
  { "tanh", CS_OP_TANH, { NULL } },
  { "dropout", CS_OP_DROPOUT, { "p" } },
  { "flatten", CS_OP_FLATTEN, { NULL } },
  { "add", CS_OP_ADD, { NULL } },
  { "concat", CS_OP_CONCAT, { "axis" } },
};

static int
find_op (const char *op)
{
  for (size_t i = 0; i < sizeof op_keys / sizeof op_keys[0]; i++)
    if (strcmp (op_keys[i].op, op) == 0)
      return (int) i;
  return -1;
}

static cs_status
check_keys (parse_ctx *c, const cJSON *node, int op)
{
  const cJSON *item;
  cJSON_ArrayForEach (item, node)
    {
      const char *k = item->string;
      bool known = strcmp (k, "name") == 0 || strcmp (k, "op") == 0 || strcmp (k, "inputs") == 0;
      for (int i = 0; i < 8 && !known && op_keys[op].keys[i] != NULL; i++)
        known = strcmp (k, op_keys[op].keys[i]) == 0;
      if (!known)
        return fail (c, CS_ERR_FORMAT, "unknown attribute '%.64s' for %s", k, op_keys[op].op);
    }
  return CS_OK;
}

static int32_t
add_param (cs_graph *g, parse_ctx *c, const char *suffix, const cs_shape *shape)
{
  char name[512];
  snprintf (name, sizeof name, "%s.%s", c->node, suffix);
  if (cs_shape_numel (shape) < 0)
    {
      char buf[128];
      fail (c, CS_ERR_LIMIT, "parameter %s of shape %s is larger than %lld elements", suffix,
            cs_shape_format (shape, buf, sizeof buf), (long long) CS_MAX_ELEMENTS);
      return -1;
    }
  int32_t id = cs_graph_add_param (g, name, shape, c->err);
  if (id < 0)
    cs_error_prefix (c->err, "%s", c->file);
  return id;
}

/* A node being built: its op, attributes, and inputs (data inputs first, then parameters). */
typedef struct {
  cs_op kind;
  cs_attrs attrs;
  int32_t ids[16 + 4];
  int32_t n_ids;
  int32_t n_data;
} node_build;

#define MAX_DATA_INPUTS 16

/* Adds parameter <node>.<suffix> as the node's next input. */
static cs_status
push_param (cs_graph *g, parse_ctx *c, node_build *b, const char *suffix, const cs_shape *shape)
{
  int32_t id = add_param (g, c, suffix, shape);
  if (id < 0)
    return c->err != NULL ? c->err->code : CS_ERR_FORMAT;
  b->ids[b->n_ids++] = id;
  return CS_OK;
}

/* Data inputs: named earlier nodes, or the previous node; their count checked against the op. */
static cs_status
parse_inputs (const cs_graph *g, parse_ctx *c, const cJSON *node, const char *op, int32_t prev,
              node_build *b)
{
  const cJSON *inputs = cJSON_GetObjectItemCaseSensitive (node, "inputs");
  bool multi = strcmp (op, "add") == 0 || strcmp (op, "concat") == 0;
  if (inputs == NULL)
    {
      if (multi)
        return fail (c, CS_ERR_FORMAT, "%s needs \"inputs\"", op);
      b->ids[b->n_data++] = prev;
    }
  else
    {
      if (!cJSON_IsArray (inputs))
        return fail (c, CS_ERR_FORMAT, "inputs must be a list of node names");
      const cJSON *in;
      cJSON_ArrayForEach (in, inputs)
        {
          if (!cJSON_IsString (in))
            return fail (c, CS_ERR_FORMAT, "inputs must be a list of node names");
          if (b->n_data >= MAX_DATA_INPUTS)
            return fail (c, CS_ERR_UNSUPPORTED, "more than %d inputs", MAX_DATA_INPUTS);
          int32_t id = cs_graph_find (g, in->valuestring);
          if (id < 0 || g->nodes[id].op == CS_OP_PARAM || g->nodes[id].op == CS_OP_CONST)
            return fail (c, CS_ERR_FORMAT, "input '%.100s' is not an earlier node",
                         in->valuestring);
          b->ids[b->n_data++] = id;
        }
    }
  b->n_ids = b->n_data;
  if (strcmp (op, "add") == 0 && b->n_data != 2)
    return fail (c, CS_ERR_FORMAT, "add takes 2 inputs, not %d", b->n_data);
  if (strcmp (op, "concat") == 0 && b->n_data < 2)
    return fail (c, CS_ERR_FORMAT, "concat takes at least 2 inputs");
  if (!multi && b->n_data != 1)
    return fail (c, CS_ERR_FORMAT, "%s takes 1 input, not %d", op, b->n_data);
  return CS_OK;
}

static const int32_t one2[2] = { 1, 1 }, zero2[2] = { 0, 0 };

static cs_status
parse_conv2d (cs_graph *g, parse_ctx *c, const cJSON *node, const cs_shape *xs, node_build *b)
{
  cs_window_attrs *w = &b->attrs.window;
  int64_t out_ch, groups;
  int32_t pad[2];
  bool bias = true;
  char buf[128];
  cs_status st;
  if ((st = get_int (c, node, "out_channels", 0, true, 1, MODEL_JSON_MAX_INT, &out_ch))
      || (st = get_size (c, node, "kernel", NULL, 1, w->kernel))
      || (st = get_size (c, node, "stride", one2, 1, w->stride))
      || (st = get_size (c, node, "padding", zero2, 0, pad))
      || (st = get_size (c, node, "dilation", one2, 1, w->dilation))
      || (st = get_int (c, node, "groups", 1, false, 1, MODEL_JSON_MAX_INT, &groups))
      || (st = get_bool (c, node, "bias", true, &bias)))
    return st;
  if (xs->ndim != 4)
    return fail (c, CS_ERR_SHAPE, "conv2d needs a [N, C, H, W] input, got %s",
                 cs_shape_format (xs, buf, sizeof buf));
  int64_t in_ch = xs->dim[1];
  if (in_ch % groups != 0 || out_ch % groups != 0)
    return fail (c, CS_ERR_SHAPE, "groups = %lld must divide the %lld input and %lld output "
                 "channels", (long long) groups, (long long) in_ch, (long long) out_ch);
  w->pad[0] = w->pad[2] = pad[0];
  w->pad[1] = w->pad[3] = pad[1];
  w->groups = (int32_t) groups;
  cs_shape ws = cs_shape_4d (out_ch, in_ch / groups, w->kernel[0], w->kernel[1]);
  cs_shape bs = cs_shape_make (1, &out_ch);
  if ((st = push_param (g, c, b, "weight", &ws)) != CS_OK)
    return st;
  return bias ? push_param (g, c, b, "bias", &bs) : CS_OK;
}

static cs_status
parse_linear (cs_graph *g, parse_ctx *c, const cJSON *node, const cs_shape *xs, node_build *b)
{
  int64_t v;
  bool bias = true;
  char buf[128];
  cs_status st;
  if ((st = get_int (c, node, "out_features", 0, true, 1, MODEL_JSON_MAX_INT, &v))
      || (st = get_bool (c, node, "bias", true, &bias)))
    return st;
  if (xs->ndim != 2)
    return fail (c, CS_ERR_SHAPE, "linear needs a [N, features] input, got %s (add a "
                 "flatten node)", cs_shape_format (xs, buf, sizeof buf));
  b->attrs.gemm.trans_b = true;
  b->attrs.gemm.alpha = b->attrs.gemm.beta = 1.0f;
  cs_shape ws = cs_shape_make (2, (int64_t[]) { v, xs->dim[1] });
  cs_shape bs = cs_shape_make (1, &v);
  if ((st = push_param (g, c, b, "weight", &ws)) != CS_OK)
    return st;
  return bias ? push_param (g, c, b, "bias", &bs) : CS_OK;
}

static cs_status
parse_pool (parse_ctx *c, const cJSON *node, node_build *b)
{
  cs_window_attrs *w = &b->attrs.window;
  int32_t pad[2];
  bool include_pad = true;
  cs_status st;
  if ((st = get_size (c, node, "kernel", NULL, 1, w->kernel))
      || (st = get_size (c, node, "stride", w->kernel, 1, w->stride))
      || (st = get_size (c, node, "padding", zero2, 0, pad))
      || (st = get_bool (c, node, "ceil_mode", false, &w->ceil_mode))
      || (b->kind == CS_OP_AVGPOOL
          && (st = get_bool (c, node, "count_include_pad", true, &include_pad))))
    return st;
  if (pad[0] * 2 > w->kernel[0] || pad[1] * 2 > w->kernel[1])
    return fail (c, CS_ERR_FORMAT, "padding must be at most half the kernel");
  w->pad[0] = w->pad[2] = pad[0];
  w->pad[1] = w->pad[3] = pad[1];
  w->dilation[0] = w->dilation[1] = 1;
  /* PyTorch's AvgPool2d counts the padding by default */
  w->count_include_pad = include_pad;
  return CS_OK;
}

static cs_status
parse_batchnorm (cs_graph *g, parse_ctx *c, const cJSON *node, const cs_shape *xs, node_build *b)
{
  char buf[128];
  cs_status st;
  if ((st = get_float (c, node, "eps", 1e-5, 0, 1, true, &b->attrs.norm.eps))
      || (st = get_float (c, node, "momentum", 0.1, 0, 1, false, &b->attrs.norm.momentum)))
    return st;
  if (xs->ndim < 2)
    return fail (c, CS_ERR_SHAPE, "batchnorm2d needs channels, got %s",
                 cs_shape_format (xs, buf, sizeof buf));
  cs_shape cs = cs_shape_make (1, &xs->dim[1]);
  static const char *const names[] = { "weight", "bias", "running_mean", "running_var" };
  for (int i = 0; i < 4; i++)
    if ((st = push_param (g, c, b, names[i], &cs)) != CS_OK)
      return st;
  return CS_OK;
}

/* The op's attributes and parameters (b->kind set); xs is the first data input's shape. */
static cs_status
parse_op (cs_graph *g, parse_ctx *c, const cJSON *node, const cs_shape *xs, node_build *b)
{
  b->attrs = cs_attrs_default (b->kind);
  int64_t v;
  cs_status st;
  switch (b->kind)
    {
    case CS_OP_CONV2D: return parse_conv2d (g, c, node, xs, b);
    case CS_OP_GEMM: return parse_linear (g, c, node, xs, b);
    case CS_OP_MAXPOOL:
    case CS_OP_AVGPOOL: return parse_pool (c, node, b);
    case CS_OP_BATCHNORM: return parse_batchnorm (g, c, node, xs, b);
    case CS_OP_LEAKY_RELU:
      return get_float (c, node, "slope", 0.01, -1e6, 1e6, false, &b->attrs.act.alpha);
    case CS_OP_DROPOUT:
      if ((st = get_float (c, node, "p", 0.5, 0, 1, false, &b->attrs.dropout.p)))
        return st;
      if (b->attrs.dropout.p >= 1.0f)
        return fail (c, CS_ERR_FORMAT, "p must be below 1");
      return CS_OK;
    case CS_OP_FLATTEN:
      b->attrs.axis.axis = 1;
      return CS_OK;
    case CS_OP_CONCAT:
      if ((st = get_int (c, node, "axis", 1, false, 1, CS_MAX_DIMS - 1, &v)))
        return st;
      b->attrs.axis.axis = (int32_t) v;
      return CS_OK;
    default: /* no attributes */
      return CS_OK;
    }
}

/* One node of "nodes": its data inputs resolved, parameters added, then the op. */
static cs_status
parse_node (cs_graph *g, parse_ctx *c, const cJSON *node, int32_t prev, int32_t *out_id)
{
  const cJSON *op_item = cJSON_GetObjectItemCaseSensitive (node, "op");
  if (!cJSON_IsString (op_item))
    return fail (c, CS_ERR_FORMAT, "missing \"op\"");
  const char *op = op_item->valuestring;
  int opi = find_op (op);
  if (opi < 0)
    return fail (c, CS_ERR_UNSUPPORTED, "unknown op '%.64s'", op);
  node_build b = { .kind = op_keys[opi].kind };
  cs_status st = check_keys (c, node, opi);
  if (st == CS_OK)
    st = parse_inputs (g, c, node, op, prev, &b);
  if (st == CS_OK)
    {
      const cs_shape xs = g->nodes[b.ids[0]].shape;
      st = parse_op (g, c, node, &xs, &b);
    }
  if (st != CS_OK)
    return st;
  int32_t id = cs_graph_add_op (g, b.kind, c->node, op, b.ids, b.n_ids, &b.attrs, c->err);
  if (id < 0)
    return cs_error_prefix (c->err, "%s", c->file);
  *out_id = id;
  return CS_OK;
}

cs_graph *
cs_model_json_parse (const char *text, size_t size, const char *name, cs_error *err)
{
  parse_ctx c = { .file = name, .index = -1, .err = err };
  cJSON *root = cJSON_ParseWithLength (text, size);
  if (root == NULL || !cJSON_IsObject (root))
    {
      cJSON_Delete (root);
      fail (&c, CS_ERR_FORMAT, "not a JSON object");
      return NULL;
    }
  cs_graph *g = NULL;
  const cJSON *format = cJSON_GetObjectItemCaseSensitive (root, "format");
  const cJSON *input = cJSON_GetObjectItemCaseSensitive (root, "input");
  const cJSON *nodes = cJSON_GetObjectItemCaseSensitive (root, "nodes");
  if (!cJSON_IsString (format) || strcmp (format->valuestring, MODEL_JSON_FORMAT) != 0)
    {
      fail (&c, CS_ERR_FORMAT, "not a model.json (\"format\" is not \"" MODEL_JSON_FORMAT "\")");
      goto out;
    }
  int n_in = cJSON_IsArray (input) ? cJSON_GetArraySize (input) : 0;
  if (n_in < 1 || n_in > CS_MAX_DIMS - 1)
    {
      fail (&c, CS_ERR_FORMAT, "\"input\" must be a shape like [C, H, W]");
      goto out;
    }
  cs_shape in_shape = { .ndim = n_in + 1, .dim = { 1 } };
  for (int i = 0; i < n_in; i++)
    {
      int64_t d;
      if (!json_int (cJSON_GetArrayItem (input, i), &d) || d < 1 || d > MODEL_JSON_MAX_INT)
        {
          fail (&c, CS_ERR_FORMAT, "\"input\" dimensions must be positive integers");
          goto out;
        }
      in_shape.dim[i + 1] = d;
    }
  if (cs_shape_numel (&in_shape) < 0)
    {
      fail (&c, CS_ERR_LIMIT, "\"input\" is larger than %lld elements", (long long) CS_MAX_ELEMENTS);
      goto out;
    }
  int n_nodes = cJSON_IsArray (nodes) ? cJSON_GetArraySize (nodes) : 0;
  if (n_nodes < 1 || n_nodes > MODEL_JSON_MAX_NODES)
    {
      fail (&c, CS_ERR_FORMAT, "\"nodes\" must be a non-empty list");
      goto out;
    }
  g = cs_graph_new ();
  if (g == NULL)
    {
      fail (&c, CS_ERR_MEMORY, "out of memory");
      goto out;
    }
  int32_t prev = cs_graph_add_input (g, INPUT_NAME, &in_shape, err);
  if (prev < 0)
    {
      cs_error_prefix (err, "%s", name);
      goto fail_graph;
    }
  const cJSON *node;
  c.index = 0;
  cJSON_ArrayForEach (node, nodes)
    {
      c.node = NULL;
      if (!cJSON_IsObject (node))
        {
          fail (&c, CS_ERR_FORMAT, "not a JSON object");
          goto fail_graph;
        }
      const cJSON *nm = cJSON_GetObjectItemCaseSensitive (node, "name");
      if (!cJSON_IsString (nm) || nm->valuestring[0] == '\0' || strlen (nm->valuestring) > 200)
        {
          fail (&c, CS_ERR_FORMAT, "missing \"name\" (a non-empty string)");
          goto fail_graph;
        }
      c.node = nm->valuestring;
      if (cs_graph_find (g, c.node) >= 0)
        {
          fail (&c, CS_ERR_FORMAT, "name is used by an earlier node");
          goto fail_graph;
        }
      if (parse_node (g, &c, node, prev, &prev) != CS_OK)
        goto fail_graph;
      c.index++;
    }
  g->output_node = prev;
  goto out;

fail_graph:
  cs_graph_unref (g);
  g = NULL;
out:
  cJSON_Delete (root);
  return g;
}

cs_model *
cs_model_json_load (const char *path, uint64_t seed, cs_error *err)
{
  uint8_t *text;
  size_t size;
  if (cs_file_read_all (path, MODEL_JSON_MAX_FILE, &text, &size, err) != CS_OK)
    return NULL;
  cs_graph *g = cs_model_json_parse ((const char *) text, size, path, err);
  free (text);
  if (g == NULL)
    return NULL;
  cs_model *m = cs_model_new (g, err);
  cs_graph_unref (g);
  if (m == NULL)
    {
      cs_error_prefix (err, "%s", path);
      return NULL;
    }
  cs_model_init_weights (m, seed);
  free (m->path);
  m->path = strdup (path);
  return m;
}

/* ---- writing ---- */

/* The shortest decimal that reads back as the same float ("1e-05", not "9.99999974737875e-06"). */
static cJSON *
add_float (cJSON *obj, const char *key, float f)
{
  char buf[32];
  for (int prec = 6; prec <= 9; prec++)
    {
      snprintf (buf, sizeof buf, "%.*g", prec, (double) f);
      if ((float) strtod (buf, NULL) == f)
        break;
    }
  return cJSON_AddNumberToObject (obj, key, strtod (buf, NULL));
}

static void
add_size (cJSON *obj, const char *key, int32_t h, int32_t w)
{
  if (h == w)
    cJSON_AddNumberToObject (obj, key, h);
  else
    {
      int hw[2] = { h, w };
      cJSON_AddItemToObject (obj, key, cJSON_CreateIntArray (hw, 2));
    }
}

/* Checks that input i of node is the parameter "<node>.<suffix>". */
static bool
is_param (const cs_graph *g, const cs_node *n, int32_t i, const char *suffix)
{
  if (i >= n->n_inputs)
    return false;
  const cs_node *p = &g->nodes[n->inputs[i]];
  size_t len = strlen (n->name);
  return p->op == CS_OP_PARAM && strncmp (p->name, n->name, len) == 0 && p->name[len] == '.'
         && strcmp (p->name + len + 1, suffix) == 0;
}

static const char *
op_name (cs_op op)
{
  const cs_op_info *info = op < CS_OP_COUNT ? cs_op_get (op) : NULL;
  return info != NULL && info->name != NULL ? info->name : "?";
}

static cs_status
save_node (const cs_graph *g, int32_t id, int32_t prev, cJSON *out, const char *path,
           cs_error *err)
{
  const cs_node *n = &g->nodes[id];
  const cs_window_attrs *w = &n->attrs.window;
  const char *op = NULL;
  int32_t n_data = 1;
  bool ok = true;
  switch (n->op)
    {
    case CS_OP_CONV2D:
      op = "conv2d";
      ok = is_param (g, n, 1, "weight") && (n->n_inputs == 2 || is_param (g, n, 2, "bias"))
           && w->pad[0] == w->pad[2] && w->pad[1] == w->pad[3];
      break;
    case CS_OP_GEMM:
      op = "linear";
      ok = is_param (g, n, 1, "weight") && (n->n_inputs == 2 || is_param (g, n, 2, "bias"))
           && n->attrs.gemm.trans_b && n->attrs.gemm.alpha == 1.0f && n->attrs.gemm.beta == 1.0f;
      break;
    case CS_OP_MAXPOOL:
    case CS_OP_AVGPOOL:
      op = n->op == CS_OP_MAXPOOL ? "maxpool2d" : "avgpool2d";
      ok = w->pad[0] == w->pad[2] && w->pad[1] == w->pad[3] && w->dilation[0] <= 1
           && w->dilation[1] <= 1;
      break;
    case CS_OP_BATCHNORM:
      op = "batchnorm2d";
      ok = is_param (g, n, 1, "weight") && is_param (g, n, 2, "bias")
           && is_param (g, n, 3, "running_mean") && is_param (g, n, 4, "running_var");
      break;
    case CS_OP_GLOBAL_AVGPOOL: op = "global_avgpool"; break;
    case CS_OP_RELU: op = "relu"; break;
    case CS_OP_LEAKY_RELU: op = "leaky_relu"; break;
    case CS_OP_SIGMOID: op = "sigmoid"; break;
    case CS_OP_TANH: op = "tanh"; break;
    case CS_OP_DROPOUT: op = "dropout"; break;
    case CS_OP_FLATTEN: op = "flatten"; ok = n->attrs.axis.axis == 1; break;
    case CS_OP_ADD: op = "add"; n_data = 2; break;
    case CS_OP_CONCAT: op = "concat"; n_data = n->n_inputs; break;
    default: break;
    }
  for (int32_t i = 0; i < n_data && ok && op != NULL; i++)
    ok = i < n->n_inputs && g->nodes[n->inputs[i]].op != CS_OP_PARAM
         && g->nodes[n->inputs[i]].op != CS_OP_CONST;
  if (op == NULL || !ok)
    return cs_error_set (err, CS_ERR_UNSUPPORTED, "%s: node '%s' (%s) cannot be written as "
                         "model.json", path, n->name,
                         n->source_op != NULL ? n->source_op : op_name (n->op));
  cJSON *o = cJSON_CreateObject ();
  cJSON_AddItemToArray (out, o);
  cJSON_AddStringToObject (o, "name", n->name);
  cJSON_AddStringToObject (o, "op", op);
  if (n_data > 1 || n->inputs[0] != prev)
    {
      cJSON *ins = cJSON_AddArrayToObject (o, "inputs");
      for (int32_t i = 0; i < n_data; i++)
        {
          int32_t in = n->inputs[i];
          cJSON_AddItemToArray (ins, cJSON_CreateString (in == g->input_node ? INPUT_NAME
                                                         : g->nodes[in].name));
        }
    }
  switch (n->op)
    {
    case CS_OP_CONV2D:
      cJSON_AddNumberToObject (o, "out_channels", (double) g->nodes[n->inputs[1]].shape.dim[0]);
      add_size (o, "kernel", w->kernel[0], w->kernel[1]);
      if (w->stride[0] != 1 || w->stride[1] != 1)
        add_size (o, "stride", w->stride[0], w->stride[1]);
      if (w->pad[0] != 0 || w->pad[1] != 0)
        add_size (o, "padding", w->pad[0], w->pad[1]);
      if (w->dilation[0] != 1 || w->dilation[1] != 1)
        add_size (o, "dilation", w->dilation[0], w->dilation[1]);
      if (w->groups != 1)
        cJSON_AddNumberToObject (o, "groups", w->groups);
      if (n->n_inputs == 2)
        cJSON_AddFalseToObject (o, "bias");
      break;
    case CS_OP_GEMM:
      cJSON_AddNumberToObject (o, "out_features", (double) g->nodes[n->inputs[1]].shape.dim[0]);
      if (n->n_inputs == 2)
        cJSON_AddFalseToObject (o, "bias");
      break;
    case CS_OP_MAXPOOL:
    case CS_OP_AVGPOOL:
      add_size (o, "kernel", w->kernel[0], w->kernel[1]);
      if (w->stride[0] != w->kernel[0] || w->stride[1] != w->kernel[1])
        add_size (o, "stride", w->stride[0], w->stride[1]);
      if (w->pad[0] != 0 || w->pad[1] != 0)
        add_size (o, "padding", w->pad[0], w->pad[1]);
      if (w->ceil_mode)
        cJSON_AddTrueToObject (o, "ceil_mode");
      if (n->op == CS_OP_AVGPOOL && !w->count_include_pad)
        cJSON_AddFalseToObject (o, "count_include_pad");
      break;
    case CS_OP_BATCHNORM:
      add_float (o, "eps", n->attrs.norm.eps);
      add_float (o, "momentum", n->attrs.norm.momentum);
      break;
    case CS_OP_LEAKY_RELU:
      add_float (o, "slope", n->attrs.act.alpha);
      break;
    case CS_OP_DROPOUT:
      add_float (o, "p", n->attrs.dropout.p);
      break;
    case CS_OP_CONCAT:
      if (n->attrs.axis.axis != 1)
        cJSON_AddNumberToObject (o, "axis", n->attrs.axis.axis);
      break;
    default:
      break;
    }
  return CS_OK;
}

/* Grows a text buffer; false when out of memory. */
static bool
append (char **buf, size_t *len, size_t *cap, const char *text)
{
  size_t n = strlen (text);
  if (*len + n + 1 > *cap)
    {
      size_t cap2 = (*cap + n + 1) * 2;
      char *b = realloc (*buf, cap2);
      if (b == NULL)
        return false;
      *buf = b;
      *cap = cap2;
    }
  memcpy (*buf + *len, text, n + 1);
  *len += n;
  return true;
}

cs_status
cs_model_json_save (const cs_graph *g, const char *path, cs_error *err)
{
  const cs_shape *in = &g->nodes[g->input_node].shape;
  cJSON *nodes = cJSON_CreateArray ();
  int32_t prev = g->input_node;
  for (int32_t id = 0; id < g->n_nodes; id++)
    {
      cs_op op = g->nodes[id].op;
      if (op == CS_OP_INPUT || op == CS_OP_PARAM)
        continue;
      cs_status st = save_node (g, id, prev, nodes, path, err);
      if (st != CS_OK)
        {
          cJSON_Delete (nodes);
          return st;
        }
      prev = id;
    }
  if (prev != g->output_node)
    {
      cJSON_Delete (nodes);
      return cs_error_set (err, CS_ERR_UNSUPPORTED, "%s: the output is not the last node; "
                           "model.json cannot express that", path);
    }
  /* One node per line (docs/formats/model-json.md), so that diffs of architectures read well. */
  char *buf = NULL;
  size_t len = 0, cap = 0;
  char line[256];
  bool ok = append (&buf, &len, &cap, "{\"format\": \"" MODEL_JSON_FORMAT "\", \"input\": [");
  for (int32_t d = 1; d < in->ndim && ok; d++)
    {
      snprintf (line, sizeof line, "%s%lld", d > 1 ? ", " : "", (long long) in->dim[d]);
      ok = append (&buf, &len, &cap, line);
    }
  ok = ok && append (&buf, &len, &cap, "], \"nodes\": [\n");
  const cJSON *node;
  cJSON_ArrayForEach (node, nodes)
    {
      char *text = cJSON_PrintUnformatted (node);
      ok = ok && text != NULL && append (&buf, &len, &cap, "  ")
           && append (&buf, &len, &cap, text)
           && append (&buf, &len, &cap, node->next != NULL ? ",\n" : "]}\n");
      free (text);
    }
  cJSON_Delete (nodes);
  cs_status st;
  if (!ok)
    st = cs_error_set (err, CS_ERR_MEMORY, "%s: out of memory", path);
  else
    st = cs_file_write_all (path, buf, len, err);
  free (buf);
  return st;
}
