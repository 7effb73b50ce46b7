/* CsWorker: results arrive on the main thread; a stale job's result is dropped even when the
 * job ignores its cancellation; progress is reported; an executor per thread is reused. */
#include "config.h"

#include "cs-worker.h"
#include "ui-fixture.h"

typedef struct
{
  int value;
  gint *release;               /* the job waits until this is non-zero */
  gint *running;
} Job;

static gpointer
slow_job (CsWorkerJob *wjob, gpointer data, GError **error)
{
  Job *job = data;

  g_atomic_int_set (job->running, 1);
  /* Deliberately ignores cancellation: the generation must still drop its result. */
  while (!g_atomic_int_get (job->release))
    g_usleep (1000);
  cs_worker_job_set_fraction (wjob, 1.0);
  return GINT_TO_POINTER (job->value);
}

typedef struct
{
  int calls;
  int value;
  gboolean cancelled;
} Outcome;

static void
done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Outcome *o = user_data;
  g_autoptr (GError) error = NULL;
  gpointer r = cs_worker_finish (CS_WORKER (source), result, &error);

  o->calls++;
  if (error != NULL)
    o->cancelled = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  else
    o->value = GPOINTER_TO_INT (r);
}

static void
test_stale_dropped (void)
{
  g_autoptr (CsWorker) worker = cs_worker_new ();
  gint release_old = 0, release_new = 1, running_old = 0, running_new = 0;
  Job old = { 1, &release_old, &running_old }, newer = { 2, &release_new, &running_new };
  Outcome o_old = { 0 }, o_new = { 0 };
  gint64 end;

  cs_worker_run (worker, "view", TRUE, slow_job, &old, NULL, NULL, done_cb, &o_old);
  end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (!g_atomic_int_get (&running_old) && g_get_monotonic_time () < end)
    g_usleep (1000);
  g_assert_true (g_atomic_int_get (&running_old));
  g_assert_true (cs_worker_get_busy (worker));

  /* A newer selection: its job finishes first... */
  cs_worker_run (worker, "view", FALSE, slow_job, &newer, NULL, NULL, done_cb, &o_new);
  end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (o_new.calls == 0 && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
  g_assert_cmpint (o_new.calls, ==, 1);
  g_assert_cmpint (o_new.value, ==, 2);

  /* ...then the old, slower one returns: its result must not be accepted. */
  g_atomic_int_set (&release_old, 1);
  end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (o_old.calls == 0 && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
  g_assert_cmpint (o_old.calls, ==, 1);
  g_assert_true (o_old.cancelled);
  g_assert_cmpint (o_old.value, ==, 0);
  g_assert_cmpint (cs_worker_get_generation (worker, "view"), ==, 2);
  g_assert_true (ui_wait_for_bool (G_OBJECT (worker), "busy", FALSE, 2000));
}

static void
test_channels_independent (void)
{
  g_autoptr (CsWorker) worker = cs_worker_new ();
  gint release = 1, r1 = 0, r2 = 0;
  Job a = { 10, &release, &r1 }, b = { 20, &release, &r2 };
  Outcome oa = { 0 }, ob = { 0 };
  gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  cs_worker_run (worker, "a", FALSE, slow_job, &a, NULL, NULL, done_cb, &oa);
  cs_worker_run (worker, "b", FALSE, slow_job, &b, NULL, NULL, done_cb, &ob);
  while ((oa.calls == 0 || ob.calls == 0) && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
  g_assert_cmpint (oa.value, ==, 10);
  g_assert_cmpint (ob.value, ==, 20);
}

static gpointer
exec_job (CsWorkerJob *wjob, gpointer data, GError **error)
{
  CsModelSet *set = data;
  cs_exec *e1 = cs_worker_job_get_exec (wjob, set, 0, error);
  cs_exec *e2;

  if (e1 == NULL)
    return NULL;
  e2 = cs_worker_job_get_exec (wjob, set, 3, error);
  /* One executor per thread, the weights swapped for the other epoch. */
  if (e2 != e1 || cs_exec_model (e2) != cs_model_set_get_epoch (set, 3, NULL))
    return NULL;
  return GINT_TO_POINTER (1);
}

static void
test_exec_cache (void)
{
  g_autoptr (CsWorker) worker = cs_worker_new ();
  char *dir = ui_fixture_make_run (4);
  g_autoptr (GError) error = NULL;
  CsModelSet *set = cs_model_set_load (dir, &error);
  Outcome o = { 0 };
  gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  g_assert_no_error (error);
  cs_worker_run (worker, "exec", FALSE, exec_job, set, (GDestroyNotify) cs_model_set_unref, NULL,
                 done_cb, &o);
  while (o.calls == 0 && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
  g_assert_cmpint (o.value, ==, 1);
  ui_fixture_remove (dir);
}

int
main (int argc, char *argv[])
{
  gtk_test_init (&argc, &argv, NULL);
  g_test_add_func ("/worker/stale-result-dropped", test_stale_dropped);
  g_test_add_func ("/worker/channels-independent", test_channels_independent);
  g_test_add_func ("/worker/exec-cache", test_exec_cache);
  return g_test_run ();
}
