/* CsImageStrip: the run's test images with their true and predicted labels at the session's
 * epoch (misclassified ones marked); clicking one makes it the input. */
#pragma once

#include <gtk/gtk.h>

#include "cs-session.h"

G_BEGIN_DECLS

#define CS_TYPE_IMAGE_STRIP (cs_image_strip_get_type ())

G_DECLARE_FINAL_TYPE (CsImageStrip, cs_image_strip, CS, IMAGE_STRIP, GtkWidget)

GtkWidget *cs_image_strip_new (CsSession *session);
void cs_image_strip_set_session (CsImageStrip *self, CsSession *session);
guint cs_image_strip_get_n_images (CsImageStrip *self);
/* Images whose prediction at the current epoch differs from the label (-1 until known). */
int cs_image_strip_get_n_misclassified (CsImageStrip *self);

G_END_DECLS
