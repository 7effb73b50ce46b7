/* Activation maximisation (Erhan 2009; Olah et al. 2017): gradient ascent on the input to
 * maximise one unit's mean activation, with the regularisers that make the images readable.
 * Several units of one node are optimised together, one forward and one backward per step. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "base/status.h"
#include "exec/exec.h"
#include "features/image_param.h"

typedef struct {
  int32_t steps;             /* gradient steps (default 256) */
  float learning_rate;       /* Adam (default 0.05, as Lucid) */
  cs_image_param_kind param; /* CS_IMAGE_PARAM_FOURIER (default) or CS_IMAGE_PARAM_PIXEL */
  float blur_sigma;          /* pixel parameterisation: Gaussian blur of the parameters after
                                each step, in pixels (default 0.5); 0 = none */
  int32_t jitter;            /* random shift of ±jitter pixels per step; -1 = ceil(W/16) */
  float scale_range;         /* random scale in 1 ± scale_range (default 0.05) */
  float rotate_degrees;      /* random rotation in ±degrees (default 5) */
  float l2_decay;            /* penalty l2_decay · mean over pixels of (rgb − 0.5)² (default 0) */
  float init_sd;             /* initial parameters' standard deviation (default 0.01) */
  uint64_t seed;             /* with the unit's channel, fixes everything random */
} cs_actmax_params;

#define CS_ACTMAX_PARAMS_DEFAULT ((cs_actmax_params) { .steps = 256, .learning_rate = 0.05f, \
  .param = CS_IMAGE_PARAM_FOURIER, .blur_sigma = 0.5f, .jitter = -1, .scale_range = 0.05f,    \
  .rotate_degrees = 5.0f, .l2_decay = 0.0f, .init_sd = 0.01f, .seed = 0 })

/* What the step callback sees: the images of the units being optimised now, after `step`
 * steps (1-based), in display space. */
typedef struct {
  int32_t step, steps;
  int32_t first, n;          /* units[first .. first + n) of the request */
  int32_t channels, height, width;
  const float *images;       /* n × C × H × W, in [0,1] (RGB or gray) */
  const float *activations;  /* n: each unit's activation at this step (transformed image) */
} cs_actmax_step;

typedef void (*cs_actmax_step_fn) (void *user_data, const cs_actmax_step *step);

typedef struct {
  int32_t node;
  int32_t n_units;
  int32_t *units;            /* the channels optimised */
  int32_t steps;
  cs_tensor images;          /* [n_units, C, H, W] display images in [0,1] (x·std + mean) */
  float *trace;              /* n_units × steps: the unit's activation at each step */
  float *initial;            /* n_units: the activation on the starting image (untransformed) */
  float *final;              /* n_units: the activation on the result (untransformed) */
  double seconds;
} cs_actmax_result;

/* Maximises the mean activation of each channel units[i] of node (a 4-D node: the mean over
 * positions; a 2-D node: the value) on exec e, in groups of cs_exec_max_batch (e) units.
 * The exec's training mode and ReLU rule are set for the run and restored. step_fn (may be
 * NULL) runs after every step; progress is reported and cancellation polled every step. On
 * error or cancellation nothing is left allocated in out. */
cs_status cs_actmax_run (cs_exec *e, int32_t node, const int32_t *units, int32_t n_units,
                         const cs_actmax_params *p, cs_actmax_step_fn step_fn, void *user_data,
                         const cs_progress *progress, cs_actmax_result *out, cs_error *err);
void cs_actmax_result_free (cs_actmax_result *r);

/* The number of units (channels, or outputs of a 2-D node) of node, or -1 when it is not a
 * batched 2-D or 4-D node. */
int32_t cs_actmax_unit_count (const cs_graph *g, int32_t node);
