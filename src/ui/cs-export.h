/* Figure and data export: the views as PNG, SVG or PDF drawn by Cairo (vector text and lines
 * in PDF and SVG), the comparison grid through the core's sheet, and the run's curves and
 * weight statistics as CSV or JSON. Every export writes atomically: on failure no file is
 * left at the path. */
#pragma once

#include <gtk/gtk.h>

#include "cs-saliency-view.h"
#include "cs-training-chart.h"
#include "cs-weight-timeline.h"

G_BEGIN_DECLS

typedef enum {
  CS_EXPORT_PNG,
  CS_EXPORT_PDF,
  CS_EXPORT_SVG,
  CS_EXPORT_CSV,
  CS_EXPORT_JSON,
  CS_EXPORT_UNKNOWN
} CsExportFormat;

/* By the path's extension, any case. */
CsExportFormat cs_export_format_from_path (const char *path);
gboolean cs_export_format_is_figure (CsExportFormat format);

/* Draws width x height points (PNG: pixels at print resolution, 4 per point) on a white page. */
typedef void (*CsExportDrawFunc) (cairo_t *cr, int width, int height, gpointer user_data);

/* A figure in the format of path's extension (.png, .pdf or .svg). */
gboolean cs_export_figure (const char *path, int width, int height, CsExportDrawFunc draw,
                           gpointer user_data, GError **error);

/* The saliency view's overlay (comparison FALSE) or its comparison grid as a sheet: input,
 * prediction, one titled panel per method with its colour bar and time. */
gboolean cs_export_saliency (CsSaliencyView *view, gboolean comparison, const char *path,
                             GError **error);
/* The loss and accuracy curves. */
gboolean cs_export_training_chart (CsTrainingChart *chart, const char *path, GError **error);
/* The weight heat map, with its epoch axis and colour bar. */
gboolean cs_export_weight_timeline (CsWeightTimeline *timeline, const char *path, GError **error);

/* The run's analysis as .json or .csv: the same bytes as `convscope-cli run-info --json` /
 * `--csv` (one writer in the core, schema in docs/cli/run-info.md). May compute the weight
 * statistics when the run's analysis.json cache is stale. */
gboolean cs_export_run_data (const cs_run *run, const char *path, GError **error);

G_END_DECLS
