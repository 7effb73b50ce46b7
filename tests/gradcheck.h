/* Finite-difference gradient checks for one operator (ggml test-grad0 style): forward, a random
 * seed gradient r, loss = sum(out * r); central differences of the loss against backward. */
#pragma once

#include "base/rng.h"
#include "graph/ops.h"

typedef struct {
  double h;              /* finite-difference step (default 1e-2 on values of order 1) */
  double atol, rtol;     /* per-element tolerance (defaults 2e-3, 2e-2) */
  int64_t max_checks;    /* elements checked per input, sampled evenly (default 200) */
  uint32_t check_mask;   /* bit i set: check input i (default: all inputs) */
  int32_t batch;         /* dim 0 of batched inputs, for ops reading node->batched (unused) */
  bool training;         /* op context: training mode */
  cs_relu_rule relu_rule;
} cs_gradcheck_options;

/* Runs the check on op with attrs, over inputs (full shapes; the node is marked batched when
 * batched is true). Prints one TAP line per checked input through testlib's CHECK and returns
 * the number of failing inputs. label names the case in the output. */
int cs_gradcheck (const char *label, cs_op op, const cs_attrs *attrs, cs_tensor *inputs,
                  int32_t n_inputs, bool batched, const cs_gradcheck_options *opts);

/* Fills t with uniform values in [lo, hi). */
void cs_fill_uniform (cs_tensor *t, cs_rng *rng, float lo, float hi);
/* Fills t with values in [lo, hi) that are pairwise at least `gap` apart in rank order
 * (a shuffled grid): max-pool ties and ReLU kinks stay further than h from every point. */
void cs_fill_distinct (cs_tensor *t, cs_rng *rng, float lo, float hi);
