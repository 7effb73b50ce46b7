/* CsWindow's instance, shared by the window (cs-window.c) and its export (cs-window-export.c). */
#pragma once

#include "cs-data-view.h"
#include "cs-filter-gallery.h"
#include "cs-graph-view.h"
#include "cs-image-strip.h"
#include "cs-saliency-view.h"
#include "cs-training-view.h"
#include "cs-unit-inspector.h"
#include "cs-window.h"

G_BEGIN_DECLS

struct _CsWindow
{
  AdwApplicationWindow parent_instance;
  CsSession *session;
  GtkFileChooserNative *chooser;
  GtkFileChooserNative *export_chooser;
  char *export_what;
  guint n_toasts;

  AdwToastOverlay *toast_overlay;
  AdwWindowTitle *window_title;
  GtkButton *cancel_button;
  GtkProgressBar *progress;
  CsGraphView *graph_view;
  CsSaliencyView *saliency_view;
  CsFilterGallery *filter_gallery;
  CsTrainingView *training_view;
  CsImageStrip *image_strip;
  AdwViewStack *bottom_stack;
  CsUnitInspector *unit_inspector;
  CsDataView *data_view;
  GMenu *recent_menu;

  /* Files being opened, one at a time on the worker (PendingOpen), and the card shown over the
   * views meanwhile. */
  GQueue pending;
  gboolean opening;
  GtkWidget *loading_card;
  GtkLabel *loading_label;
};

/* win.export(what): asks for a file, then exports the view "what" ("auto": the saliency view's
 * visible page) in the format of the file name's extension. */
void cs_window_export_action (GtkWidget *widget, const char *name, GVariant *param);

G_END_DECLS
