// The two Swift concurrency runtime entry points the handoff reads for every element.
//
// `withUnsafeCurrentTask` and `Task.isCancelled` reach these through a generic closure that
// retains and releases the task, which measured a third of a prefetching yield's cost.
// Both functions are exported by libswift_Concurrency on every platform (they back those
// very APIs); they return and take the task unretained.

#ifndef C_ASYNC_GENERATORS_RUNTIME_H
#define C_ASYNC_GENERATORS_RUNTIME_H

#include <stdbool.h>

__attribute__((swiftcall)) extern void *_Nullable swift_task_getCurrent(void);
__attribute__((swiftcall)) extern bool swift_task_isCancelled(void *_Nonnull task);

/// The current task, or NULL outside a task.
static inline __attribute__((always_inline)) void *_Nullable ag_current_task(void) {
  return swift_task_getCurrent();
}

/// Whether `task` (from `ag_current_task`) is cancelled.
static inline __attribute__((always_inline)) bool ag_task_is_cancelled(void *_Nonnull task) {
  return swift_task_isCancelled(task);
}

// Spinning: a hint to the core that this is a wait loop (it frees resources for a sibling
// hyperthread and spaces out the loads), and a clock to bound the wait in time rather than
// in iterations, whose length varies from core to core.

#include <pthread.h>
#include <stdint.h>
#include <time.h>

static inline __attribute__((always_inline)) void ag_spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
  __asm__ __volatile__("yield");
#endif
}

/// The CPUs this process may run on: its affinity mask where there is one (a process pinned
/// to one CPU of many must not spin), else the CPUs online.
long ag_usable_cpu_count(void);

/// The current thread, as a number (two tasks that run on the same thread cannot wait for
/// each other by spinning).
static inline __attribute__((always_inline)) uintptr_t ag_current_thread(void) {
  return (uintptr_t)pthread_self();
}

/// A monotonic clock in nanoseconds.
static inline __attribute__((always_inline)) uint64_t ag_monotonic_nanoseconds(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

#endif
