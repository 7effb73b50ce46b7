/* CsModelSet: a run's models, one per epoch over one shared graph, loaded lazily. */
#include "config.h"

#include <glib/gi18n.h>

#include "cs-model-set.h"

#include "analysis/run_stats.h"
#include "io/model_load.h"
#include "io/safetensors.h"

struct _CsModelSet
{
  guint64 serial;
  char *path;
  cs_run *run;                 /* NULL for a plain model */
  cs_model *base;
  int base_index;
  int n_epochs;
  GMutex lock;                 /* guards epochs[], pins[], used[], tick, cache_size */
  cs_model **epochs;           /* n_epochs; epochs[base_index] == base */
  int *pins;                   /* n_epochs: users that hold the epoch's model */
  guint64 *used;               /* n_epochs: when last acquired */
  guint64 tick;
  int cache_size;              /* checkpoints kept besides the base; 0 = all */
};

G_DEFINE_BOXED_TYPE (CsModelSet, cs_model_set, cs_model_set_ref, cs_model_set_unref)

G_DEFINE_QUARK (cs-core-error-quark, cs_core_error)

void
cs_set_core_error (GError **error, const cs_error *err)
{
  g_set_error_literal (error, CS_CORE_ERROR, err->code,
                       err->message[0] != '\0' ? err->message : cs_status_name (err->code));
}

static gboolean
is_run_path (const char *path)
{
  return g_file_test (path, G_FILE_TEST_IS_DIR) || g_str_has_suffix (path, "run.json");
}

CsModelSet *
cs_model_set_load (const char *path, GError **error)
{
  static guint64 serials;
  cs_error err = { 0 };
  g_autoptr (CsModelSet) self = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  self = g_atomic_rc_box_new0 (CsModelSet);
  g_mutex_init (&self->lock);
  self->serial = __atomic_add_fetch (&serials, 1, __ATOMIC_RELAXED);  /* loads run on worker threads */
  self->path = g_strdup (path);

  if (is_run_path (path))
    {
      self->run = cs_run_load (path, &err);
      if (self->run == NULL)
        {
          cs_set_core_error (error, &err);
          return NULL;
        }
    }

  self->n_epochs = self->run != NULL ? self->run->n_epochs : 1;
  self->base_index = self->n_epochs - 1;
  self->base = cs_model_load (path, NULL, &err);
  /* A run whose last checkpoint is damaged still opens, on its latest readable epoch: the
   * damaged one is an unavailable epoch like any other. Unless the model or run.json itself is
   * what fails (then that is the error). */
  if (self->base == NULL && self->run != NULL && self->n_epochs > 1)
    {
      cs_model *arch = cs_run_stats_model (self->run, &err);

      for (int i = self->n_epochs - 2; arch != NULL && self->base == NULL && i >= 0; i--)
        {
          cs_load_options o = CS_LOAD_OPTIONS_DEFAULT;

          o.epoch = self->run->epochs[i].epoch;
          if ((self->base = cs_model_load (path, &o, NULL)) != NULL)
            self->base_index = i;
        }
      cs_model_free (arch);
    }
  if (self->base == NULL)
    {
      cs_set_core_error (error, &err);
      return NULL;
    }

  self->epochs = g_new0 (cs_model *, self->n_epochs);
  self->pins = g_new0 (int, self->n_epochs);
  self->used = g_new0 (guint64, self->n_epochs);
  self->epochs[self->base_index] = self->base;
  return g_steal_pointer (&self);
}

CsModelSet *
cs_model_set_ref (CsModelSet *self)
{
  return g_atomic_rc_box_acquire (self);
}

static void
cs_model_set_clear (CsModelSet *self)
{
  for (int i = 0; self->epochs != NULL && i < self->n_epochs; i++)
    if (i != self->base_index)
      cs_model_free (self->epochs[i]);
  g_free (self->epochs);
  g_free (self->pins);
  g_free (self->used);
  cs_model_free (self->base);
  cs_run_free (self->run);
  g_free (self->path);
  g_mutex_clear (&self->lock);
}

void
cs_model_set_unref (CsModelSet *self)
{
  g_atomic_rc_box_release_full (self, (GDestroyNotify) cs_model_set_clear);
}

guint64
cs_model_set_get_serial (CsModelSet *self)
{
  return self->serial;
}

const char *
cs_model_set_get_path (CsModelSet *self)
{
  return self->path;
}

const cs_run *
cs_model_set_get_run (CsModelSet *self)
{
  return self->run;
}

int
cs_model_set_get_base_index (CsModelSet *self)
{
  return self->base_index;
}

const cs_model *
cs_model_set_get_base (CsModelSet *self)
{
  return self->base;
}

const cs_graph *
cs_model_set_get_graph (CsModelSet *self)
{
  return self->base->graph;
}

int
cs_model_set_get_n_epochs (CsModelSet *self)
{
  return self->n_epochs;
}

int
cs_model_set_get_epoch_number (CsModelSet *self, int index)
{
  if (self->run == NULL || index < 0 || index >= self->n_epochs)
    return index;
  return self->run->epochs[index].epoch;
}

/* Frees the least recently used checkpoints that nobody holds (and not keep, the one being
 * returned) until at most cache_size are loaded besides the base. Called with the lock held. */
static void
evict_locked (CsModelSet *self, int keep)
{
  int loaded = 0;

  if (self->cache_size <= 0)
    return;
  for (int i = 0; i < self->n_epochs; i++)
    loaded += i != self->base_index && self->epochs[i] != NULL;
  while (loaded > self->cache_size)
    {
      int victim = -1;
      for (int i = 0; i < self->n_epochs; i++)
        if (i != self->base_index && i != keep && self->epochs[i] != NULL && self->pins[i] == 0
            && (victim < 0 || self->used[i] < self->used[victim]))
          victim = i;
      if (victim < 0)
        break;  /* every loaded checkpoint is in use: they go when released */
      g_clear_pointer (&self->epochs[victim], cs_model_free);
      loaded--;
    }
}

void
cs_model_set_set_cache_size (CsModelSet *self, int n_checkpoints)
{
  g_mutex_lock (&self->lock);
  self->cache_size = MAX (n_checkpoints, 0);
  evict_locked (self, -1);
  g_mutex_unlock (&self->lock);
}

int
cs_model_set_get_n_loaded (CsModelSet *self)
{
  int loaded = 0;

  g_mutex_lock (&self->lock);
  for (int i = 0; i < self->n_epochs; i++)
    loaded += i != self->base_index && self->epochs[i] != NULL;
  g_mutex_unlock (&self->lock);
  return loaded;
}

static const cs_model *
get_epoch (CsModelSet *self, int index, gboolean pin, GError **error);

const cs_model *
cs_model_set_get_epoch (CsModelSet *self, int index, GError **error)
{
  return get_epoch (self, index, FALSE, error);
}

const cs_model *
cs_model_set_acquire_epoch (CsModelSet *self, int index, GError **error)
{
  return get_epoch (self, index, TRUE, error);
}

void
cs_model_set_release_epoch (CsModelSet *self, int index)
{
  if (index < 0 || index >= self->n_epochs)
    index = self->base_index;
  g_mutex_lock (&self->lock);
  if (self->pins[index] > 0)
    self->pins[index]--;
  evict_locked (self, -1);
  g_mutex_unlock (&self->lock);
}

static const cs_model *
get_epoch (CsModelSet *self, int index, gboolean pin, GError **error)
{
  cs_error err = { 0 };
  cs_model *m;

  if (index < 0 || index >= self->n_epochs)
    index = self->base_index;

  g_mutex_lock (&self->lock);
  m = self->epochs[index];
  if (m == NULL)
    {
      /* A clone shares the graph, so one executor serves every epoch by swapping weights. */
      m = cs_model_clone (self->base, &err);
      /* Non-finite weights are refused as the CLI refuses them: that epoch's views say which
       * tensor holds how many, the other epochs work. */
      if (m != NULL
          && cs_safetensors_apply (m, self->run->epochs[index].checkpoint, false, &err) != CS_OK)
        g_clear_pointer (&m, cs_model_free);
      else if (m != NULL && cs_model_check_finite (m, &err) != CS_OK)
        {
          cs_error_prefix (&err, "%s", self->run->epochs[index].checkpoint);
          g_clear_pointer (&m, cs_model_free);
        }
      self->epochs[index] = m;
    }
  if (m != NULL)
    {
      self->used[index] = ++self->tick;
      self->pins[index] += pin;
      evict_locked (self, index);
    }
  g_mutex_unlock (&self->lock);

  if (m == NULL)
    cs_set_core_error (error, &err);
  return m;
}

const char *
cs_model_set_get_class_label (CsModelSet *self, int klass, char *buf, gsize size)
{
  const cs_model *m = self->base;

  if (m->classes != NULL && klass >= 0 && klass < m->n_classes)
    return m->classes[klass];
  g_snprintf (buf, size, _("class %d"), klass);
  return buf;
}
