/* CsDataView: computes the open run's example history on the worker when first shown, hands
 * it to its panels and keeps them at the session's epoch; the panels' clicks select inputs. */
#include "config.h"

#include <glib/gi18n.h>
#include <adwaita.h>
#include <math.h>
#include <string.h>

#include "cs-data-view.h"

struct _CsDataView
{
  GtkWidget parent_instance;
  CsSession *session;
  CsDataHistory *history;
  CsModelSet *computed_for;     /* the model set the history (or its error) belongs to */
  gboolean loading;
  guint64 generation;           /* of the history job running */
  char *status;
  int cell_t, cell_p;

  GtkWidget *box;
  GtkLabel *summary_label;
  GtkScale *epoch_scale;
  GtkAdjustment *epoch_adjustment;
  GtkLabel *epoch_label;
  gboolean updating;
  GtkStack *state_stack;
  AdwStatusPage *status_page;
  GtkToggleButton *by_class_button;
  CsCartographyChart *cartography;
  GtkLabel *confusion_label;
  CsConfusionMatrix *confusion;
  GtkLabel *auroc_label;
  CsAurocChart *auroc_chart;
  GtkLabel *gallery_label;
  GtkStack *gallery_stack;
  CsExampleGallery *suspects;
  CsExampleGallery *cell_gallery;
  CsShortcutPanel *shortcuts;
};

enum { PROP_0, PROP_SESSION, PROP_LOADING, N_PROPS };
static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (CsDataView, cs_data_view, GTK_TYPE_WIDGET)

#define CHANNEL "data-history"
#define N_SUSPECTS 60

static void
set_loading (CsDataView *self, gboolean loading)
{
  if (self->loading != loading)
    {
      self->loading = loading;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
    }
}

static void
show_status (CsDataView *self, const char *title, const char *description)
{
  g_free (self->status);
  self->status = g_strdup_printf ("%s: %s", title, description);
  adw_status_page_set_title (self->status_page, title);
  adw_status_page_set_description (self->status_page, description);
  gtk_stack_set_visible_child_name (self->state_stack, "status");
}

static void
set_history (CsDataView *self, CsDataHistory *d)
{
  /* The panels borrow the history: they let go of the old one before it is freed. */
  cs_cartography_chart_set_data (self->cartography, d);
  cs_confusion_matrix_set_data (self->confusion, d);
  cs_auroc_chart_set_data (self->auroc_chart, d);
  cs_shortcut_panel_set_data (self->shortcuts, d);
  cs_example_gallery_set_items (self->suspects, NULL, CS_HISTORY_TRAIN, NULL, 0, NULL, NULL);
  cs_example_gallery_set_items (self->cell_gallery, NULL, CS_HISTORY_TEST, NULL, 0, NULL, NULL);
  g_clear_pointer (&self->history, cs_data_history_free);
  self->history = d;
  self->cell_t = self->cell_p = -1;
}

static void
fill_suspects (CsDataView *self)
{
  const CsDataHistory *d = self->history;
  const cs_history_examples *ex = &d->h->split[CS_HISTORY_TRAIN];
  int64_t n = MIN (ex->n, N_SUSPECTS);
  g_auto (GStrv) captions = g_new0 (char *, n + 1);

  for (int64_t i = 0; i < n; i++)
    {
      int64_t pos = d->suspects[i];
      const cs_example_measures *m = &d->measures[pos];
      captions[i] = g_strdup_printf (_("#%lld %s → %s\nAUM %.2f"), (long long) ex->index[pos],
                                     cs_data_history_class_name (d, ex->label[pos]),
                                     cs_data_history_class_name (d, m->likely_label), m->aum);
    }
  cs_example_gallery_set_items (self->suspects, d, CS_HISTORY_TRAIN, d->suspects, n, captions,
                                _("No training examples"));
}

void
cs_data_view_show_cell (CsDataView *self, int t, int p)
{
  const CsDataHistory *d = self->history;
  int k = cs_confusion_matrix_get_epoch (self->confusion);
  g_autoptr (GArray) members = g_array_new (FALSE, FALSE, sizeof (int64_t));
  g_autoptr (GPtrArray) captions = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *what = NULL;
  const cs_history_examples *ex;

  if (d == NULL || k < 0 || t < 0 || p < 0 || t >= d->h->n_classes || p >= d->h->n_classes)
    return;
  ex = &d->h->split[CS_HISTORY_TEST];
  self->cell_t = t;
  self->cell_p = p;
  for (int64_t i = 0; i < ex->n; i++)
    if (ex->label[i] == t && ex->pred[i * d->h->n_epochs + k] == p)
      {
        g_array_append_val (members, i);
        g_ptr_array_add (captions, g_strdup_printf (_("#%lld · p %.2f"), (long long) ex->index[i],
                                                    ex->prob[i * d->h->n_epochs + k]));
      }
  g_ptr_array_add (captions, NULL);
  cs_example_gallery_set_items (self->cell_gallery, d, CS_HISTORY_TEST, (int64_t *) (void *) members->data,
                                members->len, (char **) captions->pdata, _("No examples in this cell"));
  what = g_strdup_printf (_("%u validation examples of “%s” predicted “%s” at epoch %d; click one to explain it"),
                          members->len, cs_data_history_class_name (d, t),
                          cs_data_history_class_name (d, p), d->h->epochs[k]);
  gtk_label_set_text (self->gallery_label, what);
  gtk_stack_set_visible_child_name (self->gallery_stack, "cell");
}

static void
gallery_page_cb (CsDataView *self)
{
  const char *page = gtk_stack_get_visible_child_name (self->gallery_stack);

  if (self->history == NULL)
    gtk_label_set_text (self->gallery_label, "");
  else if (g_strcmp0 (page, "shortcuts") == 0)
    {
      gtk_label_set_text (self->gallery_label,
                          _("What each class’s explanations share (SpRAy, Lapuschkin et al. 2019): a small box holding most images’ attribution mass is a shortcut candidate"));
      cs_shortcut_panel_update (self->shortcuts);
    }
  else if (g_strcmp0 (page, "suspects") == 0)
    gtk_label_set_text (self->gallery_label,
                        _("Likely label errors: training examples ranked by area under the margin (Pleiss et al. 2020), given label → likely label"));
  else if (self->cell_t < 0)
    gtk_label_set_text (self->gallery_label, _("Click a cell of the confusion matrix to list its examples"));
  else
    cs_data_view_show_cell (self, self->cell_t, self->cell_p);
}

/* The page's own scrubber, bound to the session's epoch like the Training page's. */
static void
update_scale (CsDataView *self)
{
  CsModelSet *set = self->session != NULL ? cs_session_get_model_set (self->session) : NULL;
  int n = self->session != NULL ? cs_session_get_n_epochs (self->session) : 0;
  int epoch = self->session != NULL ? cs_session_get_epoch (self->session) : 0;
  g_autofree char *text = NULL;

  self->updating = TRUE;
  gtk_adjustment_configure (self->epoch_adjustment, MAX (epoch, 0), 0, MAX (n - 1, 0), 1, 1, 0);
  self->updating = FALSE;
  gtk_widget_set_sensitive (GTK_WIDGET (self->epoch_scale), n > 1);
  if (set != NULL && n > 0)
    text = g_strdup_printf (_("Epoch %d / %d"), cs_model_set_get_epoch_number (set, MAX (epoch, 0)),
                            cs_model_set_get_epoch_number (set, n - 1));
  gtk_label_set_text (self->epoch_label, text != NULL ? text : "");
}

static void
scale_changed_cb (CsDataView *self)
{
  if (!self->updating && self->session != NULL)
    cs_session_set_epoch (self->session,
                          (int) (gtk_adjustment_get_value (self->epoch_adjustment) + 0.5));
}

static void
update_epoch (CsDataView *self)
{
  const CsDataHistory *d = self->history;
  int k = self->session != NULL ? cs_data_history_epoch_of (d, self->session) : -1;
  g_autofree char *heading = NULL, *caption = NULL;

  update_scale (self);
  if (d == NULL)
    return;
  cs_cartography_chart_set_epoch (self->cartography, k);
  cs_confusion_matrix_set_epoch (self->confusion, k);
  cs_auroc_chart_set_epoch (self->auroc_chart, k);
  cs_shortcut_panel_update (self->shortcuts);
  if (k < 0)
    {
      heading = g_strdup (_("Confusion: this epoch has no checkpoint in the history"));
      caption = g_strdup ("");
    }
  else
    {
      const cs_history_examples *ex = &d->h->split[CS_HISTORY_TEST];
      int64_t right = 0;
      for (int64_t i = 0; i < ex->n; i++)
        right += ex->pred[i * d->h->n_epochs + k] == ex->label[i];
      heading = g_strdup_printf (_("Confusion at epoch %d: %lld of %lld right"), d->h->epochs[k],
                                 (long long) right, (long long) ex->n);
      caption = isfinite (d->auroc[k])
        ? g_strdup_printf (_("Anticipating the final mistakes from epoch %d: AUROC %.3f"),
                           d->h->epochs[k], d->auroc[k])
        : g_strdup (_("Anticipating the final mistakes: undefined (the last epoch makes no mistakes, or no right answers)"));
    }
  gtk_label_set_text (self->confusion_label, heading);
  gtk_label_set_text (self->auroc_label, caption);
  if (self->cell_t >= 0 && g_strcmp0 (gtk_stack_get_visible_child_name (self->gallery_stack), "cell") == 0)
    cs_data_view_show_cell (self, self->cell_t, self->cell_p);
}

static void
history_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (CsDataView) self = user_data;
  g_autoptr (GError) error = NULL;
  CsDataHistory *d = cs_worker_finish (CS_WORKER (source), result, &error);
  g_autofree char *summary = NULL;

  if (d == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      /* Superseded by a newer job of this view: that one reports (the channel's generation is
       * still the view's). Cancelled from the window (the generation moved on): say so, and
       * compute again the next time the page is shown. */
      if (self->loading
          && cs_worker_get_generation (CS_WORKER (source), CHANNEL) != self->generation)
        {
          set_loading (self, FALSE);
          g_clear_pointer (&self->computed_for, cs_model_set_unref);
          show_status (self, _("Cancelled"),
                       _("Show this page again to compute each example’s history"));
        }
      return;
    }
  set_loading (self, FALSE);
  if (d == NULL)
    {
      set_history (self, NULL);
      /* The core's message says why; the title singles out the common case. */
      show_status (self, g_error_matches (error, CS_CORE_ERROR, CS_ERR_UNSUPPORTED)
                           && strstr (error->message, "names no data set") != NULL
                         ? _("This run records no data set") : _("No example history"),
                   error->message);
      return;
    }
  set_history (self, d);
  g_clear_pointer (&self->status, g_free);
  summary = g_strdup_printf (_("%lld training and %lld validation examples of %s over %d checkpoints%s"),
                             (long long) d->h->split[CS_HISTORY_TRAIN].n,
                             (long long) d->h->split[CS_HISTORY_TEST].n, d->h->dataset,
                             d->h->n_epochs, d->from_cache ? _(" (cached)") : "");
  gtk_label_set_text (self->summary_label, summary);
  fill_suspects (self);
  update_epoch (self);
  gallery_page_cb (self);
  gtk_stack_set_visible_child_name (self->state_stack, "content");
}

/* Starts the history of the session's run when the view is shown and has none for it. */
static void
maybe_compute (CsDataView *self)
{
  CsModelSet *set = self->session != NULL ? cs_session_get_model_set (self->session) : NULL;

  if (set == self->computed_for)
    return;
  /* Another run: the old one's history goes at once, shown or not (exports must not see it). */
  g_clear_pointer (&self->computed_for, cs_model_set_unref);
  if (self->loading)
    cs_worker_cancel (cs_session_get_worker (self->session), CHANNEL);
  set_loading (self, FALSE);
  set_history (self, NULL);
  gtk_label_set_text (self->summary_label, "");
  if (set == NULL || cs_model_set_get_run (set) == NULL)
    {
      show_status (self, _("No training run"),
                   _("The Data view follows each training and validation example across a run's checkpoints: open a run directory"));
      return;
    }
  show_status (self, _("Computing each example’s history…"),
               _("Every checkpoint runs over the run’s training and validation examples once; the result is cached in the run directory (history.bin)"));
  /* Computed when first shown: a run opened only for its saliency maps costs nothing more. */
  if (!gtk_widget_get_mapped (GTK_WIDGET (self)))
    return;
  self->computed_for = cs_model_set_ref (set);
  set_loading (self, TRUE);
  self->generation = cs_worker_run (cs_session_get_worker (self->session), CHANNEL, TRUE,
                                    cs_data_history_job_run, cs_model_set_ref (set),
                                    (GDestroyNotify) cs_model_set_unref, cs_data_history_free,
                                    history_done, g_object_ref (self));
}

static void
model_set_changed_cb (CsSession *session, GParamSpec *pspec, CsDataView *self)
{
  update_scale (self);
  maybe_compute (self);
}

static void
epoch_changed_cb (CsSession *session, GParamSpec *pspec, CsDataView *self)
{
  update_epoch (self);
}

static void
example_activated (CsDataView *self, cs_history_split split, gint64 pos)
{
  g_autoptr (GError) error = NULL;

  if (self->history == NULL || self->session == NULL)
    return;
  if (!cs_data_history_show (self->history, self->session, split, pos, &error))
    {
      g_autofree char *text = g_strdup_printf (_("Cannot show the example: %s"), error->message);
      gtk_label_set_text (self->summary_label, text);
    }
}

static void
cartography_activated_cb (CsCartographyChart *chart, gint64 pos, CsDataView *self)
{
  example_activated (self, CS_HISTORY_TRAIN, pos);
}

static void
gallery_activated_cb (CsExampleGallery *gallery, int split, gint64 pos, CsDataView *self)
{
  example_activated (self, (cs_history_split) split, pos);
}

static void
cell_activated_cb (CsConfusionMatrix *matrix, int t, int p, CsDataView *self)
{
  cs_data_view_show_cell (self, t, p);
}

static void
color_toggled_cb (CsDataView *self)
{
  cs_cartography_chart_set_color_by_class (self->cartography,
                                           gtk_toggle_button_get_active (self->by_class_button));
}

void
cs_data_view_set_session (CsDataView *self, CsSession *session)
{
  if (self->session == session)
    return;
  if (self->session != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->session, self);
      cs_worker_cancel (cs_session_get_worker (self->session), CHANNEL);
    }
  g_set_object (&self->session, session);
  cs_shortcut_panel_set_session (self->shortcuts, session);
  g_clear_pointer (&self->computed_for, cs_model_set_unref);
  if (session != NULL)
    {
      g_signal_connect_object (session, "notify::epoch", G_CALLBACK (epoch_changed_cb), self, 0);
      g_signal_connect_object (session, "notify::model-set", G_CALLBACK (model_set_changed_cb), self,
                               G_CONNECT_AFTER);
      maybe_compute (self);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SESSION]);
}

static void
cs_data_view_map (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (cs_data_view_parent_class)->map (widget);
  maybe_compute (CS_DATA_VIEW (widget));
}

gboolean
cs_data_view_get_loading (CsDataView *self)
{
  return self->loading;
}

const CsDataHistory *
cs_data_view_get_history (CsDataView *self)
{
  return self->history;
}

const char *
cs_data_view_get_status (CsDataView *self)
{
  return self->status;
}

gboolean
cs_data_view_get_cell (CsDataView *self, int *t, int *p)
{
  *t = self->cell_t;
  *p = self->cell_p;
  return self->cell_t >= 0;
}

CsCartographyChart *
cs_data_view_get_cartography (CsDataView *self)
{
  return self->cartography;
}

CsConfusionMatrix *
cs_data_view_get_confusion (CsDataView *self)
{
  return self->confusion;
}

CsAurocChart *
cs_data_view_get_auroc_chart (CsDataView *self)
{
  return self->auroc_chart;
}

CsExampleGallery *
cs_data_view_get_suspects (CsDataView *self)
{
  return self->suspects;
}

CsExampleGallery *
cs_data_view_get_cell_gallery (CsDataView *self)
{
  return self->cell_gallery;
}

CsShortcutPanel *
cs_data_view_get_shortcuts (CsDataView *self)
{
  return self->shortcuts;
}

void
cs_data_view_set_gallery_page (CsDataView *self, const char *name)
{
  gtk_stack_set_visible_child_name (self->gallery_stack, name);
}

static void
cs_data_view_dispose (GObject *object)
{
  CsDataView *self = CS_DATA_VIEW (object);

  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);
  g_clear_object (&self->session);
  g_clear_pointer (&self->computed_for, cs_model_set_unref);
  if (self->cartography != NULL)
    set_history (self, NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), CS_TYPE_DATA_VIEW);
  G_OBJECT_CLASS (cs_data_view_parent_class)->dispose (object);
}

static void
cs_data_view_finalize (GObject *object)
{
  CsDataView *self = CS_DATA_VIEW (object);

  cs_data_history_free (self->history);
  g_free (self->status);
  G_OBJECT_CLASS (cs_data_view_parent_class)->finalize (object);
}

static void
cs_data_view_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  switch (prop_id)
    {
    case PROP_SESSION: g_value_set_object (value, CS_DATA_VIEW (object)->session); break;
    case PROP_LOADING: g_value_set_boolean (value, CS_DATA_VIEW (object)->loading); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_data_view_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  switch (prop_id)
    {
    case PROP_SESSION: cs_data_view_set_session (CS_DATA_VIEW (object), g_value_get_object (value)); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_data_view_class_init (CsDataViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cs_data_view_dispose;
  object_class->finalize = cs_data_view_finalize;
  object_class->get_property = cs_data_view_get_property;
  object_class->set_property = cs_data_view_set_property;
  widget_class->map = cs_data_view_map;
  properties[PROP_SESSION] =
    g_param_spec_object ("session", NULL, NULL, CS_TYPE_SESSION,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_LOADING] =
    g_param_spec_boolean ("loading", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (CS_TYPE_CARTOGRAPHY_CHART);
  g_type_ensure (CS_TYPE_CONFUSION_MATRIX);
  g_type_ensure (CS_TYPE_AUROC_CHART);
  g_type_ensure (CS_TYPE_EXAMPLE_GALLERY);
  g_type_ensure (CS_TYPE_SHORTCUT_PANEL);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/convscope/Convscope/cs-data-view.ui");
  gtk_widget_class_bind_template_child (widget_class, CsDataView, box);
  gtk_widget_class_bind_template_child (widget_class, CsDataView, summary_label);
  gtk_widget_class_bind_template_child (widget_class, CsDataView, epoch_scale);
  gtk_widget_class_bind_template_child (widget_class, CsDataView, epoch_adjustment);
  gtk_widget_class_bind_template_child (widget_class, CsDataView, epoch_label);
  gtk_widget_class_bind_template_child (widget_class, CsDataView, state_stack);
  gtk_widget_class_bind_template_child (widget_class, CsDataView, status_page);
  gtk_widget_class_bind_template_child (widget_class, CsDataView, by_class_button);
  gtk_widget_class_bind_template_child (widget_class, CsDataView, cartography);
  gtk_widget_class_bind_template_child (widget_class, CsDataView, confusion_label);
  gtk_widget_class_bind_template_child (widget_class, CsDataView, confusion);
  gtk_widget_class_bind_template_child (widget_class, CsDataView, auroc_label);
  gtk_widget_class_bind_template_child (widget_class, CsDataView, auroc_chart);
  gtk_widget_class_bind_template_child (widget_class, CsDataView, gallery_label);
  gtk_widget_class_bind_template_child (widget_class, CsDataView, gallery_stack);
  gtk_widget_class_bind_template_child (widget_class, CsDataView, suspects);
  gtk_widget_class_bind_template_child (widget_class, CsDataView, cell_gallery);
  gtk_widget_class_bind_template_child (widget_class, CsDataView, shortcuts);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "csdataview");
}

static void
cs_data_view_init (CsDataView *self)
{
  self->cell_t = self->cell_p = -1;
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_swapped (self->epoch_adjustment, "value-changed", G_CALLBACK (scale_changed_cb), self);
  g_signal_connect_swapped (self->by_class_button, "toggled", G_CALLBACK (color_toggled_cb), self);
  g_signal_connect_swapped (self->gallery_stack, "notify::visible-child-name",
                            G_CALLBACK (gallery_page_cb), self);
  g_signal_connect (self->cartography, "example-activated", G_CALLBACK (cartography_activated_cb), self);
  g_signal_connect (self->suspects, "example-activated", G_CALLBACK (gallery_activated_cb), self);
  g_signal_connect (self->cell_gallery, "example-activated", G_CALLBACK (gallery_activated_cb), self);
  g_signal_connect (self->confusion, "cell-activated", G_CALLBACK (cell_activated_cb), self);
  show_status (self, _("No training run"), _("Open a run directory to see its examples"));
}

GtkWidget *
cs_data_view_new (CsSession *session)
{
  return g_object_new (CS_TYPE_DATA_VIEW, "session", session, NULL);
}
