#include "ops/activation.h"
