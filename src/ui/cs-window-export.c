/* CsWindow's export: a view (or the run's data) to a file chosen in a dialog, in the format of
 * its extension; data files are written on the worker, figures here. */
#include "config.h"

#include <glib/gi18n.h>

#include "cs-data-export.h"
#include "cs-export.h"
#include "cs-export-job.h"
#include "cs-window-private.h"

static const char *
resolve_export (CsWindow *self, const char *what)
{
  if (g_strcmp0 (what, "auto") == 0 || what == NULL)
    return cs_saliency_view_get_comparison_shown (self->saliency_view) ? "comparison" : "overlay";
  return what;
}

gboolean
cs_window_export (CsWindow *self, const char *what, const char *path, GError **error)
{
  CsExportFormat format = cs_export_format_from_path (path);

  what = resolve_export (self, what);
  /* The Data view's panels export as figures or CSV. */
  if (cs_data_export_handles (what))
    return cs_data_export (self->data_view, what, path, error);
  /* A data file name exports the run's data whatever view was asked for. */
  if (format == CS_EXPORT_CSV || format == CS_EXPORT_JSON || g_strcmp0 (what, "data") == 0)
    {
      CsModelSet *set = cs_session_get_model_set (self->session);
      return cs_export_run_data (set != NULL ? cs_model_set_get_run (set) : NULL, path, error);
    }
  if (g_strcmp0 (what, "comparison") == 0 || g_strcmp0 (what, "overlay") == 0)
    return cs_export_saliency (self->saliency_view, g_strcmp0 (what, "comparison") == 0, path, error);
  if (g_strcmp0 (what, "curves") == 0)
    return cs_export_training_chart (cs_training_view_get_chart (self->training_view), path, error);
  if (g_strcmp0 (what, "weights") == 0)
    return cs_export_weight_timeline (cs_training_view_get_timeline (self->training_view), path, error);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _("Unknown view “%s”"), what);
  return FALSE;
}

static void
export_toast (CsWindow *self, const char *path, gboolean ok, const GError *error)
{
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *msg = ok ? g_strdup_printf (_("Exported “%s”"), base)
                            : g_strdup_printf (_("Export failed: %s"), error->message);

  cs_window_toast (self, msg);
}

static void
export_data_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (CsWindow) self = g_object_ref (g_object_get_data (user_data, "window"));
  g_autoptr (GObject) request = user_data;
  g_autoptr (GError) error = NULL;
  gboolean ok = cs_export_run_data_finish (CS_WORKER (source), result, &error);

  if (ok || !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    export_toast (self, g_object_get_data (request, "path"), ok, error);
}

/* A data file on the worker (its statistics may take seconds to compute), anything else here. */
static void
export_to (CsWindow *self, const char *what, const char *path)
{
  g_autoptr (GError) error = NULL;
  CsExportFormat format = cs_export_format_from_path (path);

  if (format == CS_EXPORT_CSV || format == CS_EXPORT_JSON || g_strcmp0 (what, "data") == 0)
    {
      GObject *request = g_object_new (G_TYPE_OBJECT, NULL);
      g_object_set_data_full (request, "window", g_object_ref (self), g_object_unref);
      g_object_set_data_full (request, "path", g_strdup (path), g_free);
      cs_export_run_data_async (cs_session_get_worker (self->session),
                                cs_session_get_model_set (self->session), path, export_data_done,
                                request);
      return;
    }
  export_toast (self, path, cs_window_export (self, what, path, &error), error);
}

static void
export_response_cb (GtkNativeDialog *dialog, int response, CsWindow *self)
{
  g_autoptr (GFile) file = NULL;
  g_autofree char *path = NULL;

  if (response != GTK_RESPONSE_ACCEPT)
    return;
  file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
  path = file != NULL ? g_file_get_path (file) : NULL;
  if (path == NULL)
    {
      cs_window_toast (self, _("Only local files can be written"));
      return;
    }
  if (cs_export_format_from_path (path) == CS_EXPORT_UNKNOWN)
    {
      /* No known extension: the file type chosen in the dialog, else the default. */
      GtkFileFilter *filter = gtk_file_chooser_get_filter (GTK_FILE_CHOOSER (dialog));
      const char *ext = filter != NULL ? g_object_get_data (G_OBJECT (filter), "extension") : NULL;
      char *with = g_strconcat (path, ext != NULL ? ext
                                : g_strcmp0 (self->export_what, "data") == 0 ? ".csv" : ".pdf", NULL);
      g_free (path);
      path = with;
    }
  export_to (self, self->export_what, path);
}

static void
add_export_filter (GtkFileChooser *chooser, const char *name, const char *pattern,
                   const char *extension)
{
  g_autoptr (GtkFileFilter) filter = gtk_file_filter_new ();

  gtk_file_filter_set_name (filter, name);
  gtk_file_filter_add_pattern (filter, pattern);
  g_object_set_data (G_OBJECT (filter), "extension", (gpointer) extension);
  gtk_file_chooser_add_filter (chooser, filter);
}

void
cs_window_export_action (GtkWidget *widget, const char *name, GVariant *param)
{
  CsWindow *self = CS_WINDOW (widget);
  const char *what = resolve_export (self, g_variant_get_string (param, NULL));
  gboolean data = g_strcmp0 (what, "data") == 0;
  g_autofree char *suggested = NULL;
  GtkFileChooser *chooser;

  g_free (self->export_what);
  self->export_what = g_strdup (what);
  if (self->export_chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->export_chooser));
  g_clear_object (&self->export_chooser);
  self->export_chooser = gtk_file_chooser_native_new (_("Export"), GTK_WINDOW (self),
                                                      GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"),
                                                      _("_Cancel"));
  chooser = GTK_FILE_CHOOSER (self->export_chooser);
  if (data)
    {
      add_export_filter (chooser, _("CSV table (.csv)"), "*.csv", ".csv");
      add_export_filter (chooser, _("JSON (.json)"), "*.json", ".json");
    }
  else if (cs_data_export_handles (what))
    {
      add_export_filter (chooser, _("PDF document (.pdf)"), "*.pdf", ".pdf");
      add_export_filter (chooser, _("SVG image (.svg)"), "*.svg", ".svg");
      add_export_filter (chooser, _("PNG image (.png)"), "*.png", ".png");
      add_export_filter (chooser, _("CSV table (.csv)"), "*.csv", ".csv");
    }
  else
    {
      add_export_filter (chooser, _("PDF document (.pdf)"), "*.pdf", ".pdf");
      add_export_filter (chooser, _("SVG image (.svg)"), "*.svg", ".svg");
      add_export_filter (chooser, _("PNG image (.png)"), "*.png", ".png");
    }
  suggested = g_strdup_printf ("convscope-%s.%s", what, data ? "csv" : "pdf");
  gtk_file_chooser_set_current_name (chooser, suggested);
  g_signal_connect (self->export_chooser, "response", G_CALLBACK (export_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->export_chooser));
}
