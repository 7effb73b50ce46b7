/* CsWorker: runs core computations off the main thread, one GTask per job on a thread pool;
 * a newer job on the same channel cancels the older one, whose result is then dropped. */
#pragma once

#include <gio/gio.h>

#include "cs-model-set.h"
#include "exec/exec.h"

G_BEGIN_DECLS

#define CS_TYPE_WORKER (cs_worker_get_type ())

G_DECLARE_FINAL_TYPE (CsWorker, cs_worker, CS, WORKER, GObject)

typedef struct _CsWorkerJob CsWorkerJob;

/* Runs on a worker thread with the job's data; returns the result or NULL with error set. */
typedef gpointer (*CsWorkerFunc) (CsWorkerJob *job, gpointer data, GError **error);

CsWorker *cs_worker_new (void);

/* Starts func (data) on a pool thread. A job already running on `channel` is cancelled and
 * its result will be dropped: cs_worker_finish reports it as G_IO_ERROR_CANCELLED. data is
 * freed with data_destroy and an unclaimed result with result_destroy, on the main thread.
 * long_job: counted in the window's progress bar. Returns the job's generation. */
guint64 cs_worker_run (CsWorker *self, const char *channel, gboolean long_job, CsWorkerFunc func,
                       gpointer data, GDestroyNotify data_destroy, GDestroyNotify result_destroy,
                       GAsyncReadyCallback callback, gpointer user_data);
gpointer cs_worker_finish (CsWorker *self, GAsyncResult *result, GError **error);
/* The channel's generation, which a result must carry to be accepted. */
guint64 cs_worker_get_generation (CsWorker *self, const char *channel);
/* Cancels the job of channel (NULL: every job). */
void cs_worker_cancel (CsWorker *self, const char *channel);

double cs_worker_get_fraction (CsWorker *self);   /* of the long jobs running, 0..1 */
gboolean cs_worker_get_busy (CsWorker *self);     /* a long job is running */

/* In a job: an executor for set at the epoch index (one per thread, cached per model set,
 * weights swapped per epoch), valid until the job returns. */
cs_exec *cs_worker_job_get_exec (CsWorkerJob *job, CsModelSet *set, int epoch, GError **error);
/* In a job: the model of set at the epoch index, held (safe from the set's cache eviction)
 * until the job returns. At most once per job. */
const cs_model *cs_worker_job_get_model (CsWorkerJob *job, CsModelSet *set, int epoch,
                                         GError **error);
/* In a job: progress reporting and the cancel flag, for the core's cs_progress. */
const cs_progress *cs_worker_job_get_progress (CsWorkerJob *job);
void cs_worker_job_set_fraction (CsWorkerJob *job, double fraction);
gboolean cs_worker_job_is_cancelled (CsWorkerJob *job);

/* The batch an executor of m is built for: as many samples as fit a modest memory budget. */
int32_t cs_worker_batch_for_model (const cs_model *m);

G_END_DECLS
