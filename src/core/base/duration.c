/* Durations as people read them, shared by the app, the CLI and the sheets. */
#include "base/duration.h"

#include <math.h>
#include <stdio.h>

void
cs_format_duration (double seconds, char *buf, size_t size)
{
  double ms = seconds * 1000.0;

  if (size == 0)
    return;
  /* The thresholds sit where rounding would carry into the next unit ("1000 ms", "60.0 s"). */
  if (!isfinite (seconds) || seconds < 0)
    snprintf (buf, size, "?");
  else if (ms < 9.95)
    snprintf (buf, size, "%.1f ms", ms);
  else if (ms < 999.5)
    snprintf (buf, size, "%.0f ms", ms);
  else if (seconds < 59.95)
    snprintf (buf, size, "%.1f s", seconds);
  else
    {
      double total = round (seconds);
      snprintf (buf, size, "%.0f min %02d s", floor (total / 60), (int) fmod (total, 60));
    }
}
