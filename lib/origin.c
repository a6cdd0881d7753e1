/* origin: see origin.h. */
#include "origin.h"

#include <string.h>
#include <strings.h>

/* 1 when url starts with scheme://host and then ends or continues with '/'. */
static int
origin_is(const char *url, const char *host, int https)
{
	const char *scheme = https ? "https://" : "http://";
	size_t slen = strlen(scheme), hlen = strlen(host);

	if (strncasecmp(url, scheme, slen) != 0 || strncasecmp(url + slen, host, hlen) != 0)
		return 0;
	url += slen + hlen;
	return *url == '\0' || *url == '/';
}

int
origin_same(const char *origin, const char *referer, const char *host, int https)
{
	if (origin != NULL && *origin != '\0')
		return host != NULL && origin_is(origin, host, https) &&
		    strchr(origin + (https ? 8 : 7), '/') == NULL;
	if (referer != NULL && *referer != '\0')
		return host != NULL && origin_is(referer, host, https);
	return 1;
}
