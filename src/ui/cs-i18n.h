/* The app's locale and message catalogue set-up, shared by main.c and the translation test. */
#pragma once

#include <glib/gi18n.h>
#include <gtk/gtk.h>
#include <locale.h>

#include "config.h"

/* Call before GTK is initialised. Messages, collation, dates follow the environment; LC_NUMERIC
 * stays "C" for the whole process: the core writes JSON, CSV and .npy headers with printf and
 * reads numbers with strtod, so a French decimal comma would corrupt files and parsing (the
 * worker threads share the process locale). GTK would set LC_ALL again in gtk_init: it is told
 * not to. Numbers in the UI therefore show a '.' in every language.
 * CONVSCOPE_LOCALEDIR overrides LOCALEDIR for running from a build tree (build/po has the
 * <lang>/LC_MESSAGES/convscope.mo layout). */
static inline void
cs_i18n_init (void)
{
  const char *dir = g_getenv ("CONVSCOPE_LOCALEDIR");

  setlocale (LC_ALL, "");
  setlocale (LC_NUMERIC, "C");
  gtk_disable_setlocale ();
  bindtextdomain (GETTEXT_PACKAGE, dir != NULL && dir[0] != '\0' ? dir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
}
