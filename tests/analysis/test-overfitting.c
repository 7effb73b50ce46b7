/* Overfitting onset rules on synthetic curves: clean, none, noisy, late; the weight rule on
 * synthetic relative-change curves; the generalisation gap. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/overfitting.h"
#include "base/rng.h"
#include "testlib.h"

#define N 30

/* Training loss always falls; validation loss falls then (from `turn`, if >= 0) rises. */
static void
curves (int turn, double noise, uint64_t seed, double *train, double *val)
{
  cs_rng rng;
  cs_rng_seed (&rng, seed);
  for (int t = 0; t < N; t++)
    {
      train[t] = 2.3 * exp (-t / 6.0) + 0.01;
      val[t] = 0.4 + 1.9 * exp (-t / 3.0);
      if (turn >= 0 && t > turn)
        val[t] += 0.03 * (t - turn);
      val[t] *= 1.0 + noise * (2.0 * cs_rng_uniform (&rng) - 1.0);
    }
}

static int
argmin (const double *v, int n)
{
  int b = 0;
  for (int i = 1; i < n; i++)
    b = v[i] < v[b] ? i : b;
  return b;
}

static void
test_validation (void)
{
  double tr[N], va[N];
  curves (10, 0.0, 1, tr, va);
  int32_t b = cs_onset_by_validation (tr, va, N, CS_ONSET_PATIENCE, CS_ONSET_MIN_DELTA);
  CHECK (b == argmin (va, N) && b >= 9 && b <= 11, "clean overfitting: onset %d at the minimum",
         b);

  curves (-1, 0.0, 1, tr, va);
  CHECK (cs_onset_by_validation (tr, va, N, 3, CS_ONSET_MIN_DELTA) == -1,
         "validation keeps improving: no onset");

  /* A plateau with noise after convergence: the minimum is somewhere on it, but the loss does
   * not rise beyond min_delta on average. */
  int false_pos = 0;
  for (uint64_t s = 1; s <= 20; s++)
    {
      curves (-1, 0.004, s, tr, va);
      false_pos += cs_onset_by_validation (tr, va, N, 3, CS_ONSET_MIN_DELTA) != -1;
    }
  CHECK (false_pos == 0, "noisy plateau without a rise: no onset in 20 seeds (%d)", false_pos);

  int near = 0;
  for (uint64_t s = 1; s <= 20; s++)
    {
      curves (12, 0.02, s, tr, va);
      int32_t o = cs_onset_by_validation (tr, va, N, 3, CS_ONSET_MIN_DELTA);
      near += o >= 9 && o <= 15;
    }
  CHECK (near == 20, "noisy overfitting (turn at 12, 2%% noise): onset within 9..15 in %d/20 "
         "seeds", near);

  curves (N - 5, 0.0, 1, tr, va);
  b = cs_onset_by_validation (tr, va, N, 3, CS_ONSET_MIN_DELTA);
  CHECK (b == N - 4 || b == N - 5, "late overfitting (turn 4 epochs before the end): onset %d", b);
  curves (N - 3, 0.0, 1, tr, va);
  b = cs_onset_by_validation (tr, va, N, 3, CS_ONSET_MIN_DELTA);
  CHECK (b == -1, "too late to tell (fewer than `patience` epochs after the minimum): %d", b);

  /* Validation loss rises but training loss rises too: divergence, not overfitting. */
  curves (10, 0.0, 1, tr, va);
  for (int t = 11; t < N; t++)
    tr[t] = tr[10] + 0.05 * (t - 10);
  CHECK (cs_onset_by_validation (tr, va, N, 3, CS_ONSET_MIN_DELTA) == -1,
         "both losses rising: not overfitting");

  /* Epoch 0 and some epochs without metrics. */
  curves (10, 0.0, 1, tr, va);
  tr[0] = va[0] = NAN;
  va[12] = NAN;
  b = cs_onset_by_validation (tr, va, N, 3, CS_ONSET_MIN_DELTA);
  CHECK (b >= 9 && b <= 11, "missing metrics are skipped: onset %d", b);
  for (int t = 0; t < N; t++)
    va[t] = NAN;
  CHECK (cs_onset_by_validation (tr, va, N, 3, CS_ONSET_MIN_DELTA) == -1,
         "no validation loss: no onset");

  double gap[N];
  curves (10, 0.0, 1, tr, va);
  tr[3] = NAN;
  cs_generalization_gap (tr, va, N, gap);
  CHECK (isnan (gap[3]) && fabs (gap[20] - (va[20] - tr[20])) < 1e-12,
         "generalisation gap = val - train, NaN without both");
}

#define L 4

/* Relative change per layer: a fast phase decaying with time constant tau onto a floor, then
 * (from `collapse`, if > 0) the late collapse of a converged run. */
static void
weight_curves (double tau, double floor_level, int collapse, double noise, uint64_t seed,
               double *rc)
{
  cs_rng rng;
  cs_rng_seed (&rng, seed);
  for (int l = 0; l < L; l++)
    for (int t = 0; t < N; t++)
      {
        double v = t == 0 ? NAN : (floor_level + 0.8 * exp (-(t - 1) / tau)) * (1.0 + 0.3 * l);
        if (collapse > 0 && t >= collapse)
          v *= exp (-(t - collapse));
        rc[l * N + t] = v * (1.0 + noise * (2.0 * cs_rng_uniform (&rng) - 1.0));
      }
}

static void
test_weights (void)
{
  double rc[L * N], lr[N];
  cs_weight_series s = { .n_epochs = N, .n_layers = L, .relative_change = rc };
  int32_t epochs[N];
  for (int t = 0; t < N; t++)
    epochs[t] = t;

  weight_curves (2.0, 0.08, 0, 0.0, 1, rc);
  cs_weight_onset o = cs_onset_by_weights (&s);
  /* (0.08 + 0.8 e^{-(t-1)/2}) falls by less than 1.2x over 3 epochs from t = 8..9 on. */
  CHECK (o.index >= 8 && o.index <= 9 && o.n_layers_used == L,
         "knee of a fast phase onto a floor: onset %d (drop %.1fx)", o.index, o.drop);

  weight_curves (2.0, 0.08, 22, 0.0, 1, rc);
  int32_t with_collapse = cs_onset_by_weights (&s).index;
  CHECK (with_collapse == o.index, "a late collapse (train loss at 0) does not move it: %d",
         with_collapse);

  weight_curves (6.0, 0.02, 0, 0.0, 1, rc);
  o = cs_onset_by_weights (&s);
  CHECK (o.index > 12, "a slow fast phase: later onset %d", o.index);

  weight_curves (1e9, 0.0, 0, 0.0, 1, rc);
  CHECK (cs_onset_by_weights (&s).index == -1, "constant relative change (no fast phase): none");

  for (int l = 0; l < L; l++)
    for (int t = 0; t < N; t++)
      rc[l * N + t] = t == 0 ? NAN : exp (-0.4 * t);
  CHECK (cs_onset_by_weights (&s).index == -1, "still falling steeply at the end: none");

  int near = 0;
  for (uint64_t seed = 1; seed <= 20; seed++)
    {
      weight_curves (2.0, 0.08, 0, 0.25, seed, rc);
      int32_t i = cs_onset_by_weights (&s).index;
      near += i >= 6 && i <= 12;
    }
  CHECK (near >= 18, "25%% noise per layer and epoch: onset within 6..12 in %d/20 seeds", near);

  /* A learning-rate step (x0.1 at epoch 15) divides the relative change too: with the rate
   * recorded, that is not a second fast phase and the knee stays where it was. */
  weight_curves (2.0, 0.08, 0, 0.0, 1, rc);
  int32_t base = cs_onset_by_weights (&s).index;
  for (int t = 0; t < N; t++)
    lr[t] = t >= 15 ? 0.01 : 0.1;
  for (int l = 0; l < L; l++)
    for (int t = 15; t < N; t++)
      rc[l * N + t] *= 0.1;
  s.learning_rate = lr;
  double sig[N];
  cs_onset_weight_signal (&s, sig);
  CHECK (cs_onset_by_weights (&s).index == base && fabs (sig[20] - sig[14]) < 0.05,
         "learning-rate schedule divided out");
  s.learning_rate = NULL;

  weight_curves (2.0, 0.08, 0, 0.0, 1, rc);
  s.n_epochs = 5;
  CHECK (cs_onset_by_weights (&s).index == -1, "a run too short to judge: none");
  s.n_epochs = N;

  char text[2048];
  cs_weight_onset w = cs_onset_by_weights (&s);
  cs_onset_explain (epochs, N, 8, &w, text, sizeof text);
  CHECK (strstr (text, "By validation") && strstr (text, "By weights") && strstr (text, "Agreement"),
         "explanation covers both rules: %.80s...", text);
}

/* Both rules on real runs (tools/weight-onset-experiment.py: PyTorch, Fashion-MNIST subset of
 * 2000, 40 epochs): the relative change of the weights levels off before (or at) the epoch of
 * lowest validation loss. */
static void
test_real_run (const char *file, int32_t want_val, int32_t lo, int32_t hi)
{
  const char *src = getenv ("CONVSCOPE_SOURCE_DIR");
  char path[1024];
  snprintf (path, sizeof path, "%s/tests/analysis/fixtures/%s", src ? src : ".", file);
  FILE *fp = fopen (path, "rb");
  char *text = calloc (1, 1 << 20);
  size_t n = fp != NULL ? fread (text, 1, (1 << 20) - 1, fp) : 0;
  if (fp != NULL)
    fclose (fp);
  cJSON *doc = cJSON_Parse (text);
  free (text);
  CHECK (n > 0 && doc != NULL, "%s parses", file);
  if (doc == NULL)
    return;
  const cJSON *tl = cJSON_GetObjectItem (doc, "train_loss");
  const cJSON *vl = cJSON_GetObjectItem (doc, "val_loss");
  const cJSON *layers = cJSON_GetObjectItem (doc, "layers");
  int32_t ne = cJSON_GetArraySize (tl), nl = cJSON_GetArraySize (layers);
  double *tr = malloc ((size_t) ne * sizeof *tr), *va = malloc ((size_t) ne * sizeof *va);
  double *rc = malloc ((size_t) (ne * nl) * sizeof *rc);
  for (int32_t e = 0; e < ne; e++)
    {
      tr[e] = cJSON_GetArrayItem (tl, e)->valuedouble;
      va[e] = cJSON_GetArrayItem (vl, e)->valuedouble;
    }
  for (int32_t l = 0; l < nl; l++)
    {
      const cJSON *r = cJSON_GetObjectItem (cJSON_GetArrayItem (layers, l), "relative_change");
      for (int32_t e = 0; e < ne; e++)
        {
          const cJSON *v = cJSON_GetArrayItem (r, e);
          rc[l * ne + e] = cJSON_IsNumber (v) ? v->valuedouble : NAN;
        }
    }
  int32_t bv = cs_onset_by_validation (tr, va, ne, CS_ONSET_PATIENCE, CS_ONSET_MIN_DELTA);
  cs_weight_series s = { .n_epochs = ne, .n_layers = nl, .relative_change = rc };
  cs_weight_onset bw = cs_onset_by_weights (&s);
  CHECK (bv == want_val, "%s: onset by validation %d", file, bv);
  CHECK (bw.index >= lo && bw.index <= hi && bw.index <= bv,
         "%s: onset by weights %d (relative change fell %.1fx), in %d..%d, not after validation's",
         file, bw.index, bw.drop, lo, hi);
  free (tr);
  free (va);
  free (rc);
  cJSON_Delete (doc);
}

int
main (void)
{
  test_validation ();
  test_weights ();
  test_real_run ("fmnist-sgd-curves.json", 8, 4, 8);
  /* With Adam the validation loss sits in a shallow valley from epoch 13 to 20 (minimum at 15);
   * the weights' knee comes much earlier (an early estimate, see overfitting.c). */
  test_real_run ("fmnist-adam-curves.json", 15, 5, 9);
  return test_done ();
}
