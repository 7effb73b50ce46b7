/* CsDataView: the run's data seen through each example's history — the cartography scatter,
 * the validation confusion matrix, the early-epoch AUROC and the likely label errors — all at
 * the session's epoch; clicking an example makes it the session's input. */
#pragma once

#include <gtk/gtk.h>

#include "cs-auroc-chart.h"
#include "cs-cartography-chart.h"
#include "cs-confusion-matrix.h"
#include "cs-example-gallery.h"
#include "cs-session.h"
#include "cs-shortcut-panel.h"

G_BEGIN_DECLS

#define CS_TYPE_DATA_VIEW (cs_data_view_get_type ())

G_DECLARE_FINAL_TYPE (CsDataView, cs_data_view, CS, DATA_VIEW, GtkWidget)

GtkWidget *cs_data_view_new (CsSession *session);
void cs_data_view_set_session (CsDataView *self, CsSession *session);
/* The history is computed (on the worker, when the view is first shown for a run). */
gboolean cs_data_view_get_loading (CsDataView *self);
/* The history shown, or NULL (no run, no data set, still computing). */
const CsDataHistory *cs_data_view_get_history (CsDataView *self);
/* Why nothing is shown (the status page's title and description), or NULL with a history. */
const char *cs_data_view_get_status (CsDataView *self);
/* Lists the validation examples of true class t predicted p at the selected epoch. */
void cs_data_view_show_cell (CsDataView *self, int t, int p);

CsCartographyChart *cs_data_view_get_cartography (CsDataView *self);
CsConfusionMatrix *cs_data_view_get_confusion (CsDataView *self);
CsAurocChart *cs_data_view_get_auroc_chart (CsDataView *self);
CsExampleGallery *cs_data_view_get_suspects (CsDataView *self);
CsExampleGallery *cs_data_view_get_cell_gallery (CsDataView *self);
CsShortcutPanel *cs_data_view_get_shortcuts (CsDataView *self);
/* Shows a page of the lower panel: "suspects", "cell" or "shortcuts". */
void cs_data_view_set_gallery_page (CsDataView *self, const char *name);
/* The confusion cell listed, or FALSE. */
gboolean cs_data_view_get_cell (CsDataView *self, int *t, int *p);

G_END_DECLS
