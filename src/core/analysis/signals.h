/* Validation-free overfitting signals: each turns a run's weights (and the statistics the trainer
 * logs) into a score per epoch, larger meaning "later in training, stop", and an onset: the first
 * epoch whose score reaches a threshold (thresholds are fitted by `convscope-cli study report`). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "analysis/run_stats.h"

typedef enum {
  CS_SIGNAL_KNEE = 0,          /* the relative-change knee (overfitting.c's fixed rule) */
  CS_SIGNAL_EB,                /* Mahsereci et al.'s evidence-based criterion (trainer-logged) */
  CS_SIGNAL_UPDATE_COSINE,     /* cosine between consecutive epoch updates */
  CS_SIGNAL_DISTANCE_GROWTH,   /* growth exponent of the distance from initialisation */
  CS_SIGNAL_ROTATION_RATE,     /* layer rotation per epoch, against its peak */
  CS_SIGNAL_ALPHA,             /* WeightWatcher alpha of the last layers */
  CS_SIGNAL_FILTER_DISPERSION, /* spread of per-filter change */
  CS_SIGNAL_TRAIN_SATURATION,  /* the naive baseline: training loss stops improving */
  CS_N_SIGNALS,
} cs_signal_kind;

/* A run's inputs, per epoch (index 0 = the initialisation; consecutive epochs). Any series may
 * be NULL: the signals that need it are then NaN everywhere and never fire. */
typedef struct {
  int32_t n_epochs;
  const double *train_loss;
  const double *eb_criterion;    /* run.json "eb_criterion" */
  const double *update_cosine;   /* cs_update_cosine_series */
  const double *learning_rate;
  const cs_run_stats *stats;     /* per-layer weight statistics */
} cs_signal_inputs;

const char *cs_signal_name (cs_signal_kind k);   /* "knee", "eb", "update-cosine", ... */
const char *cs_signal_title (cs_signal_kind k);  /* a short English description */
bool cs_signal_parse (const char *name, cs_signal_kind *k);
/* The signal's onset is a fixed rule (the knee): no threshold is fitted. */
bool cs_signal_fixed_rule (cs_signal_kind k);
/* The threshold used before a study fits one (the literature's value where there is one). */
double cs_signal_default_threshold (cs_signal_kind k);

/* score: n_epochs values, NaN where undefined. */
void cs_signal_score (cs_signal_kind k, const cs_signal_inputs *in, double *score);
/* The onset's epoch index: the first index >= 2 whose score is >= threshold (the knee: its own
 * rule), or -1. */
int32_t cs_signal_onset (cs_signal_kind k, const cs_signal_inputs *in, const double *score, double threshold);

/* Cosine between the updates of consecutive epochs, over the concatenated weights of every
 * layer (weight_stats.h): cos (W_t - W_{t-1}, W_{t-1} - W_{t-2}); NaN for t < 2. Loads the
 * checkpoints one at a time; errors name the checkpoint. */
cs_status cs_update_cosine_series (const cs_run *run, double *out, cs_error *err);
