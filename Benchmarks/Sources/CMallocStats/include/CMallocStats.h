#ifndef C_MALLOC_STATS_H
#define C_MALLOC_STATS_H

#include <stddef.h>

/// Bytes the C heap has handed out and not yet taken back (glibc: `mallinfo2()`'s `uordblks`
/// plus `hblkhd`, the mmap'd chunks; Darwin: the default zone's `size_in_use`), or 0 where
/// neither is available.
size_t cms_heap_bytes_in_use(void);

/// The process's resident set size in bytes (Linux: /proc/self/statm; Darwin: task_info), or 0.
size_t cms_resident_bytes(void);

#endif
