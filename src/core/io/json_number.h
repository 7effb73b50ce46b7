/* JSON numbers that read back as the same double: cJSON prints 15 significant digits whenever
 * they come within an epsilon of the value, which loses the last bit of many statistics (a
 * cache would then differ from what it caches). */
#pragma once

#include <cjson/cJSON.h>

/* The shortest of %.15g, %.16g, %.17g that parses back to v exactly, with a '.' whatever the
 * locale; null for NaN and infinities (JSON has neither). */
cJSON *cs_json_number (double v);
