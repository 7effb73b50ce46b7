/* A user's own ImageNet model in the app: torchvision's ResNet-18, exported during the test
 * (tools/make-own-model-fixture.py), explained on a 320x240 photo. The imagenet preset picked
 * in the model settings window gives PyTorch's prediction and its ImageNet class name, and is
 * remembered beside the model; a labels.txt beside a model names its classes; NaN weights are
 * refused with a message naming the tensor; a run logged from PyTorch opens on its test images. CONVSCOPE_TEST_SHOTS=DIR saves screenshots. */
#include "config.h"

#include <cjson/cJSON.h>
#include <glib/gstdio.h>
#include <math.h>

#include "cs-graph-blocks.h"
#include "cs-graph-view.h"
#include "cs-image-strip.h"
#include "cs-model-set.h"
#include "cs-model-settings.h"
#include "cs-node-inspector.h"
#include "cs-saliency-view.h"
#include "ui-fixture.h"

static char *fixture_dir;
static int ref_class;
static double ref_probability;
static char *ref_label;

/* Renders w into DIR/name.png when CONVSCOPE_TEST_SHOTS is set (to look at the views). */
static void
shot (GtkWidget *w, const char *name)
{
  const char *dir = g_getenv ("CONVSCOPE_TEST_SHOTS");
  g_autoptr (GdkPaintable) paintable = NULL;
  g_autoptr (GdkTexture) texture = NULL;
  GtkSnapshot *snapshot;
  GskRenderNode *node;
  g_autofree char *file = NULL, *path = NULL;

  if (dir == NULL)
    return;
  ui_spin (300);
  paintable = gtk_widget_paintable_new (w);
  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, snapshot, gtk_widget_get_width (w), gtk_widget_get_height (w));
  node = gtk_snapshot_free_to_node (snapshot);
  if (node == NULL)
    return;
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (gtk_widget_get_native (w)), node, NULL);
  gsk_render_node_unref (node);
  file = g_strconcat (name, ".png", NULL);
  path = g_build_filename (dir, file, NULL);
  gdk_texture_save_to_png (texture, path);
}

static CsSaliencyView *
make_view (CsSession *session, GtkWidget **window)
{
  GtkWidget *view = cs_saliency_view_new (session);

  *window = gtk_window_new ();
  gtk_window_set_child (GTK_WINDOW (*window), view);
  gtk_window_set_default_size (GTK_WINDOW (*window), 600, 560);
  gtk_window_present (GTK_WINDOW (*window));
  return CS_SALIENCY_VIEW (view);
}

/* Waits until the view has a prediction and no job runs (of class want and probability near
 * want_p when >= 0: the previous model's prediction shows until the new one arrives). */
static gboolean
wait_prediction (CsSaliencyView *view, int want, double want_p, int *klass, float *p)
{
  gint64 end = g_get_monotonic_time () + 90 * G_USEC_PER_SEC;

  while (g_get_monotonic_time () < end)
    {
      ui_spin (100);
      if (!cs_saliency_view_get_loading (view) && cs_saliency_view_get_prediction (view, klass, p)
          && (want < 0 || *klass == want) && (want_p < 0 || fabs (*p - want_p) < 1e-4))
        return TRUE;
    }
  return FALSE;
}

/* Opens model and the photo; waits for the prediction. */
static void
open_and_predict (CsSession *session, CsSaliencyView *view, const char *model, int *klass,
                  float *p)
{
  g_autofree char *photo = g_build_filename (fixture_dir, "photo.png", NULL);
  g_autoptr (GError) error = NULL;

  g_assert_true (cs_session_open_model (session, model, &error));
  g_assert_no_error (error);
  g_assert_true (cs_session_open_image (session, photo, -1, &error));
  g_assert_true (wait_prediction (view, -1, -1, klass, p));
}

static void
reopen_cb (CsModelSettingsWindow *dialog, CsSession *session)
{
  g_autofree char *path = g_strdup (cs_model_set_get_path (cs_session_get_model_set (session)));
  g_assert_true (cs_session_open_model (session, path, NULL));
}

static void
test_imagenet_preset (void)
{
  g_autoptr (CsSession) session = cs_session_new ();
  g_autofree char *model = g_build_filename (fixture_dir, "resnet18.onnx", NULL);
  g_autofree char *sidecar = g_strconcat (model, ".convscope.json", NULL);
  GtkWidget *window;
  CsSaliencyView *view = make_view (session, &window);
  CsModelSettingsWindow *dialog;
  g_autoptr (GError) error = NULL;
  char buf[256];
  int k;
  float p;

  g_unlink (sidecar);
  cs_session_set_method (session, CS_METHOD_GRADCAM);
  open_and_predict (session, view, model, &k, &p);
  /* Without the preset the model sees unnormalised pixels: not PyTorch's answer. */
  g_assert_false (k == ref_class && fabs (p - ref_probability) < 1e-3);
  /* No name yet: the model has no labels (a number, not a fake name). */
  shot (window, "own-model-before");

  dialog = cs_model_settings_window_new (GTK_WINDOW (window), model,
                                         cs_model_set_get_base (cs_session_get_model_set (session)), FALSE);
  g_signal_connect (dialog, "applied", G_CALLBACK (reopen_cb), session);
  gtk_window_present (GTK_WINDOW (dialog));
  cs_model_settings_window_select_preset (dialog, "imagenet");
  shot (GTK_WIDGET (dialog), "own-model-settings");
  g_assert_true (cs_model_settings_window_apply (dialog, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_test (sidecar, G_FILE_TEST_EXISTS));
  gtk_window_destroy (GTK_WINDOW (dialog));

  {
    g_autofree char *photo = g_build_filename (fixture_dir, "photo.png", NULL);
    g_assert_true (cs_session_open_image (session, photo, -1, NULL));
  }
  g_assert_true (wait_prediction (view, ref_class, ref_probability, &k, &p));
  g_assert_cmpint (k, ==, ref_class);
  g_assert_cmpfloat_with_epsilon (p, ref_probability, 1e-4);
  g_assert_cmpstr (cs_model_set_get_class_label (cs_session_get_model_set (session), k, buf, sizeof buf),
                   ==, ref_label);
  /* The overlay lies over what the model saw: the 224x224 centre crop, not the 320x240 photo. */
  g_assert_cmpint (gdk_texture_get_width (cs_session_get_image (session)), ==, 224);
  shot (window, "own-model-imagenet");
  gtk_window_destroy (GTK_WINDOW (window));

  /* Remembered: a new session opening the model uses the preset. */
  {
    g_autoptr (CsSession) again = cs_session_new ();
    CsSaliencyView *v2 = make_view (again, &window);
    cs_session_set_method (again, CS_METHOD_GRADCAM);
    open_and_predict (again, v2, model, &k, &p);
    g_assert_true (wait_prediction (v2, ref_class, ref_probability, &k, &p));
    g_assert_cmpint (k, ==, ref_class);
    g_assert_cmpfloat_with_epsilon (p, ref_probability, 1e-4);
    gtk_window_destroy (GTK_WINDOW (window));
  }
  g_unlink (sidecar);
}

static void
test_labels_file (void)
{
  g_autofree char *dir = g_build_filename (fixture_dir, "labelled", NULL);
  g_autofree char *model = g_build_filename (dir, "resnet18.onnx", NULL);
  g_autofree char *src = g_build_filename (fixture_dir, "resnet18.onnx", NULL);
  g_autofree char *labels = g_build_filename (dir, "labels.txt", NULL);
  g_autoptr (CsSession) session = cs_session_new ();
  g_autoptr (GString) text = g_string_new (NULL);
  g_autofree char *want = NULL;
  g_autofree char *onnx = NULL;
  gsize len;
  GtkWidget *window;
  CsSaliencyView *view = make_view (session, &window);
  char buf[256];
  int k;
  float p;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_assert_true (g_file_get_contents (src, &onnx, &len, NULL));
  g_assert_true (g_file_set_contents (model, onnx, (gssize) len, NULL));
  for (int i = 0; i < 1000; i++)
    g_string_append_printf (text, "my class %d\n", i);
  g_assert_true (g_file_set_contents (labels, text->str, -1, NULL));
  cs_session_set_method (session, CS_METHOD_GRADCAM);
  open_and_predict (session, view, model, &k, &p);
  want = g_strdup_printf ("my class %d", k);
  g_assert_cmpstr (cs_model_set_get_class_label (cs_session_get_model_set (session), k, buf, sizeof buf),
                   ==, want);
  gtk_window_destroy (GTK_WINDOW (window));

  /* A labels file of the wrong length is an error naming it, not a silent mismatch. */
  g_assert_true (g_file_set_contents (labels, "cat\ndog\n", -1, NULL));
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (CsSession) s2 = cs_session_new ();
    g_assert_false (cs_session_open_model (s2, model, &error));
    g_assert_nonnull (strstr (error->message, "labels.txt: 2 labels"));
  }
  g_unlink (labels);
  g_unlink (model);
  g_rmdir (dir);
}

static void
test_nan_weights (void)
{
  g_autofree char *model = g_build_filename (fixture_dir, "nan.onnx", NULL);
  g_autoptr (CsSession) session = cs_session_new ();
  g_autoptr (GError) error = NULL;

  g_assert_false (cs_session_open_model (session, model, &error));
  g_assert_nonnull (strstr (error->message, "3 of the 36864 values"));
  g_assert_nonnull (strstr (error->message, "layer1.0.conv1"));
  g_assert_null (cs_session_get_model_set (session));
}

/* A run logged from PyTorch that names Fashion-MNIST opens on its test images: the views show
 * test:0 with its true label, the strip the first test examples with predictions. */
static void
test_logged_run_opens_on_test_images (void)
{
  g_autofree char *run = g_build_filename (fixture_dir, "logged-run", NULL);
  g_autoptr (CsSession) session = cs_session_new ();
  GtkWidget *window = gtk_window_new ();
  GtkWidget *strip = cs_image_strip_new (session);
  gint64 end;

  gtk_window_set_child (GTK_WINDOW (window), strip);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (cs_session_open_model (session, run, NULL));
  g_assert_cmpstr (cs_session_get_image_name (session), ==, "test:0");
  g_assert_cmpint (cs_session_get_image_label (session), >=, 0);
  /* The strip decodes its examples on the worker, then predicts them. */
  end = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  while (cs_image_strip_get_n_misclassified (CS_IMAGE_STRIP (strip)) < 0 && g_get_monotonic_time () < end)
    ui_spin (100);
  g_assert_cmpuint (cs_image_strip_get_n_images (CS_IMAGE_STRIP (strip)), ==, 24);
  g_assert_cmpint (cs_image_strip_get_n_misclassified (CS_IMAGE_STRIP (strip)), >=, 0);
  shot (window, "own-model-logged-run-strip");
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
click_graph (GtkWidget *graph, double x, double y)
{
  g_autoptr (GListModel) controllers = gtk_widget_observe_controllers (graph);

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr (GObject) c = g_list_model_get_item (controllers, i);
      if (GTK_IS_GESTURE_CLICK (c))
        g_signal_emit_by_name (c, "released", 1, x, y);
    }
}

/* Layers by their PyTorch names in the graph; a click opens the node inspector. */
static void
test_node_inspector (void)
{
  g_autofree char *model = g_build_filename (fixture_dir, "resnet18.onnx", NULL);
  g_autoptr (CsSession) session = cs_session_new ();
  GtkWidget *window = gtk_window_new ();
  GtkWidget *graph = cs_graph_view_new (session);
  const cs_graph *g;
  g_autofree char *text = NULL;
  int id;
  double x, y;

  gtk_window_set_child (GTK_WINDOW (window), graph);
  gtk_window_set_default_size (GTK_WINDOW (window), 500, 700);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (cs_session_open_model (session, model, NULL));
  ui_spin (200);
  g = cs_model_set_get_graph (cs_session_get_model_set (session));
  id = cs_graph_find (g, "layer1.0.conv1");
  g_assert_cmpint (id, >=, 0);
  g_assert_cmpint (cs_graph_find (g, "/layer1/layer1.0/conv1/Conv"), ==, id);
  text = cs_node_inspector_describe (g, cs_graph_find (g, "layer4.1.conv2"));
  g_assert_nonnull (strstr (text, "Layer: layer4.1.conv2"));
  g_assert_nonnull (strstr (text, "Name in the file: /layer4/layer4.1/conv2/Conv"));
  g_assert_nonnull (strstr (text, "kernel 3×3 · stride 1×1 · pad 1,1,1,1"));
  g_assert_nonnull (strstr (text, "Output: [N, 512, 7, 7]"));
  g_assert_nonnull (strstr (text, "Parameter count: 2359296")); /* 512·512·3·3, as inspect says */

  /* The search box's lookup: by PyTorch name or by the name in the file, case-insensitive. */
  g_assert_cmpint (cs_graph_view_find (CS_GRAPH_VIEW (graph), "LAYER3.1.conv2"), ==, cs_graph_find (g, "layer3.1.conv2"));
  g_assert_cmpint (cs_session_get_layer (session), ==, cs_graph_find (g, "layer3.1.conv2"));
  g_assert_cmpint (cs_graph_view_find (CS_GRAPH_VIEW (graph), "/layer2/layer2.0/Add"), ==, cs_graph_find (g, "layer2.0.add"));
  g_assert_cmpint (cs_graph_view_find (CS_GRAPH_VIEW (graph), "no such layer"), ==, -1);
  /* The search centred layer2.0.add: click it. */
  id = cs_graph_find (g, "layer2.0.add");
  g_assert_true (cs_graph_view_node_center (CS_GRAPH_VIEW (graph), id, &x, &y));
  click_graph (graph, x, y);
  g_assert_cmpint (cs_session_get_layer (session), ==, id);
  g_assert_nonnull (cs_graph_view_get_inspector (CS_GRAPH_VIEW (graph)));
  g_assert_true (gtk_widget_get_visible (cs_graph_view_get_inspector (CS_GRAPH_VIEW (graph))));
  shot (window, "own-model-graph");
  shot (cs_graph_view_get_inspector (CS_GRAPH_VIEW (graph)), "own-model-node-inspector");
  gtk_popover_popdown (GTK_POPOVER (cs_graph_view_get_inspector (CS_GRAPH_VIEW (graph))));
  ui_spin (100);
  gtk_window_destroy (GTK_WINDOW (window));
}

static gboolean
same_box (GtkWidget *graph, const cs_graph *g, const char *a, const char *b)
{
  double ax, ay, bx, by;

  g_assert_true (cs_graph_view_node_center (CS_GRAPH_VIEW (graph), cs_graph_find (g, a), &ax, &ay));
  g_assert_true (cs_graph_view_node_center (CS_GRAPH_VIEW (graph), cs_graph_find (g, b), &bx, &by));
  return ax == bx && ay == by;
}

/* A ResNet opens readable: its repeated blocks (layerN, layerN.M) collapsed, fitted at a zoom
 * where the labels stay legible; a click on a block opens it, the search opens what it finds. */
static void
test_graph_blocks (void)
{
  g_autofree char *model = g_build_filename (fixture_dir, "resnet18.onnx", NULL);
  g_autoptr (CsSession) session = cs_session_new ();
  GtkWidget *window = gtk_window_new ();
  GtkWidget *graph = cs_graph_view_new (session);
  const cs_graph *g;
  guint shown = 0, collapsed;
  double x, y;

  gtk_window_set_child (GTK_WINDOW (window), graph);
  gtk_window_set_default_size (GTK_WINDOW (window), 290, 900);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (cs_session_open_model (session, model, NULL));
  ui_spin (200);
  g = cs_model_set_get_graph (cs_session_get_model_set (session));
  for (int id = 0; id < g->n_nodes; id++)
    shown += g->nodes[id].op != CS_OP_PARAM && g->nodes[id].op != CS_OP_CONST;
  collapsed = cs_graph_view_get_n_boxes (CS_GRAPH_VIEW (graph));
  /* input, conv1, relu, maxpool, layer1..layer4, the pooling, flatten, fc. */
  g_assert_cmpuint (collapsed, <=, 12);
  g_assert_cmpuint (shown, >, 40);
  g_assert_cmpfloat (cs_graph_view_get_zoom (CS_GRAPH_VIEW (graph)), >=, 0.75);
  g_assert_true (same_box (graph, g, "layer1.0.conv1", "layer1.1.add"));
  g_assert_false (same_box (graph, g, "layer1.0.conv1", "layer2.0.conv1"));
  shot (window, "graph-collapsed");

  /* layer1 opens on its two blocks, layer1.0 on its layers. */
  g_assert_true (cs_graph_view_node_center (CS_GRAPH_VIEW (graph), cs_graph_find (g, "layer1.0.conv1"), &x, &y));
  g_assert_cmpint (cs_graph_view_block_at (CS_GRAPH_VIEW (graph), x, y), >=, 0);
  click_graph (graph, x, y);
  g_assert_cmpuint (cs_graph_view_get_n_boxes (CS_GRAPH_VIEW (graph)), ==, collapsed + 1);
  g_assert_false (same_box (graph, g, "layer1.0.conv1", "layer1.1.add"));
  g_assert_true (same_box (graph, g, "layer1.0.conv1", "layer1.0.add"));
  g_assert_true (cs_graph_view_node_center (CS_GRAPH_VIEW (graph), cs_graph_find (g, "layer1.0.conv1"), &x, &y));
  click_graph (graph, x, y);
  g_assert_false (same_box (graph, g, "layer1.0.conv1", "layer1.0.add"));
  g_assert_cmpint (cs_graph_view_node_at (CS_GRAPH_VIEW (graph), x, y), ==, cs_graph_find (g, "layer1.0.conv1"));
  /* Opening a block selects nothing; a click on a layer does. */
  g_assert_cmpint (cs_session_get_layer (session), !=, cs_graph_find (g, "layer1.0.conv1"));
  click_graph (graph, x, y);
  g_assert_cmpint (cs_session_get_layer (session), ==, cs_graph_find (g, "layer1.0.conv1"));
  shot (window, "graph-expanded");

  /* The search opens the blocks around what it finds. */
  g_assert_true (same_box (graph, g, "layer3.1.conv2", "layer3.0.conv1"));
  g_assert_cmpint (cs_graph_view_find (CS_GRAPH_VIEW (graph), "layer3.1.conv2"), ==, cs_graph_find (g, "layer3.1.conv2"));
  g_assert_false (same_box (graph, g, "layer3.1.conv2", "layer3.0.conv1"));
  g_assert_false (same_box (graph, g, "layer3.1.conv2", "layer3.1.add"));
  gtk_window_destroy (GTK_WINDOW (window));
}

/* Block prefixes from PyTorch-style names: ResNet, DenseNet, MobileNet, and names without. */
static void
test_graph_block_keys (void)
{
  const struct { const char *name, *outer, *inner; } cases[] = {
    { "layer1.0.conv1", "layer1", "layer1.0" },
    { "layer1.0.downsample.0", "layer1", "layer1.0" },
    { "features.denseblock2.denselayer11.conv1", "features.denseblock2", "features.denseblock2.denselayer11" },
    { "features.transition1.conv", "features.transition1", NULL },
    { "features.3.conv.0.0", "features.3", NULL },
    { "layer1", NULL, NULL },
    { "conv1", NULL, NULL },
    { "fc", NULL, NULL },
    { "features.conv0", NULL, NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *outer = NULL, *inner = NULL;
      cs_graph_block_keys (cases[i].name, &outer, &inner);
      g_assert_cmpstr (outer, ==, cases[i].outer);
      g_assert_cmpstr (inner, ==, cases[i].inner);
    }
}

static void
read_reference (void)
{
  g_autofree char *path = g_build_filename (fixture_dir, "reference.json", NULL);
  g_autofree char *text = NULL;
  cJSON *root;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  root = cJSON_Parse (text);
  g_assert_nonnull (root);
  ref_class = cJSON_GetObjectItem (root, "class")->valueint;
  ref_probability = cJSON_GetObjectItem (root, "probability")->valuedouble;
  ref_label = g_strdup (cJSON_GetObjectItem (root, "label")->valuestring);
  cJSON_Delete (root);
}

int
main (int argc, char *argv[])
{
  const char *src = g_getenv ("CONVSCOPE_SOURCE_DIR");
  g_autofree char *script = NULL;
  int status = 0, ret;

  gtk_test_init (&argc, &argv, NULL);
  g_assert_nonnull (src);
  fixture_dir = g_dir_make_tmp ("convscope-own-model-XXXXXX", NULL);
  script = g_build_filename (src, "tools", "make-own-model-fixture.py", NULL);
  {
    const char *cmd[] = { "/usr/bin/python3", script, fixture_dir, NULL };
    g_autoptr (GError) error = NULL;
    g_assert_true (g_spawn_sync (NULL, (char **) cmd, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                                 NULL, NULL, &status, &error));
    g_assert_true (g_spawn_check_wait_status (status, NULL));
  }
  read_reference ();

  g_test_add_func ("/own-model/imagenet-preset", test_imagenet_preset);
  g_test_add_func ("/own-model/labels-file", test_labels_file);
  g_test_add_func ("/own-model/nan-weights", test_nan_weights);
  g_test_add_func ("/own-model/node-inspector", test_node_inspector);
  g_test_add_func ("/own-model/graph-blocks", test_graph_blocks);
  g_test_add_func ("/own-model/graph-block-keys", test_graph_block_keys);
  g_test_add_func ("/own-model/logged-run-test-images", test_logged_run_opens_on_test_images);
  ret = g_test_run ();
  ui_fixture_remove (fixture_dir);
  g_free (ref_label);
  return ret;
}
