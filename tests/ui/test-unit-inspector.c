/* CsUnitInspector: selecting a unit fills it (actmax refined live, top examples from the run's
 * data set, evolution over epochs, sparkline, rankings); the epoch refreshes it; a superseded
 * actmax job is dropped; the image is reproducible with a seed; saliency can explain the unit. */
#include "config.h"

#include <string.h>

#include "cs-jobs.h"
#include "cs-saliency-view.h"
#include "cs-unit-inspector-private.h"
#include "ui-fixture.h"

#define N_EPOCHS 4

static char *run_dir;

/* Small and quick: the fixture's model is tiny, the steps few. */
static cs_actmax_params
quick_params (void)
{
  cs_actmax_params p = CS_ACTMAX_PARAMS_DEFAULT;

  p.steps = 48;
  return p;
}

static GtkWidget *
make_window (CsSession *session, CsUnitInspector **inspector)
{
  GtkWidget *window = gtk_window_new ();
  GtkWidget *widget = cs_unit_inspector_new (session);
  cs_actmax_params p = quick_params ();

  gtk_window_set_child (GTK_WINDOW (window), widget);
  gtk_window_set_default_size (GTK_WINDOW (window), 1100, 330);
  gtk_window_present (GTK_WINDOW (window));
  *inspector = CS_UNIT_INSPECTOR (widget);
  cs_unit_inspector_set_actmax_params (*inspector, &p);
  return window;
}

static int
node (CsSession *session, const char *name)
{
  return cs_graph_find (cs_model_set_get_graph (cs_session_get_model_set (session)), name);
}

static void
select_unit (CsSession *session, const char *layer, int unit)
{
  cs_session_set_layer (session, node (session, layer));
  cs_session_set_unit (session, unit);
}

/* Every ellipsized caption of the panels (dropdowns' own labels aside) has its full text in a
 * tooltip, on itself or on the cell it captions. Returns how many were checked. */
static int
check_captions (GtkWidget *root)
{
  int n = 0;

  if (GTK_IS_DROP_DOWN (root))
    return 0;
  if (GTK_IS_LABEL (root) && gtk_widget_get_mapped (root)
      && gtk_label_get_ellipsize (GTK_LABEL (root)) != PANGO_ELLIPSIZE_NONE
      && gtk_label_get_text (GTK_LABEL (root))[0] != '\0')
    {
      const char *text = gtk_label_get_text (GTK_LABEL (root));
      gboolean found = FALSE;
      for (GtkWidget *w = root; w != NULL && !found; w = gtk_widget_get_parent (w))
        found = gtk_widget_get_tooltip_text (w) != NULL && strstr (gtk_widget_get_tooltip_text (w), text) != NULL;
      if (!found)
        g_error ("caption '%s' has no tooltip with its text", text);
      n++;
    }
  for (GtkWidget *c = gtk_widget_get_first_child (root); c != NULL; c = gtk_widget_get_next_sibling (c))
    n += check_captions (c);
  return n;
}

static void
test_select_fills (void)
{
  g_autoptr (CsSession) session = cs_session_new ();
  CsUnitInspector *inspector;
  GtkWidget *window = make_window (session, &inspector);
  int epoch, layer, unit, c, h, w, n;
  gboolean final;
  const float *img;

  g_assert_true (cs_session_open_model (session, run_dir, NULL));
  g_assert_nonnull (cs_unit_inspector_get_dataset_spec (inspector));
  /* No unit yet: nothing computed. */
  g_assert_false (cs_unit_inspector_get_actmax_loading (inspector));
  g_assert_null (cs_unit_inspector_get_actmax_texture (inspector));

  select_unit (session, "conv2", 3);
  g_assert_true (cs_unit_inspector_get_actmax_loading (inspector));
  g_assert_true (ui_wait_for_bool (G_OBJECT (inspector), "actmax-loading", FALSE, 20000));
  img = cs_unit_inspector_get_actmax_image (inspector, &epoch, &layer, &unit, &c, &h, &w, &final);
  g_assert_nonnull (img);
  g_assert_nonnull (cs_unit_inspector_get_actmax_texture (inspector));
  g_assert_true (final);
  g_assert_cmpint (epoch, ==, N_EPOCHS - 1);
  g_assert_cmpint (layer, ==, node (session, "conv2"));
  g_assert_cmpint (unit, ==, 3);
  g_assert_cmpint (c, ==, 1);
  g_assert_cmpint (h, ==, 16);
  g_assert_cmpint (w, ==, 16);
  /* Refined live: intermediate steps were shown before the final image. */
  g_assert_cmpuint (cs_unit_inspector_get_n_live_updates (inspector), >, 0);

  /* Top examples from the fixture's IDX data set, nine with their boxes. */
  g_assert_true (ui_wait_for_bool (G_OBJECT (inspector), "topk-loading", FALSE, 20000));
  g_assert_cmpuint (cs_unit_inspector_get_n_top_examples (inspector), ==, 9);

  /* Evolution: weights at every epoch at once, actmax images at every epoch lazily. */
  g_assert_true (ui_wait_for_bool (G_OBJECT (inspector), "evolution-loading", FALSE, 60000));
  ui_spin (50);  /* the last cells come through a low-priority idle */
  g_assert_cmpuint (cs_unit_inspector_get_n_evolution_weights (inspector), ==, N_EPOCHS);
  g_assert_cmpuint (cs_unit_inspector_get_n_evolution_actmax (inspector), ==, N_EPOCHS);

  /* The sparkline (from analysis) once the statistics arrive. */
  for (int i = 0; i < 200 && cs_unit_inspector_get_sparkline (inspector, &n) == NULL; i++)
    ui_spin (50);
  g_assert_nonnull (cs_unit_inspector_get_sparkline (inspector, &n));
  g_assert_cmpint (n, ==, N_EPOCHS);

  /* Captions that do not fit say it all in their tooltips: the header, the statuses, the nine
   * examples' captions. */
  g_assert_cmpint (check_captions (GTK_WIDGET (inspector)), >=, 2 + 2 + 9);

  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_epoch_refreshes (void)
{
  g_autoptr (CsSession) session = cs_session_new ();
  CsUnitInspector *inspector;
  GtkWidget *window = make_window (session, &inspector);
  g_autofree float *last = NULL;
  int epoch, c, h, w;
  const float *img;

  g_assert_true (cs_session_open_model (session, run_dir, NULL));
  select_unit (session, "conv1", 2);
  g_assert_true (ui_wait_for_bool (G_OBJECT (inspector), "actmax-loading", FALSE, 20000));
  img = cs_unit_inspector_get_actmax_image (inspector, NULL, NULL, NULL, &c, &h, &w, NULL);
  last = g_memdup2 (img, (gsize) c * h * w * sizeof (float));
  g_assert_true (ui_wait_for_bool (G_OBJECT (inspector), "topk-loading", FALSE, 20000));

  /* Epoch 0 (the initialisation): another image, new top examples. */
  cs_session_set_epoch (session, 0);
  g_assert_true (ui_wait_for_bool (G_OBJECT (inspector), "actmax-loading", FALSE, 20000));
  g_assert_true (ui_wait_for_bool (G_OBJECT (inspector), "topk-loading", FALSE, 20000));
  img = cs_unit_inspector_get_actmax_image (inspector, &epoch, NULL, NULL, &c, &h, &w, NULL);
  g_assert_cmpint (epoch, ==, 0);
  g_assert_true (memcmp (img, last, (gsize) c * h * w * sizeof (float)) != 0);
  g_assert_cmpuint (cs_unit_inspector_get_n_top_examples (inspector), ==, 9);

  /* Back to the last epoch: served from the cache, no job. */
  cs_session_set_epoch (session, N_EPOCHS - 1);
  g_assert_false (cs_unit_inspector_get_actmax_loading (inspector));
  g_assert_false (cs_unit_inspector_get_topk_loading (inspector));
  img = cs_unit_inspector_get_actmax_image (inspector, &epoch, NULL, NULL, &c, &h, &w, NULL);
  g_assert_cmpint (epoch, ==, N_EPOCHS - 1);
  g_assert_true (memcmp (img, last, (gsize) c * h * w * sizeof (float)) == 0);

  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_stale_dropped (void)
{
  g_autoptr (CsSession) session = cs_session_new ();
  CsUnitInspector *inspector;
  GtkWidget *window = make_window (session, &inspector);
  guint dropped;
  int layer, unit;

  g_assert_true (cs_session_open_model (session, run_dir, NULL));
  dropped = cs_unit_inspector_get_n_dropped (inspector);
  select_unit (session, "conv1", 1);
  /* Superseded at once: unit 1's job (and its live steps) must never reach the picture. */
  cs_session_set_unit (session, 5);
  g_assert_true (ui_wait_for_bool (G_OBJECT (inspector), "actmax-loading", FALSE, 20000));
  ui_spin (100);
  g_assert_nonnull (cs_unit_inspector_get_actmax_image (inspector, NULL, &layer, &unit, NULL, NULL,
                                                        NULL, NULL));
  g_assert_cmpint (layer, ==, node (session, "conv1"));
  g_assert_cmpint (unit, ==, 5);
  for (int i = 0; i < 100 && cs_unit_inspector_get_n_dropped (inspector) == dropped; i++)
    ui_spin (20);
  g_assert_cmpuint (cs_unit_inspector_get_n_dropped (inspector), >, dropped);
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_seed_reproducible (void)
{
  g_autoptr (CsSession) session = cs_session_new ();
  CsUnitInspector *inspector;
  GtkWidget *window = make_window (session, &inspector);
  g_autofree float *first = NULL;
  cs_actmax_params p;
  int c, h, w;
  const float *img;

  g_assert_true (cs_session_open_model (session, run_dir, NULL));
  select_unit (session, "relu2", 0);
  g_assert_true (ui_wait_for_bool (G_OBJECT (inspector), "actmax-loading", FALSE, 20000));
  img = cs_unit_inspector_get_actmax_image (inspector, NULL, NULL, NULL, &c, &h, &w, NULL);
  first = g_memdup2 (img, (gsize) c * h * w * sizeof (float));

  /* Restart recomputes (not from the cache) and gives the same image. */
  cs_unit_inspector_restart (inspector);
  g_assert_true (cs_unit_inspector_get_actmax_loading (inspector));
  g_assert_true (ui_wait_for_bool (G_OBJECT (inspector), "actmax-loading", FALSE, 20000));
  img = cs_unit_inspector_get_actmax_image (inspector, NULL, NULL, NULL, &c, &h, &w, NULL);
  g_assert_true (memcmp (img, first, (gsize) c * h * w * sizeof (float)) == 0);

  /* Another seed, another image. */
  cs_unit_inspector_get_actmax_params (inspector, &p);
  p.seed = 7;
  cs_unit_inspector_set_actmax_params (inspector, &p);
  g_assert_true (cs_unit_inspector_get_actmax_loading (inspector));
  g_assert_true (ui_wait_for_bool (G_OBJECT (inspector), "actmax-loading", FALSE, 20000));
  img = cs_unit_inspector_get_actmax_image (inspector, NULL, NULL, NULL, &c, &h, &w, NULL);
  g_assert_true (memcmp (img, first, (gsize) c * h * w * sizeof (float)) != 0);
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_ranking_selects (void)
{
  g_autoptr (CsSession) session = cs_session_new ();
  CsUnitInspector *inspector;
  GtkWidget *window = make_window (session, &inspector);
  int n, u, prev_n = -1, prev_u = -1;
  float change, prev = G_MAXFLOAT;

  g_assert_true (cs_session_open_model (session, run_dir, NULL));
  cs_unit_inspector_set_rank_epochs (inspector, 0, N_EPOCHS - 1);
  g_assert_true (ui_wait_for_bool (G_OBJECT (inspector), "rank-loading", FALSE, 20000));
  /* Every filter of conv1 and conv2, most changed first. */
  g_assert_cmpuint (cs_unit_inspector_get_n_ranked (inspector), ==, 8 + 8);
  for (guint i = 0; cs_unit_inspector_get_ranked (inspector, i, &n, &u, &change); i++)
    {
      g_assert_cmpfloat (change, <=, prev);
      g_assert_cmpfloat (change, >, 0);
      prev = change;
      if (i == 0)
        prev_n = n, prev_u = u;
    }
  cs_unit_inspector_activate_ranked (inspector, 0);
  g_assert_cmpint (cs_session_get_layer (session), ==, prev_n);
  g_assert_cmpint (cs_session_get_unit (session), ==, prev_u);
  g_assert_true (cs_unit_inspector_get_actmax_loading (inspector));
  g_assert_true (ui_wait_for_bool (G_OBJECT (inspector), "actmax-loading", FALSE, 20000));
  gtk_window_destroy (GTK_WINDOW (window));
}

/* The session's explain-unit switch makes a saliency job explain the unit (gradient methods). */
static void
test_explain_unit (void)
{
  g_autoptr (CsSession) session = cs_session_new ();
  CsSaliencyJob *job;

  g_assert_true (cs_session_open_model (session, run_dir, NULL));
  select_unit (session, "conv2", 4);
  job = cs_saliency_job_new (session, CS_METHOD_SALIENCY, -1);
  g_assert_cmpint (job->params.unit_layer, ==, -1);
  cs_saliency_job_free (job);

  cs_session_set_explain_unit (session, TRUE);
  job = cs_saliency_job_new (session, CS_METHOD_INTEGRATED_GRADIENTS, -1);
  g_assert_cmpint (job->params.unit_layer, ==, node (session, "conv2"));
  g_assert_cmpint (job->params.unit_channel, ==, 4);
  cs_saliency_job_free (job);
  job = cs_saliency_job_new (session, CS_METHOD_OCCLUSION, -1);
  g_assert_cmpint (job->params.unit_layer, ==, -1);
  cs_saliency_job_free (job);

  /* And the view computes such a map. */
  {
    GtkWidget *window = gtk_window_new ();
    GtkWidget *view = cs_saliency_view_new (session);
    cs_session_set_method (session, CS_METHOD_GRADCAM);
    gtk_window_set_child (GTK_WINDOW (window), view);
    gtk_window_present (GTK_WINDOW (window));
    ui_spin (20);
    g_assert_true (ui_wait_for_bool (G_OBJECT (view), "loading", FALSE, 20000));
    g_assert_cmpint (cs_saliency_view_get_overlay_method (CS_SALIENCY_VIEW (view)), ==, CS_METHOD_GRADCAM);
    gtk_window_destroy (GTK_WINDOW (window));
  }
}

int
main (int argc, char *argv[])
{
  int ret;

  gtk_test_init (&argc, &argv, NULL);
  run_dir = ui_fixture_make_run (N_EPOCHS);
  g_test_add_func ("/unit-inspector/select-fills", test_select_fills);
  g_test_add_func ("/unit-inspector/epoch-refreshes", test_epoch_refreshes);
  g_test_add_func ("/unit-inspector/stale-dropped", test_stale_dropped);
  g_test_add_func ("/unit-inspector/seed-reproducible", test_seed_reproducible);
  g_test_add_func ("/unit-inspector/ranking-selects", test_ranking_selects);
  g_test_add_func ("/unit-inspector/explain-unit", test_explain_unit);
  ret = g_test_run ();
  ui_fixture_remove (run_dir);
  return ret;
}
