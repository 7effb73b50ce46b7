/* The examples a training job uses: its seeded training and validation subsets, drawn the same
 * way when the job runs and when an analysis later asks which examples the run saw. */
#pragma once

#include <stdint.h>

#include "base/status.h"
#include "data/dataset.h"

/* A distinct, reproducible random stream for `stream` from the one user seed (splitmix64). */
uint64_t cs_train_stream_seed (uint64_t seed, uint64_t stream);

/* Training examples: train_subset drawn from ds->train (0 = all); validation examples:
 * val_subset drawn from ds->test (0 = all); ascending dataset indices, malloc'ed. */
cs_status cs_train_subsets (const cs_dataset *ds, int64_t train_subset, int64_t val_subset, uint64_t seed,
                            int64_t **train_idx, int64_t *n_train, int64_t **val_idx, int64_t *n_val,
                            cs_error *err);
