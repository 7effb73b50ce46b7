/* A data-set split as the image source of a top-k pass. */
#include "features/topk.h"

#include <stdlib.h>

typedef struct {
  const cs_dataset_split *split;
  const float *mean, *std;
  int64_t *indices;          /* one batch of image indices */
} split_source;

static cs_status
split_fill (void *user_data, int64_t first, int32_t n, float *x, int32_t *labels, cs_error *err)
{
  split_source *s = user_data;
  for (int32_t i = 0; i < n; i++)
    s->indices[i] = first + i;
  cs_dataset_batch (s->split, s->indices, n, s->mean, s->std, x, labels);
  return CS_OK;
}

cs_status
cs_topk_run_split (cs_exec *e, const cs_dataset_split *split, int64_t n_images, const float *mean,
                   const float *std, const cs_topk_params *p, const cs_progress *progress,
                   cs_topk_result *out, cs_error *err)
{
  int32_t batch = cs_exec_max_batch (e);
  split_source src = { split, mean, std, malloc ((size_t) (batch > 0 ? batch : 1) * sizeof (int64_t)) };
  if (src.indices == NULL)
    return cs_error_set (err, CS_ERR_MEMORY, "out of memory");
  if (n_images < 0 || n_images > split->n)
    n_images = split->n;
  cs_status st = cs_topk_run (e, n_images, split_fill, &src, p, progress, out, err);
  free (src.indices);
  return st;
}
