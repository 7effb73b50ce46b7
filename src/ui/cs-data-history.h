/* The Data view's model: a run's example history (from the core's cache or computed on the
 * worker), its per-example measures, the suspects ranking, the early-epoch AUROC and the pixels
 * of every example the run used, so that the panels draw and select without the data set. */
#pragma once

#include "cs-session.h"
#include "analysis/example_measures.h"

G_BEGIN_DECLS

typedef struct
{
  cs_history *h;
  cs_example_measures *measures;  /* of the training split */
  int64_t *suspects;              /* positions in the training split, most suspicious first */
  double *auroc;                  /* h->n_epochs */
  int channels, height, width;
  guint8 *pixels[CS_HISTORY_N_SPLITS];  /* per example, channels x height x width planar */
  char **classes;                 /* h->n_classes names */
  gboolean from_cache;
} CsDataHistory;

void cs_data_history_free (gpointer data);

/* A worker job (data: a CsModelSet reference, freed with cs_model_set_unref) returning a
 * CsDataHistory of the set's run. */
gpointer cs_data_history_job_run (CsWorkerJob *wjob, gpointer data, GError **error);

/* The history's epoch index of the session's epoch index, or -1 when that checkpoint is not in
 * the history. */
int cs_data_history_epoch_of (const CsDataHistory *d, CsSession *session);
/* The class name, or its number when unnamed. Returns a static or owned-by-d string. */
const char *cs_data_history_class_name (const CsDataHistory *d, int c);
/* The example as the session's input (name "train:N" or "test:N", N its index in the data set
 * files), label as the run was given it. */
gboolean cs_data_history_show (const CsDataHistory *d, CsSession *session, cs_history_split split,
                               int64_t pos, GError **error);
/* An 8-bit thumbnail texture of the example, enlarged as the session's images are. */
GdkTexture *cs_data_history_texture (const CsDataHistory *d, cs_history_split split, int64_t pos);

G_END_DECLS
