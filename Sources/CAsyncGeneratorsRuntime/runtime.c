#define _GNU_SOURCE
#include "CAsyncGeneratorsRuntime.h"

#include <unistd.h>
#if defined(__linux__)
#include <sched.h>
#endif

long ag_usable_cpu_count(void) {
#if defined(__linux__)
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int count = CPU_COUNT(&set);
    if (count > 0) return count;
  }
#endif
  return sysconf(_SC_NPROCESSORS_ONLN);
}
