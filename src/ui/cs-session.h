/* CsSession: the one selection every view binds to (run, epoch, layer, unit, input image,
 * target class, method, comparison set) and the worker that runs their computations. */
#pragma once

#include <gtk/gtk.h>

#include "cs-model-set.h"
#include "cs-run-images.h"
#include "cs-worker.h"
#include "attribution/attribution.h"
#include "io/image.h"

G_BEGIN_DECLS

#define CS_TYPE_SESSION (cs_session_get_type ())

G_DECLARE_FINAL_TYPE (CsSession, cs_session, CS, SESSION, GObject)

CsSession *cs_session_new (void);

/* Opens a run directory, run.json, .onnx or model.json; on failure the session keeps what it
 * had. Picks the last epoch, the default CAM layer and the run's first test image. */
gboolean cs_session_open_model (CsSession *self, const char *path, GError **error);
/* The same off the main thread: reading the model or decoding the image runs on the worker
 * (channel "open", a long job with progress and cancel, for a model; "open-image" for an
 * image), and the session changes only once it has succeeded, on the main thread. A newer
 * open, or cs_worker_cancel, makes the older one finish with G_IO_ERROR_CANCELLED. */
void cs_session_open_async (CsSession *self, const char *path, gboolean image, int label,
                            GAsyncReadyCallback callback, gpointer user_data);
gboolean cs_session_open_finish (CsSession *self, GAsyncResult *result, GError **error);
/* Opens a PNG or JPEG as the input (label: its true class or -1). */
gboolean cs_session_open_image (CsSession *self, const char *path, int label, GError **error);
/* Sets the input from 8-bit pixels (channels 1 or 3), preprocessed for the model. */
gboolean cs_session_set_image_pixels (CsSession *self, const guint8 *pixels, int width, int height,
                                      int channels, int label, const char *name, GError **error);

CsModelSet *cs_session_get_model_set (CsSession *self);
CsWorker *cs_session_get_worker (CsSession *self);
int cs_session_get_epoch (CsSession *self);          /* index into the run's epochs */
void cs_session_set_epoch (CsSession *self, int epoch);
int cs_session_get_n_epochs (CsSession *self);
int cs_session_get_layer (CsSession *self);          /* graph node id, -1 */
void cs_session_set_layer (CsSession *self, int layer);
int cs_session_get_unit (CsSession *self);           /* channel of the layer, -1 */
void cs_session_set_unit (CsSession *self, int unit);
/* Saliency explains session:unit of session:layer rather than the target class. */
gboolean cs_session_get_explain_unit (CsSession *self);
void cs_session_set_explain_unit (CsSession *self, gboolean explain);
int cs_session_get_target (CsSession *self);         /* class, -1 = the prediction */
void cs_session_set_target (CsSession *self, int target);
int cs_session_get_method (CsSession *self);         /* cs_method */
void cs_session_set_method (CsSession *self, int method);
guint cs_session_get_comparison (CsSession *self);   /* bit per cs_method */
void cs_session_set_comparison (CsSession *self, guint methods);
GdkTexture *cs_session_get_image (CsSession *self);  /* display pixels of the input, or NULL */
const char *cs_session_get_image_name (CsSession *self);
int cs_session_get_image_label (CsSession *self);    /* true class, -1 when unknown */
/* The preprocessed input [1, C, H, W], or NULL. Main thread; copy it into jobs. */
const cs_tensor *cs_session_get_input (CsSession *self);
/* A new reference to the input tensor as bytes (for jobs to copy cheaply). */
GBytes *cs_session_dup_input_bytes (CsSession *self, cs_shape *shape);

/* Test images of the run: a directory beside run.json (images/, or the run itself). */
/* An array of CsRunImage, possibly empty. */
GPtrArray *cs_session_list_run_images (CsSession *self);

/* The layer whose output is spatial (4-D, H and W > 1) nearest at or before layer, or -1. */
int cs_session_spatial_layer (CsSession *self, int layer);

/* The parameters of method as the interactive views run it (session:smoothgrad-samples,
 * smoothgrad-noise, ig-steps, occlusion-window, occlusion-stride, rise-samples: the
 * preferences), target and layer left at their defaults. */
void cs_session_get_attribution_params (CsSession *self, int method, cs_attribution_params *p);
/* Seconds each sampling method of the comparison grid refines before it stops (0: no limit). */
double cs_session_get_attribution_budget (CsSession *self);
/* Checkpoints kept in memory besides the model as opened (0 = all); applies to the run open
 * and every run opened later. */
void cs_session_set_cache_size (CsSession *self, int n_checkpoints);
int cs_session_get_cache_size (CsSession *self);

/* A texture of 8-bit pixels (channels 1 or 3), small images enlarged nearest-neighbour. */
GdkTexture *cs_image_texture_new (const cs_image *img);

G_END_DECLS
