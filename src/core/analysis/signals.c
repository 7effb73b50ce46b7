/* The candidate validation-free signals: scores per epoch and onsets. */
#include "analysis/signals.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/overfitting.h"

/* Trailing mean over this many epochs: one epoch's statistics are noisy. */
#define SMOOTH 3
/* The last layers WeightWatcher's alpha is averaged over. */
#define ALPHA_LAYERS 2

static const struct {
  const char *name, *title;
  double threshold;
} signal_info[CS_N_SIGNALS] = {
  { "knee", "knee of the median relative weight change", NAN },
  /* Mahsereci et al. stop when the criterion (smoothed) turns positive. */
  { "eb", "evidence-based criterion (gradient signal-to-noise)", 0.0 },
  /* Updates no longer aligned: the optimiser oscillates around a valley floor. */
  { "update-cosine", "cosine between consecutive updates falls", -0.5 },
  /* Growth exponent below 1/2: slower than a random walk (diffusive) from initialisation. */
  { "distance-growth", "distance from initialisation slows to diffusive growth", -0.5 },
  /* Rotation per epoch below 20% of its peak. */
  { "rotation-rate", "layer rotation rate falls from its peak", -0.2 },
  /* WeightWatcher: alpha below 2 marks over-trained layers. */
  { "alpha", "WeightWatcher alpha of the last layers", -2.0 },
  /* Per-filter change twice as dispersed as in the first epoch. */
  { "filter-dispersion", "dispersion of per-filter change grows", 2.0 },
  /* Training loss improving by less than 2% per epoch. */
  { "train-saturation", "training loss stops improving (baseline)", -0.02 },
};

const char *
cs_signal_name (cs_signal_kind k)
{
  return k >= 0 && k < CS_N_SIGNALS ? signal_info[k].name : "?";
}

const char *
cs_signal_title (cs_signal_kind k)
{
  return k >= 0 && k < CS_N_SIGNALS ? signal_info[k].title : "?";
}

bool
cs_signal_parse (const char *name, cs_signal_kind *k)
{
  for (int i = 0; name != NULL && i < CS_N_SIGNALS; i++)
    if (strcmp (name, signal_info[i].name) == 0)
      {
        *k = (cs_signal_kind) i;
        return true;
      }
  return false;
}

bool
cs_signal_fixed_rule (cs_signal_kind k)
{
  return k == CS_SIGNAL_KNEE;
}

double
cs_signal_default_threshold (cs_signal_kind k)
{
  return k >= 0 && k < CS_N_SIGNALS ? signal_info[k].threshold : NAN;
}

/* out[t] = mean of the finite values of in[t - SMOOTH + 1 .. t] (NaN when none). */
static void
trailing_mean (const double *in, int32_t n, double *out)
{
  for (int32_t t = 0; t < n; t++)
    {
      double sum = 0.0;
      int32_t c = 0;
      for (int32_t i = t - SMOOTH + 1; i <= t; i++)
        if (i >= 0 && isfinite (in[i]))
          {
            sum += in[i];
            c++;
          }
      out[t] = c > 0 ? sum / c : NAN;
    }
}

/* Per epoch, the mean over layers of series(layer) (NaN entries skipped). first_layer lets a
 * signal take only the last layers. */
static void
layer_mean (const cs_run_stats *s, int32_t n, int32_t first_layer, const double *(*pick) (const cs_layer_series *),
            double *out)
{
  for (int32_t t = 0; t < n; t++)
    {
      double sum = 0.0;
      int32_t c = 0;
      for (int32_t l = first_layer < 0 ? 0 : first_layer; s != NULL && l < s->n_layers; l++)
        {
          const double *v = pick (&s->layers[l]);
          if (v != NULL && t < s->n_epochs && isfinite (v[t]))
            {
              sum += v[t];
              c++;
            }
        }
      out[t] = c > 0 ? sum / c : NAN;
    }
}

static const double *
pick_distance (const cs_layer_series *l)
{
  return l->distance_from_init;
}

static const double *
pick_rotation (const cs_layer_series *l)
{
  return l->rotation;
}

static const double *
pick_alpha (const cs_layer_series *l)
{
  return l->alpha;
}

/* Growth exponent of the distance from initialisation, the log-log slope over two epochs:
 * 1 = ballistic (a constant drift), 1/2 = diffusive (a random walk), 0 = settled. Score: minus it. */
static void
score_distance (const cs_signal_inputs *in, double *tmp, double *score)
{
  int32_t n = in->n_epochs;
  layer_mean (in->stats, n, 0, pick_distance, tmp);
  for (int32_t t = 0; t < n; t++)
    score[t] = t >= 3 && tmp[t] > 0 && tmp[t - 2] > 0
                 ? -(log (tmp[t]) - log (tmp[t - 2])) / (log ((double) t) - log ((double) t - 2.0))
                 : NAN;
}

/* Rotation added per epoch (1 - cos to the initialisation), over its running peak; score: minus
 * the ratio. */
static void
score_rotation (const cs_signal_inputs *in, double *tmp, double *score)
{
  int32_t n = in->n_epochs;
  layer_mean (in->stats, n, 0, pick_rotation, tmp);
  double peak = 0.0;
  for (int32_t t = 0; t < n; t++)
    {
      double rate = t >= 1 ? tmp[t] - tmp[t - 1] : NAN;
      if (isfinite (rate) && rate > peak)
        peak = rate;
      score[t] = isfinite (rate) && peak > 0 ? -rate / peak : NAN;
    }
}

/* Per epoch, the coefficient of variation of per-filter change, averaged over layers; score: it
 * over its value at epoch 1. */
static void
score_dispersion (const cs_signal_inputs *in, double *tmp, double *score)
{
  int32_t n = in->n_epochs;
  const cs_run_stats *s = in->stats;
  for (int32_t t = 0; t < n; t++)
    {
      double sum = 0.0;
      int32_t c = 0;
      for (int32_t l = 0; s != NULL && t < s->n_epochs && l < s->n_layers; l++)
        {
          const cs_layer_series *ls = &s->layers[l];
          double m = 0.0, m2 = 0.0;
          int64_t k = 0;
          for (int64_t f = 0; f < ls->n_filters; f++)
            {
              double v = ls->filter_change[(int64_t) t * ls->n_filters + f];
              if (isfinite (v))
                {
                  m += v;
                  m2 += v * v;
                  k++;
                }
            }
          if (k < 2 || !(m > 0))
            continue;
          m /= (double) k;
          double var = m2 / (double) k - m * m;
          sum += sqrt (var > 0 ? var : 0) / m;
          c++;
        }
      tmp[t] = c > 0 ? sum / c : NAN;
    }
  double first = NAN;
  for (int32_t t = 0; t < n && !isfinite (first); t++)
    if (isfinite (tmp[t]) && tmp[t] > 0)
      first = tmp[t];
  for (int32_t t = 0; t < n; t++)
    score[t] = isfinite (first) ? tmp[t] / first : NAN;
}

/* Relative improvement of the training loss per epoch; score: minus it. */
static void
score_saturation (const cs_signal_inputs *in, double *tmp, double *score)
{
  int32_t n = in->n_epochs;
  for (int32_t t = 0; t < n; t++)
    tmp[t] = in->train_loss != NULL && t >= 2 && in->train_loss[t - 1] > 0
               ? (in->train_loss[t - 1] - in->train_loss[t]) / in->train_loss[t - 1]
               : NAN;
  trailing_mean (tmp, n, score);
  for (int32_t t = 0; t < n; t++)
    score[t] = -score[t];
}

/* The knee's signal, from the statistics as overfitting.c reads them. */
static cs_weight_onset
knee (const cs_signal_inputs *in, double *score)
{
  const cs_run_stats *s = in->stats;
  int32_t n = in->n_epochs, L = s != NULL ? s->n_layers : 0;
  double *rel = calloc ((size_t) (L > 0 ? L : 1) * (size_t) n * 4, sizeof *rel);
  cs_weight_onset on = { .index = -1 };
  if (rel == NULL || s == NULL || s->n_epochs != n)
    {
      for (int32_t t = 0; score != NULL && t < n; t++)
        score[t] = NAN;
      free (rel);
      return on;
    }
  double *dist = rel + (size_t) L * n, *norm = dist + (size_t) L * n, *alpha = norm + (size_t) L * n;
  for (int32_t l = 0; l < L; l++)
    for (int32_t t = 0; t < n; t++)
      {
        rel[l * n + t] = s->layers[l].relative_change[t];
        dist[l * n + t] = s->layers[l].distance_from_init[t];
        norm[l * n + t] = s->layers[l].norm[t];
        alpha[l * n + t] = s->layers[l].alpha[t];
      }
  cs_weight_series ws = { .n_epochs = n, .n_layers = L, .relative_change = rel, .distance_from_init = dist,
                          .norm = norm, .alpha = alpha, .learning_rate = in->learning_rate };
  if (score != NULL)
    {
      /* The knee's signal is the log median relative change; its score is how far it fell. */
      cs_onset_weight_signal (&ws, score);
      double first = NAN;
      for (int32_t t = 0; t < n && !isfinite (first); t++)
        first = score[t];
      for (int32_t t = 0; t < n; t++)
        score[t] = first - score[t];
    }
  on = cs_onset_by_weights (&ws);
  free (rel);
  return on;
}

void
cs_signal_score (cs_signal_kind k, const cs_signal_inputs *in, double *score)
{
  int32_t n = in->n_epochs;
  double *tmp = malloc ((size_t) (n > 0 ? n : 1) * sizeof *tmp);
  for (int32_t t = 0; t < n; t++)
    score[t] = NAN;
  if (tmp == NULL)
    return;
  switch (k)
    {
    case CS_SIGNAL_KNEE:
      knee (in, score);
      break;
    case CS_SIGNAL_EB:
      if (in->eb_criterion != NULL)
        trailing_mean (in->eb_criterion, n, score);
      break;
    case CS_SIGNAL_UPDATE_COSINE:
      if (in->update_cosine != NULL)
        {
          trailing_mean (in->update_cosine, n, score);
          for (int32_t t = 0; t < n; t++)
            score[t] = -score[t];
        }
      break;
    case CS_SIGNAL_DISTANCE_GROWTH:
      score_distance (in, tmp, score);
      break;
    case CS_SIGNAL_ROTATION_RATE:
      score_rotation (in, tmp, score);
      break;
    case CS_SIGNAL_ALPHA:
      if (in->stats != NULL)
        {
          layer_mean (in->stats, n, in->stats->n_layers - ALPHA_LAYERS, pick_alpha, tmp);
          trailing_mean (tmp, n, score);
          for (int32_t t = 0; t < n; t++)
            score[t] = -score[t];
        }
      break;
    case CS_SIGNAL_FILTER_DISPERSION:
      score_dispersion (in, tmp, score);
      break;
    case CS_SIGNAL_TRAIN_SATURATION:
      score_saturation (in, tmp, score);
      break;
    default:
      break;
    }
  free (tmp);
}

int32_t
cs_signal_onset (cs_signal_kind k, const cs_signal_inputs *in, const double *score, double threshold)
{
  if (k == CS_SIGNAL_KNEE)
    return knee (in, NULL).index;
  for (int32_t t = 2; t < in->n_epochs; t++)
    if (isfinite (score[t]) && score[t] >= threshold)
      return t;
  return -1;
}
