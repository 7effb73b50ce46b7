/* Started from the build tree without GSETTINGS_SCHEMA_DIR (as the README launches it), the app
 * still has its settings: it falls back on the schema meson compiled into build/data, so
 * Preferences open. */
#include "config.h"

#include "cs-application.h"
#include "cs-window.h"
#include "ui-fixture.h"

static gboolean had_settings;

static gboolean
check_and_quit (gpointer user_data)
{
  GApplication *app = user_data;
  GtkWindow *w = gtk_application_get_active_window (GTK_APPLICATION (app));

  had_settings = cs_application_get_settings (CS_APPLICATION (app)) != NULL;
  if (w != NULL)
    gtk_window_destroy (w);
  g_application_quit (app);
  return G_SOURCE_REMOVE;
}

static void
test_settings_without_schema_dir (void)
{
  char *argv[] = { (char *) "convscope", NULL };
  g_autoptr (CsApplication) app = cs_application_new ();

  g_timeout_add (1500, check_and_quit, app);
  g_application_run (G_APPLICATION (app), 1, argv);
  g_assert_true (had_settings);
}

int
main (int argc, char *argv[])
{
  /* Before GIO reads it: the schema is not installed and not pointed at. */
  g_unsetenv ("GSETTINGS_SCHEMA_DIR");
  gtk_test_init (&argc, &argv, NULL);
  g_test_add_func ("/build-tree/settings", test_settings_without_schema_dir);
  return g_test_run ();
}
