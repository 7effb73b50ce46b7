/* CsFilterGallery: follows session:layer and session:epoch; items carry weights and feature
 * maps; sorting by activation; activating an item selects the unit. */
#include "config.h"

#include "cs-filter-gallery.h"
#include "cs-filter-item.h"
#include "ui-fixture.h"

static char *run_dir;

static double
norm_sum (GListModel *model)
{
  double s = 0;

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr (CsFilterItem) item = g_list_model_get_item (model, i);
      s += cs_filter_item_get_weight_norm (item) * (i + 1);
    }
  return s;
}

static GtkWidget *
make_gallery (CsSession *session)
{
  GtkWidget *window = gtk_window_new ();
  GtkWidget *gallery = cs_filter_gallery_new (session);

  gtk_window_set_child (GTK_WINDOW (window), gallery);
  gtk_window_set_default_size (GTK_WINDOW (window), 600, 400);
  gtk_window_present (GTK_WINDOW (window));
  return window;
}

static void
test_epoch_changes_content (void)
{
  g_autoptr (CsSession) session = cs_session_new ();
  GtkWidget *window = make_gallery (session);
  CsFilterGallery *gallery;
  GListModel *model;
  double last, first;
  int conv1;

  g_assert_true (cs_session_open_model (session, run_dir, NULL));
  gallery = CS_FILTER_GALLERY (gtk_window_get_child (GTK_WINDOW (window)));
  model = cs_filter_gallery_get_model (gallery);
  conv1 = cs_graph_find (cs_model_set_get_graph (cs_session_get_model_set (session)), "conv1");
  cs_session_set_layer (session, conv1);
  g_assert_true (ui_wait_for_bool (G_OBJECT (gallery), "loading", FALSE, 10000));
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 8);
  {
    g_autoptr (CsFilterItem) item = g_list_model_get_item (model, 0);
    /* First layer: kernel images and feature maps for the image. */
    g_assert_nonnull (cs_filter_item_get_weights (item));
    g_assert_nonnull (cs_filter_item_get_feature_map (item));
  }
  last = norm_sum (model);

  cs_session_set_epoch (session, 0);
  g_assert_true (cs_filter_gallery_get_loading (gallery));
  g_assert_true (ui_wait_for_bool (G_OBJECT (gallery), "loading", FALSE, 10000));
  first = norm_sum (model);
  g_assert_cmpfloat (first, !=, last);

  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_layer_and_sorting (void)
{
  g_autoptr (CsSession) session = cs_session_new ();
  GtkWidget *window = make_gallery (session);
  CsFilterGallery *gallery = CS_FILTER_GALLERY (gtk_window_get_child (GTK_WINDOW (window)));
  GListModel *model = cs_filter_gallery_get_model (gallery);
  const cs_graph *g;

  g_assert_true (cs_session_open_model (session, run_dir, NULL));
  g = cs_model_set_get_graph (cs_session_get_model_set (session));
  /* A layer without weights of its own shows the producing conv's weights. */
  cs_session_set_layer (session, cs_graph_find (g, "relu2"));
  g_assert_true (ui_wait_for_bool (G_OBJECT (gallery), "loading", FALSE, 10000));
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 8);
  {
    g_autoptr (CsFilterItem) item = g_list_model_get_item (model, 0);
    g_assert_nonnull (cs_filter_item_get_weights (item));
    g_assert_cmpint (gdk_texture_get_width (cs_filter_item_get_feature_map (item)), >=, 8);
  }
  /* The logits: one value per class. */
  cs_session_set_layer (session, cs_graph_find (g, "fc"));
  g_assert_true (ui_wait_for_bool (G_OBJECT (gallery), "loading", FALSE, 10000));
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 4);

  cs_filter_gallery_set_sort_by_activation (gallery, TRUE);
  for (guint i = 1; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr (CsFilterItem) a = g_list_model_get_item (model, i - 1);
      g_autoptr (CsFilterItem) b = g_list_model_get_item (model, i);
      g_assert_cmpfloat (cs_filter_item_get_mean_activation (a), >=,
                         cs_filter_item_get_mean_activation (b));
    }
  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int argc, char *argv[])
{
  int ret;

  gtk_test_init (&argc, &argv, NULL);
  run_dir = ui_fixture_make_run (6);
  g_test_add_func ("/filter-gallery/epoch-changes-content", test_epoch_changes_content);
  g_test_add_func ("/filter-gallery/layer-and-sorting", test_layer_and_sorting);
  ret = g_test_run ();
  ui_fixture_remove (run_dir);
  return ret;
}
