/* The operator table: per op, shape inference, forward, backward, workspace and FLOPs.
 * Each op family lives in its own file under ops/, forward next to backward. */
#pragma once

#include "graph/graph.h"

#define CS_OP_MAX_INPUTS 8 /* ops with more inputs (concat) read node->n_inputs / in[] beyond */

typedef enum {
  CS_RELU_RULE_GRADIENT = 0, /* the true gradient: dy * (x > 0) */
  CS_RELU_RULE_GUIDED,       /* guided backprop: dy * (x > 0) * (dy > 0) */
  CS_RELU_RULE_DECONVNET,    /* deconvnet: dy * (dy > 0) */
} cs_relu_rule;

/* Per-exec settings that ops may read. */
typedef struct {
  bool training;             /* batch norm uses batch statistics; dropout drops */
  cs_relu_rule relu_rule;
  uint64_t seed;             /* dropout masks: derive from seed, step and node id */
  uint64_t step;             /* incremented by each training forward */
  int32_t threads;
  /* Training on a slice of a batch that other execs hold the rest of: batch norm sums its
   * statistics across the group (base/batch_group.h) as member group_member. NULL otherwise. */
  struct cs_batch_group *group;
  int32_t group_member;
} cs_op_context;

/* One call of an op. Tensors carry their full run-time shapes (dim 0 = batch N for batched
 * nodes). In backward, din[i] is NULL when input i needs no gradient; otherwise the op ADDS
 * its gradient into din[i] (which may be shared by several consumers), except where
 * din_fresh[i] is true: then din[i] holds no gradient yet, its contents are undefined, and the
 * op WRITES every element of it. din_fresh[i] is true only for ops whose info says fresh_din.
 * Gradients to parameters sum over the batch. */
typedef struct {
  const cs_node *node;
  int32_t n_inputs;
  const cs_tensor *const *in;  /* n_inputs entries */
  cs_tensor *out;              /* forward: write here; backward: the saved forward output */
  const cs_tensor *dout;       /* backward only */
  cs_tensor *const *din;       /* backward only; n_inputs entries, some NULL */
  const bool *din_fresh;       /* backward only; n_inputs entries (see above) */
  float *work;                 /* scratch of the size the op's workspace() asked for */
  cs_tensor *aux;              /* per-node saved state (aux_size floats), kept from forward to backward */
  const cs_op_context *ctx;
} cs_op_call;

typedef struct {
  const char *name;          /* "conv2d", as inspect prints it */
  int32_t min_inputs, max_inputs; /* max -1 = unbounded */
  /* Checks attributes and input shapes (in[i] are full shapes with dim 0 = 1 for batched
   * inputs) and writes the output shape. Errors name the reason; the caller adds the node. */
  cs_status (*infer) (const cs_node *node, const cs_shape *const *in, cs_shape *out, cs_error *err);
  cs_status (*forward) (const cs_op_call *call);
  cs_status (*backward) (const cs_op_call *call);
  /* Scratch floats needed by forward/backward at batch n, or NULL for none. */
  int64_t (*workspace) (const cs_node *node, const cs_shape *const *in, const cs_shape *out, int64_t n);
  /* Saved-state floats needed at batch n, or NULL for none. */
  int64_t (*aux_size) (const cs_node *node, const cs_shape *const *in, const cs_shape *out, int64_t n);
  /* FLOPs at the graph's shapes, or NULL for "one per output element". */
  int64_t (*flops) (const cs_node *node, const cs_shape *const *in, const cs_shape *out);
  /* backward honours cs_op_call.din_fresh (otherwise the exec zeroes fresh buffers first) */
  bool fresh_din;
} cs_op_info;

/* Whether the op writes din[i] outright (it holds no gradient yet) rather than adding. */
static inline bool
cs_din_fresh (const cs_op_call *call, int32_t i)
{
  return call->din_fresh != NULL && call->din_fresh[i];
}

const cs_op_info *cs_op_get (cs_op op);
cs_op cs_op_from_name (const char *name); /* CS_OP_COUNT when unknown */

/* Tables defined by the op family files. */
extern const cs_op_info cs_op_conv2d_info;
extern const cs_op_info cs_op_gemm_info;
extern const cs_op_info cs_op_matmul_info;
extern const cs_op_info cs_op_relu_info;
extern const cs_op_info cs_op_leaky_relu_info;
extern const cs_op_info cs_op_clip_info;
extern const cs_op_info cs_op_sigmoid_info;
extern const cs_op_info cs_op_hard_sigmoid_info;
extern const cs_op_info cs_op_hard_swish_info;
extern const cs_op_info cs_op_tanh_info;
extern const cs_op_info cs_op_erf_info;
extern const cs_op_info cs_op_sqrt_info;
extern const cs_op_info cs_op_exp_info;
extern const cs_op_info cs_op_neg_info;
extern const cs_op_info cs_op_identity_info;
extern const cs_op_info cs_op_dropout_info;
extern const cs_op_info cs_op_add_info;
extern const cs_op_info cs_op_sub_info;
extern const cs_op_info cs_op_mul_info;
extern const cs_op_info cs_op_div_info;
extern const cs_op_info cs_op_pow_info;
extern const cs_op_info cs_op_maxpool_info;
extern const cs_op_info cs_op_avgpool_info;
extern const cs_op_info cs_op_global_avgpool_info;
extern const cs_op_info cs_op_reduce_mean_info;
extern const cs_op_info cs_op_batchnorm_info;
extern const cs_op_info cs_op_softmax_info;
extern const cs_op_info cs_op_flatten_info;
extern const cs_op_info cs_op_reshape_info;
extern const cs_op_info cs_op_transpose_info;
extern const cs_op_info cs_op_slice_info;
extern const cs_op_info cs_op_concat_info;
extern const cs_op_info cs_op_pad_info;
