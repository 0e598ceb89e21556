/*
 * Growable capped buffers and strict number parsing for the remote layer;
 * see util.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lmdata/common.h"
#include "remote/util.h"

int lmd__rbuf_add(lmd__rbuf *b, const void *data, size_t len)
{
	size_t need;

	if (len > SIZE_MAX - b->len - 1)
		return LMD_ETOOBIG;
	need = b->len + len + 1;
	if (b->cap && need - 1 > b->cap)
		return LMD_ETOOBIG;
	if (need > b->alloc) {
		size_t n = b->alloc ? b->alloc : 256;
		char *p;

		while (n < need)
			n = n > SIZE_MAX / 2 ? need : n * 2;
		p = realloc(b->ptr, n);
		if (!p)
			return -ENOMEM;
		b->ptr = p;
		b->alloc = n;
	}
	if (len)
		memcpy(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = '\0';
	return 0;
}

int lmd__rbuf_puts(lmd__rbuf *b, const char *s)
{
	return lmd__rbuf_add(b, s, strlen(s));
}

int lmd__rbuf_printf(lmd__rbuf *b, const char *fmt, ...)
{
	va_list ap;
	char small[512];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n < sizeof(small))
		return lmd__rbuf_add(b, small, (size_t)n);
	{
		char *big = malloc((size_t)n + 1);
		int r;

		if (!big)
			return -ENOMEM;
		va_start(ap, fmt);
		vsnprintf(big, (size_t)n + 1, fmt, ap);
		va_end(ap);
		r = lmd__rbuf_add(b, big, (size_t)n);
		free(big);
		return r;
	}
}

void lmd__rbuf_reset(lmd__rbuf *b)
{
	b->len = 0;
	if (b->ptr)
		b->ptr[0] = '\0';
}

void lmd__rbuf_release(lmd__rbuf *b)
{
	free(b->ptr);
	b->ptr = NULL;
	b->len = b->alloc = 0;
}

char *lmd__rbuf_detach(lmd__rbuf *b)
{
	char *p = b->ptr ? b->ptr : strdup("");

	b->ptr = NULL;
	b->len = b->alloc = 0;
	return p;
}

int lmd__parse_u64(const char *s, size_t len, uint64_t max, uint64_t *ret)
{
	uint64_t v = 0;

	if (len == 0 || len > 20)
		return len > 20 ? LMD_ETOOBIG : -EINVAL;
	for (size_t i = 0; i < len; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return LMD_ETOOBIG;
		v = v * 10 + d;
	}
	if (v > max)
		return LMD_ETOOBIG;
	*ret = v;
	return 0;
}

char *lmd__strdup0(const char *s, bool *failed)
{
	char *p;

	if (!s)
		return NULL;
	p = strdup(s);
	if (!p)
		*failed = true;
	return p;
}

void lmd__free_secret(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}
