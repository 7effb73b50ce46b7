/* Top-k examples per channel: one forward per batch as far as the node, then per image and
 * channel a reduction of the map and an insertion into a sorted list of k (rarely needed once
 * the list is full: most images lose against its last entry). */
#include "features/topk.h"
#include "base/clock.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "features/receptive_field.h"

void
cs_topk_result_free (cs_topk_result *r)
{
  if (r == NULL)
    return;
  free (r->count);
  free (r->examples);
  memset (r, 0, sizeof *r);
}

const cs_top_example *
cs_topk_channel (const cs_topk_result *r, int32_t c, int32_t *count)
{
  int32_t i = c - r->first_channel;
  if (i < 0 || i >= r->n_channels)
    {
      *count = 0;
      return NULL;
    }
  *count = r->count[i];
  return r->examples + (int64_t) i * r->k;
}

/* Inserts e into the sorted list (k capacity, *n used) when it ranks; an equal activation
 * ranks after the earlier images (which came first). */
static void
insert (cs_top_example *list, int32_t *n, int32_t k, const cs_top_example *e)
{
  if (*n == k && !(e->activation > list[k - 1].activation))
    return;
  int32_t pos = *n < k ? *n : k - 1;
  while (pos > 0 && e->activation > list[pos - 1].activation)
    {
      list[pos] = list[pos - 1];
      pos--;
    }
  list[pos] = *e;
  if (*n < k)
    (*n)++;
}

cs_status
cs_topk_run (cs_exec *e, int64_t n_images, cs_topk_source_fn source, void *user_data,
             const cs_topk_params *p, const cs_progress *progress, cs_topk_result *out,
             cs_error *err)
{
  memset (out, 0, sizeof *out);
  double t0 = cs_clock_seconds (CLOCK_MONOTONIC);
  const cs_model *m = cs_exec_model (e);
  const cs_graph *g = m->graph;
  if (p->node < 0 || p->node >= g->n_nodes)
    return cs_error_set (err, CS_ERR_ARGUMENT, "no node %d in the graph", p->node);
  const cs_node *nd = &g->nodes[p->node];
  if (!nd->batched || (nd->shape.ndim != 2 && nd->shape.ndim != 4))
    return cs_error_set (err, CS_ERR_ARGUMENT,
                         "node '%s' has no units: top examples need a batched 2-D or 4-D node", nd->name);
  int32_t channels = (int32_t) nd->shape.dim[1];
  if (p->channel < -1 || p->channel >= channels)
    return cs_error_set (err, CS_ERR_ARGUMENT, "node '%s' has %d units; there is no unit %d",
                         nd->name, channels, p->channel);
  if (p->k < 1 || p->k > 100000)
    return cs_error_set (err, CS_ERR_ARGUMENT, "top examples: k must be in 1..100000 (got %d)", p->k);
  if (n_images < 0)
    return cs_error_set (err, CS_ERR_ARGUMENT, "top examples: negative image count");

  int64_t h = nd->shape.ndim == 4 ? nd->shape.dim[2] : 1, w = nd->shape.ndim == 4 ? nd->shape.dim[3] : 1;
  int64_t plane = h * w;
  int32_t c0 = p->channel < 0 ? 0 : p->channel, nc = p->channel < 0 ? channels : 1;
  int32_t batch = cs_exec_max_batch (e);
  int64_t chw = (int64_t) m->channels * m->height * m->width;
  cs_receptive_field *rf = calloc ((size_t) g->n_nodes, sizeof *rf);
  float *x = cs_alloc_floats (chw * batch);
  int32_t *labels = malloc ((size_t) batch * sizeof (int32_t));
  out->count = calloc ((size_t) nc, sizeof (int32_t));
  out->examples = calloc ((size_t) nc * (size_t) p->k, sizeof (cs_top_example));
  cs_status st = CS_OK;
  if (rf == NULL || x == NULL || labels == NULL || out->count == NULL || out->examples == NULL)
    st = cs_error_set (err, CS_ERR_MEMORY, "top examples: out of memory");
  else
    st = cs_receptive_field_compute (g, rf, err);
  out->node = p->node;
  out->first_channel = c0;
  out->n_channels = nc;
  out->k = p->k;
  out->n_images = n_images;

  bool training = cs_exec_training (e);
  cs_exec_set_training (e, false);
  for (int64_t first = 0; first < n_images && st == CS_OK; first += batch)
    {
      if (cs_progress_cancelled (progress))
        {
          st = cs_error_set (err, CS_ERR_CANCELLED, "top examples cancelled");
          break;
        }
      int32_t n = n_images - first < batch ? (int32_t) (n_images - first) : batch;
      for (int32_t i = 0; i < n; i++)
        labels[i] = -1;
      if ((st = source (user_data, first, n, x, labels, err)) != CS_OK)
        break;
      cs_shape xs = cs_shape_4d (n, m->channels, m->height, m->width);
      cs_tensor xin = cs_tensor_view (&xs, x);
      if ((st = cs_exec_forward_until (e, &xin, p->node, err)) != CS_OK)
        break;
      const float *v = cs_exec_value (e, p->node)->data;
      for (int32_t i = 0; i < n; i++)
        for (int32_t c = 0; c < nc; c++)
          {
            const float *a = v + ((int64_t) i * channels + c0 + c) * plane;
            int64_t best = 0;
            double sum = a[0];
            for (int64_t q = 1; q < plane; q++)
              {
                sum += a[q];
                if (a[q] > a[best])
                  best = q;
              }
            cs_top_example ex = { .index = first + i, .label = labels[i],
                                  .activation = p->reduce == CS_TOPK_MEAN ? (float) (sum / (double) plane) : a[best],
                                  .y = (int32_t) (best / w), .x = (int32_t) (best % w) };
            if (ex.activation != ex.activation) /* NaN never ranks */
              continue;
            cs_top_example *list = out->examples + (int64_t) c * p->k;
            if (out->count[c] == p->k && !(ex.activation > list[p->k - 1].activation))
              continue;
            cs_receptive_field_box (&rf[p->node], ex.y, ex.x, m->height, m->width, ex.box);
            insert (list, &out->count[c], p->k, &ex);
          }
      cs_progress_report (progress, n_images > 0 ? (double) (first + n) / (double) n_images : 1.0);
    }
  cs_exec_set_training (e, training);
  free (rf);
  cs_free_floats (x);
  free (labels);
  if (st != CS_OK)
    {
      cs_topk_result_free (out);
      return st;
    }
  out->seconds = cs_clock_seconds (CLOCK_MONOTONIC) - t0;
  return CS_OK;
}
