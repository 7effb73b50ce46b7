/* The widget tests' run fixture and main-loop helpers. */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>

#include "io/image.h"
#include "io/model_json.h"
#include "io/safetensors.h"
#include "ui-fixture.h"

static const char *model_json =
  "{\"format\": \"convscope-model/1\", \"input\": [1, 16, 16], \"nodes\": [\n"
  "  {\"name\": \"conv1\", \"op\": \"conv2d\", \"out_channels\": 8, \"kernel\": 3, \"padding\": 1},\n"
  "  {\"name\": \"relu1\", \"op\": \"relu\"},\n"
  "  {\"name\": \"pool1\", \"op\": \"maxpool2d\", \"kernel\": 2},\n"
  "  {\"name\": \"conv2\", \"op\": \"conv2d\", \"out_channels\": 8, \"kernel\": 3, \"padding\": 1},\n"
  "  {\"name\": \"relu2\", \"op\": \"relu\"},\n"
  "  {\"name\": \"res\", \"op\": \"add\", \"inputs\": [\"pool1\", \"relu2\"]},\n"
  "  {\"name\": \"flat\", \"op\": \"flatten\"},\n"
  "  {\"name\": \"fc\", \"op\": \"linear\", \"out_features\": 4}]}\n";

static const char *const classes[] = { "circle", "square", "cross", "line" };

static void
draw_shape (int k, int variant, guint8 *px)
{
  for (int y = 0; y < 16; y++)
    for (int x = 0; x < 16; x++)
      {
        double dx = x - 7.5 - (variant % 3 - 1), dy = y - 7.5 - (variant / 3 - 1);
        gboolean on = FALSE;
        switch (k)
          {
          case 0: on = fabs (sqrt (dx * dx + dy * dy) - 5) < 1.2; break;
          case 1: on = (fabs (dx) < 5.5 && fabs (dy) < 5.5) && !(fabs (dx) < 4 && fabs (dy) < 4); break;
          case 2: on = fabs (dx - dy) < 1.2 || fabs (dx + dy) < 1.2; break;
          default: on = fabs (dy) < 1.2 && fabs (dx) < 6; break;
          }
        px[y * 16 + x] = on ? 230 : 20;
      }
}

/* An IDX file (the MNIST format) of unsigned bytes with big-endian dims. */
static void
write_idx (const char *path, const guint8 *data, const guint32 *dims, int ndim)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();
  guint8 magic[4] = { 0, 0, 0x08, (guint8) ndim };
  gsize n = 1;

  g_byte_array_append (out, magic, 4);
  for (int i = 0; i < ndim; i++)
    {
      guint32 be = GUINT32_TO_BE (dims[i]);
      g_byte_array_append (out, (const guint8 *) &be, 4);
      n *= dims[i];
    }
  g_byte_array_append (out, data, (guint) n);
  g_assert_true (g_file_set_contents (path, (const char *) out->data, out->len, NULL));
}

/* A tiny data set in the MNIST layout beside run.json: the four shapes at nine offsets, both
 * splits, so that the unit inspector has top examples to find. */
static void
write_dataset (const char *dir)
{
  enum { N = 36 };
  g_autofree guint8 *images = g_malloc (N * 256);
  guint8 labels[N];
  const guint32 image_dims[3] = { N, 16, 16 }, label_dims[1] = { N };
  static const char *const prefixes[] = { "train", "t10k" };

  g_mkdir (dir, 0755);
  for (int i = 0; i < N; i++)
    {
      labels[i] = (guint8) (i % 4);
      draw_shape (i % 4, i / 4, images + i * 256);
    }
  for (guint p = 0; p < G_N_ELEMENTS (prefixes); p++)
    {
      g_autofree char *iname = g_strdup_printf ("%s-images-idx3-ubyte", prefixes[p]);
      g_autofree char *lname = g_strdup_printf ("%s-labels-idx1-ubyte", prefixes[p]);
      g_autofree char *ipath = g_build_filename (dir, iname, NULL);
      g_autofree char *lpath = g_build_filename (dir, lname, NULL);
      write_idx (ipath, images, image_dims, 3);
      write_idx (lpath, labels, label_dims, 1);
    }
}

char *
ui_fixture_make_run (int n_epochs)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("convscope-ui-XXXXXX", &error);
  g_autofree char *model_path = g_build_filename (dir, "model.json", NULL);
  g_autofree char *ckpt_dir = g_build_filename (dir, "checkpoints", NULL);
  g_autofree char *img_dir = g_build_filename (dir, "images", NULL);
  g_autoptr (GString) run = g_string_new (NULL);
  g_autofree char *run_path = g_build_filename (dir, "run.json", NULL);
  cs_error err = { 0 };

  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (model_path, model_json, -1, NULL));
  g_mkdir (ckpt_dir, 0755);
  g_mkdir (img_dir, 0755);
  {
    g_autofree char *data_dir = g_build_filename (dir, "dataset", NULL);
    write_dataset (data_dir);
  }

  g_string_append (run, "{\"format\": \"convscope-run/1\", \"name\": \"fixture\", "
                        "\"created\": \"2024-01-01T00:00:00Z\", \"model\": \"model.json\", "
                        "\"input\": {\"channels\": 1, \"height\": 16, \"width\": 16, "
                        "\"mean\": [0.2], \"std\": [0.3]}, "
                        "\"classes\": [\"circle\", \"square\", \"cross\", \"line\"], "
                        "\"dataset\": {\"spec\": \"mnist:dataset\"}, \"train\": {}, \"epochs\": [");
  for (int e = 0; e < n_epochs; e++)
    {
      g_autofree char *name = g_strdup_printf ("epoch-%04d.safetensors", e);
      g_autofree char *path = g_build_filename (ckpt_dir, name, NULL);
      cs_model *m = cs_model_json_load (model_path, 100 + e, &err);
      double t = e, tl = 1.4 * exp (-t / 2.5) + 0.05, vl = 1.3 * exp (-t / 2.5) + 0.25 + 0.06 * MAX (0, t - 3) * MAX (0, t - 3);

      g_assert_nonnull (m);
      g_assert_cmpint (cs_safetensors_save (m, path, &err), ==, CS_OK);
      cs_model_free (m);
      if (e == 0)
        g_string_append_printf (run, "{\"epoch\": 0, \"checkpoint\": \"checkpoints/%s\", "
                                     "\"train_loss\": null, \"train_accuracy\": null, "
                                     "\"val_loss\": %.4f, \"val_accuracy\": 0.25, "
                                     "\"learning_rate\": 0.01, \"seconds\": 0}", name, vl);
      else
        g_string_append_printf (run, ", {\"epoch\": %d, \"checkpoint\": \"checkpoints/%s\", "
                                     "\"train_loss\": %.4f, \"train_accuracy\": %.4f, "
                                     "\"val_loss\": %.4f, \"val_accuracy\": %.4f, "
                                     "\"learning_rate\": 0.01, \"seconds\": 1.5}",
                                e, name, tl, 1 - 0.7 * exp (-t / 2), vl, 0.9 - 0.6 * exp (-t / 2) - 0.01 * t);
    }
  g_string_append (run, "]}\n");
  g_assert_true (g_file_set_contents (run_path, run->str, -1, NULL));

  for (int i = 0; i < 8; i++)
    {
      guint8 px[256];
      g_autofree char *name = g_strdup_printf ("%03d-%s.png", i, classes[i % 4]);
      g_autofree char *path = g_build_filename (img_dir, name, NULL);
      draw_shape (i % 4, i, px);
      g_assert_cmpint (cs_png_save (path, px, 16, 16, 1, &err), ==, CS_OK);
    }
  return dir;
}

char *
ui_fixture_make_bad_file (const char *dir)
{
  char *path = g_build_filename (dir, "broken.onnx", NULL);

  g_assert_true (g_file_set_contents (path, "this is not a protobuf", -1, NULL));
  return path;
}

static void
remove_tree (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      GDir *d = g_dir_open (path, 0, NULL);
      const char *name;
      while (d != NULL && (name = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          remove_tree (child);
        }
      if (d != NULL)
        g_dir_close (d);
      g_rmdir (path);
    }
  else
    g_unlink (path);
}

void
ui_fixture_remove (char *dir)
{
  remove_tree (dir);
  g_free (dir);
}

gboolean
ui_wait_for_bool (GObject *object, const char *property, gboolean wanted, int timeout_ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  for (;;)
    {
      gboolean v;
      g_object_get (object, property, &v, NULL);
      if (v == wanted)
        return TRUE;
      if (g_get_monotonic_time () > end)
        return FALSE;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

void
ui_spin (int ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

GtkWidget *
ui_find_child (GtkWidget *root, GType type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (root, type))
    return root;
  for (GtkWidget *c = gtk_widget_get_first_child (root); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = ui_find_child (c, type);
      if (found != NULL)
        return found;
    }
  return NULL;
}
