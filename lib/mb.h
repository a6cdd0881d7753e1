/*
 * mb: the one return-code convention of lib/ (as nginx's NGX_OK/NGX_ERROR/
 * NGX_AGAIN/NGX_DECLINED). A function that can fail returns one of these;
 * zero is success, a positive code is an ordinary outcome the caller decides
 * on, a negative one is a failure. So `rc < 0` always means "failed", and
 * `rc != MB_OK` "did not do it".
 *
 *   MB_OK        done; the outputs are set
 *   MB_NONE      nothing there: no such row, end of the rows, no such cookie
 *   MB_DECLINED  refused by a rule, not broken: bad input, an order that is
 *                no longer open, a session that was logged out; an output
 *                (a detail string, the order's state) says why
 *   MB_EXPIRED   well-formed but past its lifetime (a session cookie)
 *   MB_DUP       a unique key already holds this value (INSERT of a duplicate)
 *   MB_AGAIN     lost a deadlock or a lock wait; the transaction was rolled
 *                back and may be run again (db_try, db.h)
 *   MB_UNAVAIL   a dependency (the database, the inventory daemon) did not
 *                answer in time; the client gets 503 UNAVAILABLE
 *   MB_ERROR     anything else: a bug, no memory, a broken reply
 *
 * Where a failure is seen it is answered (FastCGI: the answer of app.h) or
 * logged (daemons), once: a function that returns a code leaves that to its
 * caller unless its comment says otherwise (db.c adds a diagnostic line with
 * the server's own message when a connection fails).
 *
 * Distinct from these: mb_err (resp.h) is the table of API error codes a
 * client sees, and predicates named *_is / *_ok return 1 (yes) or 0 (no).
 * A count or a length is returned as a count (>= 0) or one of the negative
 * codes above.
 *
 * One shape of its own: inv_call returns the daemon's reply, or NULL with
 * the mb_err to answer (the caller needs the API code, not a return code).
 * The answer helpers of app.h return an HTTP status, not one of these.
 */
#ifndef MB_MB_H
#define MB_MB_H

enum mb_rc {
	MB_OK       = 0,
	MB_NONE     = 1,
	MB_DECLINED = 2,
	MB_EXPIRED  = 3,
	MB_DUP      = -1,
	MB_AGAIN    = -2,
	MB_UNAVAIL  = -3,
	MB_ERROR    = -4,
};

#endif
