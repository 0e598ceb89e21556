/*
 * Small helpers shared by the remote backends: a growable byte buffer with a
 * hard cap (curl's dynbuf model: every append checks for overflow and for
 * the cap, so a hostile server cannot make us allocate without bound), and
 * strict parsing of decimal sizes read from the network.
 */
#ifndef LMD_REMOTE_UTIL_H
#define LMD_REMOTE_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* `ptr` is NULL or NUL-terminated; `len` excludes the NUL; never above `cap`. */
typedef struct lmd__rbuf {
	char *ptr;
	size_t len, alloc, cap;
} lmd__rbuf;

#define LMD__RBUF_INIT(capacity) { NULL, 0, 0, (capacity) }

/* Append; -ENOMEM on allocation failure, LMD_ETOOBIG past the cap. */
int lmd__rbuf_add(lmd__rbuf *b, const void *data, size_t len);
int lmd__rbuf_puts(lmd__rbuf *b, const char *s);
int lmd__rbuf_printf(lmd__rbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void lmd__rbuf_reset(lmd__rbuf *b);
/* Frees the memory; the buffer can be reused (same cap). */
void lmd__rbuf_release(lmd__rbuf *b);
/* Hands the string to the caller ("" if empty); the buffer is left empty. */
char *lmd__rbuf_detach(lmd__rbuf *b);

/*
 * Parse a decimal unsigned size of exactly `len` characters (no sign, no
 * spaces); fails with LMD_ETOOBIG above `max` and -EINVAL on anything else.
 */
int lmd__parse_u64(const char *s, size_t len, uint64_t max, uint64_t *ret);

/* strdup that accepts NULL (returns NULL); sets *failed on allocation failure. */
char *lmd__strdup0(const char *s, bool *failed);

/* Wipe then free a string holding a secret. */
void lmd__free_secret(char *s);

#endif
