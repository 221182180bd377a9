#include "ops/batchnorm.h"
