/* The internal interface between the attribution driver (attribution.c) and the methods,
 * one file per method. */
#pragma once

#include "attribution/attribution.h"

typedef struct {
  cs_exec *exec;
  const cs_model *model;
  const cs_tensor *input;           /* [1,C,H,W] */
  const cs_attribution_params *p;   /* defaults already filled in (samples, steps, ...) */
  const cs_progress *progress;
  int32_t target;                   /* resolved class index */
  int32_t layer;                    /* resolved CAM layer node id (CAM methods), else -1 */
  int32_t batch;                    /* cs_exec_max_batch (exec) */
  uint64_t input_forward;           /* cs_exec_forward_count after the driver's forward of input
                                     * (0: no such forward) */
  const cs_refine *refine;          /* may be NULL */
  double deadline;                  /* monotonic seconds after which refinement stops; 0 = none */
} cs_method_ctx;

/* Whether the run's budget is spent: a sampling method then stops after the current batch and
 * returns its estimate so far (out->completed < 1). */
static inline bool
cs_method_out_of_budget (const cs_method_ctx *ctx)
{
  return ctx->deadline > 0 && cs_attribution_now () >= ctx->deadline;
}

/* Whether anyone listens to partial estimates (so a method can skip building them). */
static inline bool
cs_method_wants_partial (const cs_method_ctx *ctx)
{
  return ctx->refine != NULL && ctx->refine->partial != NULL;
}

/* Hands the best-so-far displayed map (H,W) to the listener, if any. */
static inline void
cs_method_partial (const cs_method_ctx *ctx, const cs_tensor *map, double fraction)
{
  if (cs_method_wants_partial (ctx))
    ctx->refine->partial (ctx->refine->user_data, map, fraction);
}

/* Whether the exec still holds the driver's full forward of ctx->input, so that a method's
 * first pass over the unperturbed input need not run it again. */
static inline bool
cs_method_input_forwarded (const cs_method_ctx *ctx)
{
  return ctx->input_forward != 0 && cs_exec_forward_count (ctx->exec) == ctx->input_forward;
}

/* The end of a refining method: on success hands raw and map over to out with the fraction
 * done; on failure frees them. Returns st. */
static inline cs_status
cs_method_hand_over (cs_status st, cs_tensor *raw, cs_tensor *map, double completed,
                     cs_attribution *out)
{
  if (st != CS_OK)
    {
      cs_tensor_free (raw);
      cs_tensor_free (map);
      return st;
    }
  out->raw = *raw;
  out->map = *map;
  *raw = *map = (cs_tensor) { 0 };
  out->completed = completed;
  return CS_OK;
}

/* A budget-stopped run's saved work (resume.c): how far it got, the method's accumulators
 * (floats and doubles) and its random generator. */
typedef struct {
  int64_t done, total;
  int32_t passes;
  float *floats;
  int64_t n_floats;
  double *doubles;
  int64_t n_doubles;
  uint64_t rng[4];
} cs_resume_work;

/* The saved work of a stopped run of this very method, parameters, model and input, or NULL
 * (no state, an empty one, or another run's: that one is emptied). */
const cs_resume_work *cs_method_resume_find (const cs_method_ctx *ctx);
/* Saves w (copied) as the state of this run, when the run has a state to save into. */
cs_status cs_method_resume_save (const cs_method_ctx *ctx, const cs_resume_work *w, cs_error *err);
/* Empties the run's state (the run finished or failed). */
void cs_method_resume_clear (const cs_method_ctx *ctx);
/* The end of a resumable run with status st: saves w when the budget stopped it (st CS_OK,
 * w->done < w->total), keeps the state as it was when the run was cancelled (the saved work
 * is still valid), and empties it otherwise (finished, failed; w may then be NULL). Returns
 * st, or the save's error. */
cs_status cs_method_resume_end (const cs_method_ctx *ctx, cs_status st, const cs_resume_work *w,
                                cs_error *err);

/* What a measured batch size is measured on. */
typedef enum {
  CS_BATCH_FORWARD = 0,      /* full forwards (RISE, Score-CAM, occlusion by full forwards) */
  CS_BATCH_INCREMENTAL,      /* occlusion's incremental inference */
} cs_batch_kind;

/* Pushes n of a method's inputs through the network (results discarded): what is timed. */
typedef cs_status (*cs_batch_run_fn) (void *user_data, int32_t n, cs_error *err);

/* The batch size (1, 2, 4, ... or ctx->batch) at which `run` takes the least time per input,
 * each size timed once after an untimed warm-up. Remembered per model, kind, node `until`,
 * `extra` (e.g. the occlusion window), exec batch, thread count and input size: measured once
 * per process, so that later runs, and a progressive run and its one-shot twin, use the same
 * size (the maps may then differ from another process's in the last float bits when it
 * measured another size). The probe leaves the exec's activations changed. */
cs_status cs_method_fastest_batch (const cs_method_ctx *ctx, cs_batch_kind kind, int32_t until,
                                   int64_t extra, cs_batch_run_fn run, void *user_data,
                                   int32_t *batch, cs_error *err);
/* cs_method_fastest_batch for full forwards to node `until` of copies of ctx->input. */
cs_status cs_method_fastest_forward_batch (const cs_method_ctx *ctx, int32_t until, int32_t *batch,
                                           cs_error *err);

/* Fills out->raw, out->map, out->raw_is_signed and out->passes (and out->completed when a
 * budget stopped it early; the driver sets 1 otherwise); the driver fills the rest.
 * Must poll cs_progress_cancelled (ctx->progress) between batches and return CS_ERR_CANCELLED
 * with everything it allocated freed. */
typedef cs_status (*cs_method_fn) (const cs_method_ctx *ctx, cs_attribution *out, cs_error *err);

cs_status cs_method_saliency (const cs_method_ctx *ctx, cs_attribution *out, cs_error *err);
cs_status cs_method_guided_backprop (const cs_method_ctx *ctx, cs_attribution *out, cs_error *err);
cs_status cs_method_deconvnet (const cs_method_ctx *ctx, cs_attribution *out, cs_error *err);
cs_status cs_method_gradient_x_input (const cs_method_ctx *ctx, cs_attribution *out, cs_error *err);
cs_status cs_method_smoothgrad (const cs_method_ctx *ctx, cs_attribution *out, cs_error *err);
cs_status cs_method_integrated_gradients (const cs_method_ctx *ctx, cs_attribution *out, cs_error *err);
cs_status cs_method_gradcam (const cs_method_ctx *ctx, cs_attribution *out, cs_error *err);
cs_status cs_method_gradcam_pp (const cs_method_ctx *ctx, cs_attribution *out, cs_error *err);
cs_status cs_method_guided_gradcam (const cs_method_ctx *ctx, cs_attribution *out, cs_error *err);
cs_status cs_method_scorecam (const cs_method_ctx *ctx, cs_attribution *out, cs_error *err);
cs_status cs_method_layercam (const cs_method_ctx *ctx, cs_attribution *out, cs_error *err);
cs_status cs_method_occlusion (const cs_method_ctx *ctx, cs_attribution *out, cs_error *err);
cs_status cs_method_rise (const cs_method_ctx *ctx, cs_attribution *out, cs_error *err);
