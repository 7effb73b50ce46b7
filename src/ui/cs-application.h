/* CsApplication: the AdwApplication; opens the demo run, or the files given. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define CS_TYPE_APPLICATION (cs_application_get_type ())

G_DECLARE_FINAL_TYPE (CsApplication, cs_application, CS, APPLICATION, AdwApplication)

CsApplication *cs_application_new (void);
/* The app's settings, or NULL when the schema is not installed (running uninstalled). */
GSettings *cs_application_get_settings (CsApplication *self);
/* The demo run directory: $CONVSCOPE_DATA_DIR/demo, else the installed one, else the source
 * tree's; NULL when none exists. */
char *cs_application_find_demo (void);
/* Remembers path as the most recent run or model. */
void cs_application_add_recent (CsApplication *self, const char *path);

G_END_DECLS
