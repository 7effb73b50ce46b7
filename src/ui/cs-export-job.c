/* Exports on the worker: the request holds what it needs (the model set), so that the window
 * can change run meanwhile. */
#include "config.h"

#include "cs-export.h"
#include "cs-export-job.h"

typedef struct
{
  CsModelSet *set;
  char *path;
} ExportJob;

static void
export_job_free (gpointer data)
{
  ExportJob *j = data;

  g_clear_pointer (&j->set, cs_model_set_unref);
  g_free (j->path);
  g_free (j);
}

static gpointer
run_data_job_run (CsWorkerJob *job, gpointer data, GError **error)
{
  ExportJob *j = data;

  /* Any non-NULL pointer says done; the file is the result. */
  return cs_export_run_data (j->set != NULL ? cs_model_set_get_run (j->set) : NULL, j->path, error)
         ? GINT_TO_POINTER (1) : NULL;
}

void
cs_export_run_data_async (CsWorker *worker, CsModelSet *set, const char *path,
                          GAsyncReadyCallback callback, gpointer user_data)
{
  ExportJob *j = g_new0 (ExportJob, 1);

  j->set = set != NULL ? cs_model_set_ref (set) : NULL;
  j->path = g_strdup (path);
  cs_worker_run (worker, "export", TRUE, run_data_job_run, j, export_job_free, NULL, callback,
                 user_data);
}

gboolean
cs_export_run_data_finish (CsWorker *worker, GAsyncResult *result, GError **error)
{
  return cs_worker_finish (worker, result, error) != NULL;
}
