/*
 * LD_PRELOAD shim for running Cascade under ThreadSanitizer (scripts/sanitize.sh thread). It
 * teaches TSan about synchronisation it cannot see, and nothing else: it never hides a report.
 * Harmless in processes without TSan (children inherit LD_PRELOAD): the C11 calls behave as
 * glibc's, and the TSan hooks are weak and skipped.
 *
 * 1. C11 threads. librdkafka (Debian's 2.0.2 and the 2.16 in .local/lib alike) is built with
 *    C11 <threads.h>. glibc implements thrd_create/mtx_lock/cnd_wait/call_once by calling its
 *    *internal* pthread functions, which TSan's interceptors never see, and the TSan runtime of
 *    this toolchain (clang 21, Swift 6.3) intercepts no C11 thread function. So:
 *    - a thread from thrd_create has no TSan thread state: the first malloc on it crashes with
 *      SEGV in TSan's allocator (seen on thread `rdk:mock`);
 *    - locks and condition variables taken through mtx_ and cnd_ are invisible, so every
 *      hand-off through a librdkafka queue (e.g. a message's opaque from rd_kafka_produceva to
 *      the delivery-report callback) shows up as a data race.
 *    Each function below forwards to the pthread function TSan does intercept, the same one
 *    glibc's own implementation calls internally (nptl/thrd_create.c, mtx_lock.c, cnd_wait.c,
 *    call_once.c ...), with the same error mapping (thrd_err_map).
 *    The set covers every C11 thread symbol librdkafka imports (`nm -D librdkafka.so.1 | grep ' U '`:
 *    thrd_create/current/join, mtx_init/lock/unlock/destroy, cnd_init/signal/broadcast/wait/
 *    timedwait/destroy, call_once) plus their siblings thrd_detach, mtx_trylock, mtx_timedlock.
 *    thrd_current is left alone (glibc's is pthread_self; nothing to synchronise); tss_* are not
 *    used by librdkafka (glibc maps them to pthread keys, which TSan does not need to see).
 *
 *    Layout: on glibc >= 2.28 (C11 threads arrived in 2.28) mtx_t and cnd_t are unions of
 *    char[__SIZEOF_PTHREAD_MUTEX_T] / char[__SIZEOF_PTHREAD_COND_T] with pthread's alignment,
 *    thrd_t is pthread_t (unsigned long), once_flag is { int } with ONCE_FLAG_INIT { 0 } ==
 *    PTHREAD_ONCE_INIT, and glibc itself casts mtx_t* to pthread_mutex_t* and cnd_t* to
 *    pthread_cond_t*. The static asserts below check that on the machine that compiles this.
 *
 * 2. Synchronization.Mutex (Swift 6) on Linux is a PI futex. Its fast paths are inlined into our
 *    code (instrumented atomics, which TSan sees), but a contended lock or unlock goes through
 *    _MutexHandle._lockSlow/_unlockSlow in libswiftSynchronization.so: uninstrumented atomics and
 *    FUTEX_LOCK_PI/FUTEX_UNLOCK_PI syscalls, where the kernel hands the lock over. TSan misses
 *    that hand-over and reports the two critical sections as racing (seen in Metrics.Histogram
 *    under MetricsTests.ConcurrencyTests). Our code calls those two functions through the PLT,
 *    so they are interposed here: the real one runs, then __tsan_acquire(futex word) after a slow
 *    lock and __tsan_release before a slow unlock, the same edges the fast paths' atomics give.
 *    Needs clang (swiftcall: self, the futex word's address, is passed in r13 = swiftself).
 *
 * 3. Signals (only in the program named by $TSAN_SHIM_SIGNALFD_PROGRAM; sanitize.sh: cascade).
 *    libdispatch's signal sources read a signalfd; when a signal lands on a thread that has not
 *    blocked it, libdispatch's handler blocks it there and re-sends it to its manager thread.
 *    TSan runs a handler only when the receiving thread next enters an interceptor; cascade's
 *    main thread sleeps in dispatch_group_wait (a raw futex inside libdispatch), so SIGTERM was
 *    held for ever and every test that stops a consumer hung. Blocking SIGINT, SIGTERM and SIGHUP
 *    before any thread starts (all threads inherit the mask) sends them straight to the signalfd,
 *    as libdispatch recommends on Linux. One difference: a signal that arrives before the service
 *    installs its sources is discarded (by its signal(SIG_IGN)) instead of killing it.
 *
 * Build: clang -shared -fPIC -O2 -o c11_threads_shim.so c11_threads_shim.c -ldl -lpthread
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>

#if !defined(__GLIBC__) || __GLIBC__ < 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ < 28)
#error "needs glibc >= 2.28, whose C11 thread types are layout-compatible with pthread's"
#endif
_Static_assert(sizeof(mtx_t) == sizeof(pthread_mutex_t), "mtx_t is not a pthread_mutex_t");
_Static_assert(alignof(mtx_t) == alignof(pthread_mutex_t), "mtx_t alignment");
_Static_assert(sizeof(cnd_t) == sizeof(pthread_cond_t), "cnd_t is not a pthread_cond_t");
_Static_assert(alignof(cnd_t) == alignof(pthread_cond_t), "cnd_t alignment");
_Static_assert(sizeof(thrd_t) == sizeof(pthread_t), "thrd_t is not a pthread_t");
_Static_assert(sizeof(once_flag) == sizeof(pthread_once_t), "once_flag is not a pthread_once_t");

static int map_error(int err) {  /* glibc's thrd_err_map */
  switch (err) {
  case 0: return thrd_success;
  case ENOMEM: return thrd_nomem;
  case ETIMEDOUT: return thrd_timedout;
  case EBUSY: return thrd_busy;
  default: return thrd_error;
  }
}

/* ---- 1. threads: a C11 start routine returns int, a pthread one void * ---- */
struct start { thrd_start_t func; void *arg; };

static void *trampoline(void *p) {
  struct start s = *(struct start *)p;
  free(p);
  return (void *)(intptr_t)s.func(s.arg);
}

int thrd_create(thrd_t *thr, thrd_start_t func, void *arg) {
  struct start *s = malloc(sizeof *s);
  if (s == NULL) return thrd_nomem;
  s->func = func;
  s->arg = arg;
  int err = pthread_create((pthread_t *)thr, NULL, trampoline, s);
  if (err != 0) free(s);
  return map_error(err);
}

int thrd_join(thrd_t thr, int *res) {
  void *ret;
  int err = pthread_join((pthread_t)thr, &ret);
  if (err == 0 && res != NULL) *res = (int)(intptr_t)ret;
  return map_error(err);
}

int thrd_detach(thrd_t thr) { return map_error(pthread_detach((pthread_t)thr)); }

/* ---- 1. mutexes: the same attributes glibc's mtx_init sets ---- */
int mtx_init(mtx_t *m, int type) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_settype(&attr, (type & mtx_recursive) ? PTHREAD_MUTEX_RECURSIVE : PTHREAD_MUTEX_NORMAL);
  int err = pthread_mutex_init((pthread_mutex_t *)m, &attr);
  pthread_mutexattr_destroy(&attr);
  return map_error(err);
}

int mtx_lock(mtx_t *m) { return map_error(pthread_mutex_lock((pthread_mutex_t *)m)); }
int mtx_trylock(mtx_t *m) { return map_error(pthread_mutex_trylock((pthread_mutex_t *)m)); }
int mtx_timedlock(mtx_t *restrict m, const struct timespec *restrict at) {
  return map_error(pthread_mutex_timedlock((pthread_mutex_t *)m, at));
}
int mtx_unlock(mtx_t *m) { return map_error(pthread_mutex_unlock((pthread_mutex_t *)m)); }
void mtx_destroy(mtx_t *m) { pthread_mutex_destroy((pthread_mutex_t *)m); }

/* ---- 1. condition variables: default attributes, so timedwait is on CLOCK_REALTIME (TIME_UTC) ---- */
int cnd_init(cnd_t *c) { return map_error(pthread_cond_init((pthread_cond_t *)c, NULL)); }
int cnd_signal(cnd_t *c) { return map_error(pthread_cond_signal((pthread_cond_t *)c)); }
int cnd_broadcast(cnd_t *c) { return map_error(pthread_cond_broadcast((pthread_cond_t *)c)); }
int cnd_wait(cnd_t *c, mtx_t *m) {
  return map_error(pthread_cond_wait((pthread_cond_t *)c, (pthread_mutex_t *)m));
}
int cnd_timedwait(cnd_t *restrict c, mtx_t *restrict m, const struct timespec *restrict at) {
  return map_error(pthread_cond_timedwait((pthread_cond_t *)c, (pthread_mutex_t *)m, at));
}
void cnd_destroy(cnd_t *c) { pthread_cond_destroy((pthread_cond_t *)c); }

/* ---- 1. once ---- */
void call_once(once_flag *flag, void (*func)(void)) { pthread_once((pthread_once_t *)flag, func); }

/* ---- 2. Synchronization.Mutex's slow paths ---- */
void __tsan_acquire(void *addr) __attribute__((weak));
void __tsan_release(void *addr) __attribute__((weak));

#if defined(__clang__) && __has_attribute(swiftcall) && defined(__x86_64__)
#define SWIFTCALL __attribute__((swiftcall))
#define SWIFT_SELF __attribute__((swift_context))  /* LLVM's swiftself: r13 on x86-64 */
#define LOCK_SLOW "$s15Synchronization12_MutexHandleV9_lockSlowyys6UInt32VF"
#define UNLOCK_SLOW "$s15Synchronization12_MutexHandleV11_unlockSlowyyF"
#define TRY_LOCK_SLOW "$s15Synchronization12_MutexHandleV12_tryLockSlowSbyF"

typedef SWIFTCALL void (*lock_slow_t)(uint32_t tid, void *SWIFT_SELF word);
typedef SWIFTCALL void (*unlock_slow_t)(void *SWIFT_SELF word);
typedef SWIFTCALL bool (*try_lock_slow_t)(void *SWIFT_SELF word);
static lock_slow_t real_lock_slow;
static unlock_slow_t real_unlock_slow;
static try_lock_slow_t real_try_lock_slow;

SWIFTCALL void lock_slow(uint32_t tid, void *SWIFT_SELF word) __asm__(LOCK_SLOW);
SWIFTCALL void lock_slow(uint32_t tid, void *SWIFT_SELF word) {
  real_lock_slow(tid, word);
  if (__tsan_acquire) __tsan_acquire(word);
}

SWIFTCALL void unlock_slow(void *SWIFT_SELF word) __asm__(UNLOCK_SLOW);
SWIFTCALL void unlock_slow(void *SWIFT_SELF word) {
  if (__tsan_release) __tsan_release(word);
  real_unlock_slow(word);
}

SWIFTCALL bool try_lock_slow(void *SWIFT_SELF word) __asm__(TRY_LOCK_SLOW);
SWIFTCALL bool try_lock_slow(void *SWIFT_SELF word) {
  bool locked = real_try_lock_slow(word);
  if (locked && __tsan_acquire) __tsan_acquire(word);
  return locked;
}

/* Before main, so before any thread can lock: a process that calls these has the library loaded. */
__attribute__((constructor)) static void find_mutex_slow_paths(void) {
  real_lock_slow = (lock_slow_t)dlsym(RTLD_NEXT, LOCK_SLOW);
  real_unlock_slow = (unlock_slow_t)dlsym(RTLD_NEXT, UNLOCK_SLOW);
  real_try_lock_slow = (try_lock_slow_t)dlsym(RTLD_NEXT, TRY_LOCK_SLOW);
}
#else
#warning "not clang on x86-64: Synchronization.Mutex's contended hand-overs stay invisible to TSan"
#endif

/* ---- 3. termination signals straight to libdispatch's signalfd ---- */
__attribute__((constructor)) static void block_termination_signals(void) {
  const char *program = getenv("TSAN_SHIM_SIGNALFD_PROGRAM");
  if (!__tsan_acquire || !program || strcmp(program, program_invocation_short_name) != 0) return;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
}
