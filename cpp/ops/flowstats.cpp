#include "ops/flowstats.h"
