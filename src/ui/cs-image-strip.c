/* CsImageStrip: thumbnails and preprocessed inputs are decoded once per run on the worker;
 * predictions for the whole strip are one batched job per epoch. */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "cs-image-strip.h"
#include "cs-jobs.h"
#include "data/run_example.h"
#include "io/image.h"

#define MAX_IMAGES 64
/* A run without an images directory shows the first examples of its data set's test split. */
#define MAX_EXAMPLES 24

typedef struct
{
  char *path;                  /* an image file, or NULL for a data-set example */
  char *name;                  /* as the session names the image: basename, or "test:N" */
  cs_image pixels;             /* data-set examples: the pixels */
  int label;
  GtkWidget *button;
  GtkWidget *caption;
} Entry;

struct _CsImageStrip
{
  GtkWidget parent_instance;
  CsSession *session;
  GtkWidget *scroller;
  GtkWidget *box;
  GArray *entries;             /* Entry */
  GBytes *inputs;              /* every image preprocessed, for one batched prediction */
  cs_shape shape;
  int n_misclassified;
  char channel[32];
};

G_DEFINE_FINAL_TYPE (CsImageStrip, cs_image_strip, GTK_TYPE_WIDGET)

static void
entry_clear (gpointer data)
{
  Entry *e = data;

  g_free (e->path);
  g_free (e->name);
  g_free (e->pixels.pixels);
}

static void
image_opened_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GtkWidget) button = user_data;
  g_autoptr (GError) error = NULL;

  if (!cs_session_open_finish (CS_SESSION (source), result, &error)
      && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    gtk_widget_set_tooltip_text (button, error->message);
}

static void
image_clicked_cb (GtkButton *button, CsImageStrip *self)
{
  guint i = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (button), "index"));
  Entry *e = &g_array_index (self->entries, Entry, i);
  g_autoptr (GError) error = NULL;

  /* An image file is decoded on the worker; a data-set example's pixels are at hand. A failure
   * shows on the button. */
  if (e->path != NULL)
    cs_session_open_async (self->session, e->path, TRUE, e->label, image_opened_cb, g_object_ref (e->button));
  else if (!cs_session_set_image_pixels (self->session, e->pixels.pixels, e->pixels.width, e->pixels.height,
                                         e->pixels.channels, e->label, e->name, &error))
    gtk_widget_set_tooltip_text (e->button, error->message);
}

/* Marks the entry showing in the views. */
static void
update_selection (CsImageStrip *self)
{
  const char *shown = self->session != NULL ? cs_session_get_image_name (self->session) : NULL;

  for (guint i = 0; i < self->entries->len; i++)
    {
      Entry *e = &g_array_index (self->entries, Entry, i);
      if (g_strcmp0 (e->name, shown) == 0)
        gtk_widget_add_css_class (e->button, "selected");
      else
        gtk_widget_remove_css_class (e->button, "selected");
    }
}

/* The epoch cannot predict (unreadable or non-finite weights, overflowing outputs): the true
 * labels only, the reason in each tooltip, rather than another epoch's predictions. */
static void
show_no_predictions (CsImageStrip *self, CsModelSet *set, const char *why)
{
  self->n_misclassified = -1;
  for (guint i = 0; i < self->entries->len; i++)
    {
      Entry *e = &g_array_index (self->entries, Entry, i);
      char b[64];
      g_autofree char *text = e->label >= 0
                              ? g_strdup_printf ("%s\n→ —", cs_model_set_get_class_label (set, e->label, b, sizeof b))
                              : g_strdup ("→ —");

      gtk_label_set_text (GTK_LABEL (e->caption), text);
      gtk_widget_set_tooltip_text (e->button, why);
      gtk_widget_remove_css_class (e->button, "misclassified");
    }
}

static void
predict_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (CsImageStrip) self = user_data;
  g_autoptr (GError) error = NULL;
  CsPredictResult *r = cs_worker_finish (CS_WORKER (source), result, &error);
  CsModelSet *set = cs_session_get_model_set (self->session);

  if (r == NULL && set != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      show_no_predictions (self, set, error->message);
      return;
    }
  if (r == NULL || set == NULL || (guint) r->n != self->entries->len)
    {
      g_clear_pointer (&r, cs_predict_result_free);
      return;
    }
  self->n_misclassified = 0;
  for (guint i = 0; i < self->entries->len; i++)
    {
      Entry *e = &g_array_index (self->entries, Entry, i);
      int top;
      char b1[64], b2[64];
      g_autofree char *text = NULL, *tip = NULL;
      gboolean wrong;

      cs_predict_result_top (r, (int) i, 1, &top);
      wrong = e->label >= 0 && top != e->label;
      self->n_misclassified += wrong;
      /* The caption names the classes (ellipsized to the thumbnail); the tooltip adds the
       * probability and where the image comes from. */
      if (e->label >= 0)
        text = g_strdup_printf ("%s\n→ %s", cs_model_set_get_class_label (set, e->label, b1, sizeof b1),
                                cs_model_set_get_class_label (set, top, b2, sizeof b2));
      else
        text = g_strdup_printf ("→ %s", cs_model_set_get_class_label (set, top, b2, sizeof b2));
      tip = g_strdup_printf (_("%s (%.0f %%)\n%s"), text, 100.0 * r->probs[(gsize) i * r->n_classes + top],
                             e->path != NULL ? e->path : e->name);
      gtk_label_set_text (GTK_LABEL (e->caption), text);
      gtk_widget_set_tooltip_text (e->button, tip);
      if (wrong)
        gtk_widget_add_css_class (e->button, "misclassified");
      else
        gtk_widget_remove_css_class (e->button, "misclassified");
    }
  cs_predict_result_free (r);
}

static void
run_predict (CsImageStrip *self)
{
  CsModelSet *set = cs_session_get_model_set (self->session);

  if (set == NULL || self->inputs == NULL || self->entries->len == 0)
    return;
  cs_worker_run (cs_session_get_worker (self->session), self->channel, FALSE, cs_predict_job_run,
                 cs_predict_job_new (set, cs_session_get_epoch (self->session), self->inputs,
                                     &self->shape, (int) self->entries->len),
                 cs_predict_job_free, cs_predict_result_free, predict_done, g_object_ref (self));
}

/* Decoding the strip's images, on the worker: each image's texture and preprocessed input. */
typedef struct
{
  GPtrArray *images;           /* CsRunImage */
  CsModelSet *set;             /* keeps the model alive while the job runs */
  char *run_path;              /* a run's data set examples when it has no images; or NULL */
} DecodeJob;

typedef struct
{
  char *path, *name;           /* path NULL: a data-set example, pixels kept */
  cs_image pixels;
  int label;
  GdkTexture *texture;
} DecodedImage;

typedef struct
{
  GArray *images;              /* DecodedImage */
  GByteArray *inputs;
  cs_shape shape;
} Decoded;

static void
decode_job_free (gpointer data)
{
  DecodeJob *j = data;

  g_ptr_array_unref (j->images);
  cs_model_set_unref (j->set);
  g_free (j->run_path);
  g_free (j);
}

static void
decoded_image_clear (gpointer data)
{
  DecodedImage *di = data;

  g_free (di->path);
  g_free (di->name);
  g_free (di->pixels.pixels);
  g_clear_object (&di->texture);
}

static void
decoded_free (gpointer data)
{
  Decoded *d = data;

  g_array_unref (d->images);
  g_clear_pointer (&d->inputs, g_byte_array_unref);
  g_free (d);
}

/* img preprocessed for m into d; data-set examples (path NULL) keep their pixels for the click. */
static void
decode_add (Decoded *d, const cs_model *m, const cs_image *img, const char *path, const char *name, int label)
{
  cs_tensor t = { 0 };
  cs_error err = { 0 };
  DecodedImage di = { 0 };

  if (cs_image_for_model (img, m, NULL, NULL, &t, &err) != CS_OK)
    return;
  g_byte_array_append (d->inputs, (const guint8 *) t.data, (guint) (cs_tensor_numel (&t) * sizeof (float)));
  d->shape = t.shape;
  cs_tensor_free (&t);
  di.path = g_strdup (path);
  di.name = g_strdup (name);
  di.label = label;
  if (path == NULL)
    di.pixels = (cs_image) { .width = img->width, .height = img->height, .channels = img->channels,
                             .pixels = g_memdup2 (img->pixels, (gsize) img->width * img->height * img->channels) };
  /* A memory texture is immutable: made here, shown on the main thread. */
  di.texture = cs_image_texture_new (img);
  g_array_append_val (d->images, di);
}

static gpointer
decode_job_run (CsWorkerJob *job, gpointer data, GError **error)
{
  DecodeJob *j = data;
  Decoded *d = g_new0 (Decoded, 1);
  const cs_model *m = cs_model_set_get_base (j->set);

  d->images = g_array_new (FALSE, TRUE, sizeof (DecodedImage));
  g_array_set_clear_func (d->images, decoded_image_clear);
  d->inputs = g_byte_array_new ();
  for (guint i = 0; i < j->images->len && d->images->len < MAX_IMAGES; i++)
    {
      CsRunImage *ri = g_ptr_array_index (j->images, i);
      g_autofree char *name = g_path_get_basename (ri->path);
      cs_image img = { 0 };
      cs_error err = { 0 };

      if (cs_worker_job_is_cancelled (job))
        break;
      if (cs_image_load (ri->path, &img, &err) == CS_OK)
        decode_add (d, m, &img, ri->path, name, ri->label);
      cs_image_free (&img);
      cs_worker_job_set_fraction (job, (double) (i + 1) / MIN (j->images->len, MAX_IMAGES));
    }
  if (j->images->len == 0 && j->run_path != NULL)
    {
      cs_image examples[MAX_EXAMPLES];
      int32_t labels[MAX_EXAMPLES], n = 0;
      cs_error err = { 0 };

      cs_run_examples_load (j->run_path, false, 0, MAX_EXAMPLES, examples, labels, &n, &err);
      for (int32_t i = 0; i < n; i++)
        {
          g_autofree char *name = g_strdup_printf ("test:%d", i);
          decode_add (d, m, &examples[i], NULL, name, labels[i]);
          cs_image_free (&examples[i]);
        }
    }
  return d;
}

/* One thumbnail button with its caption (two lines at most, ellipsized; in full in the tooltip). */
static void
add_entry (CsImageStrip *self, CsModelSet *set, DecodedImage *di)
{
  Entry e = { 0 };
  GtkWidget *vbox, *picture;
  char buf[64];

  e.path = g_steal_pointer (&di->path);
  e.name = g_steal_pointer (&di->name);
  e.pixels = di->pixels;
  di->pixels.pixels = NULL;
  e.label = di->label;
  e.button = gtk_button_new ();
  vbox = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  picture = gtk_picture_new_for_paintable (GDK_PAINTABLE (di->texture));
  gtk_widget_set_size_request (picture, 56, 56);
  e.caption = gtk_label_new (e.label >= 0 ? cs_model_set_get_class_label (set, e.label, buf, sizeof buf) : "");
  gtk_label_set_justify (GTK_LABEL (e.caption), GTK_JUSTIFY_CENTER);
  gtk_label_set_ellipsize (GTK_LABEL (e.caption), PANGO_ELLIPSIZE_END);
  gtk_label_set_width_chars (GTK_LABEL (e.caption), 10);
  gtk_label_set_max_width_chars (GTK_LABEL (e.caption), 10);
  gtk_widget_add_css_class (e.caption, "caption");
  gtk_box_append (GTK_BOX (vbox), picture);
  gtk_box_append (GTK_BOX (vbox), e.caption);
  gtk_button_set_child (GTK_BUTTON (e.button), vbox);
  gtk_widget_add_css_class (e.button, "flat");
  gtk_widget_add_css_class (e.button, "strip-image");
  gtk_widget_set_tooltip_text (e.button, e.path != NULL ? e.path : e.name);
  g_object_set_data (G_OBJECT (e.button), "index", GUINT_TO_POINTER (self->entries->len));
  g_signal_connect (e.button, "clicked", G_CALLBACK (image_clicked_cb), self);
  gtk_box_append (GTK_BOX (self->box), e.button);
  g_array_append_val (self->entries, e);
}

static void
decode_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (CsImageStrip) self = user_data;
  g_autoptr (GError) error = NULL;
  Decoded *d = cs_worker_finish (CS_WORKER (source), result, &error);
  CsModelSet *set = cs_session_get_model_set (self->session);

  if (d == NULL || set == NULL)
    {
      g_clear_pointer (&d, decoded_free);
      return;
    }
  for (guint i = 0; i < d->images->len; i++)
    add_entry (self, set, &g_array_index (d->images, DecodedImage, i));
  if (self->entries->len > 0)
    {
      self->shape = d->shape;
      self->inputs = g_byte_array_free_to_bytes (g_steal_pointer (&d->inputs));
    }
  decoded_free (d);
  gtk_widget_set_visible (GTK_WIDGET (self), self->entries->len > 0);
  update_selection (self);
  run_predict (self);
}

static void
rebuild (CsImageStrip *self)
{
  CsModelSet *set = cs_session_get_model_set (self->session);
  GtkWidget *child;
  DecodeJob *j;
  char channel[40];

  while ((child = gtk_widget_get_first_child (self->box)) != NULL)
    gtk_box_remove (GTK_BOX (self->box), child);
  g_array_set_size (self->entries, 0);
  g_clear_pointer (&self->inputs, g_bytes_unref);
  self->n_misclassified = -1;
  g_snprintf (channel, sizeof channel, "%s-decode", self->channel);
  if (set == NULL)
    {
      cs_worker_cancel (cs_session_get_worker (self->session), channel);
      gtk_widget_set_visible (GTK_WIDGET (self), FALSE);
      return;
    }
  j = g_new0 (DecodeJob, 1);
  j->images = cs_session_list_run_images (self->session);
  j->set = cs_model_set_ref (set);
  j->run_path = cs_model_set_get_run (set) != NULL ? g_strdup (cs_model_set_get_run (set)->path) : NULL;
  cs_worker_run (cs_session_get_worker (self->session), channel, FALSE, decode_job_run, j,
                 decode_job_free, decoded_free, decode_done, g_object_ref (self));
}

static void
model_set_changed_cb (CsSession *session, GParamSpec *pspec, CsImageStrip *self)
{
  rebuild (self);
}

static void
epoch_changed_cb (CsSession *session, GParamSpec *pspec, CsImageStrip *self)
{
  run_predict (self);
}

static void
image_changed_cb (CsSession *session, GParamSpec *pspec, CsImageStrip *self)
{
  update_selection (self);
}

void
cs_image_strip_set_session (CsImageStrip *self, CsSession *session)
{
  if (self->session == session)
    return;
  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);
  g_set_object (&self->session, session);
  if (session != NULL)
    {
      g_signal_connect_object (session, "notify::model-set", G_CALLBACK (model_set_changed_cb), self, 0);
      g_signal_connect_object (session, "notify::epoch", G_CALLBACK (epoch_changed_cb), self, 0);
      g_signal_connect_object (session, "notify::image", G_CALLBACK (image_changed_cb), self, 0);
      rebuild (self);
    }
}

guint
cs_image_strip_get_n_images (CsImageStrip *self)
{
  return self->entries->len;
}

int
cs_image_strip_get_n_misclassified (CsImageStrip *self)
{
  return self->n_misclassified;
}

static void
cs_image_strip_dispose (GObject *object)
{
  CsImageStrip *self = CS_IMAGE_STRIP (object);

  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);
  g_clear_object (&self->session);
  g_clear_pointer (&self->scroller, gtk_widget_unparent);
  g_clear_pointer (&self->inputs, g_bytes_unref);
  G_OBJECT_CLASS (cs_image_strip_parent_class)->dispose (object);
}

static void
cs_image_strip_finalize (GObject *object)
{
  CsImageStrip *self = CS_IMAGE_STRIP (object);

  g_array_unref (self->entries);
  G_OBJECT_CLASS (cs_image_strip_parent_class)->finalize (object);
}

static void
cs_image_strip_class_init (CsImageStripClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cs_image_strip_dispose;
  object_class->finalize = cs_image_strip_finalize;
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "csimagestrip");
}

static void
cs_image_strip_init (CsImageStrip *self)
{
  static guint counter;

  g_snprintf (self->channel, sizeof self->channel, "strip-%u", ++counter);
  self->entries = g_array_new (FALSE, TRUE, sizeof (Entry));
  g_array_set_clear_func (self->entries, entry_clear);
  self->n_misclassified = -1;
  self->scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (self->scroller), GTK_POLICY_AUTOMATIC,
                                  GTK_POLICY_NEVER);
  self->box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 2);
  gtk_widget_set_margin_start (self->box, 6);
  gtk_widget_set_margin_end (self->box, 6);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (self->scroller), self->box);
  gtk_widget_set_parent (self->scroller, GTK_WIDGET (self));
}

GtkWidget *
cs_image_strip_new (CsSession *session)
{
  CsImageStrip *self = g_object_new (CS_TYPE_IMAGE_STRIP, NULL);

  cs_image_strip_set_session (self, session);
  return GTK_WIDGET (self);
}
