/* CsWorker: GTasks on a GThreadPool, with per-channel cancellation, a generation counter
 * against stale results, throttled progress, and one cached executor per pool thread. */
#include "config.h"

#include "cs-worker.h"

#include "base/threads.h"

struct _CsWorkerJob
{
  CsWorker *worker;            /* not a reference: the worker outlives its pool */
  char *channel;
  guint64 generation;
  gboolean long_job;
  CsWorkerFunc func;
  gpointer data;
  GDestroyNotify data_destroy;
  GDestroyNotify result_destroy;
  GCancellable *cancellable;
  volatile int cancel_flag;    /* the core polls this between batches */
  cs_progress progress;
  double fraction;             /* guarded by the worker's lock */
  gboolean done;               /* guarded by the worker's lock */
  CsModelSet *held_set;        /* a checkpoint held for the job (cs_worker_job_get_model) */
  int held_epoch;
};

typedef struct
{
  guint64 generation;
  CsWorkerJob *job;            /* the running job of the channel, or NULL */
} Channel;

struct _CsWorker
{
  GObject parent_instance;
  GThreadPool *pool;
  GHashTable *channels;        /* char * -> Channel *, main thread only */
  GMutex lock;                 /* guards jobs' fraction/done and the list below */
  GPtrArray *long_jobs;        /* running long jobs (borrowed) */
  guint progress_idle;         /* guarded by lock */
  double fraction;
  gboolean busy;
};

enum { PROP_0, PROP_FRACTION, PROP_BUSY, N_PROPS };
static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (CsWorker, cs_worker, G_TYPE_OBJECT)

/* One executor per pool thread, rebuilt when a job brings another model set. */
typedef struct
{
  CsModelSet *set;
  cs_exec *exec;
  int epoch;                   /* the checkpoint the executor holds, or -1 */
} ExecCache;

/* The executor keeps pointers into its model's weights: its checkpoint stays held (safe from
 * the model set's cache eviction) until the executor moves to another one. */
static void
exec_cache_release (ExecCache *c)
{
  if (c->set != NULL && c->epoch >= 0)
    cs_model_set_release_epoch (c->set, c->epoch);
  c->epoch = -1;
}

static void
exec_cache_free (gpointer data)
{
  ExecCache *c = data;

  cs_exec_free (c->exec);  /* before the set: the executor points into its graph */
  exec_cache_release (c);
  g_clear_pointer (&c->set, cs_model_set_unref);
  g_free (c);
}

static GPrivate exec_cache_key = G_PRIVATE_INIT (exec_cache_free);

int32_t
cs_worker_batch_for_model (const cs_model *m)
{
  const cs_graph *g = m->graph;
  int64_t per_sample = 0;

  for (int32_t i = 0; i < g->n_nodes; i++)
    if (g->nodes[i].batched)
      per_sample += cs_shape_numel (&g->nodes[i].shape);
  /* Activations and gradients, with room for workspaces: 256 MiB in all. */
  per_sample = MAX (per_sample, 1) * (int64_t) sizeof (float) * 3;
  return (int32_t) CLAMP ((int64_t) 256 * 1024 * 1024 / per_sample, 1, 64);
}

cs_exec *
cs_worker_job_get_exec (CsWorkerJob *job, CsModelSet *set, int epoch, GError **error)
{
  ExecCache *c = g_private_get (&exec_cache_key);
  const cs_model *m;
  cs_error err = { 0 };

  if (c == NULL)
    {
      c = g_new0 (ExecCache, 1);
      c->epoch = -1;
      g_private_set (&exec_cache_key, c);
    }
  m = cs_model_set_acquire_epoch (set, epoch, error);
  if (m == NULL)
    return NULL;
  /* Held once per executor: drop the hold of the checkpoint it had. */
  exec_cache_release (c);
  if (c->set == set)
    c->epoch = epoch;

  if (c->set != set)
    {
      g_clear_pointer (&c->exec, cs_exec_free);
      g_clear_pointer (&c->set, cs_model_set_unref);
      c->epoch = epoch;
      c->set = cs_model_set_ref (set);
      c->exec = cs_exec_new (m, cs_worker_batch_for_model (m), &err);
      if (c->exec == NULL)
        {
          cs_set_core_error (error, &err);
          exec_cache_release (c);
          g_clear_pointer (&c->set, cs_model_set_unref);
          return NULL;
        }
    }
  if (cs_exec_model (c->exec) != m && cs_exec_set_model (c->exec, m, &err) != CS_OK)
    {
      cs_set_core_error (error, &err);
      return NULL;
    }
  cs_exec_set_training (c->exec, false);
  cs_exec_set_relu_rule (c->exec, CS_RELU_RULE_GRADIENT);
  cs_exec_set_threads (c->exec, cs_threads_get ()); /* each job takes the preference as it starts */
  return c->exec;
}

const cs_model *
cs_worker_job_get_model (CsWorkerJob *job, CsModelSet *set, int epoch, GError **error)
{
  const cs_model *m;

  g_return_val_if_fail (job->held_set == NULL, NULL);
  m = cs_model_set_acquire_epoch (set, epoch, error);
  if (m != NULL)
    {
      job->held_set = cs_model_set_ref (set);
      job->held_epoch = epoch;
    }
  return m;
}

static gboolean
progress_idle_cb (gpointer user_data)
{
  CsWorker *self = user_data;
  double sum = 0;
  guint n;

  g_mutex_lock (&self->lock);
  self->progress_idle = 0;
  n = self->long_jobs->len;
  for (guint i = 0; i < n; i++)
    sum += ((CsWorkerJob *) g_ptr_array_index (self->long_jobs, i))->fraction;
  g_mutex_unlock (&self->lock);

  self->fraction = n > 0 ? sum / n : 0.0;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FRACTION]);
  return G_SOURCE_REMOVE;
}

/* Called with the lock held: one low-priority idle coalesces any number of updates. */
static void
queue_progress_locked (CsWorker *self)
{
  if (self->progress_idle == 0)
    self->progress_idle = g_idle_add_full (G_PRIORITY_LOW, progress_idle_cb,
                                           g_object_ref (self), g_object_unref);
}

void
cs_worker_job_set_fraction (CsWorkerJob *job, double fraction)
{
  CsWorker *self = job->worker;

  g_mutex_lock (&self->lock);
  job->fraction = CLAMP (fraction, 0.0, 1.0);
  if (job->long_job)
    queue_progress_locked (self);
  g_mutex_unlock (&self->lock);
}

static void
job_progress_cb (void *user_data, double fraction)
{
  cs_worker_job_set_fraction (user_data, fraction);
}

const cs_progress *
cs_worker_job_get_progress (CsWorkerJob *job)
{
  return &job->progress;
}

gboolean
cs_worker_job_is_cancelled (CsWorkerJob *job)
{
  return g_atomic_int_get (&job->cancel_flag) != 0;
}

static void
job_free (gpointer data)
{
  CsWorkerJob *job = data;

  if (job->data_destroy != NULL)
    job->data_destroy (job->data);
  g_clear_object (&job->cancellable);
  g_free (job->channel);
  g_free (job);
}

static void
job_cancel (CsWorkerJob *job)
{
  g_atomic_int_set (&job->cancel_flag, 1);
  g_cancellable_cancel (job->cancellable);
}

static void
pool_func (gpointer data, gpointer user_data)
{
  GTask *task = data;
  CsWorkerJob *job = g_task_get_task_data (task);
  GError *error = NULL;
  gpointer result = NULL;

  if (!cs_worker_job_is_cancelled (job))
    result = job->func (job, job->data, &error);
  else
    g_set_error_literal (&error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Cancelled");

  if (job->held_set != NULL)
    {
      cs_model_set_release_epoch (job->held_set, job->held_epoch);
      g_clear_pointer (&job->held_set, cs_model_set_unref);
    }
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, result, job->result_destroy);
  g_object_unref (task);
}

static void
update_busy (CsWorker *self)
{
  gboolean busy;

  g_mutex_lock (&self->lock);
  busy = self->long_jobs->len > 0;
  queue_progress_locked (self);
  g_mutex_unlock (&self->lock);
  if (busy != self->busy)
    {
      self->busy = busy;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
    }
}

static void
job_done (CsWorker *self, CsWorkerJob *job)
{
  Channel *ch;

  g_mutex_lock (&self->lock);
  if (!job->done)
    {
      job->done = TRUE;
      if (job->long_job)
        g_ptr_array_remove (self->long_jobs, job);
    }
  g_mutex_unlock (&self->lock);

  ch = g_hash_table_lookup (self->channels, job->channel);
  if (ch != NULL && ch->job == job)
    ch->job = NULL;
  update_busy (self);
}

guint64
cs_worker_run (CsWorker *self, const char *channel, gboolean long_job, CsWorkerFunc func,
               gpointer data, GDestroyNotify data_destroy, GDestroyNotify result_destroy,
               GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  CsWorkerJob *job;
  Channel *ch;

  g_return_val_if_fail (CS_IS_WORKER (self), 0);
  g_return_val_if_fail (channel != NULL && func != NULL, 0);

  ch = g_hash_table_lookup (self->channels, channel);
  if (ch == NULL)
    {
      ch = g_new0 (Channel, 1);
      g_hash_table_insert (self->channels, g_strdup (channel), ch);
    }
  if (ch->job != NULL)
    {
      /* The running job may not notice in time: its generation no longer matches, so
       * cs_worker_finish drops whatever it returns. */
      job_cancel (ch->job);
      job_done (self, ch->job);
    }

  job = g_new0 (CsWorkerJob, 1);
  job->worker = self;
  job->channel = g_strdup (channel);
  job->generation = ++ch->generation;
  job->long_job = long_job;
  job->func = func;
  job->data = data;
  job->data_destroy = data_destroy;
  job->result_destroy = result_destroy;
  job->cancellable = g_cancellable_new ();
  job->progress.progress = job_progress_cb;
  job->progress.user_data = job;
  job->progress.cancel = &job->cancel_flag;
  ch->job = job;

  task = g_task_new (self, job->cancellable, callback, user_data);
  g_task_set_source_tag (task, cs_worker_run);
  g_task_set_task_data (task, job, job_free);
  /* Staleness is decided by the generation in cs_worker_finish, not by the cancellable. */
  g_task_set_check_cancellable (task, FALSE);

  if (long_job)
    {
      g_mutex_lock (&self->lock);
      g_ptr_array_add (self->long_jobs, job);
      g_mutex_unlock (&self->lock);
      update_busy (self);
    }

  g_thread_pool_push (self->pool, g_object_ref (task), NULL);
  return job->generation;
}

gpointer
cs_worker_finish (CsWorker *self, GAsyncResult *result, GError **error)
{
  GTask *task = G_TASK (result);
  CsWorkerJob *job = g_task_get_task_data (task);
  Channel *ch;

  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  ch = g_hash_table_lookup (self->channels, job->channel);
  job_done (self, job);
  if (ch == NULL || ch->generation != job->generation)
    {
      /* Left unpropagated, the result is freed with the task by result_destroy. */
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Superseded by a newer job");
      return NULL;
    }
  return g_task_propagate_pointer (task, error);
}

guint64
cs_worker_get_generation (CsWorker *self, const char *channel)
{
  Channel *ch = g_hash_table_lookup (self->channels, channel);

  return ch != NULL ? ch->generation : 0;
}

void
cs_worker_cancel (CsWorker *self, const char *channel)
{
  GHashTableIter iter;
  const char *name;
  Channel *ch;

  g_hash_table_iter_init (&iter, self->channels);
  while (g_hash_table_iter_next (&iter, (gpointer *) &name, (gpointer *) &ch))
    if ((channel == NULL || g_str_equal (channel, name)) && ch->job != NULL)
      {
        ch->generation++;
        job_cancel (ch->job);
        job_done (self, ch->job);
      }
}

double
cs_worker_get_fraction (CsWorker *self)
{
  return self->fraction;
}

gboolean
cs_worker_get_busy (CsWorker *self)
{
  return self->busy;
}

static void
cs_worker_finalize (GObject *object)
{
  CsWorker *self = CS_WORKER (object);

  /* Jobs hold the task, and the task holds the worker: none can be left when we get here. */
  g_thread_pool_free (self->pool, TRUE, TRUE);
  g_hash_table_unref (self->channels);
  g_ptr_array_unref (self->long_jobs);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (cs_worker_parent_class)->finalize (object);
}

static void
cs_worker_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CsWorker *self = CS_WORKER (object);

  switch (prop_id)
    {
    case PROP_FRACTION:
      g_value_set_double (value, self->fraction);
      break;
    case PROP_BUSY:
      g_value_set_boolean (value, self->busy);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_worker_class_init (CsWorkerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = cs_worker_finalize;
  object_class->get_property = cs_worker_get_property;

  properties[PROP_FRACTION] =
    g_param_spec_double ("fraction", NULL, NULL, 0.0, 1.0, 0.0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_BUSY] =
    g_param_spec_boolean ("busy", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
cs_worker_init (CsWorker *self)
{
  int threads = CLAMP ((int) g_get_num_processors (), 2, 4);  /* a long job never blocks a quick one */

  g_mutex_init (&self->lock);
  self->channels = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->long_jobs = g_ptr_array_new ();
  self->pool = g_thread_pool_new (pool_func, self, threads, FALSE, NULL);
}

CsWorker *
cs_worker_new (void)
{
  return g_object_new (CS_TYPE_WORKER, NULL);
}
