/* PyTorch's default parameter initialisation, reproducible from a seed. */
#include <math.h>

#include "base/rng.h"
#include "graph/model.h"

static void
fill_uniform (cs_tensor *t, cs_rng *rng, double bound)
{
  int64_t n = cs_tensor_numel (t);
  for (int64_t i = 0; i < n; i++)
    t->data[i] = (float) ((2.0 * cs_rng_uniform (rng) - 1.0) * bound);
}

static void
fill_constant (cs_tensor *t, float v)
{
  int64_t n = cs_tensor_numel (t);
  for (int64_t i = 0; i < n; i++)
    t->data[i] = v;
}

static cs_tensor *
param_input (cs_model *m, const cs_node *n, int32_t i)
{
  if (i >= n->n_inputs)
    return NULL;
  const cs_node *in = &m->graph->nodes[n->inputs[i]];
  return in->op == CS_OP_PARAM ? &m->weights[in->param_index] : NULL;
}

/* Conv and linear layers: kaiming_uniform_(a = sqrt(5)) gives bound 1/sqrt(fan_in) for the
 * weight, and PyTorch draws the bias from the same bound. Batch norm: scale 1, shift 0, running
 * mean 0, running variance 1. Visiting nodes in graph order makes the draw order stable. */
void
cs_model_init_weights (cs_model *m, uint64_t seed)
{
  cs_rng rng;
  cs_rng_seed (&rng, seed);
  const cs_graph *g = m->graph;
  for (int32_t id = 0; id < g->n_nodes; id++)
    {
      const cs_node *n = &g->nodes[id];
      cs_tensor *w = param_input (m, n, 1);
      cs_tensor *b = param_input (m, n, 2);
      double fan_in = 0;
      switch (n->op)
        {
        case CS_OP_CONV2D:
          if (w != NULL)
            fan_in = (double) (w->shape.dim[1] * w->shape.dim[2] * w->shape.dim[3]);
          break;
        case CS_OP_GEMM:
          if (w != NULL)
            fan_in = (double) (n->attrs.gemm.trans_b ? w->shape.dim[1] : w->shape.dim[0]);
          break;
        case CS_OP_MATMUL:
          if (w != NULL)
            fan_in = (double) w->shape.dim[0];
          b = NULL;
          break;
        case CS_OP_BATCHNORM:
          if (w != NULL)
            fill_constant (w, 1.0f);
          if (b != NULL)
            fill_constant (b, 0.0f);
          if (param_input (m, n, 3) != NULL)
            fill_constant (param_input (m, n, 3), 0.0f);
          if (param_input (m, n, 4) != NULL)
            fill_constant (param_input (m, n, 4), 1.0f);
          continue;
        default:
          continue;
        }
      if (fan_in <= 0)
        continue;
      double bound = 1.0 / sqrt (fan_in);
      if (w != NULL)
        fill_uniform (w, &rng, bound);
      if (b != NULL)
        fill_uniform (b, &rng, bound);
    }
}
