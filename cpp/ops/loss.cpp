#include "ops/loss.h"
