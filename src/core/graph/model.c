/* (being written) */
#include "graph/ops.h"
