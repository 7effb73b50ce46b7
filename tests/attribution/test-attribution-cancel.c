/* Cancellation: raising the flag midway (from the progress callback after the first chunk)
 * makes every batched method (SmoothGrad, IG, occlusion, Score-CAM, RISE) return CS_ERR_CANCELLED with nothing allocated in the result (the
 * sanitizer build checks for leaks); a flag raised before the run stops every method. Progress
 * fractions rise to 1 in a run that is not cancelled. */
#include <string.h>

#include "nets.h"

typedef struct {
  volatile int cancel;
  int calls, cancel_after;
  double last;
  bool monotonic;
} watcher;

static void
on_progress (void *user_data, double fraction)
{
  watcher *w = user_data;
  w->calls++;
  w->monotonic = w->monotonic && fraction >= w->last && fraction <= 1.0;
  w->last = fraction;
  if (w->cancel_after > 0 && w->calls >= w->cancel_after)
    w->cancel = 1;
}

static void
run_methods (const char *label, const cs_model *m)
{
  cs_error err = { 0 };
  cs_tensor x;
  net_input (m, 3, &x);
  const cs_method batched[] = { CS_METHOD_SMOOTHGRAD, CS_METHOD_INTEGRATED_GRADIENTS, CS_METHOD_OCCLUSION,
                                CS_METHOD_SCORECAM, CS_METHOD_RISE };
  for (size_t i = 0; i < sizeof batched / sizeof batched[0]; i++)
    {
      cs_attribution_params p = CS_ATTRIBUTION_PARAMS_DEFAULT;
      p.method = batched[i];
      p.samples = 10;
      p.steps = 10;
      p.window = 2;
      p.stride = 1;
      watcher w = { .cancel_after = 1, .monotonic = true };
      cs_progress prog = { .progress = on_progress, .user_data = &w, .cancel = &w.cancel };
      cs_attribution a;
      cs_status st = net_explain (m, 2, &x, &p, &prog, &a, &err);
      CHECK (st == CS_ERR_CANCELLED && w.calls == 1 && a.raw.data == NULL && a.map.data == NULL,
             "%s: %s cancelled after its first chunk of 2 (%d progress calls): %s", label,
             cs_method_id (p.method), w.calls, err.message);

      w = (watcher) { .monotonic = true };
      st = net_explain (m, 3, &x, &p, &prog, &a, &err);
      CHECK (st == CS_OK && w.monotonic && w.last == 1.0 && w.calls >= 3,
             "%s: %s uncancelled reports rising progress up to 1 (%d calls)", label, cs_method_id (p.method), w.calls);
      cs_attribution_free (&a);
    }

  int stopped = 0;
  for (int k = 0; k < CS_METHOD_COUNT; k++)
    {
      watcher w = { .cancel = 1, .monotonic = true };
      cs_progress prog = { .progress = on_progress, .user_data = &w, .cancel = &w.cancel };
      cs_attribution_params p = CS_ATTRIBUTION_PARAMS_DEFAULT;
      p.method = (cs_method) k;
      cs_attribution a;
      memset (&a, 0x5a, sizeof a);
      cs_status st = net_explain (m, 2, &x, &p, &prog, &a, &err);
      stopped += st == CS_ERR_CANCELLED && a.raw.data == NULL && a.map.data == NULL;
    }
  CHECK (stopped == CS_METHOD_COUNT, "%s: a flag raised before the run stops all %d methods (%d did)", label,
         CS_METHOD_COUNT, stopped);
  cs_tensor_free (&x);
}

int
main (void)
{
  cs_error err = { 0 };
  cs_model *lin = net_linear_model (4, 6, 6, 1, &err);
  CHECK (lin != NULL, "linear model: %s", lin ? "ok" : err.message);
  run_methods ("linear", lin);
  cs_model_free (lin);
  cs_model *res = net_residual (4, &err);
  CHECK (res != NULL, "residual net: %s", res ? "ok" : err.message);
  if (res != NULL)
    {
      run_methods ("residual", res);
      cs_model_free (res);
    }
  return test_done ();
}
