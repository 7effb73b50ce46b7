/* convscope: the desktop app's entry point. */
#include "config.h"

#include "cs-application.h"
#include "cs-i18n.h"

int
main (int argc, char *argv[])
{
  g_autoptr (CsApplication) app = NULL;

  cs_i18n_init ();

  app = cs_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
