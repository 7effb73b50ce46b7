/* CsGraphView's instance and layout, shared by the widget (cs-graph-view.c) and its drawing
 * (cs-graph-draw.c). */
#pragma once

#include "cs-graph-blocks.h"
#include "cs-graph-view.h"

G_BEGIN_DECLS

#define BOX_W 168.0
#define BOX_H 42.0
#define ROW_H 66.0
#define COL_W 196.0
#define MARGIN 24.0
/* More boxes than this and the repeated blocks open collapsed (ResNet-18 has ~50). */
#define COLLAPSE_ABOVE 40
/* 9 pt labels at 0.75 are ~7 px high: the smallest we fit to. */
#define MIN_FIT_ZOOM 0.75

typedef struct
{
  int id;                      /* graph node id, or -1 for a collapsed block */
  int block;                   /* the collapsed block drawn, or -1 */
  int row, col;
  double x, y;                 /* box top-left, graph coordinates */
} Box;

typedef struct
{
  int from, to;                /* box indices */
} Edge;

struct _CsGraphView
{
  GtkWidget parent_instance;
  CsSession *session;
  CsModelSet *set;             /* the graph laid out, kept alive while drawn */
  CsGraphBlocks *blocks;       /* its repeated blocks and which are collapsed */
  GArray *boxes;               /* Box */
  GArray *edges;               /* Edge, one per pair of boxes */
  int *box_of_node;            /* node id -> index in boxes (its block's when collapsed) or -1 */
  double width, height;        /* of the laid-out graph */
  double zoom, pan_x, pan_y;   /* widget = graph * zoom + pan */
  double drag_pan_x, drag_pan_y;
  gboolean fitted;
  GtkWidget *inspector;        /* the node inspector popover, or NULL */
};

/* The extent of expanded block b's boxes, for its bracket; FALSE when none is laid out. */
gboolean cs_graph_view_block_extent (CsGraphView *self, int b, double *x, double *y0, double *y1);
/* An expanded block inside no collapsed one: its members are drawn, with its bracket. */
gboolean cs_graph_view_block_shown_expanded (CsGraphView *self, int b);
/* The x of block b's bracket, left of its boxes (box_x: their left edge). */
double cs_graph_view_bracket_x (CsGraphView *self, int b, double box_x);
/* Draws the laid-out graph at the view's zoom and pan. */
void cs_graph_view_draw (CsGraphView *self, cairo_t *cr, const GdkRGBA *fg);

G_END_DECLS
