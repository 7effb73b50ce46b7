/* CsModelSet: one opened model (a run's every epoch, or a single model) shared by the main
 * thread and the workers; epochs' weights are loaded on first use and cached. */
#pragma once

#include <glib-object.h>

#include "graph/model.h"
#include "io/run.h"

G_BEGIN_DECLS

#define CS_TYPE_MODEL_SET (cs_model_set_get_type ())

typedef struct _CsModelSet CsModelSet;

GType cs_model_set_get_type (void) G_GNUC_CONST;

/* path: a run directory or run.json, an .onnx file or a model.json. */
CsModelSet *cs_model_set_load (const char *path, GError **error);
CsModelSet *cs_model_set_ref (CsModelSet *self);
void cs_model_set_unref (CsModelSet *self);

/* Unique per loaded set: what workers key their cached executors on. */
guint64 cs_model_set_get_serial (CsModelSet *self);
const char *cs_model_set_get_path (CsModelSet *self);
/* The run, or NULL for a model opened without one. */
const cs_run *cs_model_set_get_run (CsModelSet *self);
/* The model as opened: the run's last readable epoch, or the plain model; and its index. */
const cs_model *cs_model_set_get_base (CsModelSet *self);
int cs_model_set_get_base_index (CsModelSet *self);
const cs_graph *cs_model_set_get_graph (CsModelSet *self);
/* Epochs of the run (1 for a plain model). */
int cs_model_set_get_n_epochs (CsModelSet *self);
/* The epoch number as run.json lists it for an index. */
int cs_model_set_get_epoch_number (CsModelSet *self, int index);
/* The model of the epoch at index (thread-safe; loads its checkpoint on first use). With a
 * cache size set, a checkpoint nobody holds may be freed by any later call: workers use
 * acquire/release instead. */
const cs_model *cs_model_set_get_epoch (CsModelSet *self, int index, GError **error);
/* The same, held until released: a held checkpoint is never evicted. */
const cs_model *cs_model_set_acquire_epoch (CsModelSet *self, int index, GError **error);
void cs_model_set_release_epoch (CsModelSet *self, int index);
/* Keeps at most n_checkpoints epochs' weights in memory besides the base (0 = all), freeing
 * the least recently used ones that are not held. */
void cs_model_set_set_cache_size (CsModelSet *self, int n_checkpoints);
/* Checkpoints loaded besides the base. */
int cs_model_set_get_n_loaded (CsModelSet *self);
/* The class label (or "class N"), for display. */
const char *cs_model_set_get_class_label (CsModelSet *self, int klass, char *buf, gsize size);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsModelSet, cs_model_set_unref)

/* Errors of the core as GErrors. */
#define CS_CORE_ERROR (cs_core_error_quark ())
GQuark cs_core_error_quark (void);
void cs_set_core_error (GError **error, const cs_error *err);

G_END_DECLS
