/* The run's test images: found beside run.json, labelled by the class named in the file name. */
#include "config.h"

#include <string.h>

#include "cs-run-images.h"

void
cs_run_image_free (CsRunImage *image)
{
  g_free (image->path);
  g_free (image);
}

static char *
sanitize (const char *s)
{
  char *out = g_ascii_strdown (s, -1);

  for (char *p = out; *p; p++)
    if (!g_ascii_isalnum (*p))
      *p = '-';
  return out;
}

static int
label_from_name (const cs_model *m, const char *basename)
{
  g_autofree char *name = sanitize (basename);
  int best = -1;
  gsize best_len = 0;

  for (int k = 0; m->classes != NULL && k < m->n_classes; k++)
    {
      g_autofree char *cls = sanitize (m->classes[k]);
      gsize len = strlen (cls);
      if (len > best_len && strstr (name, cls) != NULL)
        {
          best = k;
          best_len = len;
        }
    }
  return best;
}

static int
compare_images (gconstpointer a, gconstpointer b)
{
  const CsRunImage *ia = *(CsRunImage **) a, *ib = *(CsRunImage **) b;

  return g_strcmp0 (ia->path, ib->path);
}

GPtrArray *
cs_run_images_list (CsModelSet *set)
{
  static const char *const subdirs[] = { "images", "test-images", "samples", "test", "" };
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) cs_run_image_free);
  const cs_run *run;

  if (set == NULL || (run = cs_model_set_get_run (set)) == NULL)
    return out;

  for (guint s = 0; s < G_N_ELEMENTS (subdirs) && out->len == 0; s++)
    {
      g_autofree char *dir = g_build_filename (run->dir, subdirs[s], NULL);
      g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
      const char *name;

      if (d == NULL)
        continue;
      while ((name = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *lower = g_ascii_strdown (name, -1);
          CsRunImage *ri;

          if (!g_str_has_suffix (lower, ".png") && !g_str_has_suffix (lower, ".jpg")
              && !g_str_has_suffix (lower, ".jpeg"))
            continue;
          ri = g_new0 (CsRunImage, 1);
          ri->path = g_build_filename (dir, name, NULL);
          ri->label = label_from_name (cs_model_set_get_base (set), name);
          g_ptr_array_add (out, ri);
        }
    }
  g_ptr_array_sort (out, compare_images);
  return out;
}

