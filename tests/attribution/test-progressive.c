/* Progressive (anytime) attributions: a run with a partial-map listener ends bit-identical to
 * the one-shot run; partial maps are valid maps at rising fractions; a budget stops after a
 * batch with the estimate so far, and for the sample-mean methods (RISE, SmoothGrad) that
 * estimate is exactly the one-shot result over the samples done (same seed); a cancel raised
 * from inside the listener leaves nothing allocated (the sanitizer build checks for leaks).
 * Every sampling method (SmoothGrad, Integrated Gradients, Score-CAM, occlusion, RISE) stopped
 * by a budget saves its state; "refine further" continues from it (further each time) and
 * ends bit-identical to the one-shot run; a run with other parameters empties it; a cancel
 * mid-way leaves the state usable and leaks nothing. The resume checks run on a 16-channel
 * net, so that Score-CAM's channels outlast three budget-stopped batches. */
#include <math.h>
#include <string.h>

#include "nets.h"

typedef struct {
  int calls;
  double last;
  bool rising, valid;
  int64_t h, w;
  volatile int cancel;
  int cancel_at;             /* raise the cancel flag at this partial (0: never) */
} listener;

static void
on_partial (void *user_data, const cs_tensor *map, double fraction)
{
  listener *l = user_data;
  l->calls++;
  l->rising = l->rising && fraction > l->last && fraction < 1.0;
  l->last = fraction;
  bool ok = map->shape.ndim == 2 && map->shape.dim[0] == l->h && map->shape.dim[1] == l->w;
  for (int64_t i = 0; ok && i < cs_tensor_numel (map); i++)
    ok = map->data[i] >= 0.0f && map->data[i] <= 1.0f;
  l->valid = l->valid && ok;
  if (l->cancel_at > 0 && l->calls >= l->cancel_at)
    l->cancel = 1;
}

/* One run on a fresh exec of batch 2; state: the resumable state, or NULL. */
static cs_status
explain_resumed (const cs_model *m, const cs_tensor *x, const cs_attribution_params *p,
                 listener *l, double budget, cs_resume *state, cs_attribution *out, cs_error *err)
{
  cs_exec *e = cs_exec_new (m, 2, err);
  if (e == NULL)
    {
      memset (out, 0, sizeof *out);
      return err->code;
    }
  cs_refine r = { .partial = l != NULL ? on_partial : NULL, .user_data = l, .budget_seconds = budget,
                  .resume = state };
  cs_progress prog = { .cancel = l != NULL ? &l->cancel : NULL };
  cs_status st = cs_attribution_run_refined (e, x, p, &prog, &r, out, err);
  cs_exec_free (e);
  return st;
}

static cs_status
explain_refined (const cs_model *m, const cs_tensor *x, const cs_attribution_params *p,
                 listener *l, double budget, cs_attribution *out, cs_error *err)
{
  return explain_resumed (m, x, p, l, budget, NULL, out, err);
}

static bool
same_bits (const cs_tensor *a, const cs_tensor *b)
{
  return cs_shape_equal (&a->shape, &b->shape)
         && memcmp (a->data, b->data, (size_t) cs_tensor_numel (a) * sizeof (float)) == 0;
}

static cs_attribution_params
params_for (cs_method method)
{
  cs_attribution_params p = CS_ATTRIBUTION_PARAMS_DEFAULT;
  p.method = method;
  p.samples = 9;
  p.steps = 9;
  p.window = 2;
  p.stride = 1;
  p.seed = 7;
  return p;
}

static void
check_method (const cs_model *m, const cs_tensor *x, cs_method method)
{
  const char *id = cs_method_id (method);
  cs_error err = { 0 };
  cs_attribution_params p = params_for (method);
  cs_attribution once, refined, stopped;

  cs_status st = net_explain (m, 2, x, &p, NULL, &once, &err);
  CHECK (st == CS_OK && once.completed == 1.0, "%s: the one-shot run completes: %s", id, err.message);

  listener l = { .rising = true, .valid = true, .h = m->height, .w = m->width };
  st = explain_refined (m, x, &p, &l, 0, &refined, &err);
  CHECK (st == CS_OK && l.calls >= 1 && l.rising && l.valid,
         "%s: partial maps at rising fractions below 1, all (H,W) in [0,1] (%d calls)", id, l.calls);
  CHECK (st == CS_OK && refined.completed == 1.0 && same_bits (&refined.raw, &once.raw)
         && same_bits (&refined.map, &once.map) && refined.passes == once.passes,
         "%s: refined to the end, raw and map are bit-identical to the one-shot run", id);
  cs_attribution_free (&refined);

  /* A budget already spent stops after the first batch of 2. */
  st = explain_refined (m, x, &p, NULL, 1e-9, &stopped, &err);
  CHECK (st == CS_OK && stopped.completed > 0 && stopped.completed < 1 && stopped.map.data != NULL,
         "%s: a spent budget stops early with an estimate (completed %.3f)", id, stopped.completed);
  if (st == CS_OK && (method == CS_METHOD_RISE || method == CS_METHOD_SMOOTHGRAD))
    {
      cs_attribution_params q = p;
      q.samples = stopped.passes;
      cs_attribution prefix;
      st = net_explain (m, 2, x, &q, NULL, &prefix, &err);
      CHECK (st == CS_OK && same_bits (&stopped.raw, &prefix.raw) && same_bits (&stopped.map, &prefix.map),
             "%s: stopped after %d samples, the estimate is exactly the %d-sample one-shot result",
             id, stopped.passes, stopped.passes);
      cs_attribution_free (&prefix);
    }
  cs_attribution_free (&stopped);

  /* A generous budget changes nothing. */
  st = explain_refined (m, x, &p, NULL, 1e6, &refined, &err);
  CHECK (st == CS_OK && refined.completed == 1.0 && same_bits (&refined.raw, &once.raw),
         "%s: an unspent budget leaves the result bit-identical", id);
  cs_attribution_free (&refined);

  /* Cancelled from inside the listener, mid-refinement. */
  l = (listener) { .rising = true, .valid = true, .h = m->height, .w = m->width, .cancel_at = 1 };
  st = explain_refined (m, x, &p, &l, 0, &refined, &err);
  CHECK (st == CS_ERR_CANCELLED && refined.raw.data == NULL && refined.map.data == NULL,
         "%s: cancelled mid-refinement, nothing is left allocated", id);
  cs_attribution_free (&once);
}

static void
check_resume (const cs_model *m, const cs_tensor *x, cs_method method)
{
  const char *id = cs_method_id (method);
  cs_error err = { 0 };
  cs_attribution_params p = params_for (method);
  cs_attribution once, a;
  cs_status st = explain_refined (m, x, &p, NULL, 0, &once, &err);
  CHECK (st == CS_OK, "%s: one-shot run", id);
  cs_resume *state = cs_resume_new ();

  /* each spent-budget run does one more batch of 2, continuing from the last */
  double before = 0;
  bool further = true;
  int32_t runs = 0;
  for (; runs < 3 && st == CS_OK; runs++)
    {
      st = explain_resumed (m, x, &p, NULL, 1e-9, state, &a, &err);
      further = further && st == CS_OK && a.completed > before && cs_resume_completed (state) == a.completed;
      before = a.completed;
      cs_attribution_free (&a);
    }
  CHECK (st == CS_OK && further && before < 1.0,
         "%s: three budget-stopped runs each continue from the last (%.3f done)", id, before);

  /* cancelled mid-way: nothing allocated, the state still usable */
  listener l = { .cancel_at = 1 };
  st = explain_resumed (m, x, &p, &l, 0, state, &a, &err);
  CHECK (st == CS_ERR_CANCELLED && a.raw.data == NULL && cs_resume_completed (state) == before,
         "%s: a cancelled refinement leaves the saved state as it was", id);

  listener full = { 0 };
  st = explain_resumed (m, x, &p, &full, 0, state, &a, &err);
  CHECK (st == CS_OK && a.completed == 1.0 && same_bits (&a.raw, &once.raw) && same_bits (&a.map, &once.map)
         && a.passes == once.passes && cs_resume_completed (state) == 0 && full.calls > 0,
         "%s: refined further to the end, bit-identical to the one-shot run (%d partial maps), state emptied",
         id, full.calls);
  cs_attribution_free (&a);

  /* a state from other parameters is not continued */
  st = explain_resumed (m, x, &p, NULL, 1e-9, state, &a, &err);
  cs_attribution_free (&a);
  double first = cs_resume_completed (state);
  cs_attribution_params q = p;
  q.seed = p.seed + 1;
  q.stride = p.stride + 1;
  st = explain_resumed (m, x, &q, NULL, 1e-9, state, &a, &err);
  CHECK (st == CS_OK && first > 0 && a.passes <= 3,
         "%s: other parameters start again (one batch of 2: %d passes)", id, a.passes);
  cs_attribution_free (&a);
  cs_resume_free (state);
  cs_attribution_free (&once);
}

int
main (void)
{
  cs_error err = { 0 };
  cs_model *m = net_residual (4, &err);
  CHECK (m != NULL, "residual net: %s", m != NULL ? "built" : err.message);
  if (m == NULL)
    return test_done ();
  cs_tensor x;
  net_input (m, 3, &x);
  const cs_method sampling[] = { CS_METHOD_SMOOTHGRAD, CS_METHOD_INTEGRATED_GRADIENTS,
                                 CS_METHOD_SCORECAM, CS_METHOD_OCCLUSION, CS_METHOD_RISE };
  for (size_t i = 0; i < sizeof sampling / sizeof sampling[0]; i++)
    check_method (m, &x, sampling[i]);
  cs_model *wide = net_residual_width (4, 16, &err);
  CHECK (wide != NULL, "16-channel residual net: %s", wide != NULL ? "built" : err.message);
  for (size_t i = 0; wide != NULL && i < sizeof sampling / sizeof sampling[0]; i++)
    check_resume (wide, &x, sampling[i]);
  cs_model_free (wide);

  /* One-pass methods ignore refinement hooks and always complete. */
  cs_attribution_params p = params_for (CS_METHOD_GRADCAM);
  cs_attribution a;
  cs_status st = explain_refined (m, &x, &p, NULL, 1e-9, &a, &err);
  CHECK (st == CS_OK && a.completed == 1.0, "gradcam: one pass, completed 1 under any budget");
  cs_attribution_free (&a);

  p = params_for (CS_METHOD_RISE);
  cs_exec *e = cs_exec_new (m, 2, &err);
  cs_refine bad = { .budget_seconds = NAN };
  st = e != NULL ? cs_attribution_run_refined (e, &x, &p, NULL, &bad, &a, &err) : CS_ERR_MEMORY;
  CHECK (st == CS_ERR_ARGUMENT, "a NaN budget is refused: %s", err.message);
  cs_exec_free (e);

  int32_t k, s;
  cs_occlusion_default_window (224, 224, &k, &s);
  CHECK (k == 16 && s == 8, "occlusion at 224x224 defaults to window 16, stride 8 (got %d, %d)", k, s);
  cs_occlusion_default_window (28, 28, &k, &s);
  CHECK (k == 8 && s == 4, "occlusion at 28x28 keeps window 8, stride 4 (got %d, %d)", k, s);
  cs_occlusion_default_window (512, 384, &k, &s);
  CHECK (k == 27 && s == 13, "occlusion at 512x384 follows the shorter side (got %d, %d)", k, s);

  cs_tensor_free (&x);
  cs_model_free (m);
  return test_done ();
}
