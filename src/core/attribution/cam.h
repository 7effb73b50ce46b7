/* Pieces shared by the CAM methods and RISE: the explained score as a backward seed or as a
 * batch of scores, the layer's activations and gradients, and the weighted channel sum. */
#pragma once

#include "attribution/method.h"

/* After a forward at batch 1: the node to back-propagate from and its seed, the gradient of
 * the explained score (the target logit, or the mean activation of the unit when
 * p->unit_layer >= 0) w.r.t. that node. Allocates seed. */
cs_status cs_cam_score_seed (const cs_method_ctx *ctx, int32_t *from, cs_tensor *seed,
                             cs_error *err);

/* The node cs_cam_batch_scores runs the network to: the unit's layer, or the output. */
int32_t cs_cam_score_node (const cs_method_ctx *ctx);
/* Runs input [N,C,H,W] forward and writes one score per sample: the target's softmax
 * probability (Score-CAM, RISE), or the unit's mean activation when p->unit_layer >= 0. */
cs_status cs_cam_batch_scores (const cs_method_ctx *ctx, const cs_tensor *input, double *scores,
                               cs_error *err);

/* Checks that ctx->layer is a batched 4-D node and gives its channels and size. */
cs_status cs_cam_layer_geometry (const cs_method_ctx *ctx, int64_t *k, int64_t *h, int64_t *w,
                                 cs_error *err);

/* Forward on ctx->input, backward of the score down to ctx->layer only; copies the layer's
 * activations A and gradients g (both [K,h,w]) into acts and grads (allocated here). */
cs_status cs_cam_layer_gradients (const cs_method_ctx *ctx, cs_tensor *acts, cs_tensor *grads,
                                  cs_error *err);

/* raw (allocated here, (h,w)) = ReLU (Σ_k weights[k] · acts[k]) for acts [K,h,w]. */
cs_status cs_cam_weighted_sum (const cs_tensor *acts, const double *weights, cs_tensor *raw,
                               cs_error *err);

/* Hands raw (h,w) over to out->raw and builds out->map at the input's resolution. Frees raw
 * on failure. */
cs_status cs_cam_finish (const cs_method_ctx *ctx, cs_tensor *raw, int32_t passes,
                         cs_attribution *out, cs_error *err);

/* Per-channel weights of a weighted-channel CAM from the layer's activations and gradients
 * (both [K,h,w]) into weights[K]. */
typedef void (*cs_cam_weigh_fn) (const cs_tensor *acts, const cs_tensor *grads, double *weights);

/* Grad-CAM and Grad-CAM++: one forward and backward down to the layer, channel weights from
 * weigh, raw = ReLU (Σ_k w_k A_k), and the displayed map. */
cs_status cs_cam_run_weighted (const cs_method_ctx *ctx, cs_cam_weigh_fn weigh,
                               cs_attribution *out, cs_error *err);
