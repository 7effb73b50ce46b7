/* The unit inspector's worker jobs: activation maximisation shown live, top dataset examples,
 * a unit's weights and activation maximisation at every epoch, filter change rankings. */
#pragma once

#include "analysis/run_stats.h"
#include "cs-session.h"
#include "features/actmax.h"
#include "features/topk.h"

G_BEGIN_DECLS

/* The conv/linear node whose output channels are layer's channels, or -1: the core's
 * cs_graph_weight_node under the name the inspector's panels use. */
static inline int
cs_unit_weight_node (const cs_graph *g, int layer)
{
  return cs_graph_weight_node (g, layer);
}

/* A picture of a unit: display floats [C, H, W] in [0, 1] (C 1 or 3). */
typedef struct
{
  int epoch, layer, unit;
  int c, h, w;
  float *pixels;
  float activation;            /* actmax: the unit's activation on the final image */
  double seconds;
} CsUnitImage;

void cs_unit_image_free (gpointer image);
/* An RGB texture of the image, enlarged nearest-neighbour to at least min_size pixels. */
GdkTexture *cs_unit_image_texture (const CsUnitImage *image, int min_size);

/* Activation maximisation of one unit. Reference counted: the job and the step idles share it.
 * The step callback copies the current image under the lock and, at most every 50 ms, queues
 * on_step on the main thread (an idle holding a reference). */
typedef struct _CsActmaxJob CsActmaxJob;

struct _CsActmaxJob
{
  CsModelSet *set;
  int epoch, layer, unit;
  cs_actmax_params params;
  guint64 generation;          /* of the inspector's request, to drop stale steps */
  GSourceFunc on_step;         /* main thread, called with the job */
  GWeakRef owner;

  GMutex lock;                 /* guards what follows */
  CsUnitImage live;            /* the newest step's image */
  int step, steps;
  gint64 last_push;
  gboolean pending;            /* an on_step idle is queued */
};

CsActmaxJob *cs_actmax_job_new (CsModelSet *set, int epoch, int layer, int unit,
                                const cs_actmax_params *params);
CsActmaxJob *cs_actmax_job_ref (CsActmaxJob *job);
void cs_actmax_job_unref (gpointer job);
/* Returns a CsUnitImage. */
gpointer cs_actmax_job_run (CsWorkerJob *wjob, gpointer data, GError **error);

/* A data set opened once per spec and shared by top-k jobs (loaded by the first one). */
typedef struct _CsDatasetRef CsDatasetRef;

CsDatasetRef *cs_dataset_ref_new (const char *spec);
CsDatasetRef *cs_dataset_ref_ref (CsDatasetRef *ref);
void cs_dataset_ref_unref (gpointer ref);
const char *cs_dataset_ref_get_spec (CsDatasetRef *ref);
/* The run's data set spec from run.json's "dataset" ("spec", or "name" with "dir"), a relative
 * directory resolved against the run directory; NULL when the run names none. */
char *cs_dataset_spec_for_run (const cs_run *run);

/* Top examples of every channel of a layer at an epoch. */
typedef struct
{
  CsModelSet *set;
  CsDatasetRef *dataset;
  int epoch, layer, k;
  gboolean train_split;
  int permille;                /* progress, written by the job with g_atomic_int_set */
} CsTopkJob;

typedef struct
{
  int epoch, layer;
  gboolean train_split;
  cs_topk_result topk;
  int c, h, w;                 /* the data set's image size */
  guint8 *pixels;              /* the examples' pixels, n_channels × k × c × h × w */
} CsTopkResult;

void cs_topk_job_free (gpointer job);
gpointer cs_topk_job_run (CsWorkerJob *wjob, gpointer data, GError **error);
void cs_topk_result_free_all (gpointer result);
/* An RGB texture of example i of channel c with its receptive field outlined, or NULL. */
GdkTexture *cs_topk_result_texture (const CsTopkResult *r, int channel, int i, int min_size);

/* A unit's weights at every epoch (first, all together, on a common scale), then its activation
 * maximisation at the epochs asked for, in order; each result is handed to the main thread as
 * it is ready (on_cell with the job, cells queued under the lock). */
typedef struct
{
  CsModelSet *set;
  int layer, unit;
  cs_actmax_params params;
  int n_order;
  int *order;                  /* epochs whose actmax image is wanted, most wanted first */
  guint64 generation;
  GSourceFunc on_cell;
  GWeakRef owner;

  GMutex lock;
  GPtrArray *ready;            /* CsUnitImage; epoch < 0 + layer = -1 marks weights */
  gboolean pending;
} CsEvolutionJob;

CsEvolutionJob *cs_evolution_job_new (CsModelSet *set, int layer, int unit,
                                      const cs_actmax_params *params, const int *order, int n_order);
CsEvolutionJob *cs_evolution_job_ref (CsEvolutionJob *job);
void cs_evolution_job_unref (gpointer job);
gpointer cs_evolution_job_run (CsWorkerJob *wjob, gpointer data, GError **error);
/* Takes the ready cells (an array of CsUnitImage; weights cells have layer == -1). */
GPtrArray *cs_evolution_job_take_ready (CsEvolutionJob *job);

/* Convolution filters ranked by relative change ||w_b - w_a|| / ||w_a|| between two epochs. */
typedef struct
{
  CsModelSet *set;
  int epoch_a, epoch_b;
} CsRankJob;

typedef struct
{
  int node;                    /* the conv/linear node */
  int unit;
  float change;
} CsRankedFilter;

void cs_rank_job_free (gpointer job);
/* Returns a GArray of CsRankedFilter, most changed first. */
gpointer cs_rank_job_run (CsWorkerJob *wjob, gpointer data, GError **error);

/* The run's weight statistics (analysis.json, computed when missing). */
gpointer cs_run_stats_job_run (CsWorkerJob *wjob, gpointer data, GError **error);
void cs_run_stats_result_free (gpointer stats);

G_END_DECLS
