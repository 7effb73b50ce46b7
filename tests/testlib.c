/* The counters of the TAP harness, shared by a test's files. */
#include "testlib.h"

int tl_count, tl_failed;
