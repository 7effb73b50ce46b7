/* The cosine between consecutive epoch updates, over every layer's weights at once. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/signals.h"
#include "io/model_load.h"
#include "io/safetensors.h"

cs_status
cs_update_cosine_series (const cs_run *run, double *out, cs_error *err)
{
  for (int32_t e = 0; e < run->n_epochs; e++)
    out[e] = NAN;
  if (run->n_epochs == 0)
    return CS_OK;
  cs_load_options o = CS_LOAD_OPTIONS_DEFAULT;
  o.epoch = run->epochs[0].epoch;
  cs_model *m = cs_model_load (run->path, &o, err);
  if (m == NULL)
    return err != NULL ? err->code : CS_ERR_FORMAT;
  cs_weight_layer *layers = NULL;
  int32_t n_layers = 0;
  cs_status st = cs_weight_layers_find (m->graph, &layers, &n_layers, err);
  int64_t total = 0;
  for (int32_t i = 0; st == CS_OK && i < n_layers; i++)
    total += layers[i].numel;
  /* Three flattened states: t - 2, t - 1, t (rotating). */
  float *w = st == CS_OK ? malloc ((size_t) (total > 0 ? total : 1) * 3 * sizeof *w) : NULL;
  if (st == CS_OK && w == NULL)
    st = cs_error_set (err, CS_ERR_MEMORY, "out of memory");
  for (int32_t e = 0; st == CS_OK && e < run->n_epochs; e++)
    {
      if (e > 0 && (st = cs_safetensors_apply (m, run->epochs[e].checkpoint, false, err)) != CS_OK)
        break;
      float *cur = w + (int64_t) (e % 3) * total;
      int64_t k = 0;
      for (int32_t i = 0; i < n_layers; i++)
        {
          memcpy (cur + k, m->weights[layers[i].param].data, (size_t) layers[i].numel * sizeof *cur);
          k += layers[i].numel;
        }
      if (e < 2)
        continue;
      const float *p1 = w + (int64_t) ((e - 1) % 3) * total, *p2 = w + (int64_t) ((e - 2) % 3) * total;
      double dot = 0.0, a2 = 0.0, b2 = 0.0;
      for (int64_t i = 0; i < total; i++)
        {
          double a = (double) cur[i] - p1[i], b = (double) p1[i] - p2[i];
          dot += a * b;
          a2 += a * a;
          b2 += b * b;
        }
      out[e] = a2 > 0 && b2 > 0 ? dot / sqrt (a2 * b2) : NAN;
    }
  free (w);
  free (layers);
  cs_model_free (m);
  return st;
}
