/* The application starts on the demo run, and on a bad file without crashing: a toast says
 * what is wrong and the demo run is shown instead. */
#include "config.h"

#include <glib/gstdio.h>

#include "cs-application.h"
#include "cs-window.h"
#include "ui-fixture.h"

static char *data_dir;
static char *run_dir;

typedef struct
{
  CsApplication *app;
  gboolean had_model;
  guint toasts;
  int epochs;
} Check;

static gboolean
check_and_quit (gpointer user_data)
{
  Check *c = user_data;
  GtkWindow *w = gtk_application_get_active_window (GTK_APPLICATION (c->app));

  if (CS_IS_WINDOW (w))
    {
      CsSession *s = cs_window_get_session (CS_WINDOW (w));
      c->had_model = cs_session_get_model_set (s) != NULL;
      c->epochs = cs_session_get_n_epochs (s);
      c->toasts = cs_window_get_n_toasts (CS_WINDOW (w));
      gtk_window_destroy (w);
    }
  g_application_quit (G_APPLICATION (c->app));
  return G_SOURCE_REMOVE;
}

static void
run_app (char **argv, int argc, Check *c)
{
  c->app = cs_application_new ();
  g_timeout_add (1500, check_and_quit, c);
  g_application_run (G_APPLICATION (c->app), argc, argv);
  g_clear_object (&c->app);
}

static void
test_starts_on_demo (void)
{
  char *argv[] = { (char *) "convscope", NULL };
  Check c = { 0 };

  run_app (argv, 1, &c);
  g_assert_true (c.had_model);
  g_assert_cmpint (c.epochs, ==, 5);
  g_assert_cmpuint (c.toasts, ==, 0);
}

static void
test_bad_file (void)
{
  g_autofree char *bad = ui_fixture_make_bad_file (data_dir);
  g_autofree char *text = g_build_filename (data_dir, "notes.json", NULL);
  char *argv[] = { (char *) "convscope", bad, text, NULL };
  Check c = { 0 };

  g_assert_true (g_file_set_contents (text, "{\"format\": \"something else\"}", -1, NULL));
  run_app (argv, 3, &c);
  /* Two toasts, one per bad file; the demo run opened instead. */
  g_assert_cmpuint (c.toasts, ==, 2);
  g_assert_true (c.had_model);
  g_unlink (text);
  g_unlink (bad);
}

int
main (int argc, char *argv[])
{
  int ret;
  g_autofree char *demo = NULL;

  gtk_test_init (&argc, &argv, NULL);
  /* A data dir whose demo/ is the fixture run. */
  run_dir = ui_fixture_make_run (5);
  data_dir = g_dir_make_tmp ("convscope-data-XXXXXX", NULL);
  demo = g_build_filename (data_dir, "demo", NULL);
  g_assert_cmpint (symlink (run_dir, demo), ==, 0);
  g_setenv ("CONVSCOPE_DATA_DIR", data_dir, TRUE);

  g_test_add_func ("/application/starts-on-demo", test_starts_on_demo);
  g_test_add_func ("/application/bad-file", test_bad_file);
  ret = g_test_run ();
  g_unlink (demo);
  g_rmdir (data_dir);
  ui_fixture_remove (run_dir);
  return ret;
}
