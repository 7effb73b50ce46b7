/* What the unit inspector's panels (actmax, top examples, evolution, ranking) share: the way
 * the inspector drives them, and small helpers. Each panel is a widget of its own; the
 * inspector validates the selection and hands it to them. */
#pragma once

#include <gtk/gtk.h>

#include "cs-session.h"

G_BEGIN_DECLS

/* A worker callback's closure: the panel, and the serial of the request it answers. */
typedef struct
{
  GObject *panel;
  guint64 serial;
} CsUnitCall;

static inline CsUnitCall *
cs_unit_call_new (gpointer panel, guint64 serial)
{
  CsUnitCall *call = g_new (CsUnitCall, 1);

  call->panel = g_object_ref (panel);
  call->serial = serial;
  return call;
}

/* Frees call, returning its panel (a reference the caller owns). */
static inline gpointer
cs_unit_call_steal (CsUnitCall *call, guint64 *serial)
{
  gpointer panel = call->panel;

  *serial = call->serial;
  g_free (call);
  return panel;
}

static inline void
cs_unit_flow_box_clear (GtkFlowBox *box)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (box))) != NULL)
    gtk_flow_box_remove (box, child);
}

/* The template's root box is not a bound child: dispose_template leaves it. */
static inline void
cs_unit_panel_unparent_children (GtkWidget *panel)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (panel)) != NULL)
    gtk_widget_unparent (child);
}

/* Sets an ellipsized caption and the same text as its tooltip: what does not fit the panel
 * is still there to read (errors name files, layer names grow long). */
static inline void
cs_unit_label_set_text (GtkLabel *label, const char *text)
{
  gtk_label_set_text (label, text != NULL ? text : "");
  gtk_widget_set_tooltip_text (GTK_WIDGET (label), text != NULL && text[0] != '\0' ? text : NULL);
}

/* A unique worker channel name for one panel instance. */
static inline void
cs_unit_channel_init (char *buf, gsize size, const char *kind)
{
  static guint counter;

  g_snprintf (buf, size, "unit-%s-%u", kind, ++counter);
}

G_END_DECLS
