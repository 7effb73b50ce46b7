/* Exports that may take seconds, run on the worker: the run's data (which may compute every
 * checkpoint's weight statistics when the run's cache is missing or stale). */
#pragma once

#include "cs-model-set.h"
#include "cs-worker.h"

G_BEGIN_DECLS

/* cs_export_run_data of set's run to path, on the worker (channel "export", a long job with
 * progress and cancel); the set is held until it is done. */
void cs_export_run_data_async (CsWorker *worker, CsModelSet *set, const char *path,
                               GAsyncReadyCallback callback, gpointer user_data);
gboolean cs_export_run_data_finish (CsWorker *worker, GAsyncResult *result, GError **error);

G_END_DECLS
