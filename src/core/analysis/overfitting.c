/* Overfitting onset of a training run: by validation, by the weights alone, and the gap. */
#include "analysis/overfitting.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int32_t
cs_onset_by_validation (const double *train_loss, const double *val_loss, int32_t n,
                        int32_t patience, double min_delta)
{
  if (patience < 1)
    patience = 1;
  int32_t best = -1;
  for (int32_t i = 0; i < n; i++)
    if (isfinite (val_loss[i]) && (best < 0 || val_loss[i] < val_loss[best]))
      best = i;
  if (best < 0 || !isfinite (train_loss[best]))
    return -1;
  /* The `patience` epochs with metrics that follow the best one. */
  double val_sum = 0.0, train_sum = 0.0;
  int32_t count = 0;
  for (int32_t i = best + 1; i < n && count < patience; i++)
    if (isfinite (val_loss[i]) && isfinite (train_loss[i]))
      {
        val_sum += val_loss[i];
        train_sum += train_loss[i];
        count++;
      }
  if (count < patience)
    return -1;
  double val_mean = val_sum / count, train_mean = train_sum / count;
  bool val_rose = val_mean > val_loss[best] + min_delta * fabs (val_loss[best]);
  bool train_fell = train_mean < train_loss[best];
  return val_rose && train_fell ? best : -1;
}

void
cs_generalization_gap (const double *train_loss, const double *val_loss, int32_t n, double *gap)
{
  for (int32_t i = 0; i < n; i++)
    gap[i] = isfinite (train_loss[i]) && isfinite (val_loss[i]) ? val_loss[i] - train_loss[i]
                                                                 : NAN;
}
