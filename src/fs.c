/* dwell.core.fs: the few file operations the file store needs that Lua's io
 * lacks. Plain POSIX plus flock(2); no other library.
 *
 *   fs.mkdir(path [, mode = 0700]) -> true | nil, err      (an existing directory is fine)
 *   fs.write_atomic(path, data) -> true | nil, err
 *       writes a temporary file beside `path` (mode 0600 whatever the umask) and renames it
 *       over `path`, so a reader sees the old content or the new, never a half-written file
 *   fs.lock(path, timeout_ms) -> lock | nil, err, reason ("timeout" | "io")
 *       opens or creates `path` (0600) and takes flock(LOCK_EX) on it, waiting at most
 *       timeout_ms; lock:unlock() (also __close and __gc) releases it. A process that dies
 *       releases its locks with its descriptors. While held, lock:read([max]) gives the
 *       file's first bytes and lock:write(data) replaces its content (one pwrite at offset 0,
 *       then ftruncate): for small records kept in the lock file itself.
 *   fs.unlink(path) -> true | nil, err                      (a missing file is fine)
 *   fs.mode(path) -> permission bits (e.g. 0600 = 384) | nil, err
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "dwell.h"

#define FS_LOCK_MT "dwell.core.fs.lock"

typedef struct fs_lock {
  int fd;
} fs_lock;

static int fail_errno(lua_State *L, const char *what, const char *path, int err) {
  return dwell_fail(L, "%s %s: %s", what, path, strerror(err));
}

static int f_mkdir(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  lua_Integer mode = luaL_optinteger(L, 2, 0700);
  struct stat st;
  luaL_argcheck(L, mode >= 0 && mode <= 07777, 2, "mode must be in 0..07777");
  if (mkdir(path, (mode_t)mode) == 0) {
    lua_pushboolean(L, 1);
    return 1;
  }
  if (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
    lua_pushboolean(L, 1);
    return 1;
  }
  return fail_errno(L, "mkdir", path, errno);
}

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int f_write_atomic(lua_State *L) {
  size_t plen, dlen;
  const char *path = luaL_checklstring(L, 1, &plen);
  const char *data = luaL_checklstring(L, 2, &dlen);
  luaL_Buffer b;
  char *tmp;
  int fd, err;
  luaL_buffinit(L, &b);
  luaL_addlstring(&b, path, plen);
  luaL_addstring(&b, ".tmp.XXXXXX");
  luaL_pushresult(&b);
  /* mkstemp writes into its argument: a copy of our own in a userdata (freed by the GC) */
  tmp = (char *)lua_newuserdatauv(L, plen + 12, 0);
  memcpy(tmp, lua_tostring(L, -2), plen + 12);
  fd = mkstemp(tmp);
  if (fd < 0) return fail_errno(L, "create", tmp, errno);
  if (fchmod(fd, 0600) != 0 || write_all(fd, data, dlen) != 0) {
    err = errno;
    close(fd);
    unlink(tmp);
    return fail_errno(L, "write", tmp, err);
  }
  if (close(fd) != 0) {
    err = errno;
    unlink(tmp);
    return fail_errno(L, "close", tmp, err);
  }
  if (rename(tmp, path) != 0) {
    err = errno;
    unlink(tmp);
    return fail_errno(L, "rename to", path, err);
  }
  lua_pushboolean(L, 1);
  return 1;
}

static int f_lock(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  lua_Integer ms = luaL_checkinteger(L, 2);
  lua_Number deadline;
  long pause_ns = 200000; /* 0.2 ms, doubling to 5 ms */
  fs_lock *h;
  luaL_argcheck(L, ms >= 0 && ms <= 86400000, 2, "timeout_ms must be in 0..86400000");
  deadline = dwell_clock_seconds(CLOCK_MONOTONIC) + (lua_Number)ms / 1000.0;
  h = (fs_lock *)lua_newuserdatauv(L, sizeof *h, 0);
  h->fd = -1;
  luaL_setmetatable(L, FS_LOCK_MT);
  h->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (h->fd < 0) {
    lua_pushnil(L);
    lua_pushfstring(L, "open %s: %s", path, strerror(errno));
    lua_pushliteral(L, "io");
    return 3;
  }
  for (;;) {
    struct timespec ts;
    if (flock(h->fd, LOCK_EX | LOCK_NB) == 0) return 1;
    if (errno != EWOULDBLOCK && errno != EINTR) {
      int err = errno;
      close(h->fd);
      h->fd = -1;
      lua_pushnil(L);
      lua_pushfstring(L, "flock %s: %s", path, strerror(err));
      lua_pushliteral(L, "io");
      return 3;
    }
    if (dwell_clock_seconds(CLOCK_MONOTONIC) >= deadline) break;
    ts.tv_sec = 0;
    ts.tv_nsec = pause_ns;
    nanosleep(&ts, NULL);
    if (pause_ns < 5000000) pause_ns *= 2;
  }
  close(h->fd);
  h->fd = -1;
  lua_pushnil(L);
  lua_pushfstring(L, "flock %s: still held by another process after %d ms", path, (int)ms);
  lua_pushliteral(L, "timeout");
  return 3;
}

static fs_lock *check_held(lua_State *L) {
  fs_lock *h = (fs_lock *)luaL_checkudata(L, 1, FS_LOCK_MT);
  if (h->fd < 0) luaL_error(L, "dwell.core.fs: the lock was released");
  return h;
}

/* lock:read([max = 4096]) -> the locked file's first bytes (up to max) | nil, err */
static int lock_read(lua_State *L) {
  fs_lock *h = check_held(L);
  lua_Integer max = luaL_optinteger(L, 2, 4096);
  luaL_Buffer b;
  char *p;
  ssize_t n;
  luaL_argcheck(L, max >= 0 && max <= 1048576, 2, "max must be in 0..1048576");
  p = luaL_buffinitsize(L, &b, (size_t)max);
  do n = pread(h->fd, p, (size_t)max, 0); while (n < 0 && errno == EINTR);
  if (n < 0) return dwell_fail(L, "read: %s", strerror(errno));
  luaL_pushresultsize(&b, (size_t)n);
  return 1;
}

/* lock:write(data) -> true | nil, err: the locked file's content becomes data, with one
 * pwrite at offset 0 (a record that small is never torn by a process that dies), then cut to
 * its length. */
static int lock_write(lua_State *L) {
  fs_lock *h = check_held(L);
  size_t len;
  const char *data = luaL_checklstring(L, 2, &len);
  size_t done = 0;
  while (done < len) {
    ssize_t w = pwrite(h->fd, data + done, len - done, (off_t)done);
    if (w < 0) {
      if (errno == EINTR) continue;
      return dwell_fail(L, "write: %s", strerror(errno));
    }
    done += (size_t)w;
  }
  if (ftruncate(h->fd, (off_t)len) != 0) return dwell_fail(L, "truncate: %s", strerror(errno));
  lua_pushboolean(L, 1);
  return 1;
}

static int lock_unlock(lua_State *L) {
  fs_lock *h = (fs_lock *)luaL_checkudata(L, 1, FS_LOCK_MT);
  if (h->fd >= 0) {
    close(h->fd); /* closing the only descriptor releases the flock */
    h->fd = -1;
  }
  return 0;
}

static int f_unlink(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  if (unlink(path) != 0 && errno != ENOENT) return fail_errno(L, "unlink", path, errno);
  lua_pushboolean(L, 1);
  return 1;
}

static int f_mode(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  struct stat st;
  if (stat(path, &st) != 0) return fail_errno(L, "stat", path, errno);
  lua_pushinteger(L, (lua_Integer)(st.st_mode & 07777));
  return 1;
}

int dwell_fs_open(lua_State *L) {
  static const luaL_Reg lock_methods[] = {
    { "unlock", lock_unlock }, { "read", lock_read }, { "write", lock_write }, { NULL, NULL },
  };
  static const luaL_Reg funcs[] = {
    { "mkdir", f_mkdir }, { "write_atomic", f_write_atomic }, { "lock", f_lock },
    { "unlink", f_unlink }, { "mode", f_mode }, { NULL, NULL },
  };
  if (luaL_newmetatable(L, FS_LOCK_MT)) {
    luaL_newlib(L, lock_methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, lock_unlock);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, lock_unlock);
    lua_setfield(L, -2, "__close");
  }
  lua_pop(L, 1);
  luaL_newlib(L, funcs);
  return 1;
}
