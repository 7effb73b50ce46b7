/* cs_exec: one per thread. Holds every node's activation and gradient buffers for a batch of
 * up to max_batch inputs, runs forward over the whole graph and backward from any node. */
#pragma once

#include "graph/model.h"
#include "graph/ops.h"

typedef struct cs_exec cs_exec;

enum {
  CS_GRAD_INPUT = 1 << 0,   /* gradients of activations down to the model input */
  CS_GRAD_PARAMS = 1 << 1,  /* gradients of the parameters (summed over the batch) */
};

cs_exec *cs_exec_new (const cs_model *m, int32_t max_batch, cs_error *err);
void cs_exec_free (cs_exec *e);

/* Swaps the weights (a model over the same graph); buffers are kept. */
cs_status cs_exec_set_model (cs_exec *e, const cs_model *m, cs_error *err);
const cs_model *cs_exec_model (const cs_exec *e);
int32_t cs_exec_max_batch (const cs_exec *e);

/* The threads this exec's ops use (its OpenMP team and GEMM splits); new execs take
 * cs_threads_get (). Inside an OpenMP parallel region the ops run on the calling thread alone.
 * threads <= 0: the current default. */
void cs_exec_set_threads (cs_exec *e, int32_t threads);
int32_t cs_exec_threads (const cs_exec *e);
void cs_exec_set_training (cs_exec *e, bool training);
void cs_exec_set_relu_rule (cs_exec *e, cs_relu_rule rule);
void cs_exec_set_seed (cs_exec *e, uint64_t seed);
/* In training, this exec holds one slice of a batch whose other slices run on the other
 * members of group at the same time: batch norm takes its statistics over the whole batch.
 * NULL: the batch is all here. */
void cs_exec_set_batch_group (cs_exec *e, struct cs_batch_group *group, int32_t member);
/* The current settings, so that a caller can change them for a while and restore them. */
bool cs_exec_training (const cs_exec *e);
cs_relu_rule cs_exec_relu_rule (const cs_exec *e);

/* Runs the graph on input [N, C, H, W] (N <= max_batch). Keeps every activation. */
cs_status cs_exec_forward (cs_exec *e, const cs_tensor *input, cs_error *err);
/* Runs forward only as far as node `until` (and what it needs). */
cs_status cs_exec_forward_until (cs_exec *e, const cs_tensor *input, int32_t until, cs_error *err);

/* Back-propagates seed (the gradient of the score w.r.t. node `from`, same shape as its
 * activation) to the input and/or the parameters (flags). Needs a forward first. */
cs_status cs_exec_backward (cs_exec *e, int32_t from, const cs_tensor *seed, uint32_t flags,
                            cs_error *err);

/* Back-propagates seed from node `from` down to node `to` only (its gradient is then
 * cs_exec_grad (e, to)): what CAM methods need, without the work below the layer. */
cs_status cs_exec_backward_to (cs_exec *e, int32_t from, const cs_tensor *seed, int32_t to,
                               cs_error *err);

/* The activation of node id after forward (full run-time shape, dim 0 = N), or NULL. */
const cs_tensor *cs_exec_value (const cs_exec *e, int32_t id);
/* The gradient w.r.t. node id's activation after backward, or NULL when not computed. */
const cs_tensor *cs_exec_grad (const cs_exec *e, int32_t id);
/* The gradient w.r.t. parameter param_index after a backward with CS_GRAD_PARAMS. */
const cs_tensor *cs_exec_param_grad (const cs_exec *e, int32_t param_index);
/* Per-node saved state (batch-norm batch statistics: mean[C] then biased var[C]), or NULL. */
const cs_tensor *cs_exec_aux (const cs_exec *e, int32_t id);
int32_t cs_exec_batch (const cs_exec *e); /* N of the last forward */
/* Forwards started so far: equal counts before and after some work mean that the exec still
 * holds the activations of the same forward. */
uint64_t cs_exec_forward_count (const cs_exec *e);
