/* CsGraphView: the model's layer graph (a DAG drawn with Cairo); pan, zoom, click to select. */
#pragma once

#include <gtk/gtk.h>

#include "cs-session.h"

G_BEGIN_DECLS

#define CS_TYPE_GRAPH_VIEW (cs_graph_view_get_type ())

G_DECLARE_FINAL_TYPE (CsGraphView, cs_graph_view, CS, GRAPH_VIEW, GtkWidget)

GtkWidget *cs_graph_view_new (CsSession *session);
CsSession *cs_graph_view_get_session (CsGraphView *self);
void cs_graph_view_set_session (CsGraphView *self, CsSession *session);

/* The node drawn at widget coordinates (x, y), or -1 (for tests and the click handler). */
int cs_graph_view_node_at (CsGraphView *self, double x, double y);
/* The collapsed block drawn at (x, y), or -1. */
int cs_graph_view_block_at (CsGraphView *self, double x, double y);
/* The widget coordinates of node id's box centre (its collapsed block's); FALSE when it has
 * no box. */
gboolean cs_graph_view_node_center (CsGraphView *self, int id, double *x, double *y);

/* The layer search: the first shown node whose name or alias contains text (case-insensitive)
 * is centred and selected. Returns its id, or -1. */
int cs_graph_view_find (CsGraphView *self, const char *text);
/* Boxes laid out (a collapsed block is one) and the zoom, for tests. */
guint cs_graph_view_get_n_boxes (CsGraphView *self);
double cs_graph_view_get_zoom (CsGraphView *self);
/* The node inspector popover of the last clicked node, or NULL. */
GtkWidget *cs_graph_view_get_inspector (CsGraphView *self);

G_END_DECLS
