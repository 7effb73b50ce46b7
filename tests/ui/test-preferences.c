/* Preferences and keyboard: settings reach the session and the views (colormap, parameters of
 * the saliency jobs, comparison methods, threads, checkpoint cache), the preferences window
 * writes them, and the window's shortcuts activate their actions. */
#include "config.h"

#include "base/threads.h"
#include "cs-application.h"
#include "cs-jobs.h"
#include "cs-preferences-window.h"
#include "cs-saliency-view.h"
#include "cs-training-view.h"
#include "cs-window.h"
#include "ui-fixture.h"

static char *run_dir;

typedef struct
{
  CsApplication *app;
  CsWindow *window;
  GSettings *settings;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  static guint counter;
  g_autofree char *id = g_strdup_printf ("%s.Test%u", APP_ID, ++counter);

  /* One id per test: a finished application stays exported on the bus under its id. */
  f->app = g_object_new (CS_TYPE_APPLICATION, "application-id", id,
                         "flags", G_APPLICATION_NON_UNIQUE,
                         "resource-base-path", "/io/github/convscope/Convscope", NULL);
  g_assert_true (g_application_register (G_APPLICATION (f->app), NULL, NULL));
  f->settings = cs_application_get_settings (f->app);
  g_assert_nonnull (f->settings);
  f->window = cs_window_new (GTK_APPLICATION (f->app));
  gtk_window_present (GTK_WINDOW (f->window));
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  GList *tops = gtk_window_list_toplevels ();

  for (GList *l = tops; l != NULL; l = l->next)
    gtk_window_destroy (l->data);
  g_list_free (tops);
  ui_spin (50);
  /* Back to the defaults for the next test (the memory backend is process-wide). */
  {
    g_autoptr (GSettingsSchema) schema = NULL;
    g_auto (GStrv) keys = NULL;
    g_object_get (f->settings, "settings-schema", &schema, NULL);
    keys = g_settings_schema_list_keys (schema);
    for (guint i = 0; keys[i] != NULL; i++)
      g_settings_reset (f->settings, keys[i]);
  }
  g_clear_object (&f->app);
}

static void
test_colormap_setting (Fixture *f, gconstpointer data)
{
  CsSaliencyView *view = CS_SALIENCY_VIEW (cs_window_get_saliency_view (f->window));
  g_autofree char *cmap = NULL;
  double opacity;

  g_settings_set_string (f->settings, "colormap", "gray");
  g_object_get (view, "colormap", &cmap, NULL);
  g_assert_cmpstr (cmap, ==, "gray");
  g_assert_cmpint (cs_saliency_view_get_colormap (view), ==, CS_COLORMAP_GRAY);
  g_settings_set_double (f->settings, "overlay-opacity", 0.25);
  g_object_get (view, "opacity", &opacity, NULL);
  g_assert_cmpfloat_with_epsilon (opacity, 0.25, 1e-9);
}

static void
test_parameters_reach_jobs (Fixture *f, gconstpointer data)
{
  CsSession *session = cs_window_get_session (f->window);
  CsSaliencyJob *job;
  cs_attribution_params p;

  g_settings_set_int (f->settings, "smoothgrad-samples", 7);
  g_settings_set_double (f->settings, "smoothgrad-noise", 0.3);
  g_settings_set_int (f->settings, "ig-steps", 11);
  g_settings_set_int (f->settings, "occlusion-window", 6);
  g_settings_set_int (f->settings, "occlusion-stride", 3);
  g_settings_set_int (f->settings, "rise-samples", 123);

  cs_session_get_attribution_params (session, CS_METHOD_SMOOTHGRAD, &p);
  g_assert_cmpint (p.samples, ==, 7);
  g_assert_cmpfloat_with_epsilon (p.noise, 0.3, 1e-6);
  cs_session_get_attribution_params (session, CS_METHOD_INTEGRATED_GRADIENTS, &p);
  g_assert_cmpint (p.steps, ==, 11);
  cs_session_get_attribution_params (session, CS_METHOD_OCCLUSION, &p);
  g_assert_cmpint (p.window, ==, 6);
  g_assert_cmpint (p.stride, ==, 3);
  cs_session_get_attribution_params (session, CS_METHOD_RISE, &p);
  g_assert_cmpint (p.samples, ==, 123);

  /* The saliency jobs the views start carry them. */
  g_assert_true (cs_session_open_model (session, run_dir, NULL));
  job = cs_saliency_job_new (session, CS_METHOD_SMOOTHGRAD, -1);
  g_assert_nonnull (job);
  g_assert_cmpint (job->params.samples, ==, 7);
  g_assert_cmpint (job->params.method, ==, CS_METHOD_SMOOTHGRAD);
  cs_saliency_job_free (job);
  job = cs_saliency_job_new (session, CS_METHOD_RISE, -1);
  g_assert_cmpint (job->params.samples, ==, 123);
  cs_saliency_job_free (job);
}

static void
test_comparison_threads_cache (Fixture *f, gconstpointer data)
{
  CsSession *session = cs_window_get_session (f->window);
  guint want = (1u << CS_METHOD_GRADCAM) | (1u << CS_METHOD_RISE);
  CsModelSet *set;

  cs_settings_set_comparison (f->settings, want);
  g_assert_cmpuint (cs_session_get_comparison (session), ==, want);
  g_assert_cmpuint (cs_settings_get_comparison (f->settings), ==, want);

  g_settings_set_int (f->settings, "threads", 1);
  g_assert_cmpint (cs_threads_get (), ==, 1);
  g_settings_set_int (f->settings, "threads", 2);
  g_assert_cmpint (cs_threads_get (), ==, 2);

  /* The cache bounds the checkpoints loaded besides the base; a held one is never evicted. */
  g_settings_set_int (f->settings, "cache-size", 1);
  g_assert_cmpint (cs_session_get_cache_size (session), ==, 1);
  g_assert_true (cs_session_open_model (session, run_dir, NULL));
  ui_spin (300);  /* the views' jobs come and go */
  g_assert_true (ui_wait_for_bool (G_OBJECT (cs_window_get_saliency_view (f->window)), "loading",
                                   FALSE, 20000));
  set = cs_session_get_model_set (session);
  g_assert_nonnull (cs_model_set_acquire_epoch (set, 0, NULL));
  g_assert_nonnull (cs_model_set_get_epoch (set, 1, NULL));
  g_assert_nonnull (cs_model_set_get_epoch (set, 2, NULL));
  g_assert_nonnull (cs_model_set_get_epoch (set, 1, NULL));
  g_assert_cmpint (cs_model_set_get_n_loaded (set), <=, 3);  /* 0 held, 1 kept, workers' */
  cs_model_set_release_epoch (set, 0);
  g_settings_set_int (f->settings, "cache-size", 2);
  g_assert_cmpint (cs_session_get_cache_size (session), ==, 2);
}

static void
test_preferences_window (Fixture *f, gconstpointer data)
{
  CsPreferencesWindow *prefs = cs_preferences_window_new (GTK_WINDOW (f->window), f->settings);
  GtkSwitch *sw;

  gtk_window_present (GTK_WINDOW (prefs));
  ui_spin (50);
  /* Settings → switches. */
  cs_settings_set_comparison (f->settings, 1u << CS_METHOD_SALIENCY);
  g_assert_true (gtk_switch_get_active (cs_preferences_window_get_method_switch (prefs, CS_METHOD_SALIENCY)));
  g_assert_false (gtk_switch_get_active (cs_preferences_window_get_method_switch (prefs, CS_METHOD_RISE)));
  /* Switches → settings → session. */
  sw = cs_preferences_window_get_method_switch (prefs, CS_METHOD_RISE);
  gtk_switch_set_active (sw, TRUE);
  g_assert_cmpuint (cs_settings_get_comparison (f->settings), ==,
                    (1u << CS_METHOD_SALIENCY) | (1u << CS_METHOD_RISE));
  g_assert_cmpuint (cs_session_get_comparison (cs_window_get_session (f->window)), ==,
                    (1u << CS_METHOD_SALIENCY) | (1u << CS_METHOD_RISE));
  gtk_window_destroy (GTK_WINDOW (prefs));
}

static gboolean
has_toplevel (GType type)
{
  GList *tops = gtk_window_list_toplevels ();
  gboolean found = FALSE;

  for (GList *l = tops; l != NULL; l = l->next)
    found |= G_TYPE_CHECK_INSTANCE_TYPE (l->data, type) && gtk_widget_get_visible (l->data);
  g_list_free (tops);
  return found;
}

/* Activates what an accelerator is bound to, as the shortcut controller does. */
static void
activate_accel (Fixture *f, const char *accel)
{
  g_auto (GStrv) actions = gtk_application_get_actions_for_accel (GTK_APPLICATION (f->app), accel);
  g_autofree char *name = NULL;
  g_autoptr (GVariant) target = NULL;

  g_assert_nonnull (actions);
  g_assert_nonnull (actions[0]);
  g_assert_true (g_action_parse_detailed_name (actions[0], &name, &target, NULL));
  g_assert_true (gtk_widget_activate_action_variant (GTK_WIDGET (f->window), name, target));
}

static void
test_shortcuts (Fixture *f, gconstpointer data)
{
  CsSession *session = cs_window_get_session (f->window);
  CsTrainingView *training = CS_TRAINING_VIEW (cs_window_get_training_view (f->window));
  CsSaliencyView *saliency = CS_SALIENCY_VIEW (cs_window_get_saliency_view (f->window));
  static const char *const frequent[] = {
    "win.open", "win.epoch-step(-1)", "win.epoch-step(1)", "win.play", "win.method-step(1)",
    "win.method-step(-1)", "win.export('auto')", "win.preferences", "win.compare", "app.quit",
  };

  for (guint i = 0; i < G_N_ELEMENTS (frequent); i++)
    {
      g_auto (GStrv) accels = gtk_application_get_accels_for_action (GTK_APPLICATION (f->app), frequent[i]);
      g_assert_true (accels != NULL && accels[0] != NULL);
    }

  g_assert_true (cs_session_open_model (session, run_dir, NULL));
  cs_session_set_method (session, CS_METHOD_SALIENCY);
  activate_accel (f, "<Control>bracketright");
  g_assert_cmpint (cs_session_get_method (session), ==, CS_METHOD_SALIENCY + 1);
  activate_accel (f, "<Control>bracketleft");
  activate_accel (f, "<Control>bracketleft");
  g_assert_cmpint (cs_session_get_method (session), ==, CS_METHOD_COUNT - 1);  /* wraps */

  cs_session_set_epoch (session, 1);
  activate_accel (f, "<Alt>Right");
  g_assert_cmpint (cs_session_get_epoch (session), ==, 2);
  activate_accel (f, "<Alt>Left");
  g_assert_cmpint (cs_session_get_epoch (session), ==, 1);

  g_assert_false (cs_training_view_get_playing (training));
  activate_accel (f, "<Control>p");
  g_assert_true (cs_training_view_get_playing (training));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->window), "win.play", NULL));
  g_assert_false (cs_training_view_get_playing (training));

  g_assert_false (cs_saliency_view_get_comparison_shown (saliency));
  activate_accel (f, "<Control>g");
  g_assert_true (cs_saliency_view_get_comparison_shown (saliency));

  activate_accel (f, "<Control>comma");
  g_assert_true (has_toplevel (CS_TYPE_PREFERENCES_WINDOW));

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->window), "win.show-help-overlay", NULL));
  ui_spin (50);
  g_assert_true (has_toplevel (GTK_TYPE_SHORTCUTS_WINDOW));
}

int
main (int argc, char *argv[])
{
  int ret;

  gtk_test_init (&argc, &argv, NULL);
  run_dir = ui_fixture_make_run (4);
  g_test_add ("/preferences/colormap", Fixture, NULL, fixture_setup, test_colormap_setting, fixture_teardown);
  g_test_add ("/preferences/parameters", Fixture, NULL, fixture_setup, test_parameters_reach_jobs, fixture_teardown);
  g_test_add ("/preferences/comparison-threads-cache", Fixture, NULL, fixture_setup, test_comparison_threads_cache, fixture_teardown);
  g_test_add ("/preferences/window", Fixture, NULL, fixture_setup, test_preferences_window, fixture_teardown);
  g_test_add ("/preferences/shortcuts", Fixture, NULL, fixture_setup, test_shortcuts, fixture_teardown);
  ret = g_test_run ();
  ui_fixture_remove (run_dir);
  return ret;
}
