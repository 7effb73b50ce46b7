/* Dropout: identity at inference; in training an inverted-dropout mask, reproducible from the
 * exec's seed, its step and the node. */
#include <math.h>
#include <string.h>

#include "base/rng.h"
#include "graph/ops.h"

/* The mask is drawn in blocks with one generator each, so that it does not depend on how
 * many threads draw it. */
#define MASK_BLOCK 4096
#define PAR_MIN 65536

static cs_status
dropout_infer (const cs_node *node, const cs_shape *const *in, cs_shape *out, cs_error *err)
{
  float p = node->attrs.dropout.p;
  if (!(p >= 0.0f && p <= 1.0f))
    return cs_error_set (err, CS_ERR_ARGUMENT, "dropout probability %g is outside [0, 1]", (double) p);
  *out = *in[0];
  return CS_OK;
}

static uint64_t
mix64 (uint64_t z)
{
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/* Ops do not see node ids; the node's name is unique in its graph and stable across runs. */
static uint64_t
node_key (const cs_node *node)
{
  uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
  for (const char *s = node->name; s != NULL && *s != '\0'; s++)
    {
      h ^= (unsigned char) *s;
      h *= 0x100000001b3ULL;
    }
  return h;
}

/* Per-sample numel times the batch; robust to graph shapes (dim 0 = 1) and full ones. */
static int64_t
dropout_aux_size (const cs_node *node, const cs_shape *const *in, const cs_shape *out, int64_t n)
{
  int64_t numel = cs_shape_numel (out);
  if (numel <= 0 || out->ndim == 0 || out->dim[0] <= 0)
    return numel > 0 ? numel : 0;
  int64_t per = numel / out->dim[0];
  return per * (n > out->dim[0] ? n : out->dim[0]);
}

static cs_status
dropout_forward (const cs_op_call *call)
{
  const float *x = call->in[0]->data;
  float *y = call->out->data;
  int64_t n = cs_tensor_numel (call->out);
  if (n != cs_tensor_numel (call->in[0]))
    return CS_ERR_SHAPE;
  float p = call->node->attrs.dropout.p;
  if (!call->ctx->training || p == 0.0f)
    {
      if (y != x && n > 0)
        memcpy (y, x, (size_t) n * sizeof (float));
      return CS_OK;
    }
  if (call->aux == NULL || cs_tensor_numel (call->aux) < n)
    return CS_ERR_SHAPE;
  float *mask = call->aux->data;
  /* p == 1 drops everything; 1/(1-p) would be infinite. */
  float keep_scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
  uint64_t key = mix64 (mix64 (mix64 (call->ctx->seed) ^ call->ctx->step) ^ node_key (call->node));
  int64_t n_blocks = (n + MASK_BLOCK - 1) / MASK_BLOCK;
#pragma omp parallel for if (n >= PAR_MIN) schedule (static)
  for (int64_t b = 0; b < n_blocks; b++)
    {
      cs_rng rng;
      cs_rng_seed (&rng, key ^ mix64 ((uint64_t) b + 1));
      int64_t end = (b + 1) * MASK_BLOCK < n ? (b + 1) * MASK_BLOCK : n;
      for (int64_t i = b * MASK_BLOCK; i < end; i++)
        {
          mask[i] = cs_rng_uniform (&rng) < (double) p ? 0.0f : keep_scale;
          y[i] = x[i] * mask[i];
        }
    }
  return CS_OK;
}

static cs_status
dropout_backward (const cs_op_call *call)
{
  if (call->din[0] == NULL)
    return CS_OK;
  const float *dy = call->dout->data;
  float *dx = call->din[0]->data;
  int64_t n = cs_tensor_numel (call->din[0]);
  if (n != cs_tensor_numel (call->dout))
    return CS_ERR_SHAPE;
  float p = call->node->attrs.dropout.p;
  if (!call->ctx->training || p == 0.0f)
    {
#pragma omp parallel for if (n >= PAR_MIN) schedule (static)
      for (int64_t i = 0; i < n; i++)
        dx[i] += dy[i];
      return CS_OK;
    }
  if (call->aux == NULL || cs_tensor_numel (call->aux) < n)
    return CS_ERR_SHAPE;
  const float *mask = call->aux->data;
#pragma omp parallel for if (n >= PAR_MIN) schedule (static)
  for (int64_t i = 0; i < n; i++)
    dx[i] += dy[i] * mask[i];
  return CS_OK;
}

/* No arithmetic at inference, which is what the graph's FLOP count describes. */
static int64_t
dropout_flops (const cs_node *node, const cs_shape *const *in, const cs_shape *out)
{
  return 0;
}

const cs_op_info cs_op_dropout_info = {
  .name = "dropout",
  .min_inputs = 1,
  .max_inputs = 1,
  .infer = dropout_infer,
  .forward = dropout_forward,
  .backward = dropout_backward,
  .aux_size = dropout_aux_size,
  .flops = dropout_flops,
};
