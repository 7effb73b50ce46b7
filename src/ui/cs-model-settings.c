/* CsModelSettingsWindow: preset rows fill the values; edited values become "custom"; Apply saves. */
#include "config.h"

#include <glib/gi18n.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

#include "cs-model-settings.h"
#include "cs-model-set.h"

#include "io/model_settings.h"

/* Preset ids in the combo row's order; "custom" is last. */
static const char *const preset_ids[] = { "imagenet", "fashion-mnist", "none", "custom" };

struct _CsModelSettingsWindow
{
  AdwPreferencesWindow parent_instance;
  char *path;
  int channels, height, width;
  gboolean is_run, filling;
  AdwComboRow *preset_row;
  AdwEntryRow *mean_row, *std_row;
  GtkSpinButton *resize_spin;
  GtkSwitch *crop_switch;
  GtkLabel *status;
};

enum { SIGNAL_APPLIED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (CsModelSettingsWindow, cs_model_settings_window, ADW_TYPE_PREFERENCES_WINDOW)

static char *
format_values (const float *v, int n)
{
  GString *s = g_string_new (NULL);
  for (int c = 0; c < n; c++)
    {
      char num[G_ASCII_DTOSTR_BUF_SIZE];
      g_ascii_formatd (num, sizeof num, "%.4g", v[c]);
      g_string_append_printf (s, "%s%s", c ? ", " : "", num);
    }
  return g_string_free (s, FALSE);
}

/* "0.485, 0.456, 0.406" (one value is repeated): FALSE when malformed. */
static gboolean
parse_values (const char *text, int channels, float *out)
{
  g_auto (GStrv) parts = g_strsplit_set (text, ", ", -1);
  int n = 0;
  for (int i = 0; parts[i] != NULL; i++)
    {
      char *end;
      double v;
      if (parts[i][0] == '\0')
        continue;
      v = g_ascii_strtod (parts[i], &end);
      if (*end != '\0' || n >= 4 || !isfinite (v))
        return FALSE;
      out[n++] = (float) v;
    }
  if (n != 1 && n != channels)
    return FALSE;
  for (int c = n; c < 4; c++)
    out[c] = out[n - 1];
  return TRUE;
}

static void
fill (CsModelSettingsWindow *self, const cs_model_settings *s)
{
  g_autofree char *mean = format_values (s->mean, self->channels);
  g_autofree char *std = format_values (s->std, self->channels);
  guint index = G_N_ELEMENTS (preset_ids) - 1;

  for (guint i = 0; i < G_N_ELEMENTS (preset_ids); i++)
    if (strcmp (preset_ids[i], s->preset) == 0)
      index = i;
  self->filling = TRUE;
  adw_combo_row_set_selected (self->preset_row, index);
  gtk_editable_set_text (GTK_EDITABLE (self->mean_row), mean);
  gtk_editable_set_text (GTK_EDITABLE (self->std_row), std);
  gtk_switch_set_active (self->crop_switch, s->resize > 0);
  gtk_spin_button_set_value (self->resize_spin, s->resize > 0 ? s->resize : MAX (self->height, self->width));
  gtk_widget_set_sensitive (GTK_WIDGET (self->resize_spin), s->resize > 0);
  self->filling = FALSE;
}

static void
preset_changed_cb (CsModelSettingsWindow *self)
{
  guint i = adw_combo_row_get_selected (self->preset_row);
  cs_model_settings s;

  if (self->filling || i >= G_N_ELEMENTS (preset_ids) - 1)
    return;
  cs_model_settings_preset (preset_ids[i], self->channels, self->height, &s);
  fill (self, &s);
}

/* Editing a value by hand makes the settings custom. */
static void
value_changed_cb (CsModelSettingsWindow *self)
{
  if (self->filling)
    return;
  self->filling = TRUE;
  adw_combo_row_set_selected (self->preset_row, G_N_ELEMENTS (preset_ids) - 1);
  gtk_widget_set_sensitive (GTK_WIDGET (self->resize_spin), gtk_switch_get_active (self->crop_switch));
  self->filling = FALSE;
}

gboolean
cs_model_settings_window_apply (CsModelSettingsWindow *self, GError **error)
{
  cs_model_settings s = { 0 };
  cs_error err = { 0 };
  g_autofree char *where = NULL;
  guint i = adw_combo_row_get_selected (self->preset_row);

  g_return_val_if_fail (CS_IS_MODEL_SETTINGS_WINDOW (self), FALSE);
  g_snprintf (s.preset, sizeof s.preset, "%s", preset_ids[MIN (i, G_N_ELEMENTS (preset_ids) - 1)]);
  s.channels = self->channels;
  if (!parse_values (gtk_editable_get_text (GTK_EDITABLE (self->mean_row)), self->channels, s.mean)
      || !parse_values (gtk_editable_get_text (GTK_EDITABLE (self->std_row)), self->channels, s.std))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("Mean and standard deviation need 1 or %d numbers each"), self->channels);
      return FALSE;
    }
  for (int c = 0; c < self->channels; c++)
    if (!(s.std[c] > 0))
      {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                     _("Standard deviations must be positive"));
        return FALSE;
      }
  s.resize = gtk_switch_get_active (self->crop_switch) ? gtk_spin_button_get_value_as_int (self->resize_spin) : 0;
  if (cs_model_settings_save (self->path, &s, &where, &err) != CS_OK)
    {
      cs_set_core_error (error, &err);
      return FALSE;
    }
  {
    g_autofree char *msg = g_strdup_printf (_("Saved in %s"), where);
    gtk_label_set_text (self->status, msg);
  }
  g_signal_emit (self, signals[SIGNAL_APPLIED], 0);
  return TRUE;
}

static void
apply_clicked_cb (CsModelSettingsWindow *self)
{
  g_autoptr (GError) error = NULL;

  if (!cs_model_settings_window_apply (self, &error))
    gtk_label_set_text (self->status, error->message);
}

void
cs_model_settings_window_select_preset (CsModelSettingsWindow *self, const char *preset)
{
  for (guint i = 0; i < G_N_ELEMENTS (preset_ids); i++)
    if (strcmp (preset_ids[i], preset) == 0)
      adw_combo_row_set_selected (self->preset_row, i);
}

static void
cs_model_settings_window_finalize (GObject *object)
{
  g_free (CS_MODEL_SETTINGS_WINDOW (object)->path);
  G_OBJECT_CLASS (cs_model_settings_window_parent_class)->finalize (object);
}

static void
cs_model_settings_window_class_init (CsModelSettingsWindowClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = cs_model_settings_window_finalize;
  signals[SIGNAL_APPLIED] = g_signal_new ("applied", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
cs_model_settings_window_init (CsModelSettingsWindow *self)
{
}

static GtkWidget *
suffixed_row (const char *title, const char *subtitle, GtkWidget *suffix)
{
  GtkWidget *row = adw_action_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  gtk_widget_set_valign (suffix, GTK_ALIGN_CENTER);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), suffix);
  return row;
}

/* The rows: preset, mean, std, crop switch and resize size; Apply and where it was saved. */
static void
build (CsModelSettingsWindow *self, const cs_model *m)
{
  AdwPreferencesPage *page = ADW_PREFERENCES_PAGE (adw_preferences_page_new ());
  AdwPreferencesGroup *group = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  const char *names[] = { _("ImageNet (torchvision)"), _("Fashion-MNIST"), _("None ([0, 1] pixels)"),
                          _("Custom"), NULL };
  g_autofree char *input = g_strdup_printf (_("The model takes %d × %d pixels, %s"), self->width,
                                            self->height, self->channels == 3 ? _("RGB") : _("grey"));
  GtkWidget *apply = gtk_button_new_with_mnemonic (_("_Apply"));

  adw_preferences_group_set_title (group, _("Input Preprocessing"));
  adw_preferences_group_set_description (group, input);
  self->preset_row = ADW_COMBO_ROW (adw_combo_row_new ());
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->preset_row), _("Preset"));
  adw_combo_row_set_model (self->preset_row, G_LIST_MODEL (gtk_string_list_new (names)));
  self->mean_row = ADW_ENTRY_ROW (adw_entry_row_new ());
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->mean_row), _("Mean (per channel)"));
  self->std_row = ADW_ENTRY_ROW (adw_entry_row_new ());
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->std_row), _("Standard deviation (per channel)"));
  self->crop_switch = GTK_SWITCH (gtk_switch_new ());
  self->resize_spin = GTK_SPIN_BUTTON (gtk_spin_button_new_with_range (1, 8192, 1));
  adw_preferences_group_add (group, GTK_WIDGET (self->preset_row));
  adw_preferences_group_add (group, GTK_WIDGET (self->mean_row));
  adw_preferences_group_add (group, GTK_WIDGET (self->std_row));
  adw_preferences_group_add (group, suffixed_row (_("Resize and centre-crop"),
                                                  _("Off: the image is stretched to the input size"),
                                                  GTK_WIDGET (self->crop_switch)));
  adw_preferences_group_add (group, suffixed_row (_("Shorter side before cropping"),
                                                  _("torchvision’s Resize(N) then CenterCrop"),
                                                  GTK_WIDGET (self->resize_spin)));
  gtk_widget_add_css_class (apply, "suggested-action");
  gtk_widget_set_sensitive (apply, !self->is_run);
  gtk_widget_set_sensitive (GTK_WIDGET (group), !self->is_run);
  adw_preferences_group_set_header_suffix (group, apply);
  self->status = GTK_LABEL (gtk_label_new (self->is_run ? _("A run’s preprocessing is the one recorded in its run.json.") : ""));
  gtk_label_set_wrap (self->status, TRUE);
  gtk_label_set_xalign (self->status, 0);
  gtk_widget_add_css_class (GTK_WIDGET (self->status), "dim-label");
  gtk_widget_set_margin_top (GTK_WIDGET (self->status), 12);
  adw_preferences_page_add (page, group);
  {
    AdwPreferencesGroup *foot = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
    adw_preferences_group_add (foot, GTK_WIDGET (self->status));
    adw_preferences_page_add (page, foot);
  }
  adw_preferences_window_add (ADW_PREFERENCES_WINDOW (self), page);
  {
    cs_model_settings s;
    cs_model_settings_from_model (m, &s);
    fill (self, &s);
  }
  g_signal_connect_swapped (self->preset_row, "notify::selected", G_CALLBACK (preset_changed_cb), self);
  g_signal_connect_swapped (self->mean_row, "changed", G_CALLBACK (value_changed_cb), self);
  g_signal_connect_swapped (self->std_row, "changed", G_CALLBACK (value_changed_cb), self);
  g_signal_connect_swapped (self->crop_switch, "notify::active", G_CALLBACK (value_changed_cb), self);
  g_signal_connect_swapped (self->resize_spin, "value-changed", G_CALLBACK (value_changed_cb), self);
  g_signal_connect_swapped (apply, "clicked", G_CALLBACK (apply_clicked_cb), self);
}

CsModelSettingsWindow *
cs_model_settings_window_new (GtkWindow *parent, const char *path, const cs_model *m, gboolean is_run)
{
  CsModelSettingsWindow *self = g_object_new (CS_TYPE_MODEL_SETTINGS_WINDOW, "transient-for", parent,
                                        "modal", TRUE, "search-enabled", FALSE,
                                        "title", _("Model Settings"),
                                        "default-width", 560, "default-height", 560, NULL);
  self->path = g_strdup (path);
  self->channels = m->channels > 0 && m->channels <= 4 ? m->channels : 1;
  self->height = m->height;
  self->width = m->width;
  self->is_run = is_run;
  build (self, m);
  return self;
}
