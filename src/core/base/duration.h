/* Durations as people read them: "0.6 ms", "840 ms", "1.6 s", "2 min 05 s". */
#pragma once

#include <stddef.h>

/* Writes seconds into buf (NUL-terminated, truncated to size): milliseconds below a second,
 * seconds below a minute, minutes and seconds above; never an exponent. A negative or
 * non-finite duration is written as "?". */
void cs_format_duration (double seconds, char *buf, size_t size);
