/*
 * origin: the cross-site check of API.md. A state-changing request (POST)
 * is refused when its Origin or Referer names another site; app.c calls
 * this before a POST reaches its handler. Pure string work, no FastCGI.
 */
#ifndef MB_ORIGIN_H
#define MB_ORIGIN_H

/*
 * 1 when a state-changing request may proceed: no Origin and no Referer
 * (curl, Postman), or the one present names our own origin (scheme://Host).
 */
int origin_same(const char *origin, const char *referer, const char *host, int https);

#endif
