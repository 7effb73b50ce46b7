/* Export of the Data view's panels: each as a figure (PNG, SVG, PDF, by the path's extension)
 * or its numbers as CSV, written atomically like the other views' exports. */
#pragma once

#include "cs-data-view.h"

G_BEGIN_DECLS

/* what: "cartography", "confusion" (at the selected epoch), "suspects" or "early-auroc". */
gboolean cs_data_export_handles (const char *what);
gboolean cs_data_export (CsDataView *view, const char *what, const char *path, GError **error);

G_END_DECLS
