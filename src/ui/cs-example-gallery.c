/* CsExampleGallery: a flow box of example thumbnails with captions. */
#include "config.h"

#include <glib/gi18n.h>

#include "cs-example-gallery.h"

struct _CsExampleGallery
{
  GtkWidget parent_instance;
  GtkWidget *scrolled;
  GtkWidget *box;
  GtkWidget *flow;
  GtkWidget *note;
  cs_history_split split;
  GArray *positions;            /* int64_t, of the items shown */
};

enum { SIGNAL_EXAMPLE_ACTIVATED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (CsExampleGallery, cs_example_gallery, GTK_TYPE_WIDGET)

void
cs_example_gallery_activate (CsExampleGallery *self, guint i)
{
  g_return_if_fail (i < self->positions->len);
  g_signal_emit (self, signals[SIGNAL_EXAMPLE_ACTIVATED], 0, (int) self->split,
                 (gint64) g_array_index (self->positions, int64_t, i));
}

static void
child_activated_cb (GtkFlowBox *flow, GtkFlowBoxChild *child, CsExampleGallery *self)
{
  cs_example_gallery_activate (self, (guint) gtk_flow_box_child_get_index (child));
}

static GtkWidget *
item_new (const CsDataHistory *d, cs_history_split split, int64_t pos, const char *caption)
{
  g_autoptr (GdkTexture) texture = cs_data_history_texture (d, split, pos);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  /* A GtkImage, not a GtkPicture: a picture asks for the texture's full size, one per line. */
  GtkWidget *picture = gtk_image_new_from_paintable (GDK_PAINTABLE (texture));
  GtkWidget *label = gtk_label_new (caption);

  gtk_image_set_pixel_size (GTK_IMAGE (picture), 56);
  gtk_label_set_justify (GTK_LABEL (label), GTK_JUSTIFY_CENTER);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 16);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (label, "caption");
  gtk_box_append (GTK_BOX (box), picture);
  gtk_box_append (GTK_BOX (box), label);
  gtk_widget_set_tooltip_text (box, caption);
  return box;
}

void
cs_example_gallery_set_items (CsExampleGallery *self, const CsDataHistory *d, cs_history_split split,
                              const int64_t *positions, int64_t n, char **captions, const char *empty)
{
  int64_t shown = d != NULL ? MIN (n, CS_EXAMPLE_GALLERY_MAX) : 0;
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (self->flow)) != NULL)
    gtk_flow_box_remove (GTK_FLOW_BOX (self->flow), child);
  g_array_set_size (self->positions, 0);
  self->split = split;
  for (int64_t i = 0; i < shown; i++)
    {
      g_array_append_val (self->positions, positions[i]);
      gtk_flow_box_append (GTK_FLOW_BOX (self->flow),
                           item_new (d, split, positions[i], captions != NULL ? captions[i] : ""));
    }
  if (shown < n)
    {
      g_autofree char *text = g_strdup_printf (_("The first %lld of %lld shown"), (long long) shown,
                                               (long long) n);
      gtk_label_set_text (GTK_LABEL (self->note), text);
    }
  else
    gtk_label_set_text (GTK_LABEL (self->note), n == 0 && empty != NULL ? empty : "");
  gtk_widget_set_visible (self->note, shown < n || (n == 0 && empty != NULL));
}

guint
cs_example_gallery_get_n_items (CsExampleGallery *self)
{
  return self->positions->len;
}

int64_t
cs_example_gallery_get_position (CsExampleGallery *self, guint i)
{
  g_return_val_if_fail (i < self->positions->len, -1);
  return g_array_index (self->positions, int64_t, i);
}

static void
cs_example_gallery_dispose (GObject *object)
{
  CsExampleGallery *self = CS_EXAMPLE_GALLERY (object);

  g_clear_pointer (&self->scrolled, gtk_widget_unparent);
  G_OBJECT_CLASS (cs_example_gallery_parent_class)->dispose (object);
}

static void
cs_example_gallery_finalize (GObject *object)
{
  g_array_unref (CS_EXAMPLE_GALLERY (object)->positions);
  G_OBJECT_CLASS (cs_example_gallery_parent_class)->finalize (object);
}

static void
cs_example_gallery_class_init (CsExampleGalleryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cs_example_gallery_dispose;
  object_class->finalize = cs_example_gallery_finalize;
  /* ::example-activated (cs_history_split, position in that split) */
  signals[SIGNAL_EXAMPLE_ACTIVATED] =
    g_signal_new ("example-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 2, G_TYPE_INT, G_TYPE_INT64);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "csexamplegallery");
}

static void
cs_example_gallery_init (CsExampleGallery *self)
{
  self->positions = g_array_new (FALSE, FALSE, sizeof (int64_t));
  self->scrolled = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (self->scrolled), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_widget_set_vexpand (self->scrolled, TRUE);
  gtk_widget_set_hexpand (self->scrolled, TRUE);
  self->box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  self->note = gtk_label_new (NULL);
  gtk_label_set_wrap (GTK_LABEL (self->note), TRUE);
  gtk_widget_add_css_class (self->note, "dim-label");
  gtk_widget_set_visible (self->note, FALSE);
  self->flow = gtk_flow_box_new ();
  gtk_flow_box_set_selection_mode (GTK_FLOW_BOX (self->flow), GTK_SELECTION_NONE);
  gtk_flow_box_set_activate_on_single_click (GTK_FLOW_BOX (self->flow), TRUE);
  gtk_flow_box_set_max_children_per_line (GTK_FLOW_BOX (self->flow), 24);
  gtk_flow_box_set_homogeneous (GTK_FLOW_BOX (self->flow), TRUE);
  gtk_widget_set_valign (self->flow, GTK_ALIGN_START);
  g_signal_connect (self->flow, "child-activated", G_CALLBACK (child_activated_cb), self);
  gtk_box_append (GTK_BOX (self->box), self->note);
  gtk_box_append (GTK_BOX (self->box), self->flow);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (self->scrolled), self->box);
  gtk_widget_set_parent (self->scrolled, GTK_WIDGET (self));
}
