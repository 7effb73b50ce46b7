/* The Data view's model: the core's history and measures, plus each used example's pixels. */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "cs-data-history.h"
#include "io/image.h"

void
cs_data_history_free (gpointer data)
{
  CsDataHistory *d = data;

  if (d == NULL)
    return;
  cs_history_free (d->h);
  g_free (d->measures);
  g_free (d->suspects);
  g_free (d->auroc);
  for (int s = 0; s < CS_HISTORY_N_SPLITS; s++)
    g_free (d->pixels[s]);
  g_strfreev (d->classes);
  g_free (d);
}

/* Copies the pixels of the examples the history names; the data set itself is let go. */
static gboolean
copy_pixels (CsDataHistory *d, GError **error)
{
  cs_dataset ds = { 0 };
  cs_error err = { 0 };

  if (cs_dataset_open (d->h->dataset, &ds, &err) != CS_OK)
    {
      cs_set_core_error (error, &err);
      return FALSE;
    }
  d->channels = ds.train.channels;
  d->height = ds.train.height;
  d->width = ds.train.width;
  for (int s = 0; s < CS_HISTORY_N_SPLITS; s++)
    {
      const cs_dataset_split *src = s == CS_HISTORY_TRAIN ? &ds.train : &ds.test;
      const cs_history_examples *ex = &d->h->split[s];
      gsize size = (gsize) d->channels * d->height * d->width;

      if (src->channels != d->channels || src->height != d->height || src->width != d->width)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       _("%s: the splits' image sizes differ"), d->h->dataset);
          cs_dataset_free (&ds);
          return FALSE;
        }
      d->pixels[s] = g_malloc ((gsize) MAX (ex->n, 1) * size);
      for (int64_t i = 0; i < ex->n; i++)
        {
          if (ex->index[i] < 0 || ex->index[i] >= src->n)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _("%s: example %lld is beyond the data set"), d->h->dataset,
                           (long long) ex->index[i]);
              cs_dataset_free (&ds);
              return FALSE;
            }
          memcpy (d->pixels[s] + i * size, src->images + ex->index[i] * size, size);
        }
    }
  d->classes = g_new0 (char *, d->h->n_classes + 1);
  for (int c = 0; c < d->h->n_classes; c++)
    d->classes[c] = g_strdup (c < ds.n_classes && ds.classes != NULL ? ds.classes[c] : "");
  cs_dataset_free (&ds);
  return TRUE;
}

gpointer
cs_data_history_job_run (CsWorkerJob *wjob, gpointer data, GError **error)
{
  const cs_run *run = cs_model_set_get_run (data);
  cs_error err = { 0 };
  CsDataHistory *d = g_new0 (CsDataHistory, 1);
  bool from_cache = false;
  int64_t n_train;

  d->h = cs_history_get (run, cs_worker_job_get_progress (wjob), &from_cache, &err);
  if (d->h == NULL)
    {
      if (err.code == CS_ERR_CANCELLED)
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Cancelled");
      else
        cs_set_core_error (error, &err);
      cs_data_history_free (d);
      return NULL;
    }
  d->from_cache = from_cache;
  n_train = d->h->split[CS_HISTORY_TRAIN].n;
  d->measures = cs_history_measures (d->h, CS_HISTORY_TRAIN, &err);
  d->suspects = g_new (int64_t, MAX (n_train, 1));
  if (d->measures == NULL
      || cs_history_rank_suspects (d->measures, n_train, d->suspects, &err) != CS_OK)
    {
      cs_set_core_error (error, &err);
      cs_data_history_free (d);
      return NULL;
    }
  d->auroc = g_new (double, MAX (d->h->n_epochs, 1));
  cs_history_early_auroc (d->h, d->auroc);
  if (!copy_pixels (d, error))
    {
      cs_data_history_free (d);
      return NULL;
    }
  return d;
}

int
cs_data_history_epoch_of (const CsDataHistory *d, CsSession *session)
{
  CsModelSet *set = cs_session_get_model_set (session);
  int number;

  if (d == NULL || set == NULL || cs_session_get_epoch (session) < 0)
    return -1;
  number = cs_model_set_get_epoch_number (set, cs_session_get_epoch (session));
  for (int k = 0; k < d->h->n_epochs; k++)
    if (d->h->epochs[k] == number)
      return k;
  return -1;
}

const char *
cs_data_history_class_name (const CsDataHistory *d, int c)
{
  static char numbers[256][8];

  if (c >= 0 && c < d->h->n_classes && d->classes[c][0] != '\0')
    return d->classes[c];
  c = CLAMP (c, 0, 255);
  if (numbers[c][0] == '\0')
    g_snprintf (numbers[c], sizeof numbers[c], "%d", c);
  return numbers[c];
}

/* Interleaved 8-bit pixels of one example (the data set stores planes). */
static guint8 *
interleaved (const CsDataHistory *d, cs_history_split split, int64_t pos)
{
  gsize plane = (gsize) d->height * d->width;
  const guint8 *src = d->pixels[split] + (gsize) pos * plane * d->channels;
  guint8 *out = g_malloc (plane * d->channels);

  for (gsize p = 0; p < plane; p++)
    for (int c = 0; c < d->channels; c++)
      out[p * d->channels + c] = src[c * plane + p];
  return out;
}

gboolean
cs_data_history_show (const CsDataHistory *d, CsSession *session, cs_history_split split,
                      int64_t pos, GError **error)
{
  const cs_history_examples *ex = &d->h->split[split];
  g_autofree guint8 *pixels = NULL;
  g_autofree char *name = NULL;

  g_return_val_if_fail (pos >= 0 && pos < ex->n, FALSE);
  pixels = interleaved (d, split, pos);
  name = g_strdup_printf ("%s:%lld", split == CS_HISTORY_TRAIN ? "train" : "test",
                          (long long) ex->index[pos]);
  return cs_session_set_image_pixels (session, pixels, d->width, d->height, d->channels,
                                      ex->label[pos], name, error);
}

GdkTexture *
cs_data_history_texture (const CsDataHistory *d, cs_history_split split, int64_t pos)
{
  g_autofree guint8 *pixels = interleaved (d, split, pos);
  cs_image img = { .width = d->width, .height = d->height, .channels = d->channels,
                   .pixels = pixels };

  return cs_image_texture_new (&img);
}
