/* Each example's history across a run's epochs: for every training and validation example the
 * run used, per checkpoint, the probability of its label, its margin, the predicted class and
 * the strongest other class. Computed once from the checkpoints and cached in the run directory
 * (history.bin, docs/formats/history.md). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "base/status.h"
#include "data/dataset.h"
#include "io/run.h"

typedef enum {
  CS_HISTORY_TRAIN = 0,      /* the examples the run trained on */
  CS_HISTORY_TEST = 1,       /* the examples it was validated on (from the data set's test split) */
  CS_HISTORY_N_SPLITS = 2,
} cs_history_split;

typedef struct {
  int64_t n;                 /* examples */
  int64_t *index;            /* each example's position in its split of the data set files */
  uint8_t *label;            /* the label the run was given */
  /* [n][n_epochs], example-major: */
  float *prob;               /* softmax probability of the label */
  float *margin;             /* label logit minus the largest other logit (Pleiss et al. 2020) */
  uint8_t *pred;             /* the predicted class (argmax; lowest index on ties) */
  uint8_t *other;            /* the largest class other than the label */
} cs_history_examples;

typedef struct cs_history {
  int32_t n_epochs;
  int32_t *epochs;           /* the run's epoch numbers, in order */
  int32_t n_classes;
  char *dataset;             /* the data set spec the examples came from */
  cs_history_examples split[CS_HISTORY_N_SPLITS];
} cs_history;

/* The data set and examples of a run, as run.json records them: a run written by
 * `convscope-cli train` names its spec, seed and subsets, which are drawn again; a run that
 * names only a data set ("name": "fashion-mnist" or "mnist" with "dir") uses both splits whole.
 * Opens that data set into *ds (the caller frees it) and gives its spec and the examples' indices
 * (malloc'ed). Fails with CS_ERR_UNSUPPORTED when the run records no data set Convscope reads. */
cs_status cs_history_examples_of_run (const cs_run *run, cs_dataset *ds, char **spec, int64_t **train_idx,
                                      int64_t *n_train, int64_t **test_idx, int64_t *n_test, cs_error *err);

/* Runs every checkpoint over every example (batched, on the calling thread and the compute
 * threads). progress goes from 0 to 1 over the checkpoints; cancel returns CS_ERR_CANCELLED. */
cs_history *cs_history_compute (const cs_run *run, const cs_progress *progress, cs_error *err);

/* The run's history from its cache when the cache is valid for the run's current checkpoints,
 * else computed and the cache rewritten atomically (a run directory that cannot be written only
 * loses the cache). *from_cache (may be NULL) says which. */
cs_history *cs_history_get (const cs_run *run, const cs_progress *progress, bool *from_cache, cs_error *err);

void cs_history_free (cs_history *h);

/* The cache: read and validated against the run (any mismatch, truncation or out-of-range value
 * is a CS_ERR_FORMAT naming the file), and written atomically. */
cs_history *cs_history_read (const char *path, const cs_run *run, cs_error *err);
cs_status cs_history_write (const cs_history *h, const char *path, const cs_run *run, cs_error *err);
/* What the cache depends on: the model file and every checkpoint (size and mtime), hashed. */
uint64_t cs_history_key (const cs_run *run);
/* The cache's path in a run directory (malloc'ed). */
char *cs_history_path (const cs_run *run);
