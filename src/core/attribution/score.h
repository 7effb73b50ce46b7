/* The explained score of a batch — the target logit, or in unit mode the mean activation of
 * one channel of one node — and the seed gradients every gradient-based method back-propagates. */
#pragma once

#include "attribution/map.h"
#include "attribution/method.h"
#include "base/rng.h"

typedef struct {
  int32_t node;          /* the node the score reads: the logits, or p->unit_layer */
  int32_t channel;       /* unit mode: the channel (dim 1); else -1 */
  int32_t target;        /* logit mode: the class index; else -1 */
  int64_t per_sample;    /* elements of the node's activation per sample */
  int64_t plane;         /* unit mode: elements per channel (h*w, 1 for a 2-D node) */
  cs_tensor seed;        /* d score / d node for up to ctx->batch samples */
  cs_tensor inputs;      /* scratch batch of up to ctx->batch inputs [n,C,H,W] */
  bool reuse_forward;    /* the next cs_score_forward may use the exec's current activations */
} cs_score;

/* Resolves what is explained (the target logit, or the unit checked against the graph) into
 * s->node, channel, target, per_sample and plane; allocates nothing (s->seed, s->inputs empty). */
cs_status cs_score_resolve (cs_score *s, const cs_method_ctx *ctx, cs_error *err);
/* Writes the seed gradients of n samples of s->node into seed (n * s->per_sample floats):
 * one-hot on the target logit, or 1/plane over the unit's channel. */
void cs_score_fill_seed (const cs_score *s, float *seed, int32_t n);

/* cs_score_resolve, then allocates the seed and input batch for
 * ctx->batch samples. On error nothing is left allocated. */
cs_status cs_score_init (cs_score *s, const cs_method_ctx *ctx, cs_error *err);
void cs_score_free (cs_score *s);

/* s->inputs reshaped to its first n samples (a view; fill it, then pass it below). */
cs_tensor cs_score_batch (cs_score *s, int32_t n);

/* Runs batch [n,C,H,W] forward as far as the score node; writes the n scores when scores
 * is non-NULL. */
cs_status cs_score_forward (cs_score *s, cs_exec *e, const cs_tensor *batch, float *scores,
                            cs_error *err);
/* The n scores from v, node s->node's activation for n samples. */
void cs_score_read (const cs_score *s, const cs_tensor *v, int64_t n, float *scores);
/* After cs_score_forward: back-propagates each sample's score (the seed: one-hot on the
 * target logit, or 1/plane on the unit's channel) with flags (CS_GRAD_INPUT ...). Node
 * gradients are then in cs_exec_grad. */
cs_status cs_score_backward (cs_score *s, cs_exec *e, uint32_t flags, cs_error *err);

/* Forward and backward of batch to the model input under ReLU rule `rule` (the exec's previous
 * rule is restored, also on error). The gradient is then cs_exec_grad (e, input node). */
cs_status cs_score_input_gradient (cs_score *s, cs_exec *e, const cs_tensor *batch,
                                   cs_relu_rule rule, float *scores, cs_error *err);

/* The gradient of the score w.r.t. the single input ctx->input under `rule`, into grad
 * (allocated here, shape (C,H,W)). One pass. */
cs_status cs_score_gradient (const cs_method_ctx *ctx, cs_relu_rule rule, cs_tensor *grad,
                             cs_error *err);

/* The gradient family's attribution (saliency, guided backprop, deconvnet): raw = the signed
 * input gradient under `rule`, map = max |.| over channels at the 99th percentile. */
cs_status cs_score_gradient_attribution (const cs_method_ctx *ctx, cs_relu_rule rule,
                                         cs_attribution *out, cs_error *err);

/* Writes sample `index` (C*H*W floats) of a batched method into `sample`. Called in index
 * order, so that a method drawing random numbers gets the same samples at any batch size. */
typedef void (*cs_score_fill_fn) (void *user_data, int64_t index, float *sample);

/* Turns a mean gradient (C*H*W floats, in place) into the method's raw attribution (e.g.
 * Integrated Gradients multiplies by x - x'); NULL: the mean is the attribution. */
typedef void (*cs_score_finish_fn) (void *user_data, float *raw);

/* The mean over `count` samples (made by fill) of the gradient of the score w.r.t. the input,
 * under the true gradient rule, passed through finish into out->raw ((C,H,W)), and out->map
 * reduced over channels with `reduce`. Samples go through the network in chunks of
 * ctx->batch: one forward and one backward per chunk; progress is reported after each chunk,
 * with the estimate over the samples so far when a listener wants partial maps, and
 * cancellation and the budget polled between chunks (a spent budget leaves the mean over the
 * samples done and out->completed < 1). On error or cancellation nothing is left allocated.
 * out->passes counts the samples pushed through. A budget-stopped run saves its sums, its
 * sample count and rng (the generator fill draws from, or NULL) in the run's resumable state,
 * and a run given that state continues from it: fill then starts at the first sample not
 * done, with rng as it was after the last one. */
cs_status cs_score_mean_gradient (const cs_method_ctx *ctx, int64_t count, cs_score_fill_fn fill,
                                  void *user_data, cs_rng *rng, cs_score_finish_fn finish,
                                  cs_channel_reduce reduce, cs_attribution *out, cs_error *err);
