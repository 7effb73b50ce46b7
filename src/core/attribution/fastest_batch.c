/* The batch size at which a method's masked inputs run fastest, measured rather than guessed
 * from memory: each candidate size timed on the method's own workload, the result remembered
 * per model and setting so that it is measured once per process. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "attribution/method.h"

#define CACHE_SIZE 32

typedef struct {
  const cs_graph *graph;
  int32_t n_nodes, kind, max_batch, threads, until;
  int64_t h, w, extra;
  int32_t best;
} entry;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static int measuring = 1; /* read and written atomically */
static entry cache[CACHE_SIZE];
static int cache_next;

void
cs_attribution_measure_batches (bool on)
{
  __atomic_store_n (&measuring, on ? 1 : 0, __ATOMIC_RELAXED);
}

static bool
same_key (const entry *a, const entry *b)
{
  return a->graph == b->graph && a->n_nodes == b->n_nodes && a->kind == b->kind
         && a->max_batch == b->max_batch && a->threads == b->threads && a->until == b->until
         && a->h == b->h && a->w == b->w && a->extra == b->extra;
}

static int32_t
lookup (const entry *key)
{
  int32_t best = 0;
  pthread_mutex_lock (&cache_lock);
  for (int i = 0; i < CACHE_SIZE && best == 0; i++)
    if (cache[i].best > 0 && same_key (&cache[i], key))
      best = cache[i].best;
  pthread_mutex_unlock (&cache_lock);
  return best;
}

static void
remember (const entry *e)
{
  pthread_mutex_lock (&cache_lock);
  cache[cache_next] = *e;
  cache_next = (cache_next + 1) % CACHE_SIZE;
  pthread_mutex_unlock (&cache_lock);
}

cs_status
cs_method_fastest_batch (const cs_method_ctx *ctx, cs_batch_kind kind, int32_t until, int64_t extra,
                         cs_batch_run_fn run, void *user_data, int32_t *batch, cs_error *err)
{
  *batch = ctx->batch;
  if (ctx->batch <= 1 || !__atomic_load_n (&measuring, __ATOMIC_RELAXED))
    return CS_OK;
  entry key = { .graph = ctx->model->graph, .n_nodes = ctx->model->graph->n_nodes, .kind = (int32_t) kind,
                .max_batch = ctx->batch, .threads = cs_exec_threads (ctx->exec), .until = until,
                .h = ctx->input->shape.dim[2], .w = ctx->input->shape.dim[3], .extra = extra };
  int32_t best = lookup (&key);
  if (best > 0)
    {
      *batch = best <= ctx->batch ? best : ctx->batch;
      return CS_OK;
    }
  /* Candidates 1, 2, 4, ... and the exec's own batch, largest first (the first run also
   * warms the buffers every smaller one reuses); each timed once, per input. */
  int32_t sizes[32], count = 0;
  sizes[count++] = ctx->batch;
  for (int32_t n = 1; n < ctx->batch && count < 32; n *= 2)
    sizes[count++] = n;
  double best_time = 0;
  cs_status st = run (user_data, ctx->batch, err); /* warm-up (lazily sized scratch), not timed */
  for (int32_t i = 0; i < count && st == CS_OK; i++)
    {
      if (cs_progress_cancelled (ctx->progress))
        return cs_error_set (err, CS_ERR_CANCELLED, "cancelled");
      double t0 = cs_attribution_now ();
      st = run (user_data, sizes[i], err);
      double per = (cs_attribution_now () - t0) / sizes[i];
      if (st == CS_OK && (best == 0 || per < best_time))
        {
          best = sizes[i];
          best_time = per;
        }
    }
  if (st != CS_OK)
    return st;
  key.best = best;
  remember (&key);
  *batch = best;
  return CS_OK;
}

typedef struct {
  cs_exec *exec;
  const cs_tensor *input;
  int32_t until;
  cs_tensor copies;
} forward_probe;

static cs_status
run_forwards (void *user_data, int32_t n, cs_error *err)
{
  forward_probe *f = user_data;
  cs_shape s = f->copies.shape;
  s.dim[0] = n;
  cs_tensor view = cs_tensor_view (&s, f->copies.data);
  return cs_exec_forward_until (f->exec, &view, f->until, err);
}

cs_status
cs_method_fastest_forward_batch (const cs_method_ctx *ctx, int32_t until, int32_t *batch,
                                 cs_error *err)
{
  *batch = ctx->batch;
  if (ctx->batch <= 1 || !__atomic_load_n (&measuring, __ATOMIC_RELAXED))
    return CS_OK;
  forward_probe f = { .exec = ctx->exec, .input = ctx->input, .until = until };
  entry key = { .graph = ctx->model->graph, .n_nodes = ctx->model->graph->n_nodes,
                .kind = (int32_t) CS_BATCH_FORWARD, .max_batch = ctx->batch,
                .threads = cs_exec_threads (ctx->exec), .until = until,
                .h = ctx->input->shape.dim[2], .w = ctx->input->shape.dim[3] };
  int32_t known = lookup (&key);
  if (known > 0)
    {
      *batch = known <= ctx->batch ? known : ctx->batch;
      return CS_OK;
    }
  cs_shape s = ctx->input->shape;
  s.dim[0] = ctx->batch;
  cs_status st = cs_tensor_alloc (&f.copies, &s, err);
  if (st != CS_OK)
    return st;
  int64_t per = cs_tensor_numel (ctx->input);
  for (int32_t i = 0; i < ctx->batch; i++)
    memcpy (f.copies.data + i * per, ctx->input->data, (size_t) per * sizeof (float));
  st = cs_method_fastest_batch (ctx, CS_BATCH_FORWARD, until, 0, run_forwards, &f, batch, err);
  cs_tensor_free (&f.copies);
  return st;
}
