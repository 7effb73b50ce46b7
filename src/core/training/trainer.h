/* Mini-batch training of a cs_model: forward in training mode, softmax cross-entropy, backward
 * to the parameters, an optimizer step, batch-norm running statistics; and evaluation.
 *
 * Threads: each batch is split into one slice per compute thread, each run through its own
 * cs_exec with single-threaded ops, and the slices' gradients are summed in slice order. On
 * small CNNs this keeps both cores busy where one exec with multi-threaded ops spends its time
 * waking threads for tiny loops and moving data between the cores' caches (bench/README.md:
 * the demo model's step 10.5-10.8 ms with threaded ops, 6.1-6.2 ms on slices, 2 cores). Batch
 * norm takes the statistics of the whole batch, as PyTorch computes them: the slices add up
 * their per-channel sums through a cs_batch_group (base/batch_group.h) at each batch-norm
 * node, forward and backward. The same seed and thread count give the same run bit for bit;
 * one thread gives one exec for the whole batch. */
#pragma once

#include "base/tensor.h"
#include "data/dataset.h"
#include "exec/exec.h"
#include "training/optimizer.h"

typedef struct {
  cs_optimizer_config optimizer;
  int32_t batch;             /* mini-batch size */
  uint64_t seed;             /* shuffling and dropout masks */
  int32_t slices;            /* batch slices run in parallel: 0 = automatic (one per compute
                              * thread), 1 = one exec for the batch */
  bool augment;              /* random crop and flip of every training batch (augment.h) */
} cs_trainer_config;

typedef struct cs_trainer cs_trainer;

/* Trains m in place (the caller keeps ownership; m's weights change after every step). */
cs_trainer *cs_trainer_new (cs_model *m, const cs_trainer_config *cfg, cs_error *err);
void cs_trainer_free (cs_trainer *t);

cs_optimizer *cs_trainer_optimizer (cs_trainer *t);
cs_exec *cs_trainer_exec (cs_trainer *t);
int32_t cs_trainer_slices (const cs_trainer *t);

/* Forward in training mode and backward: fills the parameter gradients (of the mean loss)
 * without changing any weight. */
cs_status cs_trainer_gradients (cs_trainer *t, const cs_tensor *x, const int32_t *labels, double *loss,
                                int32_t *correct, cs_error *err);
/* The gradient of parameter p after cs_trainer_gradients, or NULL. */
const cs_tensor *cs_trainer_param_grad (const cs_trainer *t, int32_t p);

/* One training step on x [N, C, H, W]: gradients, optimizer update, and each batch norm's
 * running statistics moved towards the batch's as PyTorch does (momentum m:
 * mean = (1-m) mean + m batch_mean, var = (1-m) var + m unbiased_batch_var). */
cs_status cs_trainer_step (cs_trainer *t, const cs_tensor *x, const int32_t *labels, double *loss,
                           int32_t *correct, cs_error *err);

/* One epoch over the samples indices[0..n) of split, shuffled with (seed, epoch), in batches
 * (the last one smaller). Mean loss and accuracy over the epoch's samples. Progress is reported
 * and the cancel flag polled between batches (CS_ERR_CANCELLED, weights then mid-epoch). */
cs_status cs_trainer_epoch (cs_trainer *t, const cs_dataset_split *split, const int64_t *indices, int64_t n,
                            const float *mean, const float *std, int32_t epoch, double *loss,
                            double *accuracy, const cs_progress *progress, cs_error *err);

/* Mahsereci et al.'s evidence-based criterion (2017) of the last cs_trainer_epoch:
 *   EB = 1 - (B / D) sum_k g_k^2 / S_k
 * over the D trainable weights, g the mini-batch gradient, S_k the per-sample gradient variance.
 * Per-sample gradients are not computed here, so S_k / B is estimated by the variance of the
 * epoch's mini-batch gradients (unbiased, across batches) and g_k^2 by their mean square:
 *   EB = 1 - (1 / D) sum_k mean_b (g_bk^2) / var_b (g_bk).
 * EB > 0 means the gradients are indistinguishable from noise (the paper's stopping signal).
 * NaN when the epoch had fewer than two batches or no weight had a positive variance. */
double cs_trainer_eb_criterion (const cs_trainer *t);

/* Mean loss and accuracy of the model in inference mode (running statistics, no dropout). */
cs_status cs_trainer_evaluate (cs_trainer *t, const cs_dataset_split *split, const int64_t *indices,
                               int64_t n, const float *mean, const float *std, double *loss,
                               double *accuracy, const cs_progress *progress, cs_error *err);
