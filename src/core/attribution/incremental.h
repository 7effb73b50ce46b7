/* Incremental inference for occlusion (Nakandala, Kumar, Papakonstantinou, SIGMOD 2019,
 * "Krypton"): a patched window changes a bounded region of each local layer, which is
 * recomputed from the unoccluded image's activations; past a global layer, whole maps. */
#pragma once

#include "exec/exec.h"

typedef struct cs_incremental cs_incremental;

/* The windows of an occlusion run: count k x k squares at (wy[i], wx[i]) of the input, each
 * filled with the baseline's values there. */
typedef struct {
  const cs_tensor *input;      /* [1,C,H,W]: the unoccluded image */
  const cs_tensor *baseline;   /* [1,C,H,W]: what a window shows instead */
  int64_t k;
  const int64_t *wy, *wx;
  int64_t count;
} cs_incremental_windows;

/* Plans incremental inference of node `until` (an ancestor chain of the model input) for the
 * windows, for batches of up to max_batch windows. Runs the clean forward of the input on e
 * unless clean_forwarded says e already holds it, and keeps the activations it needs.
 * Sets *out to NULL (CS_OK) when no layer would recompute less than its whole map: the caller
 * then runs full forwards. */
cs_status cs_incremental_new (cs_exec *e, int32_t until, const cs_incremental_windows *w,
                              int32_t max_batch, bool clean_forwarded, cs_incremental **out,
                              cs_error *err);

/* Runs windows idx[0..n) (n <= max_batch) and points *value at node `until`'s activation for
 * those n samples ([n, ...] as a full forward would give; valid until the next call). */
cs_status cs_incremental_run (cs_incremental *inc, const int64_t *idx, int32_t n,
                              const cs_tensor **value, cs_error *err);

/* The fraction of a full forward's FLOPs (up to `until`) that one window recomputes. */
double cs_incremental_work_fraction (const cs_incremental *inc);

void cs_incremental_free (cs_incremental *inc);
