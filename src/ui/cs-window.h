/* CsWindow: one session shown through the four linked views; opening files, drag and drop,
 * friendly errors as toasts, progress of long jobs. */
#pragma once

#include <adwaita.h>

#include "cs-session.h"

G_BEGIN_DECLS

#define CS_TYPE_WINDOW (cs_window_get_type ())

G_DECLARE_FINAL_TYPE (CsWindow, cs_window, CS, WINDOW, AdwApplicationWindow)

CsWindow *cs_window_new (GtkApplication *app);
CsSession *cs_window_get_session (CsWindow *self);
/* Queues runs/models first, then images, and opens them one after the other on the worker
 * while a loading card shows over the views; each failure becomes a toast. Returns how many
 * files were queued. */
guint cs_window_open_files (CsWindow *self, GFile **files, guint n_files);
/* Queues the bundled demo run; a toast when it is missing. */
void cs_window_open_demo (CsWindow *self);
/* Queues the demo run, opened only if no model has opened when its turn comes. */
void cs_window_open_demo_if_empty (CsWindow *self);
/* Files are being opened (the loading state). */
gboolean cs_window_get_loading (CsWindow *self);
/* Opens the model settings window (input preprocessing) of the model open; NULL without one. */
struct _CsModelSettingsWindow *cs_window_show_model_settings (CsWindow *self);
/* Shows a message in a toast. */
void cs_window_toast (CsWindow *self, const char *message);
/* Toasts shown so far (tests). */
guint cs_window_get_n_toasts (CsWindow *self);

/* Exports a view to path, the format by its extension: what is "overlay", "comparison",
 * "curves", "weights", "data" (CSV/JSON) or "auto" (the saliency page shown); a .csv or
 * .json path always exports the run's data. win.export(what) asks for the path first. */
gboolean cs_window_export (CsWindow *self, const char *what, const char *path, GError **error);
GtkWidget *cs_window_get_saliency_view (CsWindow *self);
GtkWidget *cs_window_get_training_view (CsWindow *self);

G_END_DECLS
