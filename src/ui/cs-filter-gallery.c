/* CsFilterGallery: a worker job reads the layer's weights at the session's epoch and runs
 * the network up to the layer on the input; the main thread turns the result into items. */
#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n.h>

#include "cs-colormap.h"
#include "cs-filter-gallery.h"
#include "cs-filter-item.h"

#define MAX_FILTERS 512
#define THUMB 56

struct _CsFilterGallery
{
  GtkWidget parent_instance;
  CsSession *session;
  GListStore *store;
  GtkSortListModel *sorted;
  GtkSingleSelection *selection;
  gboolean loading;
  int layer;
  char channel[32];

  GtkWidget *box;
  GtkLabel *title;
  GtkLabel *subtitle;
  GtkSpinner *spinner;
  GtkToggleButton *sort_button;
  GtkGridView *grid;
};

enum { PROP_0, PROP_SESSION, PROP_LOADING, N_PROPS };
static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (CsFilterGallery, cs_filter_gallery, GTK_TYPE_WIDGET)

typedef struct
{
  CsModelSet *set;
  int epoch;
  int layer;
  GBytes *input;               /* NULL: weights only */
  cs_shape shape;
} FilterJob;

typedef struct
{
  int n;
  int weight_node;             /* the conv/linear whose weights are shown, or -1 */
  int wh, ww;                  /* upscaled weight image size */
  guint8 *wpix;                /* n * wh * ww * 4, straight RGBA */
  int fh, fw;                  /* upscaled feature map size */
  float *fmaps;                /* n * fh * fw, or NULL */
  float flo, fhi;              /* range of the layer's maps */
  double *mean, *norm;
} FilterResult;

static void
filter_job_free (gpointer data)
{
  FilterJob *job = data;

  g_clear_pointer (&job->set, cs_model_set_unref);
  g_clear_pointer (&job->input, g_bytes_unref);
  g_free (job);
}

static void
filter_result_free (gpointer data)
{
  FilterResult *r = data;

  g_free (r->wpix);
  g_free (r->fmaps);
  g_free (r->mean);
  g_free (r->norm);
  g_free (r);
}

static void
render_weights (const cs_graph *g, const cs_model *m, int wnode, FilterResult *r)
{
  const cs_node *n = &g->nodes[wnode];
  const cs_node *wn = &g->nodes[n->inputs[1]];
  const cs_tensor *w = &m->weights[wn->param_index];
  int64_t M, C, kh, kw, fsize;
  float maxabs = 0;
  int scale;
  gboolean trans = n->op == CS_OP_GEMM && !n->attrs.gemm.trans_b;

  if (n->op == CS_OP_CONV2D && w->shape.ndim == 4)
    {
      M = w->shape.dim[0], C = w->shape.dim[1], kh = w->shape.dim[2], kw = w->shape.dim[3];
    }
  else if (w->shape.ndim == 2)
    {
      M = trans ? w->shape.dim[1] : w->shape.dim[0];
      C = trans ? w->shape.dim[0] : w->shape.dim[1];
      kh = kw = 1;
    }
  else
    return;
  fsize = C * kh * kw;
  r->n = (int) MIN (M, (int64_t) r->n);
  r->norm = g_new0 (double, r->n);
  for (int k = 0; k < r->n; k++)
    {
      double s = 0;
      for (int64_t i = 0; i < fsize; i++)
        {
          float v = trans ? w->data[i * M + k] : w->data[k * fsize + i];
          s += (double) v * v;
          maxabs = MAX (maxabs, fabsf (v));
        }
      r->norm[k] = sqrt (s);
    }
  if (n->op != CS_OP_CONV2D || maxabs <= 0)
    return;  /* a linear layer's row has no picture; its norm is shown */

  /* Kernels as pictures: RGB when the input has 3 channels, else the mean |w| over inputs
   * (deeper layers), each pixel scaled nearest-neighbour so a 3x3 kernel stays crisp. */
  scale = MAX (1, THUMB / (int) MAX (kh, kw));
  r->weight_node = wnode;
  r->wh = (int) kh * scale;
  r->ww = (int) kw * scale;
  r->wpix = g_malloc0 ((gsize) r->n * r->wh * r->ww * 4);
  for (int k = 0; k < r->n; k++)
    for (int y = 0; y < r->wh; y++)
      for (int x = 0; x < r->ww; x++)
        {
          const float *f = w->data + k * fsize;
          int64_t i = (y / scale) * kw + (x / scale);
          guint8 *px = r->wpix + (((gsize) k * r->wh + y) * r->ww + x) * 4;
          if (C == 3 || C == 1)
            for (int c = 0; c < 3; c++)
              {
                float v = f[(C == 3 ? c : 0) * kh * kw + i];
                px[c] = (guint8) lrintf (255.0f * (0.5f + 0.5f * v / maxabs));
              }
          else
            {
              float s = 0;
              for (int64_t c = 0; c < C; c++)
                s += fabsf (f[c * kh * kw + i]);
              s /= (float) C;
              px[0] = px[1] = px[2] = (guint8) lrintf (255.0f * MIN (1.0f, 2.0f * s / maxabs));
            }
          px[3] = 255;
        }
}

static gpointer
filter_job_run (CsWorkerJob *wjob, gpointer data, GError **error)
{
  FilterJob *job = data;
  const cs_graph *g = cs_model_set_get_graph (job->set);
  const cs_node *node = &g->nodes[job->layer];
  g_autoptr (GError) local = NULL;
  FilterResult *r = g_new0 (FilterResult, 1);
  const cs_model *m;
  int wnode;

  r->weight_node = -1;
  r->n = MAX_FILTERS;
  if (node->shape.ndim >= 2)
    r->n = (int) MIN ((int64_t) MAX_FILTERS, node->shape.dim[1]);
  else
    r->n = 1;

  m = cs_worker_job_get_model (wjob, job->set, job->epoch, error);
  if (m == NULL)
    {
      filter_result_free (r);
      return NULL;
    }
  wnode = cs_graph_weight_node (g, job->layer);
  if (wnode >= 0)
    render_weights (g, m, wnode, r);
  cs_worker_job_set_fraction (wjob, 0.3);

  if (job->input != NULL && node->batched && !cs_worker_job_is_cancelled (wjob))
    {
      cs_error err = { 0 };
      cs_exec *e = cs_worker_job_get_exec (wjob, job->set, job->epoch, error);
      cs_tensor in;
      const cs_tensor *act;
      int64_t C, H, W;
      int scale;

      if (e == NULL)
        {
          filter_result_free (r);
          return NULL;
        }
      in = cs_tensor_view (&job->shape, (float *) g_bytes_get_data (job->input, NULL));
      if (cs_exec_forward_until (e, &in, job->layer, &err) != CS_OK)
        {
          cs_set_core_error (error, &err);
          filter_result_free (r);
          return NULL;
        }
      act = cs_exec_value (e, job->layer);
      C = act->shape.ndim >= 2 ? act->shape.dim[1] : 1;
      H = act->shape.ndim == 4 ? act->shape.dim[2] : 1;
      W = act->shape.ndim == 4 ? act->shape.dim[3] : 1;
      if (act->shape.ndim > 4 || (act->shape.ndim == 3))
        H = W = 1;  /* unusual layouts: one value per channel row */
      r->n = (int) MIN ((int64_t) r->n, C);
      scale = MAX (1, THUMB / (int) MAX (H, W));
      r->fh = (int) H * scale;
      r->fw = (int) W * scale;
      r->fmaps = g_new (float, (gsize) r->n * r->fh * r->fw);
      r->mean = g_new0 (double, r->n);
      r->flo = INFINITY;
      r->fhi = -INFINITY;
      for (int k = 0; k < r->n; k++)
        {
          const float *src = act->data + (gsize) k * H * W;
          double s = 0;
          for (int64_t i = 0; i < H * W; i++)
            {
              s += src[i];
              r->flo = MIN (r->flo, src[i]);
              r->fhi = MAX (r->fhi, src[i]);
            }
          r->mean[k] = s / (double) (H * W);
          for (int y = 0; y < r->fh; y++)
            for (int x = 0; x < r->fw; x++)
              r->fmaps[((gsize) k * r->fh + y) * r->fw + x] = src[(y / scale) * W + x / scale];
        }
    }
  cs_worker_job_set_fraction (wjob, 1.0);
  return r;
}

static GdkTexture *
weight_texture (FilterResult *r, int k)
{
  gsize size = (gsize) r->wh * r->ww * 4;
  g_autoptr (GBytes) bytes = g_bytes_new (r->wpix + size * k, size);

  return gdk_memory_texture_new (r->ww, r->wh, GDK_MEMORY_R8G8B8A8, bytes, (gsize) r->ww * 4);
}

static void
set_loading (CsFilterGallery *self, gboolean loading)
{
  if (self->loading == loading)
    return;
  self->loading = loading;
  gtk_spinner_set_spinning (self->spinner, loading);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
}

static void
filter_job_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (CsFilterGallery) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) items = NULL;
  FilterResult *r;

  r = cs_worker_finish (CS_WORKER (source), result, &error);
  if (r == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          gtk_label_set_text (self->subtitle, error->message);
          g_list_store_remove_all (self->store);
          set_loading (self, FALSE);
        }
      return;
    }

  items = g_ptr_array_new_with_free_func (g_object_unref);
  for (int k = 0; k < r->n; k++)
    {
      g_autoptr (GdkTexture) wt = r->wpix != NULL ? weight_texture (r, k) : NULL;
      g_autoptr (GdkTexture) ft = NULL;
      if (r->fmaps != NULL)
        ft = cs_colormap_texture (CS_COLORMAP_VIRIDIS, r->fmaps + (gsize) k * r->fh * r->fw,
                                  r->fw, r->fh, r->flo, r->fhi > r->flo ? r->fhi : r->flo + 1,
                                  FALSE);
      g_ptr_array_add (items, cs_filter_item_new (k, wt, ft, r->mean != NULL ? r->mean[k] : 0,
                                                  r->norm != NULL ? r->norm[k] : 0));
    }
  g_list_store_splice (self->store, 0, g_list_model_get_n_items (G_LIST_MODEL (self->store)),
                       items->pdata, items->len);
  filter_result_free (r);
  set_loading (self, FALSE);
}

static void
update_header (CsFilterGallery *self)
{
  CsModelSet *set;
  const cs_graph *g;
  const cs_node *n;
  char shape[96];
  g_autofree char *title = NULL;

  if (self->session == NULL || (set = cs_session_get_model_set (self->session)) == NULL
      || self->layer < 0)
    {
      gtk_label_set_text (self->title, _("Filters"));
      gtk_label_set_text (self->subtitle, _("Select a layer in the graph"));
      return;
    }
  g = cs_model_set_get_graph (set);
  n = &g->nodes[self->layer];
  title = g_strdup_printf (_("Filters of %s"), n->name);
  gtk_label_set_text (self->title, title);
  cs_shape_format (&n->shape, shape, sizeof shape);
  {
    g_autofree char *sub = g_strdup_printf (_("Output %s · epoch %d · weights left, feature map right"),
                                            shape,
                                            cs_model_set_get_epoch_number (set, cs_session_get_epoch (self->session)));
    gtk_label_set_text (self->subtitle, sub);
  }
}

static void
refresh (CsFilterGallery *self)
{
  CsModelSet *set;
  FilterJob *job;
  const cs_graph *g;

  if (self->session == NULL || (set = cs_session_get_model_set (self->session)) == NULL)
    return;
  g = cs_model_set_get_graph (set);
  self->layer = cs_session_get_layer (self->session);
  if (self->layer < 0 || self->layer >= g->n_nodes || g->nodes[self->layer].op == CS_OP_PARAM
      || g->nodes[self->layer].op == CS_OP_CONST)
    {
      self->layer = -1;
      cs_worker_cancel (cs_session_get_worker (self->session), self->channel);
      g_list_store_remove_all (self->store);
      update_header (self);
      set_loading (self, FALSE);
      return;
    }
  update_header (self);

  job = g_new0 (FilterJob, 1);
  job->set = cs_model_set_ref (set);
  job->epoch = cs_session_get_epoch (self->session);
  job->layer = self->layer;
  job->input = cs_session_dup_input_bytes (self->session, &job->shape);
  set_loading (self, TRUE);
  cs_worker_run (cs_session_get_worker (self->session), self->channel, FALSE, filter_job_run, job,
                 filter_job_free, filter_result_free, filter_job_done, g_object_ref (self));
}

static void
session_changed_cb (CsSession *session, GParamSpec *pspec, CsFilterGallery *self)
{
  refresh (self);
}

static void
unit_changed_cb (CsSession *session, GParamSpec *pspec, CsFilterGallery *self)
{
  int unit = cs_session_get_unit (session);
  GListModel *model = G_LIST_MODEL (self->sorted);
  guint n = g_list_model_get_n_items (model);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (CsFilterItem) item = g_list_model_get_item (model, i);
      if (cs_filter_item_get_index (item) == unit)
        {
          gtk_single_selection_set_selected (self->selection, i);
          return;
        }
    }
  gtk_single_selection_set_selected (self->selection, GTK_INVALID_LIST_POSITION);
}

static void
grid_activate_cb (GtkGridView *grid, guint position, CsFilterGallery *self)
{
  g_autoptr (CsFilterItem) item = g_list_model_get_item (G_LIST_MODEL (self->sorted), position);

  if (item != NULL && self->session != NULL)
    cs_session_set_unit (self->session, cs_filter_item_get_index (item));
}

void
cs_filter_gallery_set_sort_by_activation (CsFilterGallery *self, gboolean sort)
{
  g_autoptr (GtkExpression) expr = NULL;
  GtkSorter *sorter = NULL;

  if (sort)
    {
      expr = gtk_property_expression_new (CS_TYPE_FILTER_ITEM, NULL, "mean-activation");
      sorter = GTK_SORTER (gtk_numeric_sorter_new (g_steal_pointer (&expr)));
      gtk_numeric_sorter_set_sort_order (GTK_NUMERIC_SORTER (sorter), GTK_SORT_DESCENDING);
    }
  gtk_sort_list_model_set_sorter (self->sorted, sorter);
  g_clear_object (&sorter);
  if (gtk_toggle_button_get_active (self->sort_button) != sort)
    gtk_toggle_button_set_active (self->sort_button, sort);
}

static void
sort_toggled_cb (GtkToggleButton *button, CsFilterGallery *self)
{
  cs_filter_gallery_set_sort_by_activation (self, gtk_toggle_button_get_active (button));
}

static void
item_setup_cb (GtkSignalListItemFactory *factory, GtkListItem *li, gpointer user_data)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 2);
  GtkWidget *weights = gtk_picture_new ();
  GtkWidget *fmap = gtk_picture_new ();
  GtkWidget *label = gtk_label_new (NULL);

  gtk_widget_set_size_request (weights, THUMB, THUMB);
  gtk_widget_set_size_request (fmap, THUMB, THUMB);
  gtk_picture_set_can_shrink (GTK_PICTURE (weights), TRUE);
  gtk_picture_set_can_shrink (GTK_PICTURE (fmap), TRUE);
  gtk_widget_add_css_class (weights, "filter-weights");
  gtk_widget_add_css_class (label, "caption");
  gtk_box_append (GTK_BOX (row), weights);
  gtk_box_append (GTK_BOX (row), fmap);
  gtk_box_append (GTK_BOX (box), row);
  gtk_box_append (GTK_BOX (box), label);
  gtk_widget_add_css_class (box, "filter-cell");
  gtk_list_item_set_child (li, box);
}

static void
item_bind_cb (GtkSignalListItemFactory *factory, GtkListItem *li, gpointer user_data)
{
  CsFilterItem *item = gtk_list_item_get_item (li);
  GtkWidget *box = gtk_list_item_get_child (li);
  GtkWidget *row = gtk_widget_get_first_child (box);
  GtkWidget *weights = gtk_widget_get_first_child (row);
  GtkWidget *fmap = gtk_widget_get_next_sibling (weights);
  GtkWidget *label = gtk_widget_get_next_sibling (row);
  g_autofree char *text = NULL;

  gtk_picture_set_paintable (GTK_PICTURE (weights), GDK_PAINTABLE (cs_filter_item_get_weights (item)));
  gtk_widget_set_visible (weights, cs_filter_item_get_weights (item) != NULL);
  gtk_picture_set_paintable (GTK_PICTURE (fmap), GDK_PAINTABLE (cs_filter_item_get_feature_map (item)));
  gtk_widget_set_visible (fmap, cs_filter_item_get_feature_map (item) != NULL);
  text = g_strdup_printf ("#%d  μ %.2f  ‖w‖ %.2f", cs_filter_item_get_index (item),
                          cs_filter_item_get_mean_activation (item),
                          cs_filter_item_get_weight_norm (item));
  gtk_label_set_text (GTK_LABEL (label), text);
}

CsSession *
cs_filter_gallery_get_session (CsFilterGallery *self)
{
  return self->session;
}

void
cs_filter_gallery_set_session (CsFilterGallery *self, CsSession *session)
{
  static const char *const signals[] = { "notify::model-set", "notify::epoch", "notify::layer",
                                         "notify::image" };

  g_return_if_fail (CS_IS_FILTER_GALLERY (self));
  if (self->session == session)
    return;
  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);
  g_set_object (&self->session, session);
  if (session != NULL)
    {
      for (guint i = 0; i < G_N_ELEMENTS (signals); i++)
        g_signal_connect_object (session, signals[i], G_CALLBACK (session_changed_cb), self, 0);
      g_signal_connect_object (session, "notify::unit", G_CALLBACK (unit_changed_cb), self, 0);
      refresh (self);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SESSION]);
}

GListModel *
cs_filter_gallery_get_model (CsFilterGallery *self)
{
  return G_LIST_MODEL (self->sorted);
}

gboolean
cs_filter_gallery_get_loading (CsFilterGallery *self)
{
  return self->loading;
}

int
cs_filter_gallery_get_layer (CsFilterGallery *self)
{
  return self->layer;
}

static void
cs_filter_gallery_dispose (GObject *object)
{
  CsFilterGallery *self = CS_FILTER_GALLERY (object);

  if (self->session != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->session, self);
      cs_worker_cancel (cs_session_get_worker (self->session), self->channel);
    }
  g_clear_object (&self->session);
  gtk_widget_dispose_template (GTK_WIDGET (self), CS_TYPE_FILTER_GALLERY);
  g_clear_object (&self->selection);
  g_clear_object (&self->sorted);
  G_OBJECT_CLASS (cs_filter_gallery_parent_class)->dispose (object);
}

static void
cs_filter_gallery_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CsFilterGallery *self = CS_FILTER_GALLERY (object);

  switch (prop_id)
    {
    case PROP_SESSION: g_value_set_object (value, self->session); break;
    case PROP_LOADING: g_value_set_boolean (value, self->loading); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_filter_gallery_set_property (GObject *object, guint prop_id, const GValue *value,
                                GParamSpec *pspec)
{
  CsFilterGallery *self = CS_FILTER_GALLERY (object);

  switch (prop_id)
    {
    case PROP_SESSION: cs_filter_gallery_set_session (self, g_value_get_object (value)); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_filter_gallery_class_init (CsFilterGalleryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cs_filter_gallery_dispose;
  object_class->get_property = cs_filter_gallery_get_property;
  object_class->set_property = cs_filter_gallery_set_property;

  properties[PROP_SESSION] =
    g_param_spec_object ("session", NULL, NULL, CS_TYPE_SESSION,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_LOADING] =
    g_param_spec_boolean ("loading", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/convscope/Convscope/cs-filter-gallery.ui");
  gtk_widget_class_bind_template_child (widget_class, CsFilterGallery, box);
  gtk_widget_class_bind_template_child (widget_class, CsFilterGallery, title);
  gtk_widget_class_bind_template_child (widget_class, CsFilterGallery, subtitle);
  gtk_widget_class_bind_template_child (widget_class, CsFilterGallery, spinner);
  gtk_widget_class_bind_template_child (widget_class, CsFilterGallery, sort_button);
  gtk_widget_class_bind_template_child (widget_class, CsFilterGallery, grid);
  gtk_widget_class_bind_template_callback (widget_class, sort_toggled_cb);
  gtk_widget_class_bind_template_callback (widget_class, grid_activate_cb);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "csfiltergallery");
}

static void
cs_filter_gallery_init (CsFilterGallery *self)
{
  static guint counter;
  GtkListItemFactory *factory;

  gtk_widget_init_template (GTK_WIDGET (self));
  g_snprintf (self->channel, sizeof self->channel, "filters-%u", ++counter);
  self->layer = -1;
  self->store = g_list_store_new (CS_TYPE_FILTER_ITEM);
  self->sorted = gtk_sort_list_model_new (G_LIST_MODEL (self->store), NULL);
  self->selection = gtk_single_selection_new (G_LIST_MODEL (g_object_ref (self->sorted)));
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  gtk_single_selection_set_can_unselect (self->selection, TRUE);
  gtk_single_selection_set_selected (self->selection, GTK_INVALID_LIST_POSITION);
  gtk_grid_view_set_model (self->grid, GTK_SELECTION_MODEL (self->selection));

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (item_setup_cb), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (item_bind_cb), NULL);
  gtk_grid_view_set_factory (self->grid, factory);
  g_object_unref (factory);
  update_header (self);
}

GtkWidget *
cs_filter_gallery_new (CsSession *session)
{
  return g_object_new (CS_TYPE_FILTER_GALLERY, "session", session, NULL);
}
