#include "features/topk.h"
int main (void) { return 0; }
