/* One forward pass of every checkpoint over every example of the history: batches of examples
 * shared out to worker threads (one exec each, single-threaded ops: the batches are independent,
 * and one small model's GEMMs split across cores pay less than whole batches), the model with its
 * batch norms folded (history_infer.c), and the next checkpoint read while this one computes. */
#include "analysis/history-private.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "base/softmax.h"
#include "base/threads.h"
#include "exec/exec.h"
#include "io/safetensors.h"

/* Examples per forward pass. Small: a worker's activations then stay in its core's cache, which
 * on the demo CNN beat the larger GEMMs of bigger batches (CPU time of 4 epochs over 70,000
 * examples, one thread: ~15-18 s at 4 to 16, 24 s at 128, 28 s at 256; bench/README.md). */
#define HISTORY_BATCH 16

/* One row of logits: the label's probability, its margin over the largest other logit, the
 * argmax and that other class. */
static void
summarise_row (const float *z, int32_t k, int32_t label, float *prob, float *margin, uint8_t *pred,
               uint8_t *other)
{
  int32_t best = 0, best_other = label == 0 ? 1 : 0;
  for (int32_t c = 1; c < k; c++)
    {
      if (z[c] > z[best])
        best = c;
      if (c != label && z[c] > z[best_other])
        best_other = c;
    }
  *prob = (float) cs_softmax_at (z, k, label);
  *margin = z[label] - z[best_other];
  *pred = (uint8_t) best;
  *other = (uint8_t) best_other;
}

/* What the workers share during one epoch. */
typedef struct {
  const cs_dataset_split *split[CS_HISTORY_N_SPLITS];
  cs_history *h;
  int64_t n_batches[CS_HISTORY_N_SPLITS];
  int64_t total;             /* batches of both splits */
  int64_t next;              /* the next batch to take (atomic) */
  int64_t done;              /* batches finished (atomic), for progress */
  int failed;                /* set once, under the critical section, with err */
  cs_error *err;
} epoch_work;

/* Batch `item` of the epoch (column e) through ex. */
static cs_status
run_batch (cs_exec *ex, const epoch_work *w, int64_t item, int32_t e, float *input, cs_error *err)
{
  int s = item < w->n_batches[0] ? 0 : 1;
  int64_t start = (s == 0 ? item : item - w->n_batches[0]) * HISTORY_BATCH;
  const cs_dataset_split *split = w->split[s];
  cs_history_examples *x = &w->h->split[s];
  const cs_model *m = cs_exec_model (ex);
  int32_t k = m->n_classes, n_epochs = w->h->n_epochs;
  int64_t b = x->n - start < HISTORY_BATCH ? x->n - start : HISTORY_BATCH;
  cs_dataset_batch (split, x->index + start, b, m->mean, m->std, input, NULL);
  cs_shape shape = cs_shape_4d (b, split->channels, split->height, split->width);
  cs_tensor in = cs_tensor_view (&shape, input);
  cs_status st = cs_exec_forward (ex, &in, err);
  if (st != CS_OK)
    return st;
  const cs_tensor *logits = cs_exec_value (ex, m->graph->output_node);
  for (int64_t i = 0; i < b; i++)
    {
      int64_t cell = (start + i) * n_epochs + e;
      const float *z = logits->data + i * k;
      for (int32_t c = 0; c < k; c++)
        if (!isfinite (z[c]))
          return cs_error_set (err, CS_ERR_FORMAT, "%s: non-finite logits for example %lld", m->path,
                               (long long) x->index[start + i]);
      summarise_row (z, k, x->label[start + i], &x->prob[cell], &x->margin[cell], &x->pred[cell],
                     &x->other[cell]);
    }
  return CS_OK;
}

/* Checkpoint e's weights, folded into *folded (allocated on first use). raw holds the weights as
 * the checkpoint stores them (every parameter is read, so it is simply overwritten). */
static cs_status
load_epoch (const cs_run *run, const cs_history_infer *inf, cs_model *raw, int32_t e, cs_model **folded,
            cs_error *err)
{
  if (e > 0 && cs_safetensors_apply (raw, run->epochs[e].checkpoint, false, err) != CS_OK)
    return err->code;
  if (*folded == NULL)
    return (*folded = cs_history_infer_model (inf, raw, err)) != NULL ? CS_OK : err->code;
  cs_history_infer_update (inf, raw, *folded);
  return CS_OK;
}

static void
fail (epoch_work *w, const cs_error *e)
{
#pragma omp critical (cs_history_fail)
  if (!w->failed)
    {
      *w->err = *e;
      w->failed = 1;
    }
}

/* One epoch: the workers take batches until none is left; one of them first loads the next
 * checkpoint into *next. Progress is reported by the calling thread only. */
static void
run_epoch (epoch_work *w, cs_exec **ex, float **input, int32_t workers, int32_t e, const cs_model *cur,
           const cs_run *run, const cs_history_infer *inf, cs_model *raw, cs_model **next,
           const cs_progress *progress)
{
#pragma omp parallel num_threads (workers)
  {
    int t = omp_get_thread_num ();
    cs_error err = { 0 };
    cs_exec_set_model (ex[t], cur, &err); /* same graph: cannot fail */
#pragma omp single nowait
    if (e + 1 < run->n_epochs && load_epoch (run, inf, raw, e + 1, next, &err) != CS_OK)
      fail (w, &err);
    for (;;)
      {
        int failed;
#pragma omp atomic read
        failed = w->failed;
        if (failed)
          break;
        if (cs_progress_cancelled (progress))
          {
            cs_error_set (&err, CS_ERR_CANCELLED, "example history cancelled");
            fail (w, &err);
            break;
          }
        int64_t item;
#pragma omp atomic capture
        item = w->next++;
        if (item >= w->total)
          break;
        if (run_batch (ex[t], w, item, e, input[t], &err) != CS_OK)
          {
            fail (w, &err);
            break;
          }
        int64_t done;
#pragma omp atomic capture
        done = ++w->done;
        if (t == 0)
          cs_progress_report (progress, ((double) e + (double) done / (double) w->total) / run->n_epochs);
      }
  }
}

cs_status
cs_history_compute_epochs (const cs_run *run, const cs_model *first, const cs_dataset *ds, cs_history *h,
                           const cs_progress *progress, cs_error *err)
{
  epoch_work w = { .split = { &ds->train, &ds->test }, .h = h, .err = err };
  for (int s = 0; s < CS_HISTORY_N_SPLITS; s++)
    {
      w.n_batches[s] = (h->split[s].n + HISTORY_BATCH - 1) / HISTORY_BATCH;
      w.total += w.n_batches[s];
    }
  int32_t workers = cs_threads_get ();
  if (workers > w.total)
    workers = w.total > 0 ? (int32_t) w.total : 1;
  size_t pixels = (size_t) ds->train.channels * (size_t) ds->train.height * (size_t) ds->train.width;
  cs_exec **ex = calloc ((size_t) workers, sizeof *ex);
  float **input = calloc ((size_t) workers, sizeof *input);
  cs_history_infer *inf = cs_history_infer_new (first, err);
  cs_model *raw = inf != NULL ? cs_model_clone (first, err) : NULL;
  cs_model *cur = NULL, *next = NULL;
  cs_status st = raw != NULL ? load_epoch (run, inf, raw, 0, &cur, err) : err->code;
  if (st == CS_OK && (ex == NULL || input == NULL))
    st = cs_error_set (err, CS_ERR_MEMORY, "out of memory");
  for (int32_t t = 0; st == CS_OK && t < workers; t++)
    {
      input[t] = malloc ((size_t) HISTORY_BATCH * pixels * sizeof **input);
      ex[t] = input[t] != NULL ? cs_exec_new (cur, HISTORY_BATCH, err) : NULL;
      if (ex[t] == NULL)
        st = input[t] == NULL ? cs_error_set (err, CS_ERR_MEMORY, "out of memory") : err->code;
      else
        cs_exec_set_threads (ex[t], 1);
    }
  for (int32_t e = 0; st == CS_OK && e < run->n_epochs; e++)
    {
      w.next = w.done = 0;
      run_epoch (&w, ex, input, workers, e, cur, run, inf, raw, &next, progress);
      st = w.failed ? err->code : CS_OK;
      cs_model *t = cur;
      cur = next;
      next = t;
    }
  for (int32_t t = 0; t < workers; t++)
    {
      cs_exec_free (ex != NULL ? ex[t] : NULL);
      free (input != NULL ? input[t] : NULL);
    }
  free (ex);
  free (input);
  cs_model_free (cur);
  cs_model_free (next);
  cs_model_free (raw);
  cs_history_infer_free (inf);
  return st;
}
