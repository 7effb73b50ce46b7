/* What the unit inspector's panels (actmax, top examples, evolution, ranking) share: the way
 * the inspector drives them, and small helpers. Each panel is a widget of its own; the
 * inspector validates the selection and hands it to them. */
#pragma once

#include <gtk/gtk.h>

#include "cs-session.h"

G_BEGIN_DECLS

/* CsUnitPanel: the base of the inspector's panels: the read-only "loading" property they all
 * have, and a dispose that unparents the template's root box (which dispose_template leaves). */
#define CS_TYPE_UNIT_PANEL (cs_unit_panel_get_type ())

G_DECLARE_DERIVABLE_TYPE (CsUnitPanel, cs_unit_panel, CS, UNIT_PANEL, GtkWidget)

struct _CsUnitPanelClass
{
  GtkWidgetClass parent_class;
};

gboolean cs_unit_panel_get_loading (CsUnitPanel *self);
/* Sets loading, notifying "loading" when it changes. */
void cs_unit_panel_set_loading (CsUnitPanel *self, gboolean loading);

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
