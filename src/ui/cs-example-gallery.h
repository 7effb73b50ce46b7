/* CsExampleGallery: thumbnails of some examples of a run (the suspects, a confusion cell's
 * members), each with a caption; a click activates one. */
#pragma once

#include <gtk/gtk.h>

#include "cs-data-history.h"

G_BEGIN_DECLS

#define CS_TYPE_EXAMPLE_GALLERY (cs_example_gallery_get_type ())

G_DECLARE_FINAL_TYPE (CsExampleGallery, cs_example_gallery, CS, EXAMPLE_GALLERY, GtkWidget)

/* The first CS_EXAMPLE_GALLERY_MAX of positions[0..n) of split (d: NULL clears); captions: n
 * strings or NULL. d stays owned by the caller. empty: what to say when n is 0. */
#define CS_EXAMPLE_GALLERY_MAX 120
void cs_example_gallery_set_items (CsExampleGallery *self, const CsDataHistory *d,
                                   cs_history_split split, const int64_t *positions, int64_t n,
                                   char **captions, const char *empty);
guint cs_example_gallery_get_n_items (CsExampleGallery *self);
int64_t cs_example_gallery_get_position (CsExampleGallery *self, guint i);
/* What clicking item i does: emits ::example-activated (split, position). */
void cs_example_gallery_activate (CsExampleGallery *self, guint i);

G_END_DECLS
