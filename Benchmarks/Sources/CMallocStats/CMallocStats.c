#include "CMallocStats.h"

#include <stdio.h>
#include <unistd.h>

#if defined(__GLIBC__)
#include <malloc.h>
#elif defined(__APPLE__)
#include <mach/mach.h>
#include <malloc/malloc.h>
#endif

size_t cms_heap_bytes_in_use(void) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
#elif defined(__APPLE__)
  malloc_statistics_t stats;
  malloc_zone_statistics(NULL, &stats);
  return stats.size_in_use;
#else
  return 0;
#endif
}

size_t cms_resident_bytes(void) {
#if defined(__linux__)
  FILE *file = fopen("/proc/self/statm", "r");
  if (file == NULL) return 0;
  unsigned long size = 0, resident = 0;
  int read = fscanf(file, "%lu %lu", &size, &resident);
  fclose(file);
  if (read != 2) return 0;
  return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
#elif defined(__APPLE__)
  struct mach_task_basic_info info;
  mach_msg_type_number_t count = MACH_TASK_BASIC_INFO_COUNT;
  if (task_info(mach_task_self(), MACH_TASK_BASIC_INFO, (task_info_t)&info, &count) != KERN_SUCCESS)
    return 0;
  return (size_t)info.resident_size;
#else
  return 0;
#endif
}
