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
  ret = g_test_run ();
  ui_fixture_remove (run_dir);
  return ret;
}
