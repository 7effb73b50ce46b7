/* SGD with momentum and Adam, with PyTorch's update rules (torch.optim.SGD / Adam, 1.13). */
#pragma once

#include <stdbool.h>

#include "graph/model.h"

typedef enum {
  CS_OPTIMIZER_SGD = 0,
  CS_OPTIMIZER_ADAM,
} cs_optimizer_kind;

typedef struct {
  cs_optimizer_kind kind;
  double lr;
  double momentum;           /* SGD; 0 = plain SGD (no buffer) */
  double weight_decay;       /* L2 added to the gradient (wd * p), in both, as PyTorch does */
  double beta1, beta2, eps;  /* Adam */
} cs_optimizer_config;

/* lr 0.01, momentum 0.9 for SGD; lr 1e-3, betas (0.9, 0.999), eps 1e-8 for Adam; no decay. */
cs_optimizer_config cs_optimizer_config_default (cs_optimizer_kind kind);
const char *cs_optimizer_kind_name (cs_optimizer_kind kind); /* "sgd", "adam" */
bool cs_optimizer_kind_parse (const char *name, cs_optimizer_kind *kind);

typedef struct cs_optimizer cs_optimizer;

/* An optimizer for m's trainable parameters: every parameter except batch norm's running
 * statistics (inputs 3 and 4 of a batchnorm node), which the trainer updates itself. */
cs_optimizer *cs_optimizer_new (const cs_model *m, const cs_optimizer_config *cfg, cs_error *err);
void cs_optimizer_free (cs_optimizer *o);

const cs_optimizer_config *cs_optimizer_config_get (const cs_optimizer *o);
/* A learning-rate schedule changes the rate between epochs (a non-positive rate is ignored). */
void cs_optimizer_set_lr (cs_optimizer *o, double lr);
bool cs_optimizer_trainable (const cs_optimizer *o, int32_t param_index);

/* One update of m's trainable parameters; grads[p] is the gradient of parameter p (NULL:
 * the parameter got none and is left alone, as PyTorch skips p.grad is None). */
void cs_optimizer_step (cs_optimizer *o, cs_model *m, const cs_tensor *const *grads);

/* Steps taken so far (Adam's bias correction and SGD's first-step buffer depend on it). */
int64_t cs_optimizer_steps (const cs_optimizer *o);
void cs_optimizer_set_steps (cs_optimizer *o, int64_t steps);

/* The state, for checkpoints: models over m's graph whose "weights" are the per-parameter
 * buffers ("momentum_buffer" for SGD with momentum; "exp_avg" and "exp_avg_sq" for Adam). */
int32_t cs_optimizer_n_states (const cs_optimizer *o);
const char *cs_optimizer_state_name (const cs_optimizer *o, int32_t i);
cs_model *cs_optimizer_state (cs_optimizer *o, int32_t i);
