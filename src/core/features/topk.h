/* Top dataset examples: the k images of a data set that activate a unit most, found in one
 * batched pass over the data, for one channel or every channel of a node at once. */
#pragma once

#include <stdint.h>

#include "base/status.h"
#include "data/dataset.h"
#include "exec/exec.h"

/* How an image's activation map for the unit is reduced to one number. */
typedef enum {
  CS_TOPK_MAX = 0,           /* the largest activation over positions (the default: the box is
                                then the receptive field of that position) */
  CS_TOPK_MEAN,              /* the mean over positions (the box: the maximising position's) */
} cs_topk_reduce;

typedef struct {
  int64_t index;             /* the image's index in the data set */
  int32_t label;             /* its label, or -1 */
  float activation;
  int32_t y, x;              /* the maximising position in the node's map (0, 0 for 2-D nodes) */
  int32_t box[4];            /* x0, y0, x1, y1: the receptive field of (y, x) in input pixels,
                                half-open, clipped to the image */
} cs_top_example;

typedef struct {
  int32_t node;
  int32_t channel;           /* -1: every channel of the node */
  int32_t k;                 /* examples kept per channel (>= 1) */
  cs_topk_reduce reduce;
} cs_topk_params;

typedef struct {
  int32_t node;
  int32_t first_channel, n_channels;
  int32_t k;
  int32_t *count;            /* per channel: examples found (k, or fewer for a small data set) */
  cs_top_example *examples;  /* n_channels × k; row c sorted by decreasing activation, ties by
                                increasing index */
  int64_t n_images;
  double seconds;
} cs_topk_result;

/* Writes images first .. first + n - 1 of the data set into x ([n, C, H, W], normalised as the
 * model expects) and their labels into labels (-1 when unknown). */
typedef cs_status (*cs_topk_source_fn) (void *user_data, int64_t first, int32_t n, float *x,
                                        int32_t *labels, cs_error *err);

/* Pushes n_images images from source through exec e (forward only as far as p->node) in
 * batches of cs_exec_max_batch (e); progress after each batch, cancellation polled before each.
 * On error or cancellation nothing is left allocated in out. */
cs_status cs_topk_run (cs_exec *e, int64_t n_images, cs_topk_source_fn source, void *user_data,
                       const cs_topk_params *p, const cs_progress *progress, cs_topk_result *out,
                       cs_error *err);
void cs_topk_result_free (cs_topk_result *r);

/* cs_topk_run over the first n_images images of a data-set split, normalised with mean and
 * std: the source both the CLI's top-examples and the app's top-examples panel use. */
cs_status cs_topk_run_split (cs_exec *e, const cs_dataset_split *split, int64_t n_images,
                             const float *mean, const float *std, const cs_topk_params *p,
                             const cs_progress *progress, cs_topk_result *out, cs_error *err);

/* The examples of channel c of a result (NULL when c is not in it); *count set. */
const cs_top_example *cs_topk_channel (const cs_topk_result *r, int32_t c, int32_t *count);
