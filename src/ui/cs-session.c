/* CsSession: the shared selection. Setters validate, store and notify; views do the rest. */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "cs-run-images.h"
#include "cs-session.h"

#include "attribution/attribution.h"
#include "data/run_example.h"
#include "io/image.h"

struct _CsSession
{
  GObject parent_instance;
  CsWorker *worker;
  CsModelSet *set;
  int epoch;
  int layer;
  int unit;
  gboolean explain_unit;
  int target;
  int method;
  guint comparison;
  cs_tensor input;             /* [1, C, H, W], owned; numel 0 when none */
  GdkTexture *image;
  char *image_name;
  int image_label;
  cs_image pixels;             /* the input as opened, to preprocess again for a new model */
  /* Attribution parameters of the interactive views (settings), and the checkpoint cache. */
  int smoothgrad_samples, ig_steps, occlusion_window, occlusion_stride, rise_samples;
  double smoothgrad_noise;
  double attribution_budget;   /* seconds per sampling method; 0 = no limit */
  int cache_size;
};

enum {
  PROP_0,
  PROP_MODEL_SET,
  PROP_WORKER,
  PROP_EPOCH,
  PROP_N_EPOCHS,
  PROP_LAYER,
  PROP_UNIT,
  PROP_EXPLAIN_UNIT,
  PROP_TARGET,
  PROP_METHOD,
  PROP_COMPARISON,
  PROP_IMAGE,
  PROP_IMAGE_NAME,
  PROP_IMAGE_LABEL,
  PROP_SMOOTHGRAD_SAMPLES,
  PROP_SMOOTHGRAD_NOISE,
  PROP_IG_STEPS,
  PROP_OCCLUSION_WINDOW,
  PROP_OCCLUSION_STRIDE,
  PROP_RISE_SAMPLES,
  PROP_CACHE_SIZE,
  PROP_ATTRIBUTION_BUDGET,
  N_PROPS
};
static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (CsSession, cs_session, G_TYPE_OBJECT)

CsSession *
cs_session_new (void)
{
  return g_object_new (CS_TYPE_SESSION, NULL);
}

/* RGB display pixels; small images (MNIST's 28 x 28) are enlarged nearest-neighbour so that
 * the renderer's linear filtering does not blur them into mush. */
GdkTexture *
cs_image_texture_new (const cs_image *img)
{
  g_autoptr (GBytes) bytes = NULL;
  int scale = MAX (1, 224 / MAX (img->width, img->height));
  int w = img->width * scale, h = img->height * scale;
  guint8 *rgb = g_malloc ((gsize) w * h * 3);

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        gsize src = ((gsize) (y / scale) * img->width + x / scale) * img->channels;
        for (int c = 0; c < 3; c++)
          rgb[((gsize) y * w + x) * 3 + c] = img->pixels[src + (img->channels == 3 ? c : 0)];
      }
  bytes = g_bytes_new_take (rgb, (gsize) w * h * 3);
  return gdk_memory_texture_new (w, h, GDK_MEMORY_R8G8B8, bytes, (gsize) w * 3);
}

/* What the views show: the image the model sees (grey, resampled, cropped as preprocessing
 * makes it) so that maps lie over what they explain; the pixels as opened without a model. */
static GdkTexture *
display_texture (CsSession *self)
{
  cs_image seen = { 0 };
  cs_error err = { 0 };
  GdkTexture *texture;

  if (self->set == NULL
      || !cs_image_describe_preprocessing (&self->pixels, cs_model_set_get_base (self->set), NULL, 0)
      || cs_image_model_view (&self->pixels, cs_model_set_get_base (self->set), &seen, &err) != CS_OK)
    return cs_image_texture_new (&self->pixels);
  texture = cs_image_texture_new (&seen);
  cs_image_free (&seen);
  return texture;
}

/* Preprocesses the stored pixels for the current model into the input tensor. */
static gboolean
update_input (CsSession *self, GError **error)
{
  const cs_model *m;
  cs_error err = { 0 };
  cs_tensor t = { 0 };

  if (self->set == NULL || self->pixels.pixels == NULL)
    return TRUE;
  m = cs_model_set_get_base (self->set);
  if (cs_image_for_model (&self->pixels, m, NULL, NULL, &t, &err) != CS_OK)
    {
      cs_set_core_error (error, &err);
      return FALSE;
    }
  cs_tensor_free (&self->input);
  self->input = t;
  return TRUE;
}

gboolean
cs_session_set_image_pixels (CsSession *self, const guint8 *pixels, int width, int height,
                             int channels, int label, const char *name, GError **error)
{
  cs_image saved = self->pixels;
  gsize size = (gsize) width * height * channels;

  g_return_val_if_fail (CS_IS_SESSION (self), FALSE);
  g_return_val_if_fail (channels == 1 || channels == 3, FALSE);

  self->pixels = (cs_image) { .width = width, .height = height, .channels = channels,
                              .pixels = g_memdup2 (pixels, size) };
  if (!update_input (self, error))
    {
      g_free (self->pixels.pixels);
      self->pixels = saved;
      return FALSE;
    }
  g_free (saved.pixels);

  g_clear_object (&self->image);
  self->image = display_texture (self);
  {
    char *copy = g_strdup (name);  /* name may be the current one */
    g_free (self->image_name);
    self->image_name = copy;
  }
  self->image_label = label;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IMAGE_NAME]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IMAGE_LABEL]);
  /* Last: views that react to the image read the name and label too. */
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IMAGE]);
  return TRUE;
}

static void
set_int (CsSession *self, int *field, int value, int prop)
{
  if (*field == value)
    return;
  *field = value;
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

int
cs_session_spatial_layer (CsSession *self, int layer)
{
  const cs_graph *g;

  if (self->set == NULL)
    return -1;
  g = cs_model_set_get_graph (self->set);
  if (layer < 0 || layer >= g->n_nodes)
    return cs_graph_last_spatial_node (g);
  for (int id = layer; id >= 0; id--)
    {
      const cs_node *n = &g->nodes[id];
      if (cs_graph_node_is_spatial (g, id))
        return id;
      if (n->n_inputs == 0)
        break;
      id = n->inputs[0] + 1;  /* follow the first input */
    }
  return cs_graph_last_spatial_node (g);
}

/* What opening a file produces off the main thread: the model set (a model) and the decoded
 * image (the run's first test image, or the image file itself). */
typedef struct
{
  CsModelSet *set;
  cs_image img;
  char *image_name;
  int label;
} Opened;

static void
opened_free (gpointer data)
{
  Opened *o = data;

  g_clear_pointer (&o->set, cs_model_set_unref);
  cs_image_free (&o->img);
  g_free (o->image_name);
  g_free (o);
}

/* Decodes path into o; FALSE with error set when it cannot be read. */
static gboolean
opened_load_image (Opened *o, const char *path, int label, GError **error)
{
  cs_error err = { 0 };

  if (cs_image_load (path, &o->img, &err) != CS_OK)
    {
      cs_set_core_error (error, &err);
      return FALSE;
    }
  o->image_name = g_path_get_basename (path);
  o->label = label;
  return TRUE;
}

/* The slow part of opening, safe on any thread: reading and parsing the model (every
 * checkpoint's header for a run) and decoding the run's first readable test image. */
static Opened *
open_load (const char *path, gboolean image, int label, CsWorkerJob *job, GError **error)
{
  Opened *o = g_new0 (Opened, 1);
  g_autoptr (GPtrArray) images = NULL;

  if (image)
    {
      if (!opened_load_image (o, path, label, error))
        g_clear_pointer (&o, opened_free);
      return o;
    }
  o->set = cs_model_set_load (path, error);
  if (o->set == NULL)
    {
      opened_free (o);
      return NULL;
    }
  if (job != NULL)
    cs_worker_job_set_fraction (job, 0.8);
  images = cs_run_images_list (o->set);
  for (guint i = 0; i < images->len && o->img.pixels == NULL; i++)
    {
      CsRunImage *ri = g_ptr_array_index (images, i);
      if (job != NULL && cs_worker_job_is_cancelled (job))
        break;
      opened_load_image (o, ri->path, ri->label, NULL);
    }
  /* A run that names its data set (trained by `train` or the logger) opens on test:0. */
  if (o->img.pixels == NULL && cs_model_set_get_run (o->set) != NULL)
    {
      cs_error err = { 0 };
      int32_t example_label = -1;
      if (cs_run_example_load (cs_model_set_get_run (o->set)->path, false, 0, &o->img, &example_label, &err)
          == CS_OK)
        {
          o->image_name = g_strdup ("test:0");
          o->label = example_label;
        }
      else
        cs_image_free (&o->img);
    }
  return o;
}

/* The quick part, on the main thread: installs the model set and shows the image. */
static void
open_apply_model (CsSession *self, Opened *o)
{
  const cs_model *m;
  gboolean have_image = FALSE;

  cs_worker_cancel (self->worker, NULL);
  g_clear_pointer (&self->set, cs_model_set_unref);
  self->set = g_steal_pointer (&o->set);
  cs_model_set_set_cache_size (self->set, self->cache_size);
  m = cs_model_set_get_base (self->set);

  g_object_freeze_notify (G_OBJECT (self));
  self->epoch = cs_model_set_get_base_index (self->set);
  self->layer = cs_graph_last_spatial_node (m->graph);
  self->unit = -1;
  self->target = -1;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_EPOCHS]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_EPOCH]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAYER]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_UNIT]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TARGET]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODEL_SET]);

  /* The run's first test image, else the current image made to fit, else a blank one. */
  if (o->img.pixels != NULL)
    have_image = cs_session_set_image_pixels (self, o->img.pixels, o->img.width, o->img.height,
                                              o->img.channels, o->label, o->image_name, NULL);
  if (!have_image && self->pixels.pixels != NULL)
    {
      cs_image copy = self->pixels;
      have_image = cs_session_set_image_pixels (self, copy.pixels, copy.width, copy.height,
                                                copy.channels, self->image_label,
                                                self->image_name, NULL);
    }
  if (!have_image)
    {
      gsize n = (gsize) m->width * m->height * 3;
      g_autofree guint8 *gray = g_malloc (n);
      memset (gray, 128, n);
      cs_session_set_image_pixels (self, gray, m->width, m->height, 3, -1, _("blank"), NULL);
    }
  g_object_thaw_notify (G_OBJECT (self));
}

static gboolean
open_apply (CsSession *self, Opened *o, GError **error)
{
  if (o->set != NULL)
    {
      open_apply_model (self, o);
      return TRUE;
    }
  return cs_session_set_image_pixels (self, o->img.pixels, o->img.width, o->img.height,
                                      o->img.channels, o->label, o->image_name, error);
}

gboolean
cs_session_open_model (CsSession *self, const char *path, GError **error)
{
  Opened *o;

  g_return_val_if_fail (CS_IS_SESSION (self), FALSE);

  o = open_load (path, FALSE, -1, NULL, error);
  if (o == NULL)
    return FALSE;
  open_apply_model (self, o);
  opened_free (o);
  return TRUE;
}

gboolean
cs_session_open_image (CsSession *self, const char *path, int label, GError **error)
{
  Opened *o = open_load (path, TRUE, label, NULL, error);
  gboolean ok;

  if (o == NULL)
    return FALSE;
  ok = open_apply (self, o, error);
  opened_free (o);
  return ok;
}

typedef struct
{
  char *path;
  gboolean image;
  int label;
} OpenRequest;

static void
open_request_free (gpointer data)
{
  OpenRequest *r = data;

  g_free (r->path);
  g_free (r);
}

static gpointer
open_job_run (CsWorkerJob *job, gpointer data, GError **error)
{
  OpenRequest *r = data;

  return open_load (r->path, r->image, r->label, job, error);
}

static void
open_job_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  CsSession *self = g_task_get_source_object (task);
  GError *error = NULL;
  Opened *o = cs_worker_finish (CS_WORKER (source), result, &error);

  if (o == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (!open_apply (self, o, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
  opened_free (o);
}

void
cs_session_open_async (CsSession *self, const char *path, gboolean image, int label,
                       GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task;
  OpenRequest *r;

  g_return_if_fail (CS_IS_SESSION (self));
  task = g_task_new (self, NULL, callback, user_data);
  g_task_set_source_tag (task, cs_session_open_async);
  r = g_new0 (OpenRequest, 1);
  r->path = g_strdup (path);
  r->image = image;
  r->label = label;
  /* A model open is a long job (progress bar, cancel button); an image is quick. */
  cs_worker_run (self->worker, image ? "open-image" : "open", !image, open_job_run, r,
                 open_request_free, opened_free, open_job_done, task);
}

gboolean
cs_session_open_finish (CsSession *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

GPtrArray *
cs_session_list_run_images (CsSession *self)
{
  return cs_run_images_list (self->set);
}

CsModelSet *
cs_session_get_model_set (CsSession *self)
{
  return self->set;
}

CsWorker *
cs_session_get_worker (CsSession *self)
{
  return self->worker;
}

int
cs_session_get_epoch (CsSession *self)
{
  return self->epoch;
}

void
cs_session_set_epoch (CsSession *self, int epoch)
{
  int n = cs_session_get_n_epochs (self);

  set_int (self, &self->epoch, n > 0 ? CLAMP (epoch, 0, n - 1) : -1, PROP_EPOCH);
}

int
cs_session_get_n_epochs (CsSession *self)
{
  return self->set != NULL ? cs_model_set_get_n_epochs (self->set) : 0;
}

int
cs_session_get_layer (CsSession *self)
{
  return self->layer;
}

void
cs_session_set_layer (CsSession *self, int layer)
{
  const cs_graph *g = self->set != NULL ? cs_model_set_get_graph (self->set) : NULL;

  if (g == NULL || layer < 0 || layer >= g->n_nodes)
    layer = -1;
  if (layer == self->layer)
    return;
  g_object_freeze_notify (G_OBJECT (self));
  set_int (self, &self->layer, layer, PROP_LAYER);
  set_int (self, &self->unit, -1, PROP_UNIT);
  g_object_thaw_notify (G_OBJECT (self));
}

int
cs_session_get_unit (CsSession *self)
{
  return self->unit;
}

void
cs_session_set_unit (CsSession *self, int unit)
{
  set_int (self, &self->unit, MAX (unit, -1), PROP_UNIT);
}

gboolean
cs_session_get_explain_unit (CsSession *self)
{
  return self->explain_unit;
}

void
cs_session_set_explain_unit (CsSession *self, gboolean explain)
{
  set_int (self, &self->explain_unit, !!explain, PROP_EXPLAIN_UNIT);
}

int
cs_session_get_target (CsSession *self)
{
  return self->target;
}

void
cs_session_set_target (CsSession *self, int target)
{
  set_int (self, &self->target, MAX (target, -1), PROP_TARGET);
}

int
cs_session_get_method (CsSession *self)
{
  return self->method;
}

void
cs_session_set_method (CsSession *self, int method)
{
  if (method < 0 || method >= CS_METHOD_COUNT)
    return;
  set_int (self, &self->method, method, PROP_METHOD);
}

guint
cs_session_get_comparison (CsSession *self)
{
  return self->comparison;
}

void
cs_session_set_comparison (CsSession *self, guint methods)
{
  methods &= (1u << CS_METHOD_COUNT) - 1;
  if (methods == self->comparison)
    return;
  self->comparison = methods;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_COMPARISON]);
}

GdkTexture *
cs_session_get_image (CsSession *self)
{
  return self->image;
}

const char *
cs_session_get_image_name (CsSession *self)
{
  return self->image_name;
}

int
cs_session_get_image_label (CsSession *self)
{
  return self->image_label;
}

const cs_tensor *
cs_session_get_input (CsSession *self)
{
  return cs_tensor_numel (&self->input) > 0 ? &self->input : NULL;
}

GBytes *
cs_session_dup_input_bytes (CsSession *self, cs_shape *shape)
{
  gint64 n = cs_tensor_numel (&self->input);

  if (n <= 0)
    return NULL;
  *shape = self->input.shape;
  return g_bytes_new (self->input.data, (gsize) n * sizeof (float));
}

static void
cs_session_finalize (GObject *object)
{
  CsSession *self = CS_SESSION (object);

  cs_worker_cancel (self->worker, NULL);
  g_clear_object (&self->worker);
  g_clear_pointer (&self->set, cs_model_set_unref);
  cs_tensor_free (&self->input);
  g_clear_object (&self->image);
  g_free (self->image_name);
  g_free (self->pixels.pixels);
  G_OBJECT_CLASS (cs_session_parent_class)->finalize (object);
}

static void
cs_session_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CsSession *self = CS_SESSION (object);

  switch (prop_id)
    {
    case PROP_MODEL_SET: g_value_set_boxed (value, self->set); break;
    case PROP_WORKER: g_value_set_object (value, self->worker); break;
    case PROP_EPOCH: g_value_set_int (value, self->epoch); break;
    case PROP_N_EPOCHS: g_value_set_int (value, cs_session_get_n_epochs (self)); break;
    case PROP_LAYER: g_value_set_int (value, self->layer); break;
    case PROP_UNIT: g_value_set_int (value, self->unit); break;
    case PROP_EXPLAIN_UNIT: g_value_set_boolean (value, self->explain_unit); break;
    case PROP_TARGET: g_value_set_int (value, self->target); break;
    case PROP_METHOD: g_value_set_int (value, self->method); break;
    case PROP_COMPARISON: g_value_set_uint (value, self->comparison); break;
    case PROP_IMAGE: g_value_set_object (value, self->image); break;
    case PROP_IMAGE_NAME: g_value_set_string (value, self->image_name); break;
    case PROP_IMAGE_LABEL: g_value_set_int (value, self->image_label); break;
    case PROP_SMOOTHGRAD_SAMPLES: g_value_set_int (value, self->smoothgrad_samples); break;
    case PROP_SMOOTHGRAD_NOISE: g_value_set_double (value, self->smoothgrad_noise); break;
    case PROP_ATTRIBUTION_BUDGET: g_value_set_double (value, self->attribution_budget); break;
    case PROP_IG_STEPS: g_value_set_int (value, self->ig_steps); break;
    case PROP_OCCLUSION_WINDOW: g_value_set_int (value, self->occlusion_window); break;
    case PROP_OCCLUSION_STRIDE: g_value_set_int (value, self->occlusion_stride); break;
    case PROP_RISE_SAMPLES: g_value_set_int (value, self->rise_samples); break;
    case PROP_CACHE_SIZE: g_value_set_int (value, self->cache_size); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_session_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CsSession *self = CS_SESSION (object);

  switch (prop_id)
    {
    case PROP_EPOCH: cs_session_set_epoch (self, g_value_get_int (value)); break;
    case PROP_LAYER: cs_session_set_layer (self, g_value_get_int (value)); break;
    case PROP_UNIT: cs_session_set_unit (self, g_value_get_int (value)); break;
    case PROP_EXPLAIN_UNIT: cs_session_set_explain_unit (self, g_value_get_boolean (value)); break;
    case PROP_TARGET: cs_session_set_target (self, g_value_get_int (value)); break;
    case PROP_METHOD: cs_session_set_method (self, g_value_get_int (value)); break;
    case PROP_COMPARISON: cs_session_set_comparison (self, g_value_get_uint (value)); break;
    case PROP_SMOOTHGRAD_SAMPLES: set_int (self, &self->smoothgrad_samples, g_value_get_int (value), prop_id); break;
    case PROP_IG_STEPS: set_int (self, &self->ig_steps, g_value_get_int (value), prop_id); break;
    case PROP_OCCLUSION_WINDOW: set_int (self, &self->occlusion_window, g_value_get_int (value), prop_id); break;
    case PROP_OCCLUSION_STRIDE: set_int (self, &self->occlusion_stride, g_value_get_int (value), prop_id); break;
    case PROP_RISE_SAMPLES: set_int (self, &self->rise_samples, g_value_get_int (value), prop_id); break;
    case PROP_ATTRIBUTION_BUDGET:
      if (self->attribution_budget != g_value_get_double (value))
        {
          self->attribution_budget = g_value_get_double (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    case PROP_SMOOTHGRAD_NOISE:
      if (self->smoothgrad_noise != g_value_get_double (value))
        {
          self->smoothgrad_noise = g_value_get_double (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    case PROP_CACHE_SIZE: cs_session_set_cache_size (self, g_value_get_int (value)); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_session_class_init (CsSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->finalize = cs_session_finalize;
  object_class->get_property = cs_session_get_property;
  object_class->set_property = cs_session_set_property;

  properties[PROP_MODEL_SET] = g_param_spec_boxed ("model-set", NULL, NULL, CS_TYPE_MODEL_SET, ro);
  properties[PROP_WORKER] = g_param_spec_object ("worker", NULL, NULL, CS_TYPE_WORKER, ro);
  properties[PROP_EPOCH] = g_param_spec_int ("epoch", NULL, NULL, -1, G_MAXINT, -1, rw);
  properties[PROP_N_EPOCHS] = g_param_spec_int ("n-epochs", NULL, NULL, 0, G_MAXINT, 0, ro);
  properties[PROP_LAYER] = g_param_spec_int ("layer", NULL, NULL, -1, G_MAXINT, -1, rw);
  properties[PROP_UNIT] = g_param_spec_int ("unit", NULL, NULL, -1, G_MAXINT, -1, rw);
  properties[PROP_EXPLAIN_UNIT] = g_param_spec_boolean ("explain-unit", NULL, NULL, FALSE, rw);
  properties[PROP_TARGET] = g_param_spec_int ("target", NULL, NULL, -1, G_MAXINT, -1, rw);
  properties[PROP_METHOD] = g_param_spec_int ("method", NULL, NULL, 0, CS_METHOD_COUNT - 1,
                                              CS_METHOD_LAYERCAM, rw);
  properties[PROP_COMPARISON] = g_param_spec_uint ("comparison", NULL, NULL, 0, G_MAXUINT, 0, rw);
  /* Interactive defaults: fewer samples than the CLI's, so that a panel arrives within a
   * second; the preferences change them. */
  properties[PROP_SMOOTHGRAD_SAMPLES] = g_param_spec_int ("smoothgrad-samples", NULL, NULL, 1, 100000, 25, rw);
  properties[PROP_SMOOTHGRAD_NOISE] = g_param_spec_double ("smoothgrad-noise", NULL, NULL, 0.001, 10.0, 0.15, rw);
  properties[PROP_IG_STEPS] = g_param_spec_int ("ig-steps", NULL, NULL, 1, 100000, 32, rw);
  /* Occlusion window and stride 0: relative to the input size (cs_occlusion_default_window). */
  properties[PROP_OCCLUSION_WINDOW] = g_param_spec_int ("occlusion-window", NULL, NULL, 0, 4096, 0, rw);
  properties[PROP_OCCLUSION_STRIDE] = g_param_spec_int ("occlusion-stride", NULL, NULL, 0, 4096, 0, rw);
  /* Seconds each sampling method refines before it stops and offers to refine further. */
  properties[PROP_ATTRIBUTION_BUDGET] = g_param_spec_double ("attribution-budget", NULL, NULL, 0, 3600, 10, rw);
  properties[PROP_RISE_SAMPLES] = g_param_spec_int ("rise-samples", NULL, NULL, 1, 1000000, 1000, rw);
  properties[PROP_CACHE_SIZE] = g_param_spec_int ("cache-size", NULL, NULL, 0, 100000, 0, rw);
  properties[PROP_IMAGE] = g_param_spec_object ("image", NULL, NULL, GDK_TYPE_TEXTURE, ro);
  properties[PROP_IMAGE_NAME] = g_param_spec_string ("image-name", NULL, NULL, NULL, ro);
  properties[PROP_IMAGE_LABEL] = g_param_spec_int ("image-label", NULL, NULL, -1, G_MAXINT, -1, ro);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
cs_session_init (CsSession *self)
{
  self->worker = cs_worker_new ();
  self->epoch = -1;
  self->layer = -1;
  self->unit = -1;
  self->target = -1;
  /* Layer-CAM rather than Grad-CAM: on networks that flatten their last feature map into the
   * classifier (the demo's among them), Grad-CAM's channel-mean weights are often negative
   * everywhere and the first thing a user would see is an empty map. */
  self->method = CS_METHOD_LAYERCAM;
  self->comparison = (1u << CS_METHOD_COUNT) - 1;
  self->image_label = -1;
  self->smoothgrad_samples = 25;
  self->smoothgrad_noise = 0.15;
  self->ig_steps = 32;
  self->occlusion_window = 0;
  self->occlusion_stride = 0;
  self->attribution_budget = 10;
  self->rise_samples = 1000;
}

void
cs_session_set_cache_size (CsSession *self, int n_checkpoints)
{
  n_checkpoints = MAX (n_checkpoints, 0);
  if (self->set != NULL)
    cs_model_set_set_cache_size (self->set, n_checkpoints);
  set_int (self, &self->cache_size, n_checkpoints, PROP_CACHE_SIZE);
}

int
cs_session_get_cache_size (CsSession *self)
{
  return self->cache_size;
}

double
cs_session_get_attribution_budget (CsSession *self)
{
  return self->attribution_budget;
}

void
cs_session_get_attribution_params (CsSession *self, int method, cs_attribution_params *p)
{
  *p = CS_ATTRIBUTION_PARAMS_DEFAULT;
  p->method = method;
  switch (method)
    {
    case CS_METHOD_SMOOTHGRAD:
      p->samples = self->smoothgrad_samples;
      p->noise = (float) self->smoothgrad_noise;
      break;
    case CS_METHOD_INTEGRATED_GRADIENTS:
      p->steps = self->ig_steps;
      break;
    case CS_METHOD_OCCLUSION:
      p->window = self->occlusion_window;
      p->stride = self->occlusion_stride;
      break;
    case CS_METHOD_RISE:
      p->samples = self->rise_samples;
      break;
    default:
      break;
    }
}
