/* CsGraphView: every shown node has a box; a click on a box selects that layer, and the
 * filter gallery (which only listens to the session) follows. */
#include "config.h"

#include "cs-filter-gallery.h"
#include "cs-graph-view.h"
#include "ui-fixture.h"

static char *run_dir;

static GtkGesture *
find_click (GtkWidget *widget)
{
  g_autoptr (GListModel) controllers = gtk_widget_observe_controllers (widget);

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr (GObject) c = g_list_model_get_item (controllers, i);
      if (GTK_IS_GESTURE_CLICK (c))
        return GTK_GESTURE (c);
    }
  return NULL;
}

static void
test_click_selects_layer (void)
{
  g_autoptr (CsSession) session = cs_session_new ();
  GtkWidget *window = gtk_window_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  GtkWidget *graph = cs_graph_view_new (session);
  GtkWidget *gallery = cs_filter_gallery_new (session);
  const cs_graph *g;
  int conv1, pool1, res;
  double x, y;

  gtk_widget_set_size_request (graph, 400, 700);
  gtk_box_append (GTK_BOX (box), graph);
  gtk_box_append (GTK_BOX (box), gallery);
  gtk_window_set_child (GTK_WINDOW (window), box);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (cs_session_open_model (session, run_dir, NULL));
  ui_spin (200);

  g = cs_model_set_get_graph (cs_session_get_model_set (session));
  conv1 = cs_graph_find (g, "conv1");
  pool1 = cs_graph_find (g, "pool1");
  res = cs_graph_find (g, "res");
  g_assert_true (ui_wait_for_bool (G_OBJECT (gallery), "loading", FALSE, 10000));
  g_assert_cmpint (cs_filter_gallery_get_layer (CS_FILTER_GALLERY (gallery)), ==, res);

  /* Parameters have no box; operators do, and the box is where the view says it is. */
  g_assert_false (cs_graph_view_node_center (CS_GRAPH_VIEW (graph), g->nodes[conv1].inputs[1], &x, &y));
  g_assert_true (cs_graph_view_node_center (CS_GRAPH_VIEW (graph), conv1, &x, &y));
  g_assert_cmpint (cs_graph_view_node_at (CS_GRAPH_VIEW (graph), x, y), ==, conv1);
  /* The residual add sits below both of its inputs. */
  {
    double px, py, rx, ry;
    g_assert_true (cs_graph_view_node_center (CS_GRAPH_VIEW (graph), pool1, &px, &py));
    g_assert_true (cs_graph_view_node_center (CS_GRAPH_VIEW (graph), res, &rx, &ry));
    g_assert_cmpfloat (ry, >, py);
  }

  g_signal_emit_by_name (find_click (graph), "released", 1, x, y);
  g_assert_cmpint (cs_session_get_layer (session), ==, conv1);
  g_assert_cmpint (cs_filter_gallery_get_layer (CS_FILTER_GALLERY (gallery)), ==, conv1);
  g_assert_true (ui_wait_for_bool (G_OBJECT (gallery), "loading", FALSE, 10000));
  g_assert_cmpuint (g_list_model_get_n_items (cs_filter_gallery_get_model (CS_FILTER_GALLERY (gallery))), ==, 8);

  /* A click on empty space changes nothing. */
  g_signal_emit_by_name (find_click (graph), "released", 1, 2.0, 690.0);
  g_assert_cmpint (cs_session_get_layer (session), ==, conv1);
  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int argc, char *argv[])
{
  int ret;

  gtk_test_init (&argc, &argv, NULL);
  run_dir = ui_fixture_make_run (3);
  g_test_add_func ("/graph-view/click-selects-layer", test_click_selects_layer);
  ret = g_test_run ();
  ui_fixture_remove (run_dir);
  return ret;
}
