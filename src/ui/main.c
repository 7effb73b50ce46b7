/* convscope: the desktop app's entry point. */
#include "config.h"

#include "base/threads.h"
#include "cs-application.h"
#include "cs-i18n.h"

int
main (int argc, char *argv[])
{
  g_autoptr (CsApplication) app = NULL;

  /* Before any BLAS call, as the CLI does: may re-execute the app once with a better OpenBLAS
   * kernel and passive OpenMP waiting (2-7x faster convolutions measured on 2 cores). */
  cs_blas_select_kernel (argc, argv);
  cs_i18n_init ();

  app = cs_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
