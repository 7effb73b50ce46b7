/* The node inspector: a popover with what Netron shows for one graph node (its names, op,
 * attributes, input and output shapes, parameter shapes and counts, FLOPs). */
#pragma once

#include <gtk/gtk.h>

#include "graph/graph.h"

G_BEGIN_DECLS

/* The inspector's text for node id of g (Pango markup-free, one "key: value" per line). */
char *cs_node_inspector_describe (const cs_graph *g, int id);
/* A popover showing it, to be parented to the graph view and pointed at the node. */
GtkWidget *cs_node_inspector_new (const cs_graph *g, int id);

G_END_DECLS
