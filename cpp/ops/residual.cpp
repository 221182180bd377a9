#include "ops/residual.h"
