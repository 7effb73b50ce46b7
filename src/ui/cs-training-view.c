/* CsTrainingView: binds the scrubber to session:epoch; the chart and the timeline take the
 * session themselves; the run's analysis, once the timeline has loaded it, gives the onset by
 * weights next to the one by validation and the unavailable epochs. */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "analysis/signals_run.h"
#include "analysis/study_figures.h"
#include "cs-training-chart.h"
#include "cs-training-view.h"
#include "cs-weight-timeline.h"

#include "analysis/run_analysis.h"

struct _CsTrainingView
{
  GtkWidget parent_instance;
  CsSession *session;
  guint play_source;
  guint align_source;          /* tick that lines the scrubber up with the timeline */
  int align_frames;
  gboolean updating;

  GtkWidget *box;
  GtkLabel *onset_label;
  CsTrainingChart *chart;
  GtkDropDown *stat_dropdown;
  CsWeightTimeline *timeline;
  GtkToggleButton *play_button;
  GtkScale *scale;
  GtkAdjustment *adjustment;
  GtkLabel *epoch_label;
  GtkLabel *hole_label;
  GtkMenuButton *signals_button;
  GtkBox *signals_box;
  GtkLabel *signal_label;
  GtkCheckButton *signal_checks[CS_N_SIGNALS];
  cs_run_signals *signals;     /* of the current run, NULL while computing or without a run */
  char channel[32];
};

enum { PROP_0, PROP_SESSION, N_PROPS };
static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (CsTrainingView, cs_training_view, GTK_TYPE_WIDGET)

/* The run's analysis once the timeline has it (both onsets, unavailable epochs), or NULL. */
static const cs_run_analysis *
analysis (CsTrainingView *self)
{
  return cs_weight_timeline_get_analysis (self->timeline);
}

/* When the selected epoch's checkpoint could not be read or holds NaN/infinite weights: a line
 * under the scrubber that says why (the other views fail on that epoch with the same reason). */
static void
update_hole (CsTrainingView *self)
{
  const cs_run_analysis *a = analysis (self);
  int epoch = self->session != NULL ? cs_session_get_epoch (self->session) : -1;
  const char *why = a != NULL ? cs_run_analysis_checkpoint_error (a, epoch) : NULL;
  g_autofree char *text = NULL;

  if (why != NULL)
    text = g_strdup_printf (_("Epoch %d is unavailable: %s. Its weight statistics are left out; the other epochs are analysed."),
                            cs_run_analysis_epoch (a, epoch), why);
  gtk_label_set_text (self->hole_label, text != NULL ? text : "");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->hole_label), text);
  gtk_widget_set_visible (GTK_WIDGET (self->hole_label), text != NULL);
}

static void
update_epoch (CsTrainingView *self)
{
  CsModelSet *set = cs_session_get_model_set (self->session);
  int n = cs_session_get_n_epochs (self->session);
  int epoch = cs_session_get_epoch (self->session);
  g_autofree char *text = NULL;

  self->updating = TRUE;
  gtk_adjustment_configure (self->adjustment, MAX (epoch, 0), 0, MAX (n - 1, 0), 1, 1, 0);
  self->updating = FALSE;
  gtk_widget_set_sensitive (GTK_WIDGET (self->scale), n > 1);
  gtk_widget_set_sensitive (GTK_WIDGET (self->play_button), n > 1);
  if (set != NULL && n > 0)
    text = g_strdup_printf (_("Epoch %d / %d"), cs_model_set_get_epoch_number (set, epoch),
                            cs_model_set_get_epoch_number (set, n - 1));
  gtk_label_set_text (self->epoch_label, text != NULL ? text : "");
  update_hole (self);
}

/* A scale's knob (its "slider" node, a child of the trough it runs along), or NULL. */
static GtkWidget *
find_knob (GtkWidget *w)
{
  if (g_strcmp0 (gtk_widget_get_css_name (w), "slider") == 0)
    return w;
  for (GtkWidget *c = gtk_widget_get_first_child (w); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_knob (c);
      if (found != NULL)
        return found;
    }
  return NULL;
}

/* Moves the scrubber's ends under the centres of the timeline's first and last columns: the
 * slider's position at each end, mapped into the timeline, against where the column is.
 * Returns TRUE when they are in place (or there is nothing to follow). */
static gboolean
align_scrubber (CsTrainingView *self)
{
  GtkWidget *timeline = GTK_WIDGET (self->timeline);
  GtkWidget *knob = find_knob (GTK_WIDGET (self->scale));
  GtkWidget *trough = knob != NULL ? gtk_widget_get_parent (knob) : NULL;
  int n = self->session != NULL ? cs_session_get_n_epochs (self->session) : 0;
  int start = gtk_widget_get_margin_start (GTK_WIDGET (self->scale));
  int end = gtk_widget_get_margin_end (GTK_WIDGET (self->scale));
  double want0, want1, half = 0;
  graphene_point_t lo, hi;

  if (n < 2)
    {
      /* No epochs to follow: the scale takes its row. */
      gtk_widget_set_margin_start (GTK_WIDGET (self->scale), 0);
      gtk_widget_set_margin_end (GTK_WIDGET (self->scale), 0);
      return TRUE;
    }
  /* The knob's centre runs from half its measured width (margins included: themes give it
   * negative ones) inside the trough's start to as far inside its end. */
  if (knob != NULL)
    {
      int min = 0;
      gtk_widget_measure (knob, GTK_ORIENTATION_HORIZONTAL, -1, &min, NULL, NULL, NULL);
      half = min / 2.0;
    }
  if (trough == NULL || !gtk_widget_get_mapped (timeline)
      || !cs_weight_timeline_column_center (self->timeline, 0, &want0)
      || !cs_weight_timeline_column_center (self->timeline, n - 1, &want1)
      || !gtk_widget_compute_point (trough, timeline, &GRAPHENE_POINT_INIT (half, 0), &lo)
      || !gtk_widget_compute_point (trough, timeline,
                                    &GRAPHENE_POINT_INIT (gtk_widget_get_width (trough) - half, 0), &hi))
    return FALSE;
  start = MAX (0, start + (int) lround (want0 - lo.x));
  end = MAX (0, end - (int) lround (want1 - hi.x));
  if (start == gtk_widget_get_margin_start (GTK_WIDGET (self->scale))
      && end == gtk_widget_get_margin_end (GTK_WIDGET (self->scale)))
    return TRUE;
  gtk_widget_set_margin_start (GTK_WIDGET (self->scale), start);
  gtk_widget_set_margin_end (GTK_WIDGET (self->scale), end);
  return FALSE;
}

/* Margins change the scale's allocation, and the columns come with the analysis: check once a
 * frame until the ends are in place (a few frames; giving up after a second while the
 * analysis is still loading, whose end schedules it again). */
static gboolean
align_tick (GtkWidget *widget, GdkFrameClock *clock, gpointer data)
{
  CsTrainingView *self = CS_TRAINING_VIEW (widget);

  if (align_scrubber (self) || ++self->align_frames > 60)
    {
      self->align_source = 0;
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static void
schedule_align (CsTrainingView *self)
{
  self->align_frames = 0;
  if (self->align_source == 0)
    self->align_source = gtk_widget_add_tick_callback (GTK_WIDGET (self), align_tick, NULL, NULL);
}

/* As a bin, but every allocation lines the scrubber up again (a layout manager would allocate
 * without telling the widget). */
static void
cs_training_view_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                          int *natural, int *minimum_baseline, int *natural_baseline)
{
  gtk_widget_measure (CS_TRAINING_VIEW (widget)->box, orientation, for_size, minimum, natural,
                      minimum_baseline, natural_baseline);
}

static GtkSizeRequestMode
cs_training_view_get_request_mode (GtkWidget *widget)
{
  return gtk_widget_get_request_mode (CS_TRAINING_VIEW (widget)->box);
}

static void
cs_training_view_size_allocate (GtkWidget *widget, int width, int height, int baseline)
{
  gtk_widget_allocate (CS_TRAINING_VIEW (widget)->box, width, height, baseline, NULL);
  schedule_align (CS_TRAINING_VIEW (widget));
}

/* Both onsets in one line, the explanation of both rules as its tooltip. */
static void
update_onset (CsTrainingView *self)
{
  CsModelSet *set = cs_session_get_model_set (self->session);
  const cs_run_analysis *a = analysis (self);
  int onset = cs_training_chart_get_onset (self->chart);
  g_autofree char *by_val = NULL, *by_w = NULL, *text = NULL;

  /* A model without a run has no curves to draw: the chart gives its room to the others. */
  gtk_widget_set_visible (GTK_WIDGET (self->chart), set != NULL && cs_model_set_get_run (set) != NULL);
  cs_training_chart_set_weight_onset (self->chart, a != NULL ? a->by_weights.index : -1);
  if (set == NULL || cs_model_set_get_run (set) == NULL)
    {
      gtk_label_set_text (self->onset_label, _("No training run: open a run directory to see its curves"));
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->onset_label), NULL);
      return;
    }
  by_val = onset >= 0 ? g_strdup_printf (_("by validation from epoch %d"),
                                         cs_model_set_get_epoch_number (set, onset))
                      : g_strdup (_("none by validation"));
  if (a != NULL)
    by_w = a->by_weights.index >= 0
           ? g_strdup_printf (_("by weights from epoch %d"), cs_run_analysis_epoch (a, a->by_weights.index))
           : g_strdup (_("none by weights"));
  else
    by_w = g_strdup (cs_weight_timeline_get_loading (self->timeline)
                     ? _("by weights: analysing…") : _("by weights: no statistics"));
  text = g_strdup_printf (_("Overfitting %s · %s"), by_val, by_w);
  gtk_label_set_text (self->onset_label, text);
  /* The whole reasoning of both rules (the label itself is ellipsized). */
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->onset_label),
                               a != NULL ? a->explanation : cs_weight_timeline_get_error (self->timeline));
}

/* Scrubber marks at the epochs whose checkpoint could not be read. */
static void
update_marks (CsTrainingView *self)
{
  const cs_run_analysis *a = analysis (self);

  gtk_scale_clear_marks (self->scale);
  for (int e = 0; a != NULL && e < a->stats->n_epochs; e++)
    if (cs_run_analysis_checkpoint_error (a, e) != NULL)
      gtk_scale_add_mark (self->scale, e, GTK_POS_BOTTOM, "✕");
}

static void
analysis_changed_cb (CsTrainingView *self)
{
  schedule_align (self);
  update_onset (self);
  update_marks (self);
  update_hole (self);
}

/* The signals' names as the app shows them (the core's are English). */
static const char *
signal_title (cs_signal_kind k)
{
  switch (k)
    {
    case CS_SIGNAL_KNEE: return _("Knee of the relative weight change");
    case CS_SIGNAL_EB: return _("Gradient signal-to-noise (EB criterion)");
    case CS_SIGNAL_UPDATE_COSINE: return _("Consecutive updates turn away");
    case CS_SIGNAL_DISTANCE_GROWTH: return _("Distance from initialisation slows");
    case CS_SIGNAL_ROTATION_RATE: return _("Layer rotation slows");
    case CS_SIGNAL_ALPHA: return _("Power-law α of the last layers");
    case CS_SIGNAL_FILTER_DISPERSION: return _("Per-filter change disperses");
    case CS_SIGNAL_TRAIN_SATURATION: return _("Training loss saturates");
    default: return "?";
    }
}

/* The checked signals' onsets onto the chart, and the explanation of the study's default. */
static void
update_signals (CsTrainingView *self)
{
  CsModelSet *set = self->session != NULL ? cs_session_get_model_set (self->session) : NULL;
  const cs_signal_study_result *study = cs_signal_study_result_get ();
  CsTrainingMark marks[CS_N_SIGNALS];
  int n = 0, best = self->signals != NULL ? self->signals->onset[study->best] : -1;
  g_autofree char *text = NULL;

  for (int k = 0; k < CS_N_SIGNALS && self->signals != NULL; k++)
    if (gtk_check_button_get_active (self->signal_checks[k]) && self->signals->onset[k] >= 0)
      {
        marks[n].index = self->signals->onset[k];
        cs_signal_color ((cs_signal_kind) k, marks[n].rgb);
        marks[n].label = (char *) cs_signal_name ((cs_signal_kind) k);
        n++;
      }
  cs_training_chart_set_marks (self->chart, marks, n);
  gtk_widget_set_visible (gtk_widget_get_parent (GTK_WIDGET (self->signal_label)),
                          set != NULL && cs_model_set_get_run (set) != NULL);
  if (set == NULL || cs_model_set_get_run (set) == NULL)
    return;
  if (self->signals == NULL)
    text = g_strdup (_("Computing the validation-free signals…"));
  else if (best >= 0)
    /* TRANSLATORS: the first %s is a signal's name; the numbers come from the shipped study. */
    text = g_strdup_printf (_("Without validation, “%s” marks epoch %d. It is the default because it agreed best "
                              "with the best validation epoch in the study: within ±2 epochs in %d of %d "
                              "held-out runs (never stopping: %d)."),
                            signal_title (study->best), cs_model_set_get_epoch_number (set, best),
                            study->within_2, study->held_out, study->never_within_2);
  else
    text = g_strdup_printf (_("Without validation, “%s” has not fired in this run. It is the default because it "
                              "agreed best with the best validation epoch in the study: within ±2 epochs in %d "
                              "of %d held-out runs (never stopping: %d)."),
                            signal_title (study->best), study->within_2, study->held_out, study->never_within_2);
  gtk_label_set_text (self->signal_label, text);
}

typedef struct
{
  CsModelSet *set;
} SignalsJob;

static void
signals_job_free (gpointer data)
{
  SignalsJob *job = data;

  cs_model_set_unref (job->set);
  g_free (job);
}

static gpointer
signals_job_run (CsWorkerJob *wjob, gpointer data, GError **error)
{
  SignalsJob *job = data;
  cs_error err = { 0 };
  cs_run_signals *out = g_new0 (cs_run_signals, 1);

  if (cs_run_signals_compute (cs_model_set_get_run (job->set), cs_worker_job_get_progress (wjob), out, &err)
      != CS_OK)
    {
      g_free (out);
      if (err.code == CS_ERR_CANCELLED)
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Cancelled");
      else
        cs_set_core_error (error, &err);
      return NULL;
    }
  return out;
}

static void
signals_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (CsTrainingView) self = user_data;
  g_autoptr (GError) error = NULL;
  cs_run_signals *s = cs_worker_finish (CS_WORKER (source), result, &error);

  if (s == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  g_clear_pointer (&self->signals, g_free);
  self->signals = s;
  if (s == NULL)
    {
      gtk_label_set_text (self->signal_label, error->message);
      return;
    }
  update_signals (self);
}

static void
start_signals (CsTrainingView *self)
{
  CsModelSet *set = cs_session_get_model_set (self->session);
  SignalsJob *job;

  g_clear_pointer (&self->signals, g_free);
  update_signals (self);
  if (set == NULL || cs_model_set_get_run (set) == NULL)
    return;
  job = g_new0 (SignalsJob, 1);
  job->set = cs_model_set_ref (set);
  cs_worker_run (cs_session_get_worker (self->session), self->channel, TRUE, signals_job_run, job,
                 signals_job_free, g_free, signals_done, g_object_ref (self));
}

/* Both also line the scrubber up again: the epoch count decides whether there is anything to
 * follow, and an alignment tick that ran before the run's epochs were known (it found fewer
 * than two and gave up) is not run again by any allocation. CI once saw the knob 83 px off
 * its column under the sanitizers. */
static void
epoch_changed_cb (CsSession *session, GParamSpec *pspec, CsTrainingView *self)
{
  update_epoch (self);
  schedule_align (self);
}

static void
model_set_changed_cb (CsSession *session, GParamSpec *pspec, CsTrainingView *self)
{
  update_epoch (self);
  update_onset (self);
  start_signals (self);
  schedule_align (self);
}

static void
value_changed_cb (CsTrainingView *self)
{
  if (!self->updating && self->session != NULL)
    cs_session_set_epoch (self->session, (int) (gtk_adjustment_get_value (self->adjustment) + 0.5));
}

void
cs_training_view_step (CsTrainingView *self, int delta)
{
  if (self->session != NULL)
    cs_session_set_epoch (self->session, MAX (0, cs_session_get_epoch (self->session) + delta));
}

static gboolean
play_tick_cb (gpointer user_data)
{
  CsTrainingView *self = user_data;
  int n = cs_session_get_n_epochs (self->session);
  int e = cs_session_get_epoch (self->session);

  if (e >= n - 1)
    {
      self->play_source = 0;
      gtk_toggle_button_set_active (self->play_button, FALSE);
      return G_SOURCE_REMOVE;
    }
  cs_session_set_epoch (self->session, e + 1);
  return G_SOURCE_CONTINUE;
}

static void
play_toggled_cb (GtkToggleButton *button, CsTrainingView *self)
{
  gboolean active = gtk_toggle_button_get_active (button);

  gtk_button_set_icon_name (GTK_BUTTON (button), active ? "media-playback-pause-symbolic"
                                                        : "media-playback-start-symbolic");
  if (active && self->play_source == 0 && self->session != NULL)
    {
      if (cs_session_get_epoch (self->session) >= cs_session_get_n_epochs (self->session) - 1)
        cs_session_set_epoch (self->session, 0);
      self->play_source = g_timeout_add (350, play_tick_cb, self);
    }
  else if (!active)
    g_clear_handle_id (&self->play_source, g_source_remove);
}

static void
stat_selected_cb (CsTrainingView *self)
{
  cs_weight_timeline_set_stat (self->timeline, gtk_drop_down_get_selected (self->stat_dropdown));
}

static void
step_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  cs_training_view_step (CS_TRAINING_VIEW (widget), g_variant_get_int32 (parameter));
}

void
cs_training_view_set_session (CsTrainingView *self, CsSession *session)
{
  if (self->session == session)
    return;
  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);
  g_set_object (&self->session, session);
  cs_training_chart_set_session (self->chart, session);
  cs_weight_timeline_set_session (self->timeline, session);
  if (session != NULL)
    {
      g_signal_connect_object (session, "notify::epoch", G_CALLBACK (epoch_changed_cb), self, 0);
      g_signal_connect_object (session, "notify::model-set", G_CALLBACK (model_set_changed_cb), self,
                               G_CONNECT_AFTER);
      model_set_changed_cb (session, NULL, self);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SESSION]);
}

static void
cs_training_view_dispose (GObject *object)
{
  CsTrainingView *self = CS_TRAINING_VIEW (object);

  g_clear_handle_id (&self->play_source, g_source_remove);
  if (self->align_source != 0)
    gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->align_source);
  self->align_source = 0;
  if (self->session != NULL)
    {
      cs_worker_cancel (cs_session_get_worker (self->session), self->channel);
      g_signal_handlers_disconnect_by_data (self->session, self);
    }
  g_clear_object (&self->session);
  g_clear_pointer (&self->signals, g_free);
  gtk_widget_dispose_template (GTK_WIDGET (self), CS_TYPE_TRAINING_VIEW);
  G_OBJECT_CLASS (cs_training_view_parent_class)->dispose (object);
}

static void
cs_training_view_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  switch (prop_id)
    {
    case PROP_SESSION: g_value_set_object (value, CS_TRAINING_VIEW (object)->session); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_training_view_set_property (GObject *object, guint prop_id, const GValue *value,
                               GParamSpec *pspec)
{
  switch (prop_id)
    {
    case PROP_SESSION: cs_training_view_set_session (CS_TRAINING_VIEW (object), g_value_get_object (value)); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_training_view_class_init (CsTrainingViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cs_training_view_dispose;
  object_class->get_property = cs_training_view_get_property;
  object_class->set_property = cs_training_view_set_property;
  properties[PROP_SESSION] =
    g_param_spec_object ("session", NULL, NULL, CS_TYPE_SESSION,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (CS_TYPE_TRAINING_CHART);
  g_type_ensure (CS_TYPE_WEIGHT_TIMELINE);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/convscope/Convscope/cs-training-view.ui");
  gtk_widget_class_bind_template_child (widget_class, CsTrainingView, box);
  gtk_widget_class_bind_template_child (widget_class, CsTrainingView, onset_label);
  gtk_widget_class_bind_template_child (widget_class, CsTrainingView, chart);
  gtk_widget_class_bind_template_child (widget_class, CsTrainingView, stat_dropdown);
  gtk_widget_class_bind_template_child (widget_class, CsTrainingView, timeline);
  gtk_widget_class_bind_template_child (widget_class, CsTrainingView, play_button);
  gtk_widget_class_bind_template_child (widget_class, CsTrainingView, scale);
  gtk_widget_class_bind_template_child (widget_class, CsTrainingView, adjustment);
  gtk_widget_class_bind_template_child (widget_class, CsTrainingView, epoch_label);
  gtk_widget_class_bind_template_child (widget_class, CsTrainingView, hole_label);
  gtk_widget_class_bind_template_child (widget_class, CsTrainingView, signals_button);
  gtk_widget_class_bind_template_child (widget_class, CsTrainingView, signals_box);
  gtk_widget_class_bind_template_child (widget_class, CsTrainingView, signal_label);
  gtk_widget_class_bind_template_callback (widget_class, play_toggled_cb);

  gtk_widget_class_install_action (widget_class, "training.step", "i", step_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Left, 0, "training.step", "i", -1);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Right, 0, "training.step", "i", 1);
  widget_class->measure = cs_training_view_measure;
  widget_class->get_request_mode = cs_training_view_get_request_mode;
  widget_class->size_allocate = cs_training_view_size_allocate;
  gtk_widget_class_set_css_name (widget_class, "cstrainingview");
}

static void
cs_training_view_init (CsTrainingView *self)
{
  g_autoptr (GtkStringList) stats = gtk_string_list_new (NULL);

  gtk_widget_init_template (GTK_WIDGET (self));
  for (int s = 0; s < CS_WEIGHT_STAT_COUNT; s++)
    gtk_string_list_append (stats, cs_weight_stat_title (s));
  gtk_drop_down_set_model (self->stat_dropdown, G_LIST_MODEL (stats));
  g_signal_connect_swapped (self->stat_dropdown, "notify::selected", G_CALLBACK (stat_selected_cb), self);
  g_signal_connect_swapped (self->adjustment, "value-changed", G_CALLBACK (value_changed_cb), self);
  g_signal_connect_swapped (self->timeline, "notify::loading", G_CALLBACK (analysis_changed_cb), self);
  /* One check per signal, the study's best checked. */
  for (int k = 0; k < CS_N_SIGNALS; k++)
    {
      self->signal_checks[k] = GTK_CHECK_BUTTON (gtk_check_button_new_with_label (signal_title (k)));
      gtk_check_button_set_active (self->signal_checks[k], k == (int) cs_signal_study_result_get ()->best);
      g_signal_connect_swapped (self->signal_checks[k], "toggled", G_CALLBACK (update_signals), self);
      gtk_box_append (self->signals_box, GTK_WIDGET (self->signal_checks[k]));
    }
  {
    static guint counter;
    g_snprintf (self->channel, sizeof self->channel, "signals-%u", ++counter);
  }
  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
}

GtkWidget *
cs_training_view_new (CsSession *session)
{
  return g_object_new (CS_TYPE_TRAINING_VIEW, "session", session, NULL);
}

CsTrainingChart *
cs_training_view_get_chart (CsTrainingView *self)
{
  return self->chart;
}

CsWeightTimeline *
cs_training_view_get_timeline (CsTrainingView *self)
{
  return self->timeline;
}

void
cs_training_view_toggle_play (CsTrainingView *self)
{
  if (gtk_widget_get_sensitive (GTK_WIDGET (self->play_button)))
    gtk_toggle_button_set_active (self->play_button,
                                  !gtk_toggle_button_get_active (self->play_button));
}

gboolean
cs_training_view_get_playing (CsTrainingView *self)
{
  return self->play_source != 0;
}

const char *
cs_training_view_get_onset_text (CsTrainingView *self)
{
  return gtk_label_get_text (self->onset_label);
}

const char *
cs_training_view_get_onset_tooltip (CsTrainingView *self)
{
  return gtk_widget_get_tooltip_text (GTK_WIDGET (self->onset_label));
}

const char *
cs_training_view_get_hole_text (CsTrainingView *self)
{
  return gtk_widget_get_visible (GTK_WIDGET (self->hole_label))
         ? gtk_label_get_text (self->hole_label) : "";
}

const cs_run_signals *
cs_training_view_get_signals (CsTrainingView *self)
{
  return self->signals;
}

void
cs_training_view_set_signal_shown (CsTrainingView *self, int signal, gboolean shown)
{
  if (signal >= 0 && signal < CS_N_SIGNALS)
    gtk_check_button_set_active (self->signal_checks[signal], shown);
}

gboolean
cs_training_view_get_signal_shown (CsTrainingView *self, int signal)
{
  return signal >= 0 && signal < CS_N_SIGNALS && gtk_check_button_get_active (self->signal_checks[signal]);
}
