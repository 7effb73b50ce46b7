/* Overfitting onset of a training run: by validation, by the weights alone, and the gap. */
#include "analysis/overfitting.h"

#include <math.h>
#include <stdlib.h>
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

/* ---- onset by weights alone ----
 *
 * The rule: the end of the fast phase of the relative change, i.e. the first epoch after which
 * the layers' relative change per epoch ||W_t - W_{t-1}|| / ||W_{t-1}|| stops falling.
 *
 * Why. Early in training every step moves the weights in a consistent direction, along the
 * few directions that fit what the training set has in common; the loss falls fast, the
 * gradients shrink, and the relative change per epoch falls steeply (by 3-10x in a few epochs).
 * Once that structure is learnt the relative change settles on a floor set by the noise of
 * mini-batch gradients: the weights keep moving by a roughly constant amount per epoch, but
 * what moves them now is mostly per-example detail of the training set - memorisation. That
 * is where training loss keeps falling while validation loss stops improving, so the knee of
 * the relative-change curve is a validation-free estimate of the overfitting onset. It is an
 * early estimate: validation loss can still improve a little while the weights drift on the
 * floor. Evidence so far is two runs (tools/weight-onset-experiment.py: PyTorch, 2000
 * Fashion-MNIST images, 40 epochs; tests/analysis/fixtures): with SGD + momentum the relative
 * change went 0.56, 0.39, 0.24, 0.15, 0.13, then a floor near 0.1 from epoch 5, and validation
 * loss was lowest at epoch 8 (3 epochs later: agreement); with Adam the knee came at epoch 7
 * while validation loss sat in a shallow valley from epoch 13 to 20 (lowest at 15: 8 epochs
 * later, disagreement by our 3-epoch tolerance, though validation loss at 7 was within 11% of
 * its minimum). So the rule marks the start of the memorisation phase, a lower bound of the
 * validation onset, not a replacement for it. Rules we considered and set aside: WeightWatcher alpha of the last layers falling
 * below 2 (in that run the penultimate layer crossed 2 at epoch 4, back above, then stayed
 * below from epoch 9: too noisy epoch to epoch for a first-crossing rule), and a switch of
 * the distance-from-init growth from linear to sqrt(t) (a pure random walk also grows like
 * sqrt(t), so the switch is hard to tell from the start of training).
 *
 * How, robustly:
 *  - per epoch, the median over layers of ln(relative change / learning rate): the median so
 *    that one odd layer does not decide, the learning rate so that a schedule's steps are not
 *    mistaken for the knee (no learning rate recorded: not divided);
 *  - smoothed by a centred mean over 3 epochs (mini-batch noise);
 *  - the onset is the first epoch t at which the smoothed signal has already fallen by at
 *    least CS_ONSET_WEIGHT_FALL from its first value (a fast phase happened) and falls by less
 *    than CS_ONSET_WEIGHT_FLAT over the next CS_ONSET_WEIGHT_WINDOW epochs (it is flat). Runs
 *    too short to show the next window give no onset (null) rather than a guess.
 * Late in a run, once training loss reaches ~0, the relative change collapses again; the rule
 * takes the first plateau, so that collapse does not matter. */

static int
compare_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

void
cs_onset_weight_signal (const cs_weight_series *s, double *signal)
{
  double *vals = malloc ((size_t) (s->n_layers > 0 ? s->n_layers : 1) * sizeof *vals);
  for (int32_t e = 0; e < s->n_epochs; e++)
    {
      int32_t k = 0;
      double lr = s->learning_rate != NULL ? s->learning_rate[e] : NAN;
      for (int32_t l = 0; vals != NULL && l < s->n_layers; l++)
        {
          double r = s->relative_change[(int64_t) l * s->n_epochs + e];
          if (isfinite (r) && r > 0.0)
            vals[k++] = log (r) - (isfinite (lr) && lr > 0.0 ? log (lr) : 0.0);
        }
      if (k == 0)
        {
          signal[e] = NAN;
          continue;
        }
      qsort (vals, (size_t) k, sizeof vals[0], compare_double);
      signal[e] = k % 2 ? vals[k / 2] : 0.5 * (vals[k / 2 - 1] + vals[k / 2]);
    }
  free (vals);
}

cs_weight_onset
cs_onset_by_weights (const cs_weight_series *s)
{
  cs_weight_onset on = { .index = -1, .drop = NAN, .n_layers_used = 0 };
  int32_t n = s->n_epochs;
  if (n <= 0)
    return on;
  for (int32_t l = 0; l < s->n_layers; l++)
    for (int32_t e = 0; e < n; e++)
      if (isfinite (s->relative_change[(int64_t) l * n + e]))
        {
          on.n_layers_used++;
          break;
        }
  double *raw = malloc ((size_t) n * sizeof *raw), *sm = malloc ((size_t) n * sizeof *sm);
  if (raw == NULL || sm == NULL)
    {
      free (raw);
      free (sm);
      return on;
    }
  cs_onset_weight_signal (s, raw);
  for (int32_t e = 0; e < n; e++)
    {
      double sum = 0.0;
      int32_t k = 0;
      for (int32_t j = e - 1; j <= e + 1; j++)
        if (j >= 0 && j < n && isfinite (raw[j]))
          {
            sum += raw[j];
            k++;
          }
      sm[e] = isfinite (raw[e]) && k > 0 ? sum / k : NAN;
    }
  int32_t first = 0;
  while (first < n && !isfinite (sm[first]))
    first++;
  double fall = log (CS_ONSET_WEIGHT_FALL), flat = log (CS_ONSET_WEIGHT_FLAT);
  for (int32_t t = first + 1; t + CS_ONSET_WEIGHT_WINDOW < n; t++)
    {
      double ahead = sm[t + CS_ONSET_WEIGHT_WINDOW];
      if (!isfinite (sm[t]) || !isfinite (ahead))
        continue;
      if (sm[first] - sm[t] >= fall && sm[t] - ahead < flat)
        {
          on.index = t;
          on.drop = exp (sm[first] - sm[t]);
          break;
        }
    }
  free (raw);
  free (sm);
  return on;
}

void
cs_onset_explain (const int32_t *epochs, int32_t n, int32_t by_validation,
                  const cs_weight_onset *by_weights, char *buf, size_t size)
{
  size_t len = 0;
#define PUT(...) \
  do { if (len < size) len += (size_t) snprintf (buf + len, size - len, __VA_ARGS__); } while (0)
  if (by_validation >= 0)
    PUT ("By validation: validation loss was lowest at epoch %d and, over the next %d epochs, "
         "rose by more than %.0f%% on average while training loss kept falling. ",
         epochs[by_validation], CS_ONSET_PATIENCE, CS_ONSET_MIN_DELTA * 100);
  else
    PUT ("By validation: no onset (validation loss did not rise by more than %.0f%% over %d "
         "epochs after its minimum while training loss fell, or the run has no validation "
         "loss). ", CS_ONSET_MIN_DELTA * 100, CS_ONSET_PATIENCE);
  if (by_weights != NULL && by_weights->index >= 0)
    PUT ("By weights: at epoch %d the relative change of the weights per epoch (median over "
         "%d layers, per unit of learning rate) had fallen %.1fx from its first value and then "
         "stayed flat (less than %.1fx lower %d epochs later): the fast, consistent learning "
         "phase is over and further motion is mini-batch noise fitting individual training "
         "examples (an early estimate: validation loss may still improve slowly after it). ", epochs[by_weights->index], by_weights->n_layers_used, by_weights->drop,
         CS_ONSET_WEIGHT_FLAT, CS_ONSET_WEIGHT_WINDOW);
  else
    PUT ("By weights: no onset (the relative change of the weights has not yet fallen %.0fx "
         "and levelled off for %d epochs). ", CS_ONSET_WEIGHT_FALL, CS_ONSET_WEIGHT_WINDOW);
  if (by_validation >= 0 && by_weights != NULL && by_weights->index >= 0)
    {
      int32_t d = epochs[by_weights->index] - epochs[by_validation];
      PUT ("Agreement: the weights place the onset %d epoch%s %s the validation curve (%s).",
           d < 0 ? -d : d, (d == 1 || d == -1) ? "" : "s", d <= 0 ? "before" : "after",
           (d < 0 ? -d : d) <= CS_ONSET_PATIENCE ? "agree" : "disagree");
    }
  else if (by_validation < 0 && (by_weights == NULL || by_weights->index < 0))
    PUT ("Agreement: neither rule sees overfitting.");
  else
    PUT ("Agreement: only one rule sees overfitting.");
  (void) n;
#undef PUT
}
