/* CsCompareGrid: the comparison cells as one grid that fits its allocation (13 methods at once
 * on a 1600x1000 window), picking the column count that gives the largest pictures. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define CS_TYPE_COMPARE_GRID (cs_compare_grid_get_type ())

G_DECLARE_FINAL_TYPE (CsCompareGrid, cs_compare_grid, CS, COMPARE_GRID, GtkWidget)

/* The smallest picture a cell may have: the rest of a cell's minimum height is its caption. */
#define CS_COMPARE_GRID_PICTURE_MIN 56

GtkWidget *cs_compare_grid_new (void);
/* Cells are laid out in the order appended. */
void cs_compare_grid_append (CsCompareGrid *self, GtkWidget *cell);
void cs_compare_grid_remove (CsCompareGrid *self, GtkWidget *cell);
/* The columns of the last layout (tests). */
int cs_compare_grid_get_columns (CsCompareGrid *self);

G_END_DECLS
