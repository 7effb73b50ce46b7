/* CsFilterGallery: the selected layer's filters (weights) and their feature maps for the
 * current image, sortable by mean activation; activating one selects the unit. */
#pragma once

#include <gtk/gtk.h>

#include "cs-session.h"

G_BEGIN_DECLS

#define CS_TYPE_FILTER_GALLERY (cs_filter_gallery_get_type ())

G_DECLARE_FINAL_TYPE (CsFilterGallery, cs_filter_gallery, CS, FILTER_GALLERY, GtkWidget)

GtkWidget *cs_filter_gallery_new (CsSession *session);
CsSession *cs_filter_gallery_get_session (CsFilterGallery *self);
void cs_filter_gallery_set_session (CsFilterGallery *self, CsSession *session);
/* The filters as shown (sorted when sorting is on), of CsFilterItem. */
GListModel *cs_filter_gallery_get_model (CsFilterGallery *self);
/* TRUE while a job for the current selection runs. */
gboolean cs_filter_gallery_get_loading (CsFilterGallery *self);
/* The layer whose filters are listed (follows session:layer), -1 when none. */
int cs_filter_gallery_get_layer (CsFilterGallery *self);
void cs_filter_gallery_set_sort_by_activation (CsFilterGallery *self, gboolean sort);

G_END_DECLS
