/* CsSession: opening runs, models and images; setters clamp and notify once; a bad file keeps
 * the session as it was. */
#include "config.h"

#include "cs-session.h"
#include "ui-fixture.h"

static char *run_dir;

static void
count_notify (GObject *object, GParamSpec *pspec, int *count)
{
  (*count)++;
}

static void
test_open_run (void)
{
  g_autoptr (CsSession) session = cs_session_new ();
  g_autoptr (GError) error = NULL;
  CsModelSet *set;

  g_assert_true (cs_session_open_model (session, run_dir, &error));
  g_assert_no_error (error);
  set = cs_session_get_model_set (session);
  g_assert_nonnull (set);
  g_assert_nonnull (cs_model_set_get_run (set));
  g_assert_cmpint (cs_session_get_n_epochs (session), ==, 6);
  g_assert_cmpint (cs_session_get_epoch (session), ==, 5);
  /* The default layer is the last spatial one: the residual add. */
  g_assert_cmpstr (cs_model_set_get_graph (set)->nodes[cs_session_get_layer (session)].name, ==, "res");
  /* The first test image is the input, with its label from the file name. */
  g_assert_nonnull (cs_session_get_image (session));
  g_assert_nonnull (cs_session_get_input (session));
  g_assert_cmpint (cs_session_get_input (session)->shape.dim[2], ==, 16);
  g_assert_cmpstr (cs_session_get_image_name (session), ==, "000-circle.png");
  g_assert_cmpint (cs_session_get_image_label (session), ==, 0);
}

static void
test_setters (void)
{
  g_autoptr (CsSession) session = cs_session_new ();
  int epoch_notifies = 0, unit_notifies = 0;

  g_assert_true (cs_session_open_model (session, run_dir, NULL));
  g_signal_connect (session, "notify::epoch", G_CALLBACK (count_notify), &epoch_notifies);
  g_signal_connect (session, "notify::unit", G_CALLBACK (count_notify), &unit_notifies);
  cs_session_set_epoch (session, 2);
  cs_session_set_epoch (session, 2);
  g_assert_cmpint (epoch_notifies, ==, 1);
  cs_session_set_epoch (session, 99);
  g_assert_cmpint (cs_session_get_epoch (session), ==, 5);
  cs_session_set_unit (session, 3);
  g_assert_cmpint (unit_notifies, ==, 1);
  /* A new layer resets the unit. */
  cs_session_set_layer (session, 1);
  g_assert_cmpint (cs_session_get_unit (session), ==, -1);
  cs_session_set_layer (session, 10000);
  g_assert_cmpint (cs_session_get_layer (session), ==, -1);
  cs_session_set_method (session, 999);
  g_assert_cmpint (cs_session_get_method (session), !=, 999);
}

static void
test_bad_files (void)
{
  g_autoptr (CsSession) session = cs_session_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *bad = ui_fixture_make_bad_file (run_dir);
  g_autofree char *missing = g_build_filename (run_dir, "nope.onnx", NULL);
  CsModelSet *before;

  g_assert_true (cs_session_open_model (session, run_dir, NULL));
  before = cs_session_get_model_set (session);
  g_assert_false (cs_session_open_model (session, bad, &error));
  g_assert_nonnull (error);
  g_assert_true (strstr (error->message, "broken.onnx") != NULL);
  g_clear_error (&error);
  g_assert_false (cs_session_open_model (session, missing, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_false (cs_session_open_image (session, bad, -1, &error));
  g_assert_nonnull (error);
  g_assert_true (cs_session_get_model_set (session) == before);
  g_assert_nonnull (cs_session_get_input (session));
}

static void
test_epoch_models (void)
{
  g_autoptr (CsSession) session = cs_session_new ();
  CsModelSet *set;
  const cs_model *a, *b;

  g_assert_true (cs_session_open_model (session, run_dir, NULL));
  set = cs_session_get_model_set (session);
  a = cs_model_set_get_epoch (set, 0, NULL);
  b = cs_model_set_get_epoch (set, 5, NULL);
  g_assert_nonnull (a);
  g_assert_true (b == cs_model_set_get_base (set));
  /* Same graph, different weights; cached. */
  g_assert_true (a->graph == b->graph);
  g_assert_cmpfloat (a->weights[0].data[0], !=, b->weights[0].data[0]);
  g_assert_true (cs_model_set_get_epoch (set, 0, NULL) == a);
}

typedef struct
{
  gboolean done, ok;
  GError *error;
} Opened;

static void
opened_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Opened *o = user_data;

  o->ok = cs_session_open_finish (CS_SESSION (source), result, &o->error);
  o->done = TRUE;
}

static void
wait_opened (Opened *o)
{
  gint64 end = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  while (!o->done && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (o->done);
}

/* Opening on the worker: the session changes only when the open succeeded, on the main thread;
 * a newer open supersedes an older one, which finishes cancelled; a bad file keeps the model. */
static void
test_open_async (void)
{
  g_autoptr (CsSession) session = cs_session_new ();
  g_autofree char *bad = ui_fixture_make_bad_file (run_dir);
  g_autoptr (GPtrArray) images = NULL;
  Opened first = { 0 }, second = { 0 }, broken = { 0 }, picture = { 0 };
  CsModelSet *set;

  cs_session_open_async (session, bad, FALSE, -1, opened_cb, &first);
  cs_session_open_async (session, run_dir, FALSE, -1, opened_cb, &second);
  g_assert_null (cs_session_get_model_set (session));  /* nothing changes synchronously */
  wait_opened (&first);
  wait_opened (&second);
  g_assert_false (first.ok);
  g_assert_true (g_error_matches (first.error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
  g_assert_true (second.ok);
  set = cs_session_get_model_set (session);
  g_assert_nonnull (set);
  g_assert_cmpint (cs_session_get_n_epochs (session), ==, 6);
  g_assert_nonnull (cs_session_get_image (session));  /* the run's first test image, decoded */

  cs_session_open_async (session, bad, FALSE, -1, opened_cb, &broken);
  wait_opened (&broken);
  g_assert_false (broken.ok);
  g_assert_true (strstr (broken.error->message, "broken.onnx") != NULL);
  g_assert_true (cs_session_get_model_set (session) == set);

  images = cs_session_list_run_images (session);
  g_assert_cmpuint (images->len, >, 1);
  cs_session_open_async (session, ((CsRunImage *) images->pdata[1])->path, TRUE, 3, opened_cb,
                         &picture);
  wait_opened (&picture);
  g_assert_true (picture.ok);
  g_assert_cmpint (cs_session_get_image_label (session), ==, 3);
  g_clear_error (&first.error);
  g_clear_error (&broken.error);
}

int
main (int argc, char *argv[])
{
  int ret;

  gtk_test_init (&argc, &argv, NULL);
  run_dir = ui_fixture_make_run (6);
  g_test_add_func ("/session/open-run", test_open_run);
  g_test_add_func ("/session/setters", test_setters);
  g_test_add_func ("/session/bad-files", test_bad_files);
  g_test_add_func ("/session/epoch-models", test_epoch_models);
  g_test_add_func ("/session/open-async", test_open_async);
  ret = g_test_run ();
  ui_fixture_remove (run_dir);
  return ret;
}
