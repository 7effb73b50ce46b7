/* CsCompareGrid: equal cells in rows and columns chosen to fill the allocation. */
#include "config.h"

#include "cs-compare-grid.h"

#define GAP 6

struct _CsCompareGrid
{
  GtkWidget parent_instance;
  int columns;                 /* of the last allocation */
};

G_DEFINE_FINAL_TYPE (CsCompareGrid, cs_compare_grid, GTK_TYPE_WIDGET)

static int
n_cells (GtkWidget *widget)
{
  int n = 0;

  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    n += gtk_widget_get_visible (c);
  return n;
}

/* The cells' largest minimum size (at width for_width along the vertical axis). */
static int
cell_min (GtkWidget *widget, GtkOrientation orientation, int for_width)
{
  int most = 0;

  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      int min = 0;
      if (!gtk_widget_get_visible (c))
        continue;
      gtk_widget_measure (c, orientation, orientation == GTK_ORIENTATION_VERTICAL ? for_width : -1,
                          &min, NULL, NULL, NULL);
      most = MAX (most, min);
    }
  return most;
}

static int
cell_width (int width, int columns)
{
  return (width - GAP * (columns - 1)) / columns;
}

/* The column count whose cells are largest in width x height (cells keep a square picture
 * above their captions, so a cell's useful size is the smaller of its width and the height
 * left by the caption); the most columns that fit when nothing fits the height. */
static int
best_columns (GtkWidget *widget, int width, int height, int n)
{
  int min_w = MAX (cell_min (widget, GTK_ORIENTATION_HORIZONTAL, -1), 1);
  int max_columns = CLAMP ((width + GAP) / (min_w + GAP), 1, n);
  int best = max_columns;
  double best_side = -1;

  for (int c = 1; c <= max_columns; c++)
    {
      int rows = (n + c - 1) / c;
      int cw = cell_width (width, c);
      int ch = (height - GAP * (rows - 1)) / rows;
      int caption = cell_min (widget, GTK_ORIENTATION_VERTICAL, cw) - CS_COMPARE_GRID_PICTURE_MIN;
      double side = MIN (cw, ch - MAX (caption, 0));
      if (ch < cell_min (widget, GTK_ORIENTATION_VERTICAL, cw))
        continue;
      if (side > best_side)
        {
          best_side = side;
          best = c;
        }
    }
  return best;
}

static void
cs_compare_grid_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                         int *natural, int *minimum_baseline, int *natural_baseline)
{
  int n = n_cells (widget);
  int min_w = cell_min (widget, GTK_ORIENTATION_HORIZONTAL, -1);

  if (n == 0)
    {
      *minimum = *natural = 0;
      return;
    }
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = min_w;
      *natural = 3 * min_w + 2 * GAP;
    }
  else
    {
      /* At a given width, the rows of as many columns as fit: the grid never asks for more
       * height than that, and fills whatever it gets. */
      /* No width given (the scrolled window asks so): the widest grid, one row. */
      int width = for_size > 0 ? for_size : n * (min_w + GAP);
      int c = CLAMP ((width + GAP) / (MAX (min_w, 1) + GAP), 1, n);
      int rows = (n + c - 1) / c;
      *minimum = *natural = rows * cell_min (widget, GTK_ORIENTATION_VERTICAL, cell_width (width, c))
                            + GAP * (rows - 1);
    }
}

static void
cs_compare_grid_size_allocate (GtkWidget *widget, int width, int height, int baseline)
{
  CsCompareGrid *self = CS_COMPARE_GRID (widget);
  int n = n_cells (widget), c, rows, cw, ch, i = 0;

  if (n == 0)
    return;
  c = best_columns (widget, width, height, n);
  rows = (n + c - 1) / c;
  cw = cell_width (width, c);
  ch = MAX ((height - GAP * (rows - 1)) / rows, cell_min (widget, GTK_ORIENTATION_VERTICAL, cw));
  self->columns = c;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      if (!gtk_widget_get_visible (child))
        continue;
      gtk_widget_size_allocate (child, &(GtkAllocation) { (i % c) * (cw + GAP), (i / c) * (ch + GAP), cw, ch }, -1);
      i++;
    }
}

static void
cs_compare_grid_dispose (GObject *object)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (object))) != NULL)
    gtk_widget_unparent (child);
  G_OBJECT_CLASS (cs_compare_grid_parent_class)->dispose (object);
}

static void
cs_compare_grid_class_init (CsCompareGridClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cs_compare_grid_dispose;
  widget_class->measure = cs_compare_grid_measure;
  widget_class->size_allocate = cs_compare_grid_size_allocate;
  gtk_widget_class_set_css_name (widget_class, "cscomparegrid");
}

static void
cs_compare_grid_init (CsCompareGrid *self)
{
  self->columns = 1;
}

GtkWidget *
cs_compare_grid_new (void)
{
  return g_object_new (CS_TYPE_COMPARE_GRID, NULL);
}

void
cs_compare_grid_append (CsCompareGrid *self, GtkWidget *cell)
{
  gtk_widget_insert_before (cell, GTK_WIDGET (self), NULL);
}

void
cs_compare_grid_remove (CsCompareGrid *self, GtkWidget *cell)
{
  g_return_if_fail (gtk_widget_get_parent (cell) == GTK_WIDGET (self));
  gtk_widget_unparent (cell);
}

int
cs_compare_grid_get_columns (CsCompareGrid *self)
{
  return self->columns;
}
