/* Prechelt's stopping criteria and the best-epoch ground truths. */
#include "analysis/ground_truth.h"

#include <math.h>
#include <stddef.h>

static const char *const truth_names[CS_N_TRUTHS] = { "best-smoothed-val", "GL2", "PQ1", "UP2", "test-optimal" };

const char *
cs_truth_name (cs_truth_kind k)
{
  return k >= 0 && k < CS_N_TRUTHS ? truth_names[k] : "?";
}

/* GL(t), with the minimum over the finite values up to t; NaN when there is none. */
static double
generalization_loss (const double *val_loss, int32_t t)
{
  double opt = INFINITY;
  for (int32_t i = 0; i <= t; i++)
    if (isfinite (val_loss[i]) && val_loss[i] < opt)
      opt = val_loss[i];
  if (!isfinite (opt) || !(opt > 0) || !isfinite (val_loss[t]))
    return NAN;
  return 100.0 * (val_loss[t] / opt - 1.0);
}

int32_t
cs_truth_gl (const double *val_loss, int32_t n, double alpha)
{
  for (int32_t t = 1; t < n; t++)
    if (generalization_loss (val_loss, t) > alpha)
      return t;
  return -1;
}

int32_t
cs_truth_pq (const double *train_loss, const double *val_loss, int32_t n, int32_t k, double alpha)
{
  for (int32_t t = k; k > 0 && t < n; t += k)
    {
      double sum = 0.0, min = INFINITY;
      for (int32_t i = t - k + 1; i <= t; i++)
        {
          sum += train_loss[i];
          min = train_loss[i] < min ? train_loss[i] : min;
        }
      if (!isfinite (sum) || !(min > 0))
        continue;
      double progress = 1000.0 * (sum / ((double) k * min) - 1.0);
      double gl = generalization_loss (val_loss, t);
      /* No progress at all: any generalisation loss is infinitely many times it. */
      if (gl > 0 && (progress <= 0 || gl / progress > alpha))
        return t;
    }
  return -1;
}

int32_t
cs_truth_up (const double *val_loss, int32_t n, int32_t k, int32_t s)
{
  for (int32_t t = k; k > 0 && t < n; t += k)
    {
      int32_t rises = 0;
      for (int32_t u = t; u - k >= 0 && rises < s && val_loss[u] > val_loss[u - k]; u -= k)
        rises++;
      if (rises >= s)
        return t;
    }
  return -1;
}

int32_t
cs_truth_argmin (const double *v, int32_t n)
{
  int32_t best = -1;
  for (int32_t t = 1; t < n; t++)
    if (isfinite (v[t]) && (best < 0 || v[t] < v[best]))
      best = t;
  return best;
}

int32_t
cs_truth_best_smoothed (const double *val_loss, int32_t n, int32_t window)
{
  int32_t half = window / 2, best = -1;
  double best_v = INFINITY;
  for (int32_t t = 1; t < n; t++)
    {
      double sum = 0.0;
      int32_t count = 0;
      /* Epoch 0 (the initialisation) is not averaged into epoch 1: it is no training state. */
      for (int32_t i = t - half; i <= t + half; i++)
        if (i >= 1 && i < n && isfinite (val_loss[i]))
          {
            sum += val_loss[i];
            count++;
          }
      if (count > 0 && sum / count < best_v)
        {
          best_v = sum / count;
          best = t;
        }
    }
  return best;
}

void
cs_truths_compute (const double *train_loss, const double *val_loss, const double *test_loss, int32_t n,
                   int32_t truths[CS_N_TRUTHS])
{
  truths[CS_TRUTH_BEST_SMOOTHED] = cs_truth_best_smoothed (val_loss, n, CS_TRUTH_SMOOTH);
  truths[CS_TRUTH_GL] = cs_truth_gl (val_loss, n, CS_TRUTH_GL_ALPHA);
  truths[CS_TRUTH_PQ] = cs_truth_pq (train_loss, val_loss, n, CS_TRUTH_STRIP, CS_TRUTH_PQ_ALPHA);
  truths[CS_TRUTH_UP] = cs_truth_up (val_loss, n, CS_TRUTH_STRIP, CS_TRUTH_UP_S);
  truths[CS_TRUTH_TEST_OPTIMAL] = test_loss != NULL ? cs_truth_argmin (test_loss, n) : -1;
}
