/* CsGraphView: boxes laid out in rows by longest path from the input, residual branches in
 * columns beside the main path; edges as curves; the selected layer highlighted. */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "cs-graph-view-private.h"
#include "cs-node-inspector.h"

enum { PROP_0, PROP_SESSION, N_PROPS };
static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (CsGraphView, cs_graph_view, GTK_TYPE_WIDGET)

static gboolean
node_is_shown (const cs_node *n)
{
  return n->op != CS_OP_PARAM && n->op != CS_OP_CONST;
}

/* The box of node: its own, or a new one (at the row below its inputs, in the column of its
 * first input when free, so a chain stays straight and a branch moves aside). */
static int
place_box (CsGraphView *self, const cs_graph *g, int id, int block, GArray *rows_used)
{
  const cs_node *n = &g->nodes[id];
  int r = 0, pref = -1, c;
  guint32 used;
  Box b;

  for (int i = 0; i < n->n_inputs; i++)
    {
      int ib = self->box_of_node[n->inputs[i]];
      if (ib >= 0)
        {
          const Box *in = &g_array_index (self->boxes, Box, ib);
          r = MAX (r, in->row + 1);
          if (pref < 0)
            pref = in->col;
        }
    }
  if ((guint) r >= rows_used->len)
    g_array_set_size (rows_used, r + 1);
  used = g_array_index (rows_used, guint32, r);
  c = MAX (pref, 0);
  while (c < 31 && (used & (1u << c)))
    c++;
  if (used & (1u << c))
    for (c = 0; c < 31 && (used & (1u << c)); c++)
      ;
  g_array_index (rows_used, guint32, r) |= 1u << c;
  b.id = block >= 0 ? -1 : id;
  b.block = block;
  b.row = r;
  b.col = c;
  b.x = MARGIN + c * COL_W;
  b.y = MARGIN + r * ROW_H;
  g_array_append_val (self->boxes, b);
  return (int) self->boxes->len - 1;
}

/* Rows by longest path from the input; a collapsed block is one box where its first member
 * would be; edges between boxes once each. */
static void
relayout (CsGraphView *self)
{
  const cs_graph *g;
  GArray *rows_used;           /* per row: which of 32 columns are taken */
  g_autoptr (GHashTable) block_box = g_hash_table_new (NULL, NULL);
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  int max_col = 0, max_row = 0;

  g_array_set_size (self->boxes, 0);
  g_array_set_size (self->edges, 0);
  g_clear_pointer (&self->box_of_node, g_free);
  if (self->set == NULL)
    return;
  g = cs_model_set_get_graph (self->set);
  self->box_of_node = g_new (int, g->n_nodes);
  rows_used = g_array_new (FALSE, TRUE, sizeof (guint32));
  for (int id = 0; id < g->n_nodes; id++)
    {
      int block = cs_graph_blocks_collapsed_at (self->blocks, id);
      gpointer found;

      self->box_of_node[id] = -1;
      if (!node_is_shown (&g->nodes[id]))
        continue;
      if (block >= 0 && g_hash_table_lookup_extended (block_box, GINT_TO_POINTER (block), NULL, &found))
        self->box_of_node[id] = GPOINTER_TO_INT (found);
      else
        {
          self->box_of_node[id] = place_box (self, g, id, block, rows_used);
          if (block >= 0)
            g_hash_table_insert (block_box, GINT_TO_POINTER (block), GINT_TO_POINTER (self->box_of_node[id]));
        }
    }
  for (guint i = 0; i < self->boxes->len; i++)
    {
      const Box *b = &g_array_index (self->boxes, Box, i);
      max_col = MAX (max_col, b->col);
      max_row = MAX (max_row, b->row);
    }
  for (int id = 0; id < g->n_nodes; id++)
    for (int k = 0; self->box_of_node[id] >= 0 && k < g->nodes[id].n_inputs; k++)
      {
        Edge e = { self->box_of_node[g->nodes[id].inputs[k]], self->box_of_node[id] };
        gint64 *key;
        if (e.from < 0 || e.from == e.to)
          continue;
        key = g_new (gint64, 1);
        *key = (gint64) e.from << 32 | e.to;
        if (g_hash_table_contains (seen, key))
          {
            g_free (key);
            continue;
          }
        g_hash_table_add (seen, key);
        g_array_append_val (self->edges, e);
      }
  self->width = 2 * MARGIN + max_col * COL_W + BOX_W;
  self->height = 2 * MARGIN + max_row * ROW_H + BOX_H;
  g_array_unref (rows_used);
}

/* A new graph: its blocks, collapsed when there are many boxes, then fit to the width. */
static void
layout (CsGraphView *self)
{
  g_clear_pointer (&self->blocks, cs_graph_blocks_free);
  if (self->set != NULL)
    {
      const cs_graph *g = cs_model_set_get_graph (self->set);
      int shown = 0;
      for (int id = 0; id < g->n_nodes; id++)
        shown += node_is_shown (&g->nodes[id]);
      self->blocks = cs_graph_blocks_new (g, node_is_shown, shown > COLLAPSE_ABOVE);
    }
  relayout (self);
  self->fitted = FALSE;
}

/* Fit to the width, but never below a zoom where the labels stay legible: a wider graph pans. */
static void
fit (CsGraphView *self)
{
  double w = gtk_widget_get_width (GTK_WIDGET (self));

  if (w <= 1 || self->width <= 0)
    return;
  self->zoom = CLAMP (w / self->width, MIN_FIT_ZOOM, 1.0);
  self->pan_x = MAX (0.0, (w - self->width * self->zoom) / 2);
  self->pan_y = 0;
  self->fitted = TRUE;
}

static void
cs_graph_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  CsGraphView *self = CS_GRAPH_VIEW (widget);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  GdkRGBA fg;
  cairo_t *cr;

  if (self->set == NULL || self->boxes->len == 0 || w <= 0 || h <= 0)
    return;
  if (!self->fitted)
    fit (self);
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &fg);
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  cs_graph_view_draw (self, cr, &fg);
  cairo_destroy (cr);
}

/* Graph coordinates of a widget point. */
static void
to_graph (CsGraphView *self, double x, double y, double *gx, double *gy)
{
  if (!self->fitted)
    fit (self);
  *gx = (x - self->pan_x) / self->zoom;
  *gy = (y - self->pan_y) / self->zoom;
}

static int
box_at (CsGraphView *self, double x, double y)
{
  double gx, gy;

  if (self->set == NULL || self->zoom <= 0)
    return -1;
  to_graph (self, x, y, &gx, &gy);
  for (guint i = 0; i < self->boxes->len; i++)
    {
      const Box *b = &g_array_index (self->boxes, Box, i);
      if (gx >= b->x && gx <= b->x + BOX_W && gy >= b->y && gy <= b->y + BOX_H)
        return (int) i;
    }
  return -1;
}

/* The expanded block whose bracket is at the point, or -1. */
static int
bracket_at (CsGraphView *self, double x, double y)
{
  double gx, gy;

  if (self->set == NULL || self->zoom <= 0 || self->blocks == NULL)
    return -1;
  to_graph (self, x, y, &gx, &gy);
  for (guint b = 0; b < self->blocks->blocks->len; b++)
    {
      double bx, y0, y1;
      if (cs_graph_view_block_shown_expanded (self, (int) b) && cs_graph_view_block_extent (self, (int) b, &bx, &y0, &y1)
          && fabs (gx - cs_graph_view_bracket_x (self, (int) b, bx)) <= 4 && gy >= y0 && gy <= y1)
        return (int) b;
    }
  return -1;
}

int
cs_graph_view_node_at (CsGraphView *self, double x, double y)
{
  int i = box_at (self, x, y);

  return i >= 0 ? g_array_index (self->boxes, Box, i).id : -1;
}

int
cs_graph_view_block_at (CsGraphView *self, double x, double y)
{
  int i = box_at (self, x, y);

  return i >= 0 ? g_array_index (self->boxes, Box, i).block : -1;
}

guint
cs_graph_view_get_n_boxes (CsGraphView *self)
{
  return self->boxes->len;
}

double
cs_graph_view_get_zoom (CsGraphView *self)
{
  if (!self->fitted)
    fit (self);
  return self->zoom;
}

/* Collapses or expands block b and lays the graph out again, keeping zoom and pan. */
static void
set_block_expanded (CsGraphView *self, int b, gboolean expanded)
{
  g_array_index (self->blocks->blocks, CsGraphBlock, b).expanded = expanded;
  relayout (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

gboolean
cs_graph_view_node_center (CsGraphView *self, int id, double *x, double *y)
{
  const Box *b;

  if (self->set == NULL || self->box_of_node == NULL || id < 0
      || id >= cs_model_set_get_graph (self->set)->n_nodes || self->box_of_node[id] < 0)
    return FALSE;
  if (!self->fitted)
    fit (self);
  b = &g_array_index (self->boxes, Box, self->box_of_node[id]);
  *x = (b->x + BOX_W / 2) * self->zoom + self->pan_x;
  *y = (b->y + BOX_H / 2) * self->zoom + self->pan_y;
  return TRUE;
}

static void
click_released_cb (GtkGestureClick *gesture, int n_press, double x, double y, CsGraphView *self)
{
  int id = cs_graph_view_node_at (self, x, y);
  int block = cs_graph_view_block_at (self, x, y);
  double cx, cy;

  /* A collapsed block opens on a click; an open one closes on a click on its bracket. */
  if (block < 0 && id < 0)
    block = bracket_at (self, x, y);
  if (block >= 0)
    {
      g_clear_pointer (&self->inspector, gtk_widget_unparent);
      set_block_expanded (self, block, !g_array_index (self->blocks->blocks, CsGraphBlock, block).expanded);
      return;
    }

  if (id >= 0 && self->session != NULL)
    cs_session_set_layer (self->session, id);
  /* The node inspector: what the node is (op, attributes, shapes, parameters, FLOPs). */
  g_clear_pointer (&self->inspector, gtk_widget_unparent);
  if (id >= 0 && self->set != NULL && cs_graph_view_node_center (self, id, &cx, &cy))
    {
      /* The node's box, clipped to the widget: the popover must point inside it. */
      int w = gtk_widget_get_width (GTK_WIDGET (self)), h = gtk_widget_get_height (GTK_WIDGET (self));
      int x0 = CLAMP ((int) (cx - BOX_W * self->zoom / 2), 0, MAX (w - 1, 0));
      int y0 = CLAMP ((int) (cy - BOX_H * self->zoom / 2), 0, MAX (h - 1, 0));
      int x1 = CLAMP ((int) (cx + BOX_W * self->zoom / 2), x0 + 1, MAX (w, x0 + 1));
      int y1 = CLAMP ((int) (cy + BOX_H * self->zoom / 2), y0 + 1, MAX (h, y0 + 1));
      GdkRectangle r = { x0, y0, x1 - x0, y1 - y0 };
      self->inspector = cs_node_inspector_new (cs_model_set_get_graph (self->set), id);
      gtk_widget_set_parent (self->inspector, GTK_WIDGET (self));
      gtk_popover_set_position (GTK_POPOVER (self->inspector), GTK_POS_RIGHT);
      gtk_popover_set_pointing_to (GTK_POPOVER (self->inspector), &r);
      gtk_popover_popup (GTK_POPOVER (self->inspector));
    }
}

int
cs_graph_view_find (CsGraphView *self, const char *text)
{
  const cs_graph *g;
  g_autofree char *needle = g_utf8_casefold (text != NULL ? text : "", -1);

  if (self->set == NULL || needle[0] == '\0')
    return -1;
  g = cs_model_set_get_graph (self->set);
  for (int id = 0; id < g->n_nodes; id++)
    {
      const cs_node *n = &g->nodes[id];
      g_autofree char *name = g_utf8_casefold (n->name, -1);
      g_autofree char *alias = n->alias != NULL ? g_utf8_casefold (n->alias, -1) : NULL;
      double cx, cy;

      if (!node_is_shown (n) || (strstr (name, needle) == NULL && (alias == NULL || strstr (alias, needle) == NULL)))
        continue;
      /* A layer inside collapsed blocks: open them to show it. */
      if (cs_graph_blocks_reveal (self->blocks, id))
        relayout (self);
      /* Bring it to the middle of the view, then select it. */
      if (cs_graph_view_node_center (self, id, &cx, &cy))
        {
          self->pan_x += gtk_widget_get_width (GTK_WIDGET (self)) / 2.0 - cx;
          self->pan_y += gtk_widget_get_height (GTK_WIDGET (self)) / 2.0 - cy;
          gtk_widget_queue_draw (GTK_WIDGET (self));
        }
      if (self->session != NULL)
        cs_session_set_layer (self->session, id);
      return id;
    }
  return -1;
}

GtkWidget *
cs_graph_view_get_inspector (CsGraphView *self)
{
  return self->inspector;
}

static void
drag_begin_cb (GtkGestureDrag *gesture, double x, double y, CsGraphView *self)
{
  self->drag_pan_x = self->pan_x;
  self->drag_pan_y = self->pan_y;
}

static void
drag_update_cb (GtkGestureDrag *gesture, double dx, double dy, CsGraphView *self)
{
  self->pan_x = self->drag_pan_x + dx;
  self->pan_y = self->drag_pan_y + dy;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
zoom_at (CsGraphView *self, double factor, double x, double y)
{
  double z = CLAMP (self->zoom * factor, 0.1, 4.0);

  /* Keep the point under the pointer still. */
  self->pan_x = x - (x - self->pan_x) * z / self->zoom;
  self->pan_y = y - (y - self->pan_y) * z / self->zoom;
  self->zoom = z;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static gboolean
scroll_cb (GtkEventControllerScroll *scroll, double dx, double dy, CsGraphView *self)
{
  GdkModifierType state = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (scroll));

  if (state & GDK_CONTROL_MASK)
    {
      double x = gtk_widget_get_width (GTK_WIDGET (self)) / 2.0, y = gtk_widget_get_height (GTK_WIDGET (self)) / 2.0;
      GdkEvent *ev = gtk_event_controller_get_current_event (GTK_EVENT_CONTROLLER (scroll));
      if (ev != NULL)
        {
          double ex, ey;
          if (gdk_event_get_position (ev, &ex, &ey))
            {
              graphene_point_t p;
              GtkNative *native = gtk_widget_get_native (GTK_WIDGET (self));
              double nx, ny;
              gtk_native_get_surface_transform (native, &nx, &ny);
              if (gtk_widget_compute_point (GTK_WIDGET (native), GTK_WIDGET (self),
                                            &GRAPHENE_POINT_INIT (ex - nx, ey - ny), &p))
                x = p.x, y = p.y;
            }
        }
      zoom_at (self, dy < 0 ? 1.15 : 1 / 1.15, x, y);
    }
  else
    {
      self->pan_x -= dx * 40;
      self->pan_y -= dy * 40;
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
  return TRUE;
}

static void
model_set_changed_cb (CsSession *session, GParamSpec *pspec, CsGraphView *self)
{
  CsModelSet *set = cs_session_get_model_set (session);

  if (set == self->set)
    return;
  g_clear_pointer (&self->set, cs_model_set_unref);
  g_clear_pointer (&self->inspector, gtk_widget_unparent);
  self->set = set != NULL ? cs_model_set_ref (set) : NULL;
  layout (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
layer_changed_cb (CsSession *session, GParamSpec *pspec, CsGraphView *self)
{
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

CsSession *
cs_graph_view_get_session (CsGraphView *self)
{
  return self->session;
}

void
cs_graph_view_set_session (CsGraphView *self, CsSession *session)
{
  g_return_if_fail (CS_IS_GRAPH_VIEW (self));

  if (self->session == session)
    return;
  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);
  g_set_object (&self->session, session);
  if (session != NULL)
    {
      g_signal_connect_object (session, "notify::model-set", G_CALLBACK (model_set_changed_cb),
                               self, 0);
      g_signal_connect_object (session, "notify::layer", G_CALLBACK (layer_changed_cb), self, 0);
      model_set_changed_cb (session, NULL, self);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SESSION]);
}

static void
cs_graph_view_size_allocate (GtkWidget *widget, int width, int height, int baseline)
{
  CsGraphView *self = CS_GRAPH_VIEW (widget);

  if (!self->fitted)
    fit (self);
  if (self->inspector != NULL)
    gtk_popover_present (GTK_POPOVER (self->inspector));
}

static void
cs_graph_view_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                       int *natural, int *minimum_baseline, int *natural_baseline)
{
  *minimum = 120;
  *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 260 : 400;
}

static void
cs_graph_view_dispose (GObject *object)
{
  CsGraphView *self = CS_GRAPH_VIEW (object);

  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);
  g_clear_object (&self->session);
  g_clear_pointer (&self->set, cs_model_set_unref);
  g_clear_pointer (&self->inspector, gtk_widget_unparent);
  G_OBJECT_CLASS (cs_graph_view_parent_class)->dispose (object);
}

static void
cs_graph_view_finalize (GObject *object)
{
  CsGraphView *self = CS_GRAPH_VIEW (object);

  g_array_unref (self->boxes);
  g_array_unref (self->edges);
  g_free (self->box_of_node);
  cs_graph_blocks_free (self->blocks);
  G_OBJECT_CLASS (cs_graph_view_parent_class)->finalize (object);
}

static void
cs_graph_view_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CsGraphView *self = CS_GRAPH_VIEW (object);

  switch (prop_id)
    {
    case PROP_SESSION: g_value_set_object (value, self->session); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_graph_view_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CsGraphView *self = CS_GRAPH_VIEW (object);

  switch (prop_id)
    {
    case PROP_SESSION: cs_graph_view_set_session (self, g_value_get_object (value)); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_graph_view_class_init (CsGraphViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cs_graph_view_dispose;
  object_class->finalize = cs_graph_view_finalize;
  object_class->get_property = cs_graph_view_get_property;
  object_class->set_property = cs_graph_view_set_property;
  widget_class->snapshot = cs_graph_view_snapshot;
  widget_class->measure = cs_graph_view_measure;
  widget_class->size_allocate = cs_graph_view_size_allocate;

  properties[PROP_SESSION] =
    g_param_spec_object ("session", NULL, NULL, CS_TYPE_SESSION,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);
  gtk_widget_class_set_css_name (widget_class, "csgraphview");
}

static void
cs_graph_view_init (CsGraphView *self)
{
  GtkGesture *click = gtk_gesture_click_new ();
  GtkGesture *drag = gtk_gesture_drag_new ();
  GtkEventController *scroll =
    gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES);

  self->boxes = g_array_new (FALSE, FALSE, sizeof (Box));
  self->edges = g_array_new (FALSE, FALSE, sizeof (Edge));
  self->zoom = 1.0;
  gtk_widget_set_overflow (GTK_WIDGET (self), GTK_OVERFLOW_HIDDEN);
  gtk_widget_set_hexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (self), TRUE);

  g_signal_connect (click, "released", G_CALLBACK (click_released_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));
  g_signal_connect (drag, "drag-begin", G_CALLBACK (drag_begin_cb), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (drag_update_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drag));
  g_signal_connect (scroll, "scroll", G_CALLBACK (scroll_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), scroll);
}

GtkWidget *
cs_graph_view_new (CsSession *session)
{
  return g_object_new (CS_TYPE_GRAPH_VIEW, "session", session, NULL);
}
