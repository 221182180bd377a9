#include "ops/optimizer.h"
