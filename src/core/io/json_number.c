/* Exact JSON numbers (see json_number.h). */
#include "io/json_number.h"

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

cJSON *
cs_json_number (double v)
{
  if (!isfinite (v))
    return cJSON_CreateNull ();
  char buf[40];
  for (int digits = 15; digits <= 17; digits++)
    {
      snprintf (buf, sizeof buf, "%.*g", digits, v);
      if (strtod (buf, NULL) == v)
        break;
    }
  /* snprintf and strtod agree on the locale's decimal point; JSON wants '.'. */
  const char *point = localeconv ()->decimal_point;
  if (point != NULL && point[0] != '\0' && strcmp (point, ".") != 0)
    {
      char *p = strstr (buf, point);
      if (p != NULL)
        {
          size_t n = strlen (point);
          *p = '.';
          memmove (p + 1, p + n, strlen (p + n) + 1);
        }
    }
  return cJSON_CreateRaw (buf);
}
