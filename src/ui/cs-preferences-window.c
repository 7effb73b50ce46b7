/* CsPreferencesWindow: every row is bound to its GSettings key (g_settings_bind), so the
 * window has no Apply button and the views follow each change at once. */
#include "config.h"

#include <glib/gi18n.h>

#include "cs-colormap.h"
#include "cs-jobs.h"
#include "cs-preferences-window.h"

#include "attribution/attribution.h"
#include "base/threads.h"

struct _CsPreferencesWindow
{
  AdwPreferencesWindow parent_instance;
  GSettings *settings;
  gboolean updating;           /* setting the switches from the settings: no feedback */
  GtkSwitch *method_switches[CS_METHOD_COUNT];

  AdwComboRow *colormap_row;
  GtkScale *opacity_scale;
  GtkSpinButton *threads_spin;
  GtkSpinButton *cache_spin;
  AdwPreferencesGroup *methods_group;
  GtkSpinButton *smoothgrad_samples_spin;
  GtkSpinButton *smoothgrad_noise_spin;
  GtkSpinButton *ig_steps_spin;
  GtkSpinButton *occlusion_window_spin;
  GtkSpinButton *occlusion_stride_spin;
  GtkSpinButton *rise_samples_spin;
  GtkSpinButton *budget_spin;
};

G_DEFINE_FINAL_TYPE (CsPreferencesWindow, cs_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

guint
cs_settings_get_comparison (GSettings *settings)
{
  g_auto (GStrv) ids = g_settings_get_strv (settings, "comparison-methods");
  guint methods = 0;

  for (guint i = 0; ids[i] != NULL; i++)
    {
      cs_method m = cs_method_from_id (ids[i]);
      if (m < CS_METHOD_COUNT)
        methods |= 1u << m;
    }
  return methods;
}

void
cs_settings_set_comparison (GSettings *settings, guint methods)
{
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  g_auto (GStrv) ids = NULL;

  for (int m = 0; m < CS_METHOD_COUNT; m++)
    if (methods & (1u << m))
      g_strv_builder_add (b, cs_method_id (m));
  ids = g_strv_builder_end (b);
  g_settings_set_strv (settings, "comparison-methods", (const char *const *) ids);
}

static void
threads_changed_cb (GSettings *settings, const char *key, gpointer user_data)
{
  cs_threads_set (g_settings_get_int (settings, "threads"));
}

void
cs_settings_apply_global (GSettings *settings)
{
  g_signal_connect (settings, "changed::threads", G_CALLBACK (threads_changed_cb), NULL);
  threads_changed_cb (settings, "threads", NULL);
}

static void
comparison_changed_cb (GSettings *settings, const char *key, GObject *session)
{
  g_object_set (session, "comparison", cs_settings_get_comparison (settings), NULL);
}

void
cs_settings_bind_session (GSettings *settings, GObject *session)
{
  static const char *const keys[] = { "smoothgrad-samples", "smoothgrad-noise", "ig-steps",
                                      "occlusion-window", "occlusion-stride", "rise-samples",
                                      "attribution-budget", "cache-size" };

  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    g_settings_bind (settings, keys[i], session, keys[i], G_SETTINGS_BIND_GET);
  g_signal_connect_object (settings, "changed::comparison-methods",
                           G_CALLBACK (comparison_changed_cb), session, 0);
  comparison_changed_cb (settings, "comparison-methods", session);
}

/* The colormap row shows titles; the key holds names ("inferno"). */
static gboolean
colormap_get_mapping (GValue *value, GVariant *variant, gpointer user_data)
{
  cs_colormap c = cs_colormap_from_name (g_variant_get_string (variant, NULL));

  g_value_set_uint (value, c < CS_COLORMAP_COUNT ? c : CS_COLORMAP_INFERNO);
  return TRUE;
}

static GVariant *
colormap_set_mapping (const GValue *value, const GVariantType *type, gpointer user_data)
{
  guint c = g_value_get_uint (value);

  if (c >= CS_COLORMAP_COUNT)
    return NULL;
  return g_variant_new_string (cs_colormap_name (c));
}

static void
sync_switches (CsPreferencesWindow *self)
{
  guint methods = cs_settings_get_comparison (self->settings);

  self->updating = TRUE;
  for (int m = 0; m < CS_METHOD_COUNT; m++)
    gtk_switch_set_active (self->method_switches[m], (methods & (1u << m)) != 0);
  self->updating = FALSE;
}

static void
switch_cb (GtkSwitch *sw, GParamSpec *pspec, CsPreferencesWindow *self)
{
  guint methods = 0;

  if (self->updating)
    return;
  for (int m = 0; m < CS_METHOD_COUNT; m++)
    if (gtk_switch_get_active (self->method_switches[m]))
      methods |= 1u << m;
  cs_settings_set_comparison (self->settings, methods);
}

static void
settings_comparison_cb (GSettings *settings, const char *key, CsPreferencesWindow *self)
{
  sync_switches (self);
}

static void
bind_spin (GSettings *settings, const char *key, GtkSpinButton *spin)
{
  g_settings_bind (settings, key, gtk_spin_button_get_adjustment (spin), "value",
                   G_SETTINGS_BIND_DEFAULT);
}

static void
set_settings (CsPreferencesWindow *self, GSettings *settings)
{
  self->settings = g_object_ref (settings);
  g_settings_bind_with_mapping (settings, "colormap", self->colormap_row, "selected",
                                G_SETTINGS_BIND_DEFAULT, colormap_get_mapping,
                                colormap_set_mapping, NULL, NULL);
  g_settings_bind (settings, "overlay-opacity", gtk_range_get_adjustment (GTK_RANGE (self->opacity_scale)),
                   "value", G_SETTINGS_BIND_DEFAULT);
  bind_spin (settings, "threads", self->threads_spin);
  bind_spin (settings, "cache-size", self->cache_spin);
  bind_spin (settings, "smoothgrad-samples", self->smoothgrad_samples_spin);
  bind_spin (settings, "smoothgrad-noise", self->smoothgrad_noise_spin);
  bind_spin (settings, "ig-steps", self->ig_steps_spin);
  bind_spin (settings, "occlusion-window", self->occlusion_window_spin);
  bind_spin (settings, "occlusion-stride", self->occlusion_stride_spin);
  bind_spin (settings, "rise-samples", self->rise_samples_spin);
  bind_spin (settings, "attribution-budget", self->budget_spin);
  sync_switches (self);
  g_signal_connect_object (settings, "changed::comparison-methods",
                           G_CALLBACK (settings_comparison_cb), self, 0);
}

GtkSwitch *
cs_preferences_window_get_method_switch (CsPreferencesWindow *self, int method)
{
  g_return_val_if_fail (method >= 0 && method < CS_METHOD_COUNT, NULL);
  return self->method_switches[method];
}

static void
cs_preferences_window_dispose (GObject *object)
{
  CsPreferencesWindow *self = CS_PREFERENCES_WINDOW (object);

  if (self->settings != NULL)
    g_signal_handlers_disconnect_by_data (self->settings, self);
  gtk_widget_dispose_template (GTK_WIDGET (self), CS_TYPE_PREFERENCES_WINDOW);
  g_clear_object (&self->settings);
  G_OBJECT_CLASS (cs_preferences_window_parent_class)->dispose (object);
}

static void
cs_preferences_window_class_init (CsPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cs_preferences_window_dispose;
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/convscope/Convscope/cs-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, CsPreferencesWindow, colormap_row);
  gtk_widget_class_bind_template_child (widget_class, CsPreferencesWindow, opacity_scale);
  gtk_widget_class_bind_template_child (widget_class, CsPreferencesWindow, threads_spin);
  gtk_widget_class_bind_template_child (widget_class, CsPreferencesWindow, cache_spin);
  gtk_widget_class_bind_template_child (widget_class, CsPreferencesWindow, methods_group);
  gtk_widget_class_bind_template_child (widget_class, CsPreferencesWindow, smoothgrad_samples_spin);
  gtk_widget_class_bind_template_child (widget_class, CsPreferencesWindow, smoothgrad_noise_spin);
  gtk_widget_class_bind_template_child (widget_class, CsPreferencesWindow, ig_steps_spin);
  gtk_widget_class_bind_template_child (widget_class, CsPreferencesWindow, occlusion_window_spin);
  gtk_widget_class_bind_template_child (widget_class, CsPreferencesWindow, occlusion_stride_spin);
  gtk_widget_class_bind_template_child (widget_class, CsPreferencesWindow, rise_samples_spin);
  gtk_widget_class_bind_template_child (widget_class, CsPreferencesWindow, budget_spin);
}

static void
cs_preferences_window_init (CsPreferencesWindow *self)
{
  g_autoptr (GtkStringList) colormaps = gtk_string_list_new (NULL);

  gtk_widget_init_template (GTK_WIDGET (self));
  for (int c = 0; c < CS_COLORMAP_COUNT; c++)
    gtk_string_list_append (colormaps, cs_colormap_title (c));
  adw_combo_row_set_model (self->colormap_row, G_LIST_MODEL (colormaps));

  for (int m = 0; m < CS_METHOD_COUNT; m++)
    {
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *sw = gtk_switch_new ();
      /* Row titles are markup: "Zeiler & Fergus 2014" must be escaped. */
      g_autofree char *title = g_markup_escape_text (cs_ui_method_title (m), -1);
      g_autofree char *citation = g_markup_escape_text (cs_method_citation (m), -1);

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), citation);
      gtk_widget_set_valign (sw, GTK_ALIGN_CENTER);
      gtk_accessible_update_property (GTK_ACCESSIBLE (sw), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      cs_ui_method_title (m), -1);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), sw);
      adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), sw);
      adw_preferences_group_add (self->methods_group, row);
      self->method_switches[m] = GTK_SWITCH (sw);
      g_signal_connect (sw, "notify::active", G_CALLBACK (switch_cb), self);
    }
}

CsPreferencesWindow *
cs_preferences_window_new (GtkWindow *parent, GSettings *settings)
{
  CsPreferencesWindow *self = g_object_new (CS_TYPE_PREFERENCES_WINDOW,
                                            "transient-for", parent, NULL);

  g_return_val_if_fail (G_IS_SETTINGS (settings), self);
  set_settings (self, settings);
  return self;
}
