/* CsTrainingView: the scrubber and keys move session:epoch (and back); both onsets are shown
 * with their explanation; the weight timeline has a row per layer; a run with damaged
 * checkpoints opens with those epochs marked and explained, and so does one whose weights hold
 * NaN/infinite values; the image strip predicts and marks mistakes. */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "cs-image-strip.h"
#include "cs-model-set.h"
#include "cs-training-chart.h"
#include "cs-training-view.h"
#include "cs-weight-timeline.h"
#include "ui-fixture.h"
#include "io/model_load.h"
#include "io/safetensors.h"

static char *run_dir;

static GtkWidget *
find_child (GtkWidget *root, GType type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (root, type))
    return root;
  for (GtkWidget *c = gtk_widget_get_first_child (root); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_child (c, type);
      if (found != NULL)
        return found;
    }
  return NULL;
}

static void
test_scrubber (void)
{
  g_autoptr (CsSession) session = cs_session_new ();
  GtkWidget *window = gtk_window_new ();
  GtkWidget *view = cs_training_view_new (session);
  GtkWidget *scale, *timeline;
  GtkAdjustment *adj;

  gtk_window_set_child (GTK_WINDOW (window), view);
  gtk_window_set_default_size (GTK_WINDOW (window), 900, 500);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (cs_session_open_model (session, run_dir, NULL));

  scale = find_child (view, GTK_TYPE_SCALE);
  adj = gtk_range_get_adjustment (GTK_RANGE (scale));
  g_assert_cmpfloat (gtk_adjustment_get_upper (adj), ==, 7);
  g_assert_cmpfloat (gtk_adjustment_get_value (adj), ==, 7);

  gtk_adjustment_set_value (adj, 3);
  g_assert_cmpint (cs_session_get_epoch (session), ==, 3);
  cs_training_view_step (CS_TRAINING_VIEW (view), -1);
  g_assert_cmpint (cs_session_get_epoch (session), ==, 2);
  g_assert_cmpfloat (gtk_adjustment_get_value (adj), ==, 2);
  g_assert_true (gtk_widget_activate_action (view, "training.step", "i", 1));
  g_assert_cmpint (cs_session_get_epoch (session), ==, 3);
  cs_session_set_epoch (session, 6);
  g_assert_cmpfloat (gtk_adjustment_get_value (adj), ==, 6);

  /* The fixture's validation loss is lowest at epoch 3 or 4, then rises. */
  {
    int onset = cs_training_chart_get_onset (CS_TRAINING_CHART (find_child (view, CS_TYPE_TRAINING_CHART)));
    g_assert_cmpint (onset, >=, 2);
    g_assert_cmpint (onset, <=, 5);
  }
  timeline = find_child (view, CS_TYPE_WEIGHT_TIMELINE);
  g_assert_true (ui_wait_for_bool (G_OBJECT (timeline), "loading", FALSE, 20000));
  g_assert_cmpint (cs_weight_timeline_get_n_layers (CS_WEIGHT_TIMELINE (timeline)), ==, 3);

  /* Both onsets: the weights' one from the run's analysis, in the chart and the line above it,
   * with both rules explained in its tooltip. */
  {
    const cs_run_analysis *a = cs_weight_timeline_get_analysis (CS_WEIGHT_TIMELINE (timeline));
    CsTrainingChart *chart = CS_TRAINING_CHART (find_child (view, CS_TYPE_TRAINING_CHART));
    const char *line = cs_training_view_get_onset_text (CS_TRAINING_VIEW (view));
    g_assert_nonnull (a);
    g_assert_cmpint (a->by_validation, ==, cs_training_chart_get_onset (chart));
    g_assert_cmpint (cs_training_chart_get_weight_onset (chart), ==, a->by_weights.index);
    g_assert_nonnull (strstr (line, "by validation"));
    g_assert_nonnull (strstr (line, "by weights"));
    g_assert_cmpstr (cs_training_view_get_onset_tooltip (CS_TRAINING_VIEW (view)), ==, a->explanation);
    g_assert_nonnull (strstr (a->explanation, "By weights:"));
    g_assert_cmpstr (cs_training_view_get_hole_text (CS_TRAINING_VIEW (view)), ==, "");
  }
  ui_spin (100);
  gtk_window_destroy (GTK_WINDOW (window));
}

static GtkWidget *
find_css (GtkWidget *root, const char *name)
{
  if (g_strcmp0 (gtk_widget_get_css_name (root), name) == 0)
    return root;
  for (GtkWidget *c = gtk_widget_get_first_child (root); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_css (c, name);
      if (found != NULL)
        return found;
    }
  return NULL;
}

/* The scrubber's knob sits over the column of the epoch it selects in the weight timeline, at
 * both ends and between, and still after the window is resized. */
static void
test_scrubber_aligned (void)
{
  g_autoptr (CsSession) session = cs_session_new ();
  GtkWidget *window = gtk_window_new ();
  GtkWidget *view = cs_training_view_new (session);
  CsWeightTimeline *timeline = cs_training_view_get_timeline (CS_TRAINING_VIEW (view));
  GtkWidget *knob;
  const int epochs[] = { 0, 3, 7 };
  gint64 end;

  gtk_window_set_child (GTK_WINDOW (window), view);
  gtk_window_set_default_size (GTK_WINDOW (window), 900, 500);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (cs_session_open_model (session, run_dir, NULL));
  end = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  while (cs_weight_timeline_get_analysis (timeline) == NULL && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
  g_assert_nonnull (cs_weight_timeline_get_analysis (timeline));
  knob = find_css (find_child (view, GTK_TYPE_SCALE), "slider");
  g_assert_nonnull (knob);
  for (int pass = 0; pass < 2; pass++)
    {
      if (pass == 1)
        gtk_window_set_default_size (GTK_WINDOW (window), 1300, 500);
      for (guint i = 0; i < G_N_ELEMENTS (epochs); i++)
        {
          graphene_rect_t r;
          double want;
          cs_session_set_epoch (session, epochs[i]);
          ui_spin (600);
          g_assert_true (cs_weight_timeline_column_center (timeline, epochs[i], &want));
          g_assert_true (gtk_widget_compute_bounds (knob, GTK_WIDGET (timeline), &r));
          g_test_message ("epoch %d: knob at %.1f, column at %.1f", epochs[i], r.origin.x + r.size.width / 2, want);
          g_assert_cmpfloat (fabs (r.origin.x + r.size.width / 2 - want), <=, 2.0);
        }
    }
  gtk_window_destroy (GTK_WINDOW (window));
}

/* A run with a truncated checkpoint and its last one deleted still opens (on its latest
 * readable epoch); the timeline and the scrubber show the holes, and selecting one says why. */
static void
test_damaged_run (void)
{
  g_autofree char *dir = ui_fixture_make_run (8);
  g_autofree char *truncated = g_build_filename (dir, "checkpoints", "epoch-0003.safetensors", NULL);
  g_autofree char *deleted = g_build_filename (dir, "checkpoints", "epoch-0007.safetensors", NULL);
  g_autoptr (CsSession) session = cs_session_new ();
  g_autoptr (GError) error = NULL;
  GtkWidget *window = gtk_window_new ();
  GtkWidget *view = cs_training_view_new (session);
  CsWeightTimeline *timeline;
  const cs_run_analysis *a;

  g_assert_cmpint (truncate (truncated, 64), ==, 0);
  g_assert_cmpint (g_unlink (deleted), ==, 0);
  gtk_window_set_child (GTK_WINDOW (window), view);
  gtk_window_set_default_size (GTK_WINDOW (window), 900, 500);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (cs_session_open_model (session, dir, &error));
  g_assert_no_error (error);
  g_assert_cmpint (cs_session_get_n_epochs (session), ==, 8);
  g_assert_cmpint (cs_session_get_epoch (session), ==, 6);

  timeline = cs_training_view_get_timeline (CS_TRAINING_VIEW (view));
  g_assert_true (ui_wait_for_bool (G_OBJECT (timeline), "loading", FALSE, 20000));
  a = cs_weight_timeline_get_analysis (timeline);
  g_assert_nonnull (a);
  g_assert_cmpint (a->stats->n_unavailable, ==, 2);
  g_assert_nonnull (cs_run_analysis_checkpoint_error (a, 3));
  g_assert_nonnull (cs_run_analysis_checkpoint_error (a, 7));
  g_assert_null (cs_run_analysis_checkpoint_error (a, 4));
  g_assert_cmpstr (cs_training_view_get_hole_text (CS_TRAINING_VIEW (view)), ==, "");

  cs_session_set_epoch (session, 3);
  g_assert_nonnull (strstr (cs_training_view_get_hole_text (CS_TRAINING_VIEW (view)), "epoch-0003"));
  cs_session_set_epoch (session, 7);
  g_assert_nonnull (strstr (cs_training_view_get_hole_text (CS_TRAINING_VIEW (view)), "epoch-0007"));
  /* The model of a hole is an error, not a crash; its neighbours load. */
  g_assert_null (cs_model_set_get_epoch (cs_session_get_model_set (session), 3, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_nonnull (cs_model_set_get_epoch (cs_session_get_model_set (session), 4, &error));
  cs_session_set_epoch (session, 4);
  g_assert_cmpstr (cs_training_view_get_hole_text (CS_TRAINING_VIEW (view)), ==, "");
  ui_spin (100);
  gtk_window_destroy (GTK_WINDOW (window));
  ui_fixture_remove (g_steal_pointer (&dir));
}

/* Rewrites a checkpoint of the run with 3 NaN and 1 infinite value in its first weight tensor
 * (the model's own saver, so the file is otherwise valid). Returns the tensor's name. */
static const char *
poison_checkpoint (const char *dir, int epoch)
{
  g_autofree char *name = g_strdup_printf ("epoch-%04d.safetensors", epoch);
  g_autofree char *path = g_build_filename (dir, "checkpoints", name, NULL);
  cs_load_options o = CS_LOAD_OPTIONS_DEFAULT;
  cs_error err = { 0 };
  cs_model *m;
  const char *tensor = NULL;

  o.epoch = epoch;
  m = cs_model_load (dir, &o, &err);
  g_assert_nonnull (m);
  for (int32_t i = 0; i < m->graph->n_nodes && tensor == NULL; i++)
    if (m->graph->nodes[i].op == CS_OP_PARAM && m->graph->nodes[i].param_index == 0)
      tensor = g_intern_string (m->graph->nodes[i].name);
  g_assert_nonnull (tensor);
  g_assert_cmpint (cs_tensor_numel (&m->weights[0]), >=, 4);
  m->weights[0].data[0] = m->weights[0].data[2] = m->weights[0].data[3] = NAN;
  m->weights[0].data[1] = INFINITY;
  g_assert_cmpint (cs_safetensors_save (m, path, &err), ==, CS_OK);
  cs_model_free (m);
  return tensor;
}

static gboolean
strip_has_nan (GtkWidget *root)
{
  for (GtkWidget *c = gtk_widget_get_first_child (root); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      if (GTK_IS_LABEL (c) && (strstr (gtk_label_get_text (GTK_LABEL (c)), "nan") != NULL
                               || strstr (gtk_label_get_text (GTK_LABEL (c)), "%") != NULL))
        return TRUE;
      if (strip_has_nan (c))
        return TRUE;
    }
  return FALSE;
}

/* A checkpoint whose weights hold NaN/infinite values: scrubbed to, the view says which tensor
 * holds how many, the timeline has a hole there, the strip shows no prediction (and no "nan");
 * the next epoch predicts as usual. */
static void
test_nonfinite_epoch (void)
{
  g_autofree char *dir = ui_fixture_make_run (8);
  const char *tensor = poison_checkpoint (dir, 4);
  g_autoptr (CsSession) session = cs_session_new ();
  g_autoptr (GError) error = NULL;
  GtkWidget *window = gtk_window_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *view = cs_training_view_new (session);
  GtkWidget *strip = cs_image_strip_new (session);
  CsWeightTimeline *timeline;
  const cs_run_analysis *a;
  const char *hole;
  gint64 end;

  gtk_box_append (GTK_BOX (box), view);
  gtk_box_append (GTK_BOX (box), strip);
  gtk_window_set_child (GTK_WINDOW (window), box);
  gtk_window_set_default_size (GTK_WINDOW (window), 900, 600);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (cs_session_open_model (session, dir, &error));
  g_assert_no_error (error);
  timeline = cs_training_view_get_timeline (CS_TRAINING_VIEW (view));
  g_assert_true (ui_wait_for_bool (G_OBJECT (timeline), "loading", FALSE, 20000));
  a = cs_weight_timeline_get_analysis (timeline);
  g_assert_nonnull (a);
  g_assert_cmpint (a->stats->n_unavailable, ==, 1);
  g_assert_nonnull (cs_run_analysis_checkpoint_error (a, 4));

  cs_session_set_epoch (session, 4);
  hole = cs_training_view_get_hole_text (CS_TRAINING_VIEW (view));
  g_assert_nonnull (strstr (hole, "Epoch 4"));
  g_assert_nonnull (strstr (hole, "epoch-0004"));
  g_assert_nonnull (strstr (hole, tensor));
  g_assert_nonnull (strstr (hole, "4 of the"));
  g_assert_nonnull (strstr (hole, "NaN or infinite"));
  /* The other views get the same reason from the model set. */
  g_assert_null (cs_model_set_get_epoch (cs_session_get_model_set (session), 4, &error));
  g_assert_nonnull (strstr (error->message, "NaN or infinite"));
  g_clear_error (&error);
  ui_spin (1500);
  g_assert_cmpint (cs_image_strip_get_n_misclassified (CS_IMAGE_STRIP (strip)), ==, -1);
  g_assert_cmpuint (cs_image_strip_get_n_images (CS_IMAGE_STRIP (strip)), ==, 8);
  g_assert_false (strip_has_nan (strip));

  cs_session_set_epoch (session, 5);
  g_assert_cmpstr (cs_training_view_get_hole_text (CS_TRAINING_VIEW (view)), ==, "");
  g_assert_nonnull (cs_model_set_get_epoch (cs_session_get_model_set (session), 5, &error));
  g_assert_no_error (error);
  end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (cs_image_strip_get_n_misclassified (CS_IMAGE_STRIP (strip)) < 0 && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
  g_assert_cmpint (cs_image_strip_get_n_misclassified (CS_IMAGE_STRIP (strip)), >=, 0);
  ui_spin (100);
  gtk_window_destroy (GTK_WINDOW (window));
  ui_fixture_remove (g_steal_pointer (&dir));
}

/* The Signals menu: the study's best signal is shown by default; the onsets are the core's; each
 * check adds or removes its mark. */
static void
test_signals (void)
{
  g_autoptr (CsSession) session = cs_session_new ();
  GtkWidget *window = gtk_window_new ();
  GtkWidget *view = cs_training_view_new (session);
  CsTrainingView *tv = CS_TRAINING_VIEW (view);
  CsTrainingChart *chart;
  gint64 end;
  cs_error err = { 0 };
  cs_run *run;
  cs_run_signals expected;
  int fired = 0;

  gtk_window_set_child (GTK_WINDOW (window), view);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (cs_session_open_model (session, run_dir, NULL));
  chart = cs_training_view_get_chart (tv);
  for (int k = 0; k < CS_N_SIGNALS; k++)
    g_assert_cmpint (cs_training_view_get_signal_shown (tv, k), ==, k == (int) cs_signal_study_result_get ()->best);
  end = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  while (cs_training_view_get_signals (tv) == NULL && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
  g_assert_nonnull (cs_training_view_get_signals (tv));
  run = cs_run_load (run_dir, &err);
  g_assert_nonnull (run);
  g_assert_cmpint (cs_run_signals_compute (run, NULL, &expected, &err), ==, CS_OK);
  cs_run_free (run);
  for (int k = 0; k < CS_N_SIGNALS; k++)
    {
      g_assert_cmpint (cs_training_view_get_signals (tv)->onset[k], ==, expected.onset[k]);
      fired += expected.onset[k] >= 0;
      cs_training_view_set_signal_shown (tv, k, TRUE);
    }
  g_assert_cmpint (fired, >, 0);
  g_assert_cmpint (cs_training_chart_get_n_marks (chart), ==, fired);
  for (int k = 0; k < CS_N_SIGNALS; k++)
    cs_training_view_set_signal_shown (tv, k, FALSE);
  g_assert_cmpint (cs_training_chart_get_n_marks (chart), ==, 0);
  ui_spin (50);
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_onset_rule (void)
{
  double train[] = { NAN, 1.0, 0.6, 0.4, 0.3, 0.2, 0.1 };
  double val_over[] = { 1.2, 1.0, 0.7, 0.6, 0.7, 0.8, 0.9 };
  double val_fine[] = { 1.2, 1.0, 0.7, 0.6, 0.55, 0.5, 0.45 };

  g_assert_cmpint (cs_training_onset_by_validation (train, val_over, 7), ==, 3);
  g_assert_cmpint (cs_training_onset_by_validation (train, val_fine, 7), ==, -1);
}

static void
test_image_strip (void)
{
  g_autoptr (CsSession) session = cs_session_new ();
  GtkWidget *window = gtk_window_new ();
  GtkWidget *strip = cs_image_strip_new (session);
  gint64 end;

  gtk_window_set_child (GTK_WINDOW (window), strip);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (cs_session_open_model (session, run_dir, NULL));
  /* Decoded on the worker, then predicted: the images come first. */
  end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (cs_image_strip_get_n_misclassified (CS_IMAGE_STRIP (strip)) < 0 && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
  g_assert_cmpuint (cs_image_strip_get_n_images (CS_IMAGE_STRIP (strip)), ==, 8);
  g_assert_cmpint (cs_image_strip_get_n_misclassified (CS_IMAGE_STRIP (strip)), >=, 0);
  g_assert_cmpint (cs_image_strip_get_n_misclassified (CS_IMAGE_STRIP (strip)), <=, 8);
  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int argc, char *argv[])
{
  int ret;

  gtk_test_init (&argc, &argv, NULL);
  run_dir = ui_fixture_make_run (8);
  g_test_add_func ("/training-view/scrubber", test_scrubber);
  g_test_add_func ("/training-view/scrubber-aligned", test_scrubber_aligned);
  g_test_add_func ("/training-view/onset-rule", test_onset_rule);
  g_test_add_func ("/training-view/damaged-run", test_damaged_run);
  g_test_add_func ("/training-view/nonfinite-epoch", test_nonfinite_epoch);
  g_test_add_func ("/training-view/signals", test_signals);
  g_test_add_func ("/training-view/image-strip", test_image_strip);
  ret = g_test_run ();
  ui_fixture_remove (run_dir);
  return ret;
}
