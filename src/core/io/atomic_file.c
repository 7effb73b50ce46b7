/* (being written) */
#include "io/atomic_file.h"
