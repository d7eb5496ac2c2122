/* disk.c — the on-disk code cache (opt-in: --jit-cache-dir=DIR or SX_JIT_CACHE_DIR), and the
 * prelude's code, compiled when SX is built and installed beside sx-jitc (read-only).
 *
 * Each compiled lambda is kept as DIR/<shape hash>.o (.so where the host cannot load objects
 * itself: image.h) beside DIR/<shape hash>.shape, the full shape it was compiled from; a later
 * process that meets an equal shape loads the object (tens of microseconds) instead of
 * compiling it (tens of milliseconds). Files are
 * written under temporary names and renamed into place; a load compares the whole shape, so a
 * hash collision, a truncated or a foreign file is ignored (and removed). The directory must be
 * ours and closed to others (created mode 0700), or the cache stays off with one warning. Its
 * size is bounded in bytes: the least recently used files (by modification time, refreshed on
 * every load) are removed first. */
#define _GNU_SOURCE 1
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#include "disk.h"
#include "wire.h"

static pthread_mutex_t disk_lock = PTHREAD_MUTEX_INITIALIZER;
static char cache_dir[512];
static size_t cache_limit = 64u << 20;
static bool disk_on;
/* The prelude's code (the build compiles lib/prelude.sx's lambdas with a cache directory, which
 * is installed with sx-jitc): looked at after the user's cache, never written, never pruned.
 * Like Guile's compiled ice-9 and Chez's boot files, so map, filter, sort and the folds have
 * native code as soon as they are hot, without a compile. Files from another build do not
 * match (the build id is part of every shape hash). */
static char system_dir[512];
static bool system_on;

bool jit_disk_enabled(void) { return disk_on; }

/* Turns the cache on for dir: creates it (0700) or checks it is ours and closed to others. */
bool jit_disk_open(const char *dir, size_t limit) {
  pthread_mutex_lock(&disk_lock);
  if (disk_on) {
    pthread_mutex_unlock(&disk_lock);
    return true;
  }
  struct stat st;
  if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
    fprintf(stderr, "sx: on-disk JIT cache off: cannot create %s: %s\n", dir, strerror(errno));
  } else if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    fprintf(stderr, "sx: on-disk JIT cache off: %s is not a directory\n", dir);
  } else if (st.st_uid != geteuid() || (st.st_mode & 022)) {
    fprintf(stderr, "sx: on-disk JIT cache off: %s must be owned by you and not writable by others\n", dir);
  } else {
    snprintf(cache_dir, sizeof cache_dir, "%s", dir);
    if (limit) cache_limit = limit;
    disk_on = true;
  }
  pthread_mutex_unlock(&disk_lock);
  return disk_on;
}

/* The prelude's cache, if dir is a directory nobody but its owner (root or us) may write. */
bool jit_disk_open_system(const char *dir) {
  struct stat st;
  pthread_mutex_lock(&disk_lock);
  if (!system_on && dir && *dir && stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && !(st.st_mode & 022) &&
      (st.st_uid == 0 || st.st_uid == geteuid())) {
    snprintf(system_dir, sizeof system_dir, "%s", dir);
    system_on = true;
  }
  pthread_mutex_unlock(&disk_lock);
  return system_on;
}

static void file_in(char *out, size_t n, const char *dir, uint64_t hash, const char *ext) {
  snprintf(out, n, "%s/%016llx.%s", dir, (unsigned long long)hash, ext);
}

static void file_of(char *out, size_t n, uint64_t hash, const char *ext) { file_in(out, n, cache_dir, hash, ext); }

static bool write_file(const char *path, const uint8_t *buf, size_t len) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  bool ok = jit_write_all(fd, buf, len);
  return (close(fd) == 0) && ok;
}

static jit_shape *read_shape(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  jit_shape *s = jit_recv_shape(fd);
  close(fd);
  return s;
}

/* The object compiled for shape s in dir, or NULL; ours: the cache we write (a bad file is
 * removed, a good one marked as used). */
static jit_image *load_from(const char *dir, bool ours, const jit_shape *s, void **fn) {
  char so[600], sh[600];
  file_in(so, sizeof so, dir, s->hash, JIT_IMAGE_EXT);
  file_in(sh, sizeof sh, dir, s->hash, "shape");
  jit_shape *saved = read_shape(sh);
  if (!saved) return NULL;
  saved->hash = s->hash;
  bool same = jit_shape_equal(saved, s);
  jit_shape_free(saved);
  if (!same) return NULL; /* another shape with the same hash: leave it */
  char err[200];
  jit_image *img = jit_image_load(so, err, sizeof err);
  void *f = img ? jit_image_symbol(img, "sx_lambda_0") : NULL;
  if (!f) {
    jit_image_free(img);
    if (ours) {
      unlink(so); /* truncated or corrupt: compile again */
      unlink(sh);
    }
    return NULL;
  }
  if (ours) utime(so, NULL); /* recently used */
  *fn = f;
  return img;
}

/* The object compiled for shape s, from the user's cache or the prelude's, or NULL. Sets *fn
 * to its entry. */
jit_image *jit_disk_load(const jit_shape *s, void **fn) {
  jit_image *img = disk_on ? load_from(cache_dir, true, s, fn) : NULL;
  if (!img && system_on) img = load_from(system_dir, false, s, fn);
  return img;
}

typedef struct {
  char name[300];
  time_t mtime;
  off_t size;
} entry;

static int by_age(const void *a, const void *b) {
  time_t x = ((const entry *)a)->mtime, y = ((const entry *)b)->mtime;
  return x < y ? -1 : x > y;
}

/* Removes the least recently used objects until the cache fits its byte limit. */
static void prune(void) {
  DIR *d = opendir(cache_dir);
  if (!d) return;
  entry *es = NULL;
  size_t n = 0, cap = 0;
  off_t total = 0;
  struct dirent *de;
  while ((de = readdir(d))) {
    size_t len = strlen(de->d_name);
    size_t elen = strlen(JIT_IMAGE_EXT);
    if (len < elen + 2 || de->d_name[len - elen - 1] != '.' || strcmp(de->d_name + len - elen, JIT_IMAGE_EXT)) continue;
    char path[900];
    snprintf(path, sizeof path, "%s/%s", cache_dir, de->d_name);
    struct stat st;
    if (stat(path, &st) != 0) continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      entry *ne = realloc(es, cap * sizeof(entry));
      if (!ne) break;
      es = ne;
    }
    snprintf(es[n].name, sizeof es[n].name, "%s", de->d_name);
    es[n].mtime = st.st_mtime;
    es[n].size = st.st_size;
    total += st.st_size;
    n++;
  }
  closedir(d);
  qsort(es, n, sizeof(entry), by_age);
  for (size_t i = 0; i < n && (size_t)total > cache_limit; i++) {
    char path[900];
    snprintf(path, sizeof path, "%s/%s", cache_dir, es[i].name);
    unlink(path);
    size_t len = strlen(path) - strlen(JIT_IMAGE_EXT);
    snprintf(path + len, sizeof path - len, "shape");
    unlink(path);
    total -= es[i].size;
  }
  free(es);
}

/* Keeps a freshly compiled one-lambda object (obj[0..len)) in the cache under s's hash. */
void jit_disk_store(const jit_shape *s, const uint8_t *obj, size_t len) {
  if (!disk_on) return;
  pthread_mutex_lock(&disk_lock);
  char out[600], sh[600], tmp[640], otmp[640];
  file_of(out, sizeof out, s->hash, JIT_IMAGE_EXT);
  file_of(sh, sizeof sh, s->hash, "shape");
  snprintf(tmp, sizeof tmp, "%s.%d.tmp", sh, (int)getpid());
  snprintf(otmp, sizeof otmp, "%s.%d.tmp", out, (int)getpid());
  bool ok = write_file(otmp, obj, len);
  int fd = ok ? open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
  ok = fd >= 0 && jit_send_shape(fd, s);
  if (fd >= 0) ok = (close(fd) == 0) && ok;
  /* the object first, then its shape: a shape file always has a complete object beside it */
  if (ok && rename(otmp, out) == 0 && rename(tmp, sh) == 0) prune();
  unlink(otmp);
  unlink(tmp);
  pthread_mutex_unlock(&disk_lock);
}
