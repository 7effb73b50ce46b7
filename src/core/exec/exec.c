/* cs_exec: per-thread buffers for every node; forward over the graph, backward from any node. */
#include "exec/exec.h"

#include <stdlib.h>
#include <string.h>

#include "base/threads.h"

struct cs_exec {
  const cs_model *model;
  const cs_graph *graph;
  int32_t max_batch;
  int32_t batch;             /* N of the last forward, 0 before any */
  int32_t forward_until;     /* the last node the last forward computed */
  uint64_t forwards;         /* forwards run so far (lets callers tell whether theirs is current) */
  cs_tensor *values;         /* per node: owned buffers (inputs, ops) or views (params, consts) */
  cs_tensor *grads;          /* per node: owned, allocated on first backward */
  cs_tensor *param_grads;    /* per parameter */
  cs_tensor *aux;            /* per node saved state, owned when the op asks for some */
  bool *computed;            /* per node: holds a value from the last forward */
  bool *grad_needed;         /* per node: scratch of backward */
  bool *grad_fresh;          /* per node: its gradient buffer holds nothing yet (not zeroed) */
  bool *din_fresh;           /* scratch: cs_op_call.din_fresh */
  bool *mark;                /* per node: scratch (ancestor sets) */
  float *work;
  int64_t work_size;
  const cs_tensor **in_ptrs; /* scratch arrays sized to the widest node */
  cs_tensor **din_ptrs;
  const cs_shape **shape_ptrs;
  cs_shape *shapes;
  int32_t max_inputs;
  cs_op_context ctx;
};

/* The run-time shape of node id at batch n. */
static cs_shape
shape_at (const cs_node *node, int64_t n)
{
  cs_shape s = node->shape;
  if (node->batched && s.ndim > 0)
    s.dim[0] = n;
  return s;
}

static void
bind_weights (cs_exec *e)
{
  const cs_graph *g = e->graph;
  for (int32_t id = 0; id < g->n_nodes; id++)
    {
      const cs_node *n = &g->nodes[id];
      if (n->op == CS_OP_PARAM)
        e->values[id] = cs_tensor_view (&n->shape, e->model->weights[n->param_index].data);
      else if (n->op == CS_OP_CONST)
        e->values[id] = cs_tensor_view (&n->shape, n->value.data);
    }
}

void
cs_exec_free (cs_exec *e)
{
  if (e == NULL)
    return;
  const cs_graph *g = e->graph;
  for (int32_t id = 0; id < g->n_nodes; id++)
    {
      if (e->values != NULL)
        cs_tensor_free (&e->values[id]);
      if (e->grads != NULL)
        cs_tensor_free (&e->grads[id]);
      if (e->aux != NULL)
        cs_tensor_free (&e->aux[id]);
    }
  if (e->param_grads != NULL)
    for (int32_t p = 0; p < g->n_params; p++)
      cs_tensor_free (&e->param_grads[p]);
  free (e->values);
  free (e->grads);
  free (e->aux);
  free (e->param_grads);
  free (e->computed);
  free (e->grad_needed);
  free (e->grad_fresh);
  free (e->din_fresh);
  free (e->mark);
  free (e->shapes);
  free (e->in_ptrs);
  free (e->din_ptrs);
  free (e->shape_ptrs);
  cs_free_floats (e->work);
  free (e);
}

/* Allocates activation buffers, aux state and the shared scratch for max_batch. */
static cs_status
allocate_buffers (cs_exec *e, cs_error *err)
{
  const cs_graph *g = e->graph;
  int64_t n = e->max_batch;
  int64_t work = 1;
  for (int32_t id = 0; id < g->n_nodes; id++)
    {
      const cs_node *node = &g->nodes[id];
      if (node->op == CS_OP_PARAM || node->op == CS_OP_CONST)
        continue;
      cs_shape s = shape_at (node, n);
      if (cs_tensor_alloc (&e->values[id], &s, err) != CS_OK)
        return cs_error_prefix (err, "node '%s'", node->name);
      if (node->op == CS_OP_INPUT)
        continue;
      const cs_op_info *info = cs_op_get (node->op);
      if (info == NULL || info->forward == NULL)
        return cs_error_set (err, CS_ERR_UNSUPPORTED, "node '%s': operator %s has no implementation",
                             node->name, info != NULL ? info->name : "?");
      for (int32_t i = 0; i < node->n_inputs; i++)
        {
          e->shapes[i] = shape_at (&g->nodes[node->inputs[i]], n);
          e->shape_ptrs[i] = &e->shapes[i];
        }
      if (info->workspace != NULL)
        {
          int64_t w = info->workspace (node, e->shape_ptrs, &s, n);
          if (w < 0 || w > CS_MAX_ELEMENTS)
            return cs_error_set (err, CS_ERR_LIMIT, "node '%s': scratch of %lld floats", node->name,
                                 (long long) w);
          if (w > work)
            work = w;
        }
      if (info->aux_size != NULL)
        {
          int64_t a = info->aux_size (node, e->shape_ptrs, &s, n);
          if (a > 0)
            {
              cs_shape as = cs_shape_make (1, (int64_t[]) { a });
              if (cs_tensor_alloc (&e->aux[id], &as, err) != CS_OK)
                return cs_error_prefix (err, "node '%s'", node->name);
            }
        }
    }
  e->work = cs_alloc_floats (work);
  if (e->work == NULL)
    return cs_error_set (err, CS_ERR_MEMORY, "cannot allocate %lld floats of scratch", (long long) work);
  e->work_size = work;
  return CS_OK;
}

cs_exec *
cs_exec_new (const cs_model *m, int32_t max_batch, cs_error *err)
{
  if (max_batch < 1)
    {
      cs_error_set (err, CS_ERR_ARGUMENT, "batch size %d must be at least 1", max_batch);
      return NULL;
    }
  cs_exec *e = calloc (1, sizeof *e);
  if (e == NULL)
    {
      cs_error_set (err, CS_ERR_MEMORY, "out of memory");
      return NULL;
    }
  const cs_graph *g = m->graph;
  e->model = m;
  e->graph = g;
  e->max_batch = max_batch;
  e->forward_until = -1;
  e->ctx.threads = cs_threads_get ();
  e->max_inputs = 1;
  for (int32_t id = 0; id < g->n_nodes; id++)
    if (g->nodes[id].n_inputs > e->max_inputs)
      e->max_inputs = g->nodes[id].n_inputs;
  size_t nn = (size_t) (g->n_nodes > 0 ? g->n_nodes : 1);
  e->values = calloc (nn, sizeof *e->values);
  e->grads = calloc (nn, sizeof *e->grads);
  e->aux = calloc (nn, sizeof *e->aux);
  e->computed = calloc (nn, sizeof *e->computed);
  e->grad_needed = calloc (nn, sizeof *e->grad_needed);
  e->grad_fresh = calloc (nn, sizeof *e->grad_fresh);
  e->din_fresh = calloc ((size_t) e->max_inputs, sizeof *e->din_fresh);
  e->mark = calloc (nn, sizeof *e->mark);
  e->shapes = calloc ((size_t) e->max_inputs, sizeof *e->shapes);
  e->param_grads = calloc ((size_t) (g->n_params > 0 ? g->n_params : 1), sizeof *e->param_grads);
  e->in_ptrs = calloc ((size_t) e->max_inputs, sizeof *e->in_ptrs);
  e->din_ptrs = calloc ((size_t) e->max_inputs, sizeof *e->din_ptrs);
  e->shape_ptrs = calloc ((size_t) e->max_inputs, sizeof *e->shape_ptrs);
  if (!e->values || !e->grads || !e->aux || !e->computed || !e->grad_needed || !e->mark || !e->shapes || !e->param_grads
      || !e->in_ptrs || !e->din_ptrs || !e->shape_ptrs || !e->grad_fresh || !e->din_fresh)
    {
      cs_exec_free (e);
      cs_error_set (err, CS_ERR_MEMORY, "out of memory");
      return NULL;
    }
  if (allocate_buffers (e, err) != CS_OK)
    {
      cs_exec_free (e);
      return NULL;
    }
  bind_weights (e);
  return e;
}

cs_status
cs_exec_set_model (cs_exec *e, const cs_model *m, cs_error *err)
{
  if (m->graph != e->graph)
    return cs_error_set (err, CS_ERR_ARGUMENT, "the weights belong to another graph");
  e->model = m;
  bind_weights (e);
  for (int32_t id = 0; id < e->graph->n_nodes; id++)
    e->computed[id] = false;
  e->batch = 0;
  return CS_OK;
}

const cs_model *
cs_exec_model (const cs_exec *e)
{
  return e->model;
}

int32_t
cs_exec_max_batch (const cs_exec *e)
{
  return e->max_batch;
}

uint64_t
cs_exec_forward_count (const cs_exec *e)
{
  return e->forwards;
}

int32_t
cs_exec_batch (const cs_exec *e)
{
  return e->batch;
}

void
cs_exec_set_threads (cs_exec *e, int32_t threads)
{
  e->ctx.threads = threads >= 1 ? threads : cs_threads_get ();
}

int32_t
cs_exec_threads (const cs_exec *e)
{
  return e->ctx.threads;
}

void
cs_exec_set_training (cs_exec *e, bool training)
{
  e->ctx.training = training;
}

void
cs_exec_set_relu_rule (cs_exec *e, cs_relu_rule rule)
{
  e->ctx.relu_rule = rule;
}

void
cs_exec_set_batch_group (cs_exec *e, struct cs_batch_group *group, int32_t member)
{
  e->ctx.group = group;
  e->ctx.group_member = member;
}

void
cs_exec_set_seed (cs_exec *e, uint64_t seed)
{
  e->ctx.seed = seed;
  e->ctx.step = 0;
}

bool
cs_exec_training (const cs_exec *e)
{
  return e->ctx.training;
}

cs_relu_rule
cs_exec_relu_rule (const cs_exec *e)
{
  return e->ctx.relu_rule;
}

/* Marks in `mark` the ancestors of node `until` (itself included). */
static void
mark_ancestors (const cs_graph *g, int32_t until, bool *mark)
{
  memset (mark, 0, (size_t) g->n_nodes * sizeof *mark);
  mark[until] = true;
  for (int32_t id = until; id >= 0; id--)
    if (mark[id])
      for (int32_t i = 0; i < g->nodes[id].n_inputs; i++)
        mark[g->nodes[id].inputs[i]] = true;
}

cs_status
cs_exec_forward_until (cs_exec *e, const cs_tensor *input, int32_t until, cs_error *err)
{
  const cs_graph *g = e->graph;
  char want[128], got[128];
  if (until < 0 || until >= g->n_nodes)
    return cs_error_set (err, CS_ERR_ARGUMENT, "no node %d in the graph", until);
  const cs_node *in_node = &g->nodes[g->input_node];
  int64_t n = input->shape.ndim > 0 ? input->shape.dim[0] : 0;
  cs_shape expect = shape_at (in_node, n);
  if (!cs_shape_equal (&input->shape, &expect) || n < 1)
    return cs_error_set (err, CS_ERR_SHAPE, "input has shape %s, the model takes %s",
                         cs_shape_format (&input->shape, got, sizeof got),
                         cs_shape_format (&in_node->shape, want, sizeof want));
  if (n > e->max_batch)
    return cs_error_set (err, CS_ERR_ARGUMENT, "batch of %lld is larger than this executor's %d",
                         (long long) n, e->max_batch);
  e->batch = (int32_t) n;
  e->forward_until = until;
  e->forwards++;
  if (e->ctx.training)
    e->ctx.step++;

  bool *needed = e->mark;
  mark_ancestors (g, until, needed);
  memset (e->computed, 0, (size_t) g->n_nodes * sizeof *e->computed);
  int previous = cs_threads_enter (e->ctx.threads);
  cs_status st = CS_OK;
  for (int32_t id = 0; id <= until && st == CS_OK; id++)
    {
      if (!needed[id])
        continue;
      const cs_node *node = &g->nodes[id];
      cs_tensor *out = &e->values[id];
      if (node->op == CS_OP_PARAM || node->op == CS_OP_CONST)
        {
          e->computed[id] = true;
          continue;
        }
      out->shape = shape_at (node, n);
      if (node->op == CS_OP_INPUT)
        {
          memcpy (out->data, input->data, (size_t) cs_tensor_numel (input) * sizeof (float));
          e->computed[id] = true;
          continue;
        }
      for (int32_t i = 0; i < node->n_inputs; i++)
        e->in_ptrs[i] = &e->values[node->inputs[i]];
      cs_op_call call = { .node = node, .n_inputs = node->n_inputs, .in = e->in_ptrs, .out = out,
                          .work = e->work, .aux = &e->aux[id], .ctx = &e->ctx };
      st = cs_op_get (node->op)->forward (&call);
      if (st != CS_OK)
        cs_error_set (err, st, "node '%s': forward failed (%s)", node->name, cs_status_name (st));
      else
        e->computed[id] = true;
    }
  cs_threads_leave (previous);
  return st;
}

cs_status
cs_exec_forward (cs_exec *e, const cs_tensor *input, cs_error *err)
{
  return cs_exec_forward_until (e, input, e->graph->output_node, err);
}

/* Zeroes a gradient buffer that an op will add into, in blocks on the exec's threads. */
#define ZERO_BLOCK ((int64_t) 1 << 14)

static void
zero_floats (float *p, int64_t n)
{
  int64_t blocks = (n + ZERO_BLOCK - 1) / ZERO_BLOCK;
#pragma omp parallel for schedule(static) if (blocks >= 4)
  for (int64_t b = 0; b < blocks; b++)
    {
      int64_t lo = b * ZERO_BLOCK, len = n - lo < ZERO_BLOCK ? n - lo : ZERO_BLOCK;
      memset (p + lo, 0, (size_t) len * sizeof (float));
    }
}

/* Allocates (once) the gradient buffer of node id at the current batch and marks it fresh:
 * it is not zeroed here. The first op to give it a gradient writes it outright when the op
 * can (cs_op_info.fresh_din), or the exec zeroes it just before that op adds into it, while
 * it is about to be in cache anyway. Zeroing every buffer up front was 18 MB per demo train
 * step (24 MB per ResNet-18 saliency), and every first gradient then read its zeros back. */
static cs_status
prepare_grad (cs_exec *e, int32_t id, cs_error *err)
{
  const cs_node *node = &e->graph->nodes[id];
  cs_tensor *t;
  cs_shape s;
  if (node->op == CS_OP_PARAM)
    {
      t = &e->param_grads[node->param_index];
      s = node->shape;
    }
  else
    {
      t = &e->grads[id];
      s = shape_at (node, e->max_batch);
    }
  if (t->data == NULL && cs_tensor_alloc (t, &s, err) != CS_OK)
    return cs_error_prefix (err, "gradient of '%s'", node->name);
  t->shape = node->op == CS_OP_PARAM ? node->shape : shape_at (node, e->batch);
  e->grad_fresh[id] = true;
  return CS_OK;
}

static cs_tensor *
grad_of (cs_exec *e, int32_t id)
{
  const cs_node *node = &e->graph->nodes[id];
  return node->op == CS_OP_PARAM ? &e->param_grads[node->param_index] : &e->grads[id];
}

static void
zero_if_fresh (cs_exec *e, int32_t id)
{
  if (!e->grad_fresh[id])
    return;
  cs_tensor *t = grad_of (e, id);
  zero_floats (t->data, cs_tensor_numel (t));
  e->grad_fresh[id] = false;
}

/* Sets call->din_fresh for node's backward: true where din[i] is fresh and the op writes
 * fresh buffers outright; every other fresh buffer (and one that two inputs share, which
 * gets two gradients) is zeroed now, for the op to add into. */
static void
prepare_din (cs_exec *e, const cs_node *node, const cs_op_info *info)
{
  for (int32_t i = 0; i < node->n_inputs; i++)
    {
      int32_t src = node->inputs[i];
      e->din_fresh[i] = false;
      if (e->din_ptrs[i] == NULL)
        continue;
      bool shared = false;
      for (int32_t j = 0; j < node->n_inputs; j++)
        shared = shared || (j != i && node->inputs[j] == src && e->din_ptrs[j] != NULL);
      if (info->fresh_din && !shared)
        e->din_fresh[i] = e->grad_fresh[src];
      else
        zero_if_fresh (e, src);
    }
}

/* Runs each marked node's backward, from `from` down, once its gradient is complete. */
static cs_status
backward_nodes (cs_exec *e, int32_t from, cs_error *err)
{
  const cs_graph *g = e->graph;
  const bool *need = e->grad_needed;
  cs_status st = CS_OK;
  for (int32_t id = from; id >= 0 && st == CS_OK; id--)
    {
      const cs_node *node = &g->nodes[id];
      if (!need[id] || node->op <= CS_OP_CONST)
        continue;
      bool any = false;
      for (int32_t i = 0; i < node->n_inputs; i++)
        {
          int32_t src = node->inputs[i];
          e->in_ptrs[i] = &e->values[src];
          e->din_ptrs[i] = need[src] && g->nodes[src].op != CS_OP_CONST ? grad_of (e, src) : NULL;
          any = any || e->din_ptrs[i] != NULL;
        }
      if (!any)
        continue;
      const cs_op_info *info = cs_op_get (node->op);
      if (info->backward == NULL)
        return cs_error_set (err, CS_ERR_UNSUPPORTED, "node '%s': %s has no backward", node->name, info->name);
      zero_if_fresh (e, id); /* no consumer gave it a gradient: zero */
      prepare_din (e, node, info);
      cs_op_call call = { .node = node, .n_inputs = node->n_inputs, .in = e->in_ptrs,
                          .out = &e->values[id], .dout = &e->grads[id], .din = e->din_ptrs,
                          .din_fresh = e->din_fresh, .work = e->work, .aux = &e->aux[id],
                          .ctx = &e->ctx };
      st = info->backward (&call);
      for (int32_t i = 0; i < node->n_inputs; i++)
        if (e->din_ptrs[i] != NULL)
          e->grad_fresh[node->inputs[i]] = false;
      if (st != CS_OK)
        cs_error_set (err, st, "node '%s': backward failed (%s)", node->name, cs_status_name (st));
    }
  return st;
}

/* Runs backward from `from` through the nodes marked in e->grad_needed (which the caller has
 * limited to ancestors of `from`). */
static cs_status
run_backward (cs_exec *e, int32_t from, const cs_tensor *seed, cs_error *err)
{
  const cs_graph *g = e->graph;
  const bool *need = e->grad_needed;
  cs_status st = CS_OK;
  int previous = cs_threads_enter (e->ctx.threads);
  for (int32_t id = 0; id <= from && st == CS_OK; id++)
    if (need[id] && g->nodes[id].op != CS_OP_CONST)
      st = prepare_grad (e, id, err);
  if (st == CS_OK && need[from]) /* else nothing asked for depends on this node */
    {
      memcpy (e->grads[from].data, seed->data, (size_t) cs_tensor_numel (seed) * sizeof (float));
      e->grad_fresh[from] = false;
      st = backward_nodes (e, from, err);
    }
  /* Gradients nothing reached (inputs and parameters off the path) are zero. Only prepared
   * buffers are ever fresh. */
  for (int32_t id = 0; id <= from; id++)
    if (need[id] && g->nodes[id].op != CS_OP_CONST)
      zero_if_fresh (e, id);
  cs_threads_leave (previous);
  return st;
}

static cs_status
check_seed (const cs_exec *e, int32_t from, const cs_tensor *seed, cs_error *err)
{
  const cs_graph *g = e->graph;
  char want[128], got[128];
  if (from < 0 || from >= g->n_nodes || !e->computed[from])
    return cs_error_set (err, CS_ERR_ARGUMENT, "backward from node %d, which the last forward did not compute", from);
  const cs_node *top = &g->nodes[from];
  cs_shape expect = shape_at (top, e->batch);
  if (!cs_shape_equal (&seed->shape, &expect))
    return cs_error_set (err, CS_ERR_SHAPE, "seed gradient of '%s' has shape %s, expected %s", top->name,
                         cs_shape_format (&seed->shape, got, sizeof got),
                         cs_shape_format (&expect, want, sizeof want));
  return CS_OK;
}

cs_status
cs_exec_backward (cs_exec *e, int32_t from, const cs_tensor *seed, uint32_t flags, cs_error *err)
{
  const cs_graph *g = e->graph;
  cs_status st = check_seed (e, from, seed, err);
  if (st != CS_OK)
    return st;
  /* A node needs a gradient when it lies between `from` and something whose gradient was asked
   * for: the input (CS_GRAD_INPUT) or a parameter (CS_GRAD_PARAMS). */
  bool *need = e->grad_needed;
  for (int32_t id = 0; id < g->n_nodes; id++)
    {
      const cs_node *node = &g->nodes[id];
      bool w = false;
      if (node->op == CS_OP_INPUT)
        w = (flags & CS_GRAD_INPUT) != 0;
      else if (node->op == CS_OP_PARAM)
        w = (flags & CS_GRAD_PARAMS) != 0;
      else
        for (int32_t i = 0; i < node->n_inputs && !w; i++)
          w = need[node->inputs[i]];
      need[id] = w && id <= from;
    }
  mark_ancestors (g, from, e->mark);
  for (int32_t id = 0; id < g->n_nodes; id++)
    need[id] = need[id] && e->mark[id];
  return run_backward (e, from, seed, err);
}

cs_status
cs_exec_backward_to (cs_exec *e, int32_t from, const cs_tensor *seed, int32_t to, cs_error *err)
{
  const cs_graph *g = e->graph;
  cs_status st = check_seed (e, from, seed, err);
  if (st != CS_OK)
    return st;
  if (to < 0 || to > from)
    return cs_error_set (err, CS_ERR_ARGUMENT, "node %d does not come before node %d", to, from);
  /* Only the nodes on paths from `to` up to `from`: the gradient stops at `to`. */
  bool *need = e->grad_needed;
  for (int32_t id = 0; id < g->n_nodes; id++)
    {
      const cs_node *node = &g->nodes[id];
      bool w = id == to;
      for (int32_t i = 0; i < node->n_inputs && !w && id > to; i++)
        w = need[node->inputs[i]];
      need[id] = w && id <= from;
    }
  mark_ancestors (g, from, e->mark);
  for (int32_t id = 0; id < g->n_nodes; id++)
    need[id] = need[id] && e->mark[id];
  if (!need[to])
    return cs_error_set (err, CS_ERR_ARGUMENT, "'%s' does not feed '%s'", g->nodes[to].name,
                         g->nodes[from].name);
  return run_backward (e, from, seed, err);
}

const cs_tensor *
cs_exec_value (const cs_exec *e, int32_t id)
{
  if (id < 0 || id >= e->graph->n_nodes || !e->computed[id])
    return NULL;
  return &e->values[id];
}

const cs_tensor *
cs_exec_grad (const cs_exec *e, int32_t id)
{
  if (id < 0 || id >= e->graph->n_nodes || e->grads[id].data == NULL)
    return NULL;
  return &e->grads[id];
}

const cs_tensor *
cs_exec_param_grad (const cs_exec *e, int32_t param_index)
{
  if (param_index < 0 || param_index >= e->graph->n_params || e->param_grads[param_index].data == NULL)
    return NULL;
  return &e->param_grads[param_index];
}

const cs_tensor *
cs_exec_aux (const cs_exec *e, int32_t id)
{
  if (id < 0 || id >= e->graph->n_nodes || e->aux[id].data == NULL)
    return NULL;
  return &e->aux[id];
}
