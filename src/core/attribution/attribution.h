/* Attribution methods: one interface over thirteen published methods (conventions: docs/methods.md).
 * Each method runs on a caller's cs_exec, pushes its many inputs through the network in
 * batches of at most cs_exec_max_batch, reports progress, polls the cancel flag between
 * batches, and returns the raw attribution and the displayed 2-D map. */
#pragma once

#include "base/status.h"
#include "exec/exec.h"

typedef enum {
  CS_METHOD_SALIENCY = 0,
  CS_METHOD_GUIDED_BACKPROP,
  CS_METHOD_DECONVNET,
  CS_METHOD_GRADIENT_X_INPUT,
  CS_METHOD_SMOOTHGRAD,
  CS_METHOD_INTEGRATED_GRADIENTS,
  CS_METHOD_GRADCAM,
  CS_METHOD_GRADCAM_PP,
  CS_METHOD_GUIDED_GRADCAM,
  CS_METHOD_SCORECAM,
  CS_METHOD_LAYERCAM,
  CS_METHOD_OCCLUSION,
  CS_METHOD_RISE,
  CS_METHOD_COUNT
} cs_method;

typedef enum {
  CS_BASELINE_ZERO = 0,      /* the all-zero input tensor */
  CS_BASELINE_BLUR,          /* the input blurred (Gaussian, sigma = max(H,W)/20; see baseline.h) */
  CS_BASELINE_UNIFORM,       /* uniform noise over the input tensor's range, from the seed */
} cs_baseline;

typedef struct {
  cs_method method;
  int32_t target;            /* class index; -1 = the predicted class ("auto") */
  int32_t layer;             /* CAM layer node id; -1 = cs_graph_last_spatial_node */
  /* Explain a unit instead of a class: the mean activation of channel unit_channel of node
   * unit_layer (both -1 = explain the target logit). */
  int32_t unit_layer, unit_channel;
  int32_t samples;           /* smoothgrad (default 50), rise (default 4000); 0 = default */
  float noise;               /* smoothgrad sigma as a fraction of the input range; 0 = 0.15 */
  int32_t steps;             /* integrated gradients (default 50); 0 = default */
  cs_baseline baseline;      /* integrated gradients, occlusion */
  int32_t window, stride;    /* occlusion; 0 = cs_occlusion_default_window */
  /* occlusion: one full forward per window instead of incremental inference (the reference
   * that incremental inference is checked and timed against; the same map to float rounding) */
  bool full_forwards;
  uint64_t seed;             /* smoothgrad, rise, uniform baseline */
} cs_attribution_params;

#define CS_ATTRIBUTION_PARAMS_DEFAULT ((cs_attribution_params) { .method = CS_METHOD_SALIENCY, \
  .target = -1, .layer = -1, .unit_layer = -1, .unit_channel = -1, .seed = 0 })

typedef struct {
  cs_method method;
  cs_tensor raw;             /* what --save-raw writes (docs/methods.md): (C,H,W), (h,w) or (H,W) */
  cs_tensor map;             /* what is displayed: (H,W) in [0,1] */
  bool raw_is_signed;        /* raw holds signed values (render diverging) */
  int32_t target;            /* the class explained (resolved from -1) */
  float target_logit;        /* of the unperturbed input */
  float target_probability;
  int32_t layer;             /* the CAM layer used, or -1 */
  int32_t passes;            /* forward passes (samples) pushed through the network */
  double seconds;            /* wall time of the run */
  double completed;          /* fraction of the method's work done: 1, or less when a budget
                              * stopped refinement (raw and map are then the estimate so far) */
} cs_attribution;

/* Progressive (anytime) results. The sampling methods (SmoothGrad, Integrated Gradients,
 * Score-CAM, occlusion, RISE) refine a running estimate: after each batch they hand partial
 * their best-so-far displayed map ((H,W) in [0,1], valid during the call only) and the
 * fraction done. Run to the end, the result is bit-identical to a run without refinement
 * hooks. A budget stops refinement after the batch that crosses it; the result is then the
 * estimate so far and cs_attribution.completed says how far the method got. */
typedef struct cs_resume cs_resume;

typedef struct {
  void (*partial) (void *user_data, const cs_tensor *map, double fraction); /* may be NULL */
  void *user_data;
  double budget_seconds;     /* > 0: stop refining once the run has taken this long */
  /* May be NULL. A sampling method's run that a budget stops saves what it has done here; a
   * later run given the same state, with the same model, input, method and parameters,
   * continues from it instead of starting again, and its result is bit-identical to a run
   * that was never stopped. A cancelled run leaves it as it was; any other run empties it. */
  cs_resume *resume;
} cs_refine;

/* An empty resumable state (NULL when out of memory), and its end. */
cs_resume *cs_resume_new (void);
void cs_resume_free (cs_resume *r);
/* The fraction of the work a saved state holds (0 when empty). */
double cs_resume_completed (const cs_resume *r);

/* Runs p->method on input [1,C,H,W] with exec e (its model, its max batch). progress may be
 * NULL. On CS_ERR_CANCELLED nothing is left allocated in out. */
cs_status cs_attribution_run (cs_exec *e, const cs_tensor *input, const cs_attribution_params *p,
                              const cs_progress *progress, cs_attribution *out, cs_error *err);
/* cs_attribution_run with refinement hooks (refine may be NULL: run to the end, no partials). */
cs_status cs_attribution_run_refined (cs_exec *e, const cs_tensor *input,
                                      const cs_attribution_params *p, const cs_progress *progress,
                                      const cs_refine *refine, cs_attribution *out, cs_error *err);
void cs_attribution_free (cs_attribution *a);

/* The occlusion defaults for an H x W input (see docs/progressive.md): a window of about 1/14
 * of the shorter side, at least 8 pixels, and a stride of half the window. */
void cs_occlusion_default_window (int64_t height, int64_t width, int32_t *window, int32_t *stride);

/* A batch size for method on model m that keeps one exec within budget_bytes (0 = 1 GiB). */
int32_t cs_attribution_batch_hint (const cs_model *m, cs_method method, int64_t budget_bytes);

const char *cs_method_id (cs_method m);          /* "saliency", "gradcam++", ... as docs/methods.md */
cs_method cs_method_from_id (const char *id);    /* CS_METHOD_COUNT when unknown */
const char *cs_method_title (cs_method m);       /* "Integrated Gradients" */
const char *cs_method_citation (cs_method m);    /* "Sundararajan et al. 2017" */
/* The exact conventions, one paragraph, for tooltips and --help. */
const char *cs_method_conventions (cs_method m);
bool cs_method_is_cam (cs_method m);             /* uses a layer */
/* Refines an estimate over many batches (SmoothGrad, IG, Score-CAM, occlusion, RISE): the
 * methods that cs_refine's partial maps and budget apply to. */
bool cs_method_is_sampling (cs_method m);
/* On (the default), Score-CAM, RISE and occlusion run their masked inputs in batches of the
 * size measured fastest; off, at the exec's own batch. For tests that compare two paths to
 * float tolerance: the measured size follows the machine's timing, and the conv algorithm (so
 * the rounding) follows the size. */
void cs_attribution_measure_batches (bool on);

/* Monotonic wall time in seconds (the clock budgets are measured on). */
double cs_attribution_now (void);
