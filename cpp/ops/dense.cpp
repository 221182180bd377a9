#include "ops/dense.h"
