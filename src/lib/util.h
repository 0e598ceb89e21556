/*
 * Small internal helpers shared by the core: growable buffers with a cap,
 * full reads and writes, atomic file replacement, directory creation, path
 * joining and quoting.  Nothing here prints; every failure sets the
 * thread's error (lmd_error_set) and returns a negative code.
 */
#ifndef LMD_UTIL_H
#define LMD_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <sys/types.h>

#include "lmdata/common.h"

#define LMD_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define LMD_MIN(a, b) ((a) < (b) ? (a) : (b))
#define LMD_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Caps on sizes read from disk: anything larger is refused as hostile. */
#define LMD_MAX_BLOB (256u << 20)      /* one stored object */
#define LMD_MAX_MANIFEST (64u << 10)   /* one .lmd file */
#define LMD_MAX_CONFIG (1u << 20)      /* .lmdata/config */

/*
 * A growable byte buffer.  `ptr` is NULL only while `alloc` is 0; `len` never
 * exceeds `alloc`.  Growth past LMD_MAX_BLOB fails with LMD_ETOOBIG.
 */
typedef struct lmd_buf {
	uint8_t *ptr;
	size_t len, alloc;
} lmd_buf;

#define LMD_BUF_INIT { NULL, 0, 0 }
int lmd_buf_grow(lmd_buf *b, size_t extra);
int lmd_buf_put(lmd_buf *b, const void *data, size_t n);
int lmd_buf_puts(lmd_buf *b, const char *s);
int lmd_buf_printf(lmd_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* NUL-terminate without counting the NUL in len. */
int lmd_buf_cstr(lmd_buf *b);
void lmd_buf_clear(lmd_buf *b);
void lmd_buf_release(lmd_buf *b);

/* malloc/calloc/realloc that set the error on failure. */
void *lmd_malloc(size_t n);
void *lmd_calloc(size_t n, size_t size);
void *lmd_reallocarray(void *p, size_t n, size_t size);
char *lmd_strdup(const char *s);
char *lmd_strndup(const char *s, size_t n);
char *lmd_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* read()/write()/pread()/pwrite() of exactly n bytes, retrying on EINTR. */
int lmd_write_all(int fd, const void *buf, size_t n);
int lmd_pwrite_all(int fd, const void *buf, size_t n, off_t off);
/* Returns bytes read (< n only at end of file). */
ssize_t lmd_read_full(int fd, void *buf, size_t n);
ssize_t lmd_pread_full(int fd, void *buf, size_t n, off_t off);

/* Read a whole (small) file, capped at max bytes: LMD_ETOOBIG past it. */
int lmd_read_file(const char *path, size_t max, lmd_buf *out);

/*
 * Write `data` to `path` atomically: a temp file in the same directory,
 * write, fsync, rename over, fsync the directory.  The temp file is
 * removed on failure; `path` is then untouched.
 */
int lmd_write_file_atomic(const char *path, const void *data, size_t n, mode_t mode);
int lmd_fsync_dir(const char *dir);
/* Open a fresh temp file next to `path` (name returned in ret_tmp, malloc'd). */
int lmd_tmpfile_near(const char *path, mode_t mode, char **ret_tmp);
int lmd_mkdir_p(const char *path, mode_t mode);
/* Is this the name of one of lmdata's temp files (".NAME.lmdtmp.PID.N")?
 * Work-tree scans skip them; checkout removes them (the lock guarantees
 * that no live writer owns one then). */
bool lmd_is_tmp_name(const char *name);

/* "a" + "/" + "b", malloc'd; b == "" gives a copy of a. */
char *lmd_path_join(const char *a, const char *b);
/* The parent folder of a relative or absolute path ("" for a bare name). */
char *lmd_path_dirname(const char *p);
const char *lmd_path_basename(const char *p);

/*
 * Quote a path for display the way git does (core.quotePath): plain when it
 * has only printable ASCII other than '"' and '\\', otherwise in double
 * quotes with C escapes and octal bytes.  Returns a thread-local buffer
 * valid until the 4th next call.
 */
const char *lmd_quote(const char *path);

/* Format a byte count as "1.5 MiB" into a thread-local buffer (4 slots). */
const char *lmd_human_size(uint64_t n);

/* Nanosecond timestamps. */
int64_t lmd_now_ns(void);
int64_t lmd_mono_ns(void);

/* errno -> negative code with a message "<what> '<path>': <reason>". */
int lmd_errno_path(const char *what, const char *path);

#endif
