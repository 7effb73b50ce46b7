/* The computation graph: building it node by node with shape inference, and queries over it. */
#include "graph/graph.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "graph/ops.h"

/* A bound on graph size: ONNX files of real CNNs have a few thousand nodes at most. */
#define CS_MAX_NODES 1000000

cs_graph *
cs_graph_new (void)
{
  cs_graph *g = calloc (1, sizeof *g);
  if (g == NULL)
    return NULL;
  g->refcount = 1;
  g->input_node = -1;
  g->output_node = -1;
  return g;
}

cs_graph *
cs_graph_ref (cs_graph *g)
{
  if (g != NULL)
    __atomic_add_fetch (&g->refcount, 1, __ATOMIC_SEQ_CST);
  return g;
}

void
cs_graph_unref (cs_graph *g)
{
  if (g == NULL || __atomic_sub_fetch (&g->refcount, 1, __ATOMIC_SEQ_CST) > 0)
    return;
  for (int32_t i = 0; i < g->n_nodes; i++)
    {
      cs_node *n = &g->nodes[i];
      free (n->name);
      free (n->alias);
      free (n->source_op);
      free (n->inputs);
      cs_tensor_free (&n->value);
    }
  free (g->nodes);
  free (g->param_nodes);
  free (g);
}

int32_t
cs_graph_find (const cs_graph *g, const char *name)
{
  if (name == NULL)
    return -1;
  for (int32_t i = 0; i < g->n_nodes; i++)
    if (strcmp (g->nodes[i].name, name) == 0)
      return i;
  for (int32_t i = 0; i < g->n_nodes; i++)
    if (g->nodes[i].alias != NULL && strcmp (g->nodes[i].alias, name) == 0)
      return i;
  return -1;
}

/* Appends a node with a unique name; returns it or NULL with err set. */
static cs_node *
append_node (cs_graph *g, cs_op op, const char *name, cs_error *err)
{
  if (name == NULL || name[0] == '\0')
    {
      cs_error_set (err, CS_ERR_ARGUMENT, "node %d has no name", g->n_nodes);
      return NULL;
    }
  if (cs_graph_find (g, name) >= 0)
    {
      cs_error_set (err, CS_ERR_FORMAT, "two nodes are named '%s'", name);
      return NULL;
    }
  if (g->n_nodes >= CS_MAX_NODES)
    {
      cs_error_set (err, CS_ERR_LIMIT, "more than %d nodes", CS_MAX_NODES);
      return NULL;
    }
  if (g->n_nodes == g->capacity)
    {
      int32_t cap = g->capacity ? g->capacity * 2 : 64;
      cs_node *nodes = realloc (g->nodes, (size_t) cap * sizeof *nodes);
      if (nodes == NULL)
        {
          cs_error_set (err, CS_ERR_MEMORY, "out of memory adding node '%s'", name);
          return NULL;
        }
      g->nodes = nodes;
      g->capacity = cap;
    }
  cs_node *n = &g->nodes[g->n_nodes];
  memset (n, 0, sizeof *n);
  n->name = strdup (name);
  if (n->name == NULL)
    {
      cs_error_set (err, CS_ERR_MEMORY, "out of memory adding node '%s'", name);
      return NULL;
    }
  n->op = op;
  n->param_index = -1;
  g->n_nodes++;
  return n;
}

static cs_status
check_shape (const cs_shape *shape, const char *name, cs_error *err)
{
  char buf[160];
  if (shape->ndim < 0 || shape->ndim > CS_MAX_DIMS)
    return cs_error_set (err, CS_ERR_UNSUPPORTED, "'%s' has rank %d (at most %d is supported)", name,
                         shape->ndim, CS_MAX_DIMS);
  if (cs_shape_numel (shape) < 0)
    return cs_error_set (err, CS_ERR_LIMIT, "'%s' has shape %s, beyond %lld elements", name,
                         cs_shape_format (shape, buf, sizeof buf), (long long) CS_MAX_ELEMENTS);
  return CS_OK;
}

int32_t
cs_graph_add_input (cs_graph *g, const char *name, const cs_shape *shape, cs_error *err)
{
  if (g->input_node >= 0)
    {
      cs_error_set (err, CS_ERR_UNSUPPORTED, "more than one model input ('%s' and '%s')",
                    g->nodes[g->input_node].name, name);
      return -1;
    }
  if (check_shape (shape, name, err) != CS_OK)
    return -1;
  cs_node *n = append_node (g, CS_OP_INPUT, name, err);
  if (n == NULL)
    return -1;
  n->shape = *shape;
  n->shape.dim[0] = 1;
  n->batched = true;
  g->input_node = g->n_nodes - 1;
  return g->input_node;
}

int32_t
cs_graph_add_param (cs_graph *g, const char *name, const cs_shape *shape, cs_error *err)
{
  if (check_shape (shape, name, err) != CS_OK)
    return -1;
  int32_t *pn = realloc (g->param_nodes, (size_t) (g->n_params + 1) * sizeof *pn);
  if (pn == NULL)
    {
      cs_error_set (err, CS_ERR_MEMORY, "out of memory adding parameter '%s'", name);
      return -1;
    }
  g->param_nodes = pn;
  cs_node *n = append_node (g, CS_OP_PARAM, name, err);
  if (n == NULL)
    return -1;
  n->shape = *shape;
  n->param_index = g->n_params;
  g->param_nodes[g->n_params++] = g->n_nodes - 1;
  return g->n_nodes - 1;
}

int32_t
cs_graph_add_const (cs_graph *g, const char *name, cs_tensor *value, cs_error *err)
{
  if (check_shape (&value->shape, name, err) != CS_OK)
    return -1;
  cs_node *n = append_node (g, CS_OP_CONST, name, err);
  if (n == NULL)
    return -1;
  n->shape = value->shape;
  n->value = *value;
  memset (value, 0, sizeof *value);
  return g->n_nodes - 1;
}

int32_t
cs_graph_add_op (cs_graph *g, cs_op op, const char *name, const char *source_op,
                 const int32_t *inputs, int32_t n_inputs, const cs_attrs *attrs, cs_error *err)
{
  const cs_op_info *info = (op > CS_OP_CONST && op < CS_OP_COUNT) ? cs_op_get (op) : NULL;
  if (info == NULL || info->infer == NULL)
    {
      cs_error_set (err, CS_ERR_UNSUPPORTED, "node '%s': operator %d is not available", name, (int) op);
      return -1;
    }
  if (n_inputs < info->min_inputs || (info->max_inputs >= 0 && n_inputs > info->max_inputs))
    {
      cs_error_set (err, CS_ERR_FORMAT, "node '%s' (%s): %d inputs, expected %d to %d", name,
                    info->name, n_inputs, info->min_inputs, info->max_inputs);
      return -1;
    }
  bool batched = false;
  for (int32_t i = 0; i < n_inputs; i++)
    {
      if (inputs[i] < 0 || inputs[i] >= g->n_nodes)
        {
          cs_error_set (err, CS_ERR_FORMAT, "node '%s' (%s): input %d refers to no earlier node",
                        name, info->name, i);
          return -1;
        }
      batched = batched || g->nodes[inputs[i]].batched;
    }
  const cs_shape **shapes = calloc ((size_t) (n_inputs > 0 ? n_inputs : 1), sizeof *shapes);
  int32_t *ids = malloc ((size_t) (n_inputs > 0 ? n_inputs : 1) * sizeof *ids);
  if (shapes == NULL || ids == NULL)
    {
      free (shapes);
      free (ids);
      cs_error_set (err, CS_ERR_MEMORY, "out of memory adding node '%s'", name);
      return -1;
    }
  for (int32_t i = 0; i < n_inputs; i++)
    {
      shapes[i] = &g->nodes[inputs[i]].shape;
      ids[i] = inputs[i];
    }
  /* infer() sees a node that looks like the one about to be added */
  cs_node probe = { .name = (char *) name, .source_op = (char *) source_op, .op = op,
                    .n_inputs = n_inputs, .inputs = ids, .batched = batched, .param_index = -1 };
  probe.attrs = attrs != NULL ? *attrs : cs_attrs_default (op);
  cs_shape out = { 0 };
  cs_error inner = { 0 };
  cs_status st = info->infer (&probe, shapes, &out, &inner);
  free (shapes);
  if (st == CS_OK)
    st = check_shape (&out, name, &inner);
  if (st != CS_OK)
    {
      free (ids);
      cs_error_set (err, st, "node '%s' (%s): %s", name, source_op ? source_op : info->name, inner.message);
      return -1;
    }
  cs_node *n = append_node (g, op, name, err);
  if (n == NULL)
    {
      free (ids);
      return -1;
    }
  n->source_op = source_op ? strdup (source_op) : NULL;
  n->n_inputs = n_inputs;
  n->inputs = ids;
  n->attrs = probe.attrs;
  n->shape = out;
  n->batched = batched;
  if (batched)
    g->output_node = g->n_nodes - 1;
  return g->n_nodes - 1;
}

int64_t
cs_graph_node_parameters (const cs_graph *g, int32_t id)
{
  if (id < 0 || id >= g->n_nodes)
    return 0;
  const cs_node *n = &g->nodes[id];
  if (n->op == CS_OP_PARAM)
    return 0;
  int64_t total = 0;
  for (int32_t i = 0; i < n->n_inputs; i++)
    {
      const cs_node *in = &g->nodes[n->inputs[i]];
      if (in->op == CS_OP_PARAM)
        total += cs_shape_numel (&in->shape);
    }
  return total;
}

int64_t
cs_graph_node_flops (const cs_graph *g, int32_t id)
{
  if (id < 0 || id >= g->n_nodes)
    return 0;
  const cs_node *n = &g->nodes[id];
  if (n->op <= CS_OP_CONST)
    return 0;
  const cs_op_info *info = cs_op_get (n->op);
  if (info == NULL)
    return 0;
  if (info->flops == NULL)
    return cs_shape_numel (&n->shape);
  const cs_shape **shapes = malloc ((size_t) (n->n_inputs > 0 ? n->n_inputs : 1) * sizeof *shapes);
  if (shapes == NULL)
    return 0;
  for (int32_t i = 0; i < n->n_inputs; i++)
    shapes[i] = &g->nodes[n->inputs[i]].shape;
  int64_t flops = info->flops (n, shapes, &n->shape);
  free (shapes);
  return flops;
}

bool
cs_graph_node_is_spatial (const cs_graph *g, int32_t id)
{
  const cs_node *n = &g->nodes[id];
  return n->batched && n->op != CS_OP_INPUT && n->shape.ndim == 4 && n->shape.dim[2] > 1
         && n->shape.dim[3] > 1;
}

int32_t
cs_graph_last_spatial_node (const cs_graph *g)
{
  for (int32_t i = g->n_nodes - 1; i >= 0; i--)
    if (cs_graph_node_is_spatial (g, i))
      return i;
  return -1;
}

int32_t
cs_graph_weight_node (const cs_graph *g, int32_t layer)
{
  if (g == NULL || layer < 0 || layer >= g->n_nodes)
    return -1;
  int64_t channels = g->nodes[layer].shape.ndim >= 2 ? g->nodes[layer].shape.dim[1] : -1;
  for (int32_t id = layer; id >= 0;)
    {
      const cs_node *n = &g->nodes[id];
      if (n->shape.ndim < 2 || n->shape.dim[1] != channels || !n->batched)
        return -1;
      if ((n->op == CS_OP_CONV2D || n->op == CS_OP_GEMM) && n->n_inputs >= 2
          && g->nodes[n->inputs[1]].op == CS_OP_PARAM)
        return id;
      if (n->n_inputs == 0)
        return -1;
      id = n->inputs[0];
    }
  return -1;
}

cs_attrs
cs_attrs_default (cs_op op)
{
  cs_attrs a;
  memset (&a, 0, sizeof a);
  switch (op)
    {
    case CS_OP_CONV2D:
    case CS_OP_MAXPOOL:
    case CS_OP_AVGPOOL:
      a.window.kernel[0] = a.window.kernel[1] = 1;
      a.window.stride[0] = a.window.stride[1] = 1;
      a.window.dilation[0] = a.window.dilation[1] = 1;
      a.window.groups = 1;
      a.window.count_include_pad = false;
      break;
    case CS_OP_GEMM:
      a.gemm.alpha = 1.0f;
      a.gemm.beta = 1.0f;
      break;
    case CS_OP_LEAKY_RELU:
      a.act.alpha = 0.01f;
      break;
    case CS_OP_CLIP:
      a.act.alpha = -INFINITY;
      a.act.beta = INFINITY;
      break;
    case CS_OP_HARD_SIGMOID:
      a.act.alpha = 0.2f;
      a.act.beta = 0.5f;
      break;
    case CS_OP_BATCHNORM:
      a.norm.eps = 1e-5f;
      a.norm.momentum = 0.1f;
      break;
    case CS_OP_DROPOUT:
      a.dropout.p = 0.5f;
      break;
    case CS_OP_SOFTMAX:
    case CS_OP_FLATTEN:
    case CS_OP_CONCAT:
      a.axis.axis = 1;
      break;
    default:
      break;
    }
  return a;
}
