/* The core computations the views run on the worker: predictions and attribution maps. Each
 * job copies its inputs on the main thread and owns them; results are plain data. */
#pragma once

#include "attribution/attribution.h"
#include "cs-session.h"

G_BEGIN_DECLS

/* Predictions for a batch of preprocessed inputs at an epoch. */
typedef struct
{
  CsModelSet *set;
  int epoch;
  int n;
  GBytes *inputs;              /* n samples of shape[1..] each */
  cs_shape shape;              /* of one sample, [1, C, H, W] */
} CsPredictJob;

typedef struct
{
  int n, n_classes;
  float *probs;                /* n x n_classes, softmax of the logits */
} CsPredictResult;

CsPredictJob *cs_predict_job_new (CsModelSet *set, int epoch, GBytes *inputs, const cs_shape *shape,
                                  int n);
void cs_predict_job_free (gpointer job);
gpointer cs_predict_job_run (CsWorkerJob *wjob, gpointer data, GError **error);
void cs_predict_result_free (gpointer result);
/* The k best classes of sample i (k <= n_classes), best first. */
void cs_predict_result_top (const CsPredictResult *r, int i, int k, int *classes);

/* A best-so-far map of a sampling method, on the main thread: serial is the job's, map is
 * width x height in [0, 1] and valid during the call, fraction the share of work done. */
typedef void (*CsSaliencyPartialFunc) (gpointer owner, guint serial, const float *map, int width,
                                       int height, double fraction);

/* One attribution map. */
typedef struct
{
  CsModelSet *set;
  int epoch;
  GBytes *input;
  cs_shape shape;
  cs_attribution_params params;
  double budget;                 /* seconds of refinement for a sampling method; 0 = no limit */
  CsSaliencyPartialFunc partial; /* may be NULL */
  GObject *owner;                /* partial's first argument, held until the job is freed */
  guint serial;
  gint64 last_partial;           /* worker thread: when the last partial was posted (us) */
  cs_resume *resume;             /* owned: a stopped run's state to continue from, and where
                                  * this run saves its own when the budget stops it */
} CsSaliencyJob;

typedef struct
{
  int method;
  int width, height;
  float *map;                  /* width x height in [0, 1] */
  int target;
  float probability;
  int layer;
  int unit_layer, unit_channel;  /* the unit explained, or -1 */
  double seconds;
  double completed;            /* 1, or the fraction done when the budget stopped it */
  int passes;
  cs_resume *resume;           /* owned: what "refine further" continues from, or NULL */
} CsSaliencyResult;

/* Gradient methods (CAMs included) can explain a unit; perturbation methods explain a class. */
gboolean cs_saliency_method_explains_units (int method);
/* A job for the session's current input, epoch and layer (and unit, with explain-unit). */
CsSaliencyJob *cs_saliency_job_new (CsSession *session, int method, int target);
/* Best-so-far maps go to partial (owner, serial, ...) on the main thread, at most ten a
 * second; refinement stops after budget seconds (0: no limit). */
void cs_saliency_job_set_refine (CsSaliencyJob *job, double budget, CsSaliencyPartialFunc partial,
                                 GObject *owner, guint serial);
void cs_saliency_job_free (gpointer job);
gpointer cs_saliency_job_run (CsWorkerJob *wjob, gpointer data, GError **error);
void cs_saliency_result_free (gpointer result);

const char *cs_ui_method_title (int method);

G_END_DECLS
