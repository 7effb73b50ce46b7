/* The example history's inference-only model: a copy of the graph in which every batch norm that
 * follows a convolution is folded into that convolution's weights and bias, and a ReLU before a
 * max pool runs after it, so that a forward pass skips whole passes over the activations
 * (measured in bench/README.md). */
#include "analysis/history-private.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/model.h"
#include "graph/ops.h"

enum { BN_X, BN_SCALE, BN_BIAS, BN_MEAN, BN_VAR, BN_N };

typedef struct {
  int32_t conv_w, conv_b;   /* source parameter indices (conv_b -1 when the conv has no bias) */
  int32_t bn[BN_N];         /* source parameter indices of the batch norm's scale..var (BN_X unused) */
  int32_t dst_w, dst_b;     /* parameter indices in the folded model */
  double eps;
} fold;

struct cs_history_infer {
  cs_graph *graph;          /* the folded graph */
  int32_t n_src_params;
  int32_t *param_map;       /* folded parameter index -> source parameter index */
  int32_t n_folds;
  fold *folds;
};

/* How many nodes read each node's output. */
static int32_t *
consumers (const cs_graph *g)
{
  int32_t *c = calloc ((size_t) (g->n_nodes > 0 ? g->n_nodes : 1), sizeof *c);
  if (c != NULL)
    for (int32_t id = 0; id < g->n_nodes; id++)
      for (int32_t i = 0; i < g->nodes[id].n_inputs; i++)
        c[g->nodes[id].inputs[i]]++;
  return c;
}

static bool
is_param (const cs_graph *g, int32_t id)
{
  return g->nodes[id].op == CS_OP_PARAM;
}

/* Whether batch norm node `bn` can be folded into the convolution feeding it: the conv feeds
 * nothing else, is not the output, and its weights, bias and the norm's four tensors are
 * parameters of their own (so that changing them changes nothing else). */
static bool
foldable (const cs_graph *g, const int32_t *uses, int32_t bn)
{
  const cs_node *b = &g->nodes[bn];
  if (b->op != CS_OP_BATCHNORM || b->n_inputs != BN_N)
    return false;
  int32_t c = b->inputs[BN_X];
  const cs_node *conv = &g->nodes[c];
  if (conv->op != CS_OP_CONV2D || uses[c] != 1 || c == g->output_node || conv->shape.ndim != 4)
    return false;
  for (int32_t i = 1; i < conv->n_inputs; i++)
    if (!is_param (g, conv->inputs[i]) || uses[conv->inputs[i]] != 1)
      return false;
  for (int32_t i = BN_SCALE; i < BN_N; i++)
    if (!is_param (g, b->inputs[i]) || uses[b->inputs[i]] != 1
        || cs_shape_numel (&g->nodes[b->inputs[i]].shape) != conv->shape.dim[1])
      return false;
  return true;
}

/* Whether node id is a ReLU whose only reader is a max pool without padding (so that no window
 * lies in the padding alone): the two then run in the other order. */
static bool
pool_after_relu (const cs_graph *g, const int32_t *uses, int32_t id)
{
  if (g->nodes[id].op != CS_OP_RELU || uses[id] != 1 || id == g->output_node)
    return false;
  for (int32_t p = id + 1; p < g->n_nodes; p++)
    if (g->nodes[p].n_inputs > 0 && g->nodes[p].inputs[0] == id)
      {
        const cs_window_attrs *a = &g->nodes[p].attrs.window;
        return g->nodes[p].op == CS_OP_MAXPOOL && g->nodes[p].n_inputs == 1 && a->pad[0] == 0 && a->pad[1] == 0
               && a->pad[2] == 0 && a->pad[3] == 0;
      }
  return false;
}

void
cs_history_infer_free (cs_history_infer *inf)
{
  if (inf == NULL)
    return;
  if (inf->graph != NULL)
    cs_graph_unref (inf->graph);
  free (inf->param_map);
  free (inf->folds);
  free (inf);
}

/* Adds source node id to the folded graph; map[] gives the new ids of its inputs. The conv of a
 * fold gets its bias parameter (a new one when it had none). */
static int32_t
copy_node (cs_history_infer *inf, const cs_graph *g, int32_t id, const int32_t *map, fold *f, cs_error *err)
{
  const cs_node *n = &g->nodes[id];
  cs_graph *out = inf->graph;
  int32_t in[CS_OP_MAX_INPUTS];
  int32_t *ins = n->n_inputs <= CS_OP_MAX_INPUTS ? in : malloc ((size_t) n->n_inputs * sizeof *ins);
  if (ins == NULL)
    {
      cs_error_set (err, CS_ERR_MEMORY, "out of memory");
      return -1;
    }
  for (int32_t i = 0; i < n->n_inputs; i++)
    ins[i] = map[n->inputs[i]];
  int32_t n_in = n->n_inputs, r = -1;
  switch (n->op)
    {
    case CS_OP_INPUT:
      r = cs_graph_add_input (out, n->name, &n->shape, err);
      break;
    case CS_OP_PARAM:
      r = cs_graph_add_param (out, n->name, &n->shape, err);
      if (r >= 0)
        inf->param_map[out->nodes[r].param_index] = n->param_index;
      break;
    case CS_OP_CONST:
      {
        cs_tensor copy = { 0 };
        if (cs_tensor_copy (&copy, &n->value, err) == CS_OK)
          r = cs_graph_add_const (out, n->name, &copy, err);
        break;
      }
    default:
      if (f != NULL && n_in == 2)
        {
          /* A conv without bias gets one: the folded shift lives there. */
          char name[256];
          snprintf (name, sizeof name, "%s.folded_bias", n->name);
          cs_shape s = cs_shape_make (1, (int64_t[]) { n->shape.dim[1] });
          ins[2] = cs_graph_add_param (out, name, &s, err);
          if (ins[2] < 0)
            break;
          inf->param_map[out->nodes[ins[2]].param_index] = -1;
          n_in = 3;
        }
      r = cs_graph_add_op (out, n->op, n->name, n->source_op, ins, n_in, &n->attrs, err);
      if (r >= 0 && f != NULL)
        {
          f->dst_w = out->nodes[ins[1]].param_index;
          f->dst_b = out->nodes[ins[2]].param_index;
        }
    }
  if (ins != in)
    free (ins);
  return r;
}

cs_history_infer *
cs_history_infer_new (const cs_model *m, cs_error *err)
{
  const cs_graph *g = m->graph;
  cs_history_infer *inf = calloc (1, sizeof *inf);
  int32_t *uses = consumers (g);
  int32_t *map = malloc ((size_t) (g->n_nodes > 0 ? g->n_nodes : 1) * sizeof *map);
  int32_t *fold_of = malloc ((size_t) (g->n_nodes > 0 ? g->n_nodes : 1) * sizeof *fold_of);
  size_t cap = (size_t) g->n_params + (size_t) g->n_nodes + 1; /* params plus at most one bias per conv */
  if (inf != NULL)
    {
      inf->graph = cs_graph_new ();
      inf->param_map = malloc (cap * sizeof *inf->param_map);
      inf->folds = calloc ((size_t) (g->n_nodes > 0 ? g->n_nodes : 1), sizeof *inf->folds);
    }
  bool ok = inf != NULL && uses != NULL && map != NULL && fold_of != NULL && inf->graph != NULL
            && inf->param_map != NULL && inf->folds != NULL;
  if (!ok)
    cs_error_set (err, CS_ERR_MEMORY, "out of memory");
  inf != NULL ? (void) (inf->n_src_params = g->n_params) : (void) 0;
  for (int32_t id = 0; ok && id < g->n_nodes; id++)
    fold_of[id] = -1;
  for (int32_t id = 0; ok && id < g->n_nodes; id++)
    if (foldable (g, uses, id))
      {
        const cs_node *b = &g->nodes[id], *conv = &g->nodes[b->inputs[BN_X]];
        fold *f = &inf->folds[inf->n_folds];
        f->conv_w = g->nodes[conv->inputs[1]].param_index;
        f->conv_b = conv->n_inputs > 2 ? g->nodes[conv->inputs[2]].param_index : -1;
        for (int i = BN_SCALE; i < BN_N; i++)
          f->bn[i] = g->nodes[b->inputs[i]].param_index;
        f->eps = b->attrs.norm.eps;
        fold_of[b->inputs[BN_X]] = inf->n_folds++;
      }
  for (int32_t id = 0; ok && id < g->n_nodes; id++)
    {
      const cs_node *n = &g->nodes[id];
      if (n->op == CS_OP_BATCHNORM && fold_of[n->inputs[BN_X]] >= 0)
        map[id] = map[n->inputs[BN_X]]; /* the norm is now part of its conv */
      else if (pool_after_relu (g, uses, id))
        map[id] = map[n->inputs[0]]; /* the ReLU comes after its pool, below */
      else if (n->op == CS_OP_MAXPOOL && pool_after_relu (g, uses, n->inputs[0]))
        {
          /* max(relu(x)) = relu(max(x)) exactly (ReLU is monotone; every window holds an
           * input), on a quarter of the values for a 2x2 pool. */
          const cs_node *relu = &g->nodes[n->inputs[0]];
          int32_t pool = copy_node (inf, g, id, map, NULL, err);
          map[id] = pool < 0 ? -1 : cs_graph_add_op (inf->graph, CS_OP_RELU, relu->name, relu->source_op, &pool, 1,
                                                     &relu->attrs, err);
        }
      else
        map[id] = copy_node (inf, g, id, map, fold_of[id] >= 0 ? &inf->folds[fold_of[id]] : NULL, err);
      ok = map[id] >= 0;
      if (!ok)
        cs_error_prefix (err, "the history's inference model");
    }
  if (ok)
    {
      inf->graph->input_node = map[g->input_node];
      inf->graph->output_node = map[g->output_node];
    }
  free (uses);
  free (map);
  free (fold_of);
  if (!ok)
    {
      cs_history_infer_free (inf);
      return NULL;
    }
  return inf;
}

const cs_graph *
cs_history_infer_graph (const cs_history_infer *inf)
{
  return inf->graph;
}

/* The folded weights of one conv + batch norm, in double:
 *   w'[m] = w[m] * scale[m] / sqrt(var[m] + eps),  b'[m] = (b[m] - mean[m]) * scale[m] / sqrt(var[m] + eps) + bias[m]. */
static void
fold_weights (const fold *f, const cs_model *src, cs_model *dst)
{
  const cs_tensor *w = &src->weights[f->conv_w];
  int64_t m = w->shape.dim[0], per = cs_tensor_numel (w) / (m > 0 ? m : 1);
  const float *scale = src->weights[f->bn[BN_SCALE]].data, *shift = src->weights[f->bn[BN_BIAS]].data;
  const float *mean = src->weights[f->bn[BN_MEAN]].data, *var = src->weights[f->bn[BN_VAR]].data;
  const float *b = f->conv_b >= 0 ? src->weights[f->conv_b].data : NULL;
  float *wd = dst->weights[f->dst_w].data, *bd = dst->weights[f->dst_b].data;
  for (int64_t c = 0; c < m; c++)
    {
      double k = (double) scale[c] / sqrt ((double) var[c] + f->eps);
      for (int64_t i = 0; i < per; i++)
        wd[c * per + i] = (float) (w->data[c * per + i] * k);
      bd[c] = (float) (((b != NULL ? (double) b[c] : 0.0) - mean[c]) * k + shift[c]);
    }
}

cs_model *
cs_history_infer_model (const cs_history_infer *inf, const cs_model *src, cs_error *err)
{
  if (src->graph->n_params != inf->n_src_params)
    {
      cs_error_set (err, CS_ERR_ARGUMENT, "the weights belong to another graph");
      return NULL;
    }
  cs_model *m = cs_model_new (inf->graph, err);
  if (m == NULL)
    return NULL;
  memcpy (m->mean, src->mean, sizeof m->mean);
  memcpy (m->std, src->std, sizeof m->std);
  m->has_normalization = src->has_normalization;
  m->path = src->path != NULL ? strdup (src->path) : NULL;
  cs_history_infer_update (inf, src, m);
  return m;
}

void
cs_history_infer_update (const cs_history_infer *inf, const cs_model *src, cs_model *dst)
{
  for (int32_t p = 0; p < inf->graph->n_params; p++)
    if (inf->param_map[p] >= 0)
      {
        const cs_tensor *s = &src->weights[inf->param_map[p]];
        memcpy (dst->weights[p].data, s->data, (size_t) cs_tensor_numel (s) * sizeof (float));
      }
  for (int32_t i = 0; i < inf->n_folds; i++)
    fold_weights (&inf->folds[i], src, dst);
}
