/* CsSaliencyView: the input with the overlay of session:method (target class, colormap and
 * opacity chosen here), and a comparison grid of every method on the same image. */
#pragma once

#include <gtk/gtk.h>

#include "cs-session.h"
#include "render/colormap.h"

G_BEGIN_DECLS

#define CS_TYPE_SALIENCY_VIEW (cs_saliency_view_get_type ())

G_DECLARE_FINAL_TYPE (CsSaliencyView, cs_saliency_view, CS, SALIENCY_VIEW, GtkWidget)

GtkWidget *cs_saliency_view_new (CsSession *session);
CsSession *cs_saliency_view_get_session (CsSaliencyView *self);
void cs_saliency_view_set_session (CsSaliencyView *self, CsSession *session);

/* The overlay shown (NULL until the first map arrives). */
GdkTexture *cs_saliency_view_get_overlay (CsSaliencyView *self);
/* The method of the map shown, -1 when none. */
int cs_saliency_view_get_overlay_method (CsSaliencyView *self);
gboolean cs_saliency_view_get_loading (CsSaliencyView *self);
/* Shows the comparison grid (TRUE) or the overlay. */
void cs_saliency_view_show_comparison (CsSaliencyView *self, gboolean compare);
/* Panels of the comparison grid that have their map. */
guint cs_saliency_view_get_n_compared (CsSaliencyView *self);

gboolean cs_saliency_view_get_comparison_shown (CsSaliencyView *self);
cs_colormap cs_saliency_view_get_colormap (CsSaliencyView *self);
double cs_saliency_view_get_opacity (CsSaliencyView *self);
/* The predicted class of the input and its probability; FALSE until predictions arrive. */
gboolean cs_saliency_view_get_prediction (CsSaliencyView *self, int *klass, float *probability);
/* The overlay's map (width x height in [0, 1]) with the class it explains and its CAM layer
 * (-1), or NULL. What export draws. */
const float *cs_saliency_view_get_map (CsSaliencyView *self, int *width, int *height, int *target,
                                       int *layer);
/* A panel of the comparison grid: its map, or NULL when the method is not in the grid, has
 * not finished or failed (*error says why, else NULL). */
const float *cs_saliency_view_get_panel (CsSaliencyView *self, int method, int *width, int *height,
                                         double *seconds, const char **error);

/* How far the panel's map got (1: finished; less: the budget stopped it), how many
 * best-so-far maps it showed while refining, and whether "refine further" is offered. */
double cs_saliency_view_get_panel_completed (CsSaliencyView *self, int method, guint *n_partials,
                                             gboolean *can_refine);
/* Test hook: the fraction of method's work its panel has saved for "refine further" to
 * continue from (0: none). */
double cs_saliency_view_get_panel_resumable (CsSaliencyView *self, int method);
/* The note a comparison cell shows over its picture (why its map is empty), or NULL. */
const char *cs_saliency_view_get_panel_note (CsSaliencyView *self, int method);
/* "Refine further": runs the method of a budget-stopped panel again without a budget. */
void cs_saliency_view_refine_further (CsSaliencyView *self, int method);

G_END_DECLS
