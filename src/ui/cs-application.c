/* CsApplication: settings, the demo run's location, app-wide actions. */
#include "config.h"

#include <glib/gi18n.h>

#include "cs-application.h"
#include "cs-preferences-window.h"
#include "cs-window.h"

#define MAX_RECENT 8

struct _CsApplication
{
  AdwApplication parent_instance;
  GSettings *settings;
};

G_DEFINE_FINAL_TYPE (CsApplication, cs_application, ADW_TYPE_APPLICATION)

char *
cs_application_find_demo (void)
{
  const char *env = g_getenv ("CONVSCOPE_DATA_DIR");
  const char *const dirs[] = { env, PKGDATADIR, CS_SOURCE_DATA_DIR };

  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      g_autofree char *demo = NULL;
      if (dirs[i] == NULL)
        continue;
      demo = g_build_filename (dirs[i], "demo", NULL);
      if (g_file_test (demo, G_FILE_TEST_IS_DIR))
        return g_steal_pointer (&demo);
      if (i == 0)
        break;  /* an explicit data dir wins even when it has no demo (tests) */
    }
  return NULL;
}

GSettings *
cs_application_get_settings (CsApplication *self)
{
  return self->settings;
}

void
cs_application_add_recent (CsApplication *self, const char *path)
{
  g_auto (GStrv) old = NULL;
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  g_auto (GStrv) recent = NULL;
  g_autofree char *abs = NULL;
  guint n = 1;

  if (self->settings == NULL || path == NULL)
    return;
  abs = g_canonicalize_filename (path, NULL);
  old = g_settings_get_strv (self->settings, "recent-runs");
  g_strv_builder_add (b, abs);
  for (guint i = 0; old[i] != NULL && n < MAX_RECENT; i++)
    if (g_strcmp0 (old[i], abs) != 0)
      {
        g_strv_builder_add (b, old[i]);
        n++;
      }
  recent = g_strv_builder_end (b);
  g_settings_set_strv (self->settings, "recent-runs", (const char *const *) recent);
}

static CsWindow *
new_window (CsApplication *self)
{
  return cs_window_new (GTK_APPLICATION (self));
}

static void
cs_application_activate (GApplication *app)
{
  CsWindow *window = new_window (CS_APPLICATION (app));

  gtk_window_present (GTK_WINDOW (window));
  cs_window_open_demo (window);
}

static void
cs_application_open (GApplication *app, GFile **files, int n_files, const char *hint)
{
  CsWindow *window = new_window (CS_APPLICATION (app));

  gtk_window_present (GTK_WINDOW (window));
  cs_window_open_files (window, files, (guint) n_files);
  cs_window_open_demo_if_empty (window);  /* an image alone needs a model to explain it */
}

static void
about_action (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  GtkApplication *app = user_data;
  const char *developers[] = { _("The Convscope developers"), NULL };

  adw_show_about_window (gtk_application_get_active_window (app),
                         "application-name", "Convscope",
                         "application-icon", APP_ID,
                         "version", PACKAGE_VERSION,
                         "comments", _("See what a convolutional network learned, why it decides, and when it overfits"),
                         "developers", developers,
                         "license-type", GTK_LICENSE_GPL_3_0,
                         NULL);
}

static void
quit_action (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  g_application_quit (G_APPLICATION (user_data));
}

static void
cs_application_startup (GApplication *app)
{
  CsApplication *self = CS_APPLICATION (app);
  static const GActionEntry entries[] = {
    { "about", about_action },
    { "quit", quit_action },
  };
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr (GSettingsSchema) schema = NULL;

  G_APPLICATION_CLASS (cs_application_parent_class)->startup (app);

  /* Installed schemas first (tests point GSETTINGS_SCHEMA_DIR at the build tree's). */
  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, APP_ID, TRUE);
  /* Started from the build tree (as the README does): the schema meson compiled there. */
  if (schema == NULL)
    {
      g_autoptr (GSettingsSchemaSource) built
        = g_settings_schema_source_new_from_directory (CS_BUILD_DATA_DIR, source, FALSE, NULL);
      if (built != NULL)
        schema = g_settings_schema_source_lookup (built, APP_ID, FALSE);
    }
  if (schema != NULL)
    {
      self->settings = g_settings_new_full (schema, NULL, NULL);
      cs_settings_apply_global (self->settings);
    }

  g_action_map_add_action_entries (G_ACTION_MAP (app), entries, G_N_ELEMENTS (entries), app);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.quit",
                                         (const char *[]) { "<Primary>q", NULL });
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "win.open",
                                         (const char *[]) { "<Primary>o", NULL });
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "win.cancel",
                                         (const char *[]) { "Escape", NULL });
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "win.epoch-step(-1)",
                                         (const char *[]) { "<Alt>Left", NULL });
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "win.epoch-step(1)",
                                         (const char *[]) { "<Alt>Right", NULL });
  {
    static const struct { const char *action; const char *accels[3]; } keys[] = {
      { "win.play", { "<Primary>p", NULL } },
      { "win.method-step(1)", { "<Primary>bracketright", NULL } },
      { "win.method-step(-1)", { "<Primary>bracketleft", NULL } },
      { "win.compare", { "<Primary>g", NULL } },
      { "win.export('auto')", { "<Primary>e", NULL } },
      { "win.export('curves')", { "<Primary><Shift>e", NULL } },
      { "win.preferences", { "<Primary>comma", NULL } },
    };
    for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
      gtk_application_set_accels_for_action (GTK_APPLICATION (app), keys[i].action, keys[i].accels);
  }
  /* style.css and gtk/help-overlay.ui load from the resource base path by themselves. */
}

static void
cs_application_dispose (GObject *object)
{
  CsApplication *self = CS_APPLICATION (object);

  g_clear_object (&self->settings);
  G_OBJECT_CLASS (cs_application_parent_class)->dispose (object);
}

static void
cs_application_class_init (CsApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = cs_application_dispose;
  app_class->activate = cs_application_activate;
  app_class->open = cs_application_open;
  app_class->startup = cs_application_startup;
}

static void
cs_application_init (CsApplication *self)
{
}

CsApplication *
cs_application_new (void)
{
  return g_object_new (CS_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "flags", G_APPLICATION_HANDLES_OPEN | G_APPLICATION_NON_UNIQUE,
                       "resource-base-path", "/io/github/convscope/Convscope",
                       NULL);
}
