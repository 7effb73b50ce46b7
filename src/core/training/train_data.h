/* The samples of a training job: the data set, the seeded training, validation and held-back
 * test subsets, and the label noise injected into the training subset. */
#pragma once

#include "data/dataset.h"
#include "training/train_run.h"

typedef struct {
  cs_dataset ds;             /* ds.train.labels carry the noisy labels after open */
  int64_t *train_idx, *val_idx, *test_idx;
  int64_t n_train, n_val, n_test;
  int64_t n_flipped;
  int64_t *flipped;          /* training-split indices whose label was changed, ascending */
  uint8_t *original, *noisy; /* their true and their training label */
} cs_train_data;

/* Opens o->dataset and draws the subsets from o->seed: training from the training split;
 * validation, then a test subset disjoint from it, from the test split. Label noise flips
 * round(label_noise * n_train) training samples, each to a uniformly drawn other class. The
 * same options give the same samples and labels (a resumed run draws them again). */
cs_status cs_train_data_open (const cs_train_options *o, cs_train_data *d, cs_error *err);
void cs_train_data_free (cs_train_data *d);

/* Writes CS_LABEL_NOISE_FILE in dir: {"label_noise": p, "flipped": [[index, true, noisy], ...]}
 * (atomically). */
cs_status cs_train_data_write_noise (const cs_train_data *d, double label_noise, const char *dir,
                                     cs_error *err);
