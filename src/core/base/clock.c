/* cs_clock_seconds: clock_gettime as seconds in a double. */
#include "base/clock.h"

double
cs_clock_seconds (clockid_t c)
{
  struct timespec ts;
  clock_gettime (c, &ts);
  return (double) ts.tv_sec + 1e-9 * (double) ts.tv_nsec;
}
