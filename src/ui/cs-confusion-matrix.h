/* CsConfusionMatrix: true class against predicted class of the validation examples at the
 * selected epoch, read from the history (no recomputation); a click on a cell activates it. */
#pragma once

#include <gtk/gtk.h>

#include "cs-data-history.h"

G_BEGIN_DECLS

#define CS_TYPE_CONFUSION_MATRIX (cs_confusion_matrix_get_type ())

G_DECLARE_FINAL_TYPE (CsConfusionMatrix, cs_confusion_matrix, CS, CONFUSION_MATRIX, GtkWidget)

/* d stays owned by the caller (set NULL before freeing it). */
void cs_confusion_matrix_set_data (CsConfusionMatrix *self, const CsDataHistory *d);
/* epoch: an index into the history's epochs (-1: none). */
void cs_confusion_matrix_set_epoch (CsConfusionMatrix *self, int epoch);
int cs_confusion_matrix_get_epoch (CsConfusionMatrix *self);
/* Examples of true class t predicted p at the epoch (0 without data). */
int64_t cs_confusion_matrix_get_count (CsConfusionMatrix *self, int t, int p);
/* The cell at (x, y) of a w x h area, or FALSE. */
gboolean cs_confusion_matrix_cell_at (CsConfusionMatrix *self, double x, double y, int w, int h,
                                      int *t, int *p);
/* The centre of cell (t, p) in a w x h area. */
void cs_confusion_matrix_cell_center (CsConfusionMatrix *self, int t, int p, int w, int h,
                                      double *x, double *y);
void cs_confusion_matrix_draw (CsConfusionMatrix *self, cairo_t *cr, PangoLayout *pl,
                               const GdkRGBA *fg, int w, int h, gboolean figure);

G_END_DECLS
