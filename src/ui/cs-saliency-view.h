/* CsSaliencyView: the input with the overlay of session:method (target class, colormap and
 * opacity chosen here), and a comparison grid of every method on the same image. */
#pragma once

#include <gtk/gtk.h>

#include "cs-session.h"

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

G_END_DECLS
