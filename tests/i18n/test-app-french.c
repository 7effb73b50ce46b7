/* The app in French: started with LANGUAGE=fr (or a French LC_ALL) on the demo run, its window
 * shows translated labels and no English ones, and LC_NUMERIC stays "C" so that the numbers the
 * core prints into files keep their '.'. Runs with the app's own locale set-up (cs-i18n.h). */
#include "config.h"

#include <stdio.h>

#include "cs-application.h"
#include "cs-i18n.h"
#include "cs-window.h"

typedef struct
{
  CsApplication *app;
  gboolean had_window;
  gboolean had_model;
  GPtrArray *texts;  /* every label, button label and tooltip of the window */
} Check;

static void
collect (GtkWidget *w, GPtrArray *texts)
{
  const char *tooltip = gtk_widget_get_tooltip_text (w);

  if (GTK_IS_LABEL (w))
    g_ptr_array_add (texts, g_strdup (gtk_label_get_text (GTK_LABEL (w))));
  else if (GTK_IS_BUTTON (w) && gtk_button_get_label (GTK_BUTTON (w)) != NULL)
    g_ptr_array_add (texts, g_strdup (gtk_button_get_label (GTK_BUTTON (w))));
  else if (ADW_IS_WINDOW_TITLE (w))
    g_ptr_array_add (texts, g_strdup (adw_window_title_get_subtitle (ADW_WINDOW_TITLE (w))));
  if (tooltip != NULL)
    g_ptr_array_add (texts, g_strdup (tooltip));
  for (GtkWidget *c = gtk_widget_get_first_child (w); c != NULL; c = gtk_widget_get_next_sibling (c))
    collect (c, texts);
}

static gboolean
has_text (GPtrArray *texts, const char *s)
{
  for (guint i = 0; i < texts->len; i++)
    if (g_strcmp0 (g_ptr_array_index (texts, i), s) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
has_prefix (GPtrArray *texts, const char *s)
{
  for (guint i = 0; i < texts->len; i++)
    if (g_str_has_prefix (g_ptr_array_index (texts, i), s))
      return TRUE;
  return FALSE;
}

static gboolean
check_and_quit (gpointer user_data)
{
  Check *c = user_data;
  GtkWindow *w = gtk_application_get_active_window (GTK_APPLICATION (c->app));

  if (CS_IS_WINDOW (w))
    {
      c->had_window = TRUE;
      c->had_model = cs_session_get_model_set (cs_window_get_session (CS_WINDOW (w))) != NULL;
      collect (GTK_WIDGET (w), c->texts);
      gtk_window_destroy (w);
    }
  g_application_quit (G_APPLICATION (c->app));
  return G_SOURCE_REMOVE;
}

static void
test_french_labels (void)
{
  char *argv[] = { (char *) "convscope", NULL };
  Check c = { 0 };

  c.texts = g_ptr_array_new_with_free_func (g_free);
  c.app = cs_application_new ();
  g_timeout_add (2500, check_and_quit, &c);
  g_application_run (G_APPLICATION (c.app), 1, argv);
  g_clear_object (&c.app);

  g_assert_true (c.had_window);
  g_assert_true (c.had_model);
  for (guint i = 0; i < c.texts->len; i++)
    g_test_message ("label: %s", (const char *) g_ptr_array_index (c.texts, i));
  /* From the .ui templates, from C code, and a string built at run time. */
  g_assert_true (has_text (c.texts, "Couches"));
  g_assert_true (has_text (c.texts, "_Ouvrir"));
  g_assert_true (has_text (c.texts, "Saillance"));
  g_assert_true (has_text (c.texts, "Opacité"));
  g_assert_true (has_prefix (c.texts, "Filtres de "));
  g_assert_true (has_prefix (c.texts, "Époque "));
  g_assert_true (has_prefix (c.texts, "entraînement · "));
  /* And none of their English originals. */
  g_assert_false (has_text (c.texts, "Layers"));
  g_assert_false (has_text (c.texts, "_Open"));
  g_assert_false (has_text (c.texts, "Opacity"));
  g_assert_false (has_prefix (c.texts, "Filters of "));
  g_ptr_array_unref (c.texts);
}

static void
test_numeric_locale (void)
{
  char buf[32];

  /* Whatever LC_ALL says, numbers keep '.': the core writes JSON and CSV with printf. */
  g_assert_cmpstr (setlocale (LC_NUMERIC, NULL), ==, "C");
  snprintf (buf, sizeof buf, "%.2f", 0.25);
  g_assert_cmpstr (buf, ==, "0.25");
  g_assert_cmpfloat (strtod ("0.5", NULL), ==, 0.5);
}

int
main (int argc, char *argv[])
{
  /* Not gtk_test_init, which fixes the locale: the app's own order, set-up then GTK. */
  g_test_init (&argc, &argv, NULL);
  cs_i18n_init ();
  gtk_init ();
  g_test_add_func ("/i18n/french-labels", test_french_labels);
  g_test_add_func ("/i18n/numeric-locale", test_numeric_locale);
  return g_test_run ();
}
