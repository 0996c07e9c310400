#include "CAsyncGeneratorsRuntime.h"
