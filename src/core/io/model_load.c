/* (being written) */
#include "io/model_load.h"
