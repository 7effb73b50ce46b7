/* The seeded training and validation subsets of a training job (see subsets.h). */
#include "training/subsets.h"

#include <stdlib.h>

uint64_t
cs_train_stream_seed (uint64_t seed, uint64_t stream)
{
  uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (stream + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

cs_status
cs_train_subsets (const cs_dataset *ds, int64_t train_subset, int64_t val_subset, uint64_t seed,
                  int64_t **train_idx, int64_t *n_train, int64_t **val_idx, int64_t *n_val, cs_error *err)
{
  *train_idx = NULL;
  *val_idx = NULL;
  cs_status st = cs_dataset_subset (ds->train.n, train_subset, cs_train_stream_seed (seed, 1), train_idx,
                                    n_train, err);
  if (st == CS_OK)
    st = cs_dataset_subset (ds->test.n, val_subset, cs_train_stream_seed (seed, 2), val_idx, n_val, err);
  if (st != CS_OK)
    {
      free (*train_idx);
      *train_idx = NULL;
    }
  return st;
}
