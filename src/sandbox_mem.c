/* Memory for big things (request bodies, response bodies, big Lua strings)
 * that goes back to the system when freed.
 *
 * glibc raises its mmap threshold each time a mapped block is freed, so after
 * one 20 MB upload the next ones come from the heap, and freed heap memory is
 * rarely returned: 40 uploads of 20 MB left the process at 860 MB. Blocks of
 * SB_MAP_MIN bytes or more are mapped here directly and unmapped when freed,
 * without touching malloc's process-wide settings (the sandbox is a module in
 * someone else's process). */
#define _DEFAULT_SOURCE 1 /* MAP_ANONYMOUS */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sandbox.h"

static size_t page_round(size_t n) {
  static size_t page;
  if (page == 0) {
    long p = sysconf(_SC_PAGESIZE);
    page = p > 0 ? (size_t)p : 4096;
  }
  return (n + page - 1) / page * page;
}

static void *map(size_t n) {
  void *p = mmap(NULL, page_round(n), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

static int is_big(size_t n) { return n >= SB_MAP_MIN; }

/* ---- C buffers: a size header in front of the data ------------------------ */

#define HDR 16 /* keeps the data 16-byte aligned */

void *sb_big_alloc(size_t n) {
  size_t total = n + HDR;
  char *p;
  if (total < n) return NULL;
  p = is_big(total) ? (char *)map(total) : (char *)malloc(total);
  if (p == NULL) return NULL;
  memcpy(p, &total, sizeof total);
  return p + HDR;
}

void sb_big_free(void *data) {
  char *p;
  size_t total;
  if (data == NULL) return;
  p = (char *)data - HDR;
  memcpy(&total, p, sizeof total);
  if (is_big(total)) munmap(p, page_round(total));
  else free(p);
}

void *sb_big_realloc(void *data, size_t used, size_t n) {
  char *q;
  if (data == NULL) return sb_big_alloc(n);
  if (!is_big(n + HDR)) {
    size_t total;
    memcpy(&total, (char *)data - HDR, sizeof total);
    if (!is_big(total)) { /* both small: plain realloc */
      char *p = (char *)realloc((char *)data - HDR, n + HDR);
      if (p == NULL) return NULL;
      total = n + HDR;
      memcpy(p, &total, sizeof total);
      return p + HDR;
    }
  }
  q = (char *)sb_big_alloc(n);
  if (q == NULL) return NULL;
  memcpy(q, data, used < n ? used : n);
  sb_big_free(data);
  return q;
}

/* ---- the server lua_State's allocator ------------------------------------- */

/* Lua passes the block's size back on every realloc and free, so no header. */
void *sb_lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  void *q;
  (void)ud;
  if (ptr == NULL) osize = 0; /* then osize is a type tag, not a size */
  if (nsize == 0) {
    if (ptr != NULL) {
      if (is_big(osize)) munmap(ptr, page_round(osize));
      else free(ptr);
    }
    return NULL;
  }
  if (!is_big(osize) && !is_big(nsize)) return realloc(ptr, nsize);
  if (is_big(osize) && is_big(nsize)) {
    size_t o = page_round(osize), n = page_round(nsize);
    if (n == o) return ptr;
    if (n < o) { /* shrink in place: give the tail pages back */
      munmap((char *)ptr + n, o - n);
      return ptr;
    }
  }
  q = is_big(nsize) ? map(nsize) : malloc(nsize);
  if (q == NULL) return NULL;
  if (ptr != NULL) {
    memcpy(q, ptr, osize < nsize ? osize : nsize);
    if (is_big(osize)) munmap(ptr, page_round(osize));
    else free(ptr);
  }
  return q;
}
