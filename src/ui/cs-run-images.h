/* The test images of a run: a directory beside run.json (images/, test-images/, samples/, test/,
 * or the run itself), each labelled by the longest class name its file name contains. */
#pragma once

#include <glib.h>

#include "cs-model-set.h"

G_BEGIN_DECLS

typedef struct
{
  char *path;
  int label;                 /* true class from the file name, or -1 */
} CsRunImage;

void cs_run_image_free (CsRunImage *image);

/* An array of CsRunImage sorted by path, possibly empty (set NULL or not a run). Any thread:
 * reads only the set's immutable run and base model. */
GPtrArray *cs_run_images_list (CsModelSet *set);

G_END_DECLS
