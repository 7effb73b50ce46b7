/* A whole training job as `convscope-cli train` runs it: data set, subsets, normalisation,
 * model, epochs, and the run directory, new or resumed. */
#pragma once

#include <stdbool.h>

#include "training/optimizer.h"
#include "training/run_writer.h"

typedef enum {
  CS_LR_CONSTANT = 0,
  CS_LR_STEP,                /* lr * gamma^floor((epoch - 1) / step_size) */
  CS_LR_COSINE,              /* lr * (1 + cos (pi (epoch - 1) / epochs)) / 2 (no restarts) */
} cs_lr_schedule;

const char *cs_lr_schedule_name (cs_lr_schedule s); /* "constant", "step", "cosine" */
bool cs_lr_schedule_parse (const char *name, cs_lr_schedule *s);
/* The learning rate of epoch (1-based) under the schedule. */
double cs_lr_at_epoch (cs_lr_schedule s, double lr, int32_t step_size, double gamma, int32_t epoch,
                       int32_t epochs);

/* The file, in the run directory, listing the training labels that label noise flipped. */
#define CS_LABEL_NOISE_FILE "label-noise.json"

typedef struct {
  const char *arch;          /* model.json of a new run (ignored when resuming) */
  const char *dataset;       /* SPEC of data/dataset.h (ignored when resuming) */
  const char *out;           /* the run directory */
  int32_t epochs;            /* the run's total number of epochs (epoch 0 not counted) */
  int64_t train_subset;      /* samples drawn from the training split; 0 = all */
  int64_t val_subset;        /* samples drawn from the test split for validation; 0 = all */
  int32_t batch;
  cs_optimizer_config optimizer;
  uint64_t seed;             /* initialisation, subsets, shuffling, dropout */
  bool resume;               /* continue the run in `out` with its recorded settings */
  const char *name;          /* run.json's "name" (NULL: the directory's base name) */
  double label_noise;        /* fraction of training samples given a wrong label (uniform over
                              * the other classes), listed in CS_LABEL_NOISE_FILE */
  bool augment;              /* random crop (padding 2) and horizontal flip */
  cs_lr_schedule schedule;
  int32_t step_size;         /* CS_LR_STEP: epochs between decays */
  double gamma;              /* CS_LR_STEP: the decay factor */
  int64_t test_subset;       /* samples of the test split held back from validation and
                              * evaluated every epoch as a test set; 0 = none */
} cs_train_options;

typedef struct {
  /* progress within an epoch (may be NULL); phase is "train" or "validate" */
  void (*batch) (void *user, int32_t epoch, int32_t epochs, const char *phase, double fraction);
  /* after each epoch's files are written (may be NULL) */
  void (*epoch) (void *user, const cs_run_metrics *metrics, int32_t epochs);
  void *user;
  const volatile int *cancel; /* non-zero: stop after the current batch; the run stays valid */
} cs_train_callbacks;

/* Defaults: 10 epochs, all samples, batch 64, SGD lr 0.01 momentum 0.9, seed 0, constant rate
 * (step: every 10 epochs by 0.1), no noise, no augmentation, no test split. */
cs_train_options cs_train_options_default (void);

/* Runs the job. A cancelled job returns CS_ERR_CANCELLED; every epoch that run.json lists is
 * complete on disk, and resume continues from the last of them. *last_epoch (may be NULL)
 * receives the last epoch written. */
cs_status cs_train_run (const cs_train_options *opts, const cs_train_callbacks *cb, int32_t *last_epoch,
                        cs_error *err);
