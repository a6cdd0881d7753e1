-- Failed logins by the name asked (whether or not such a user exists), for
-- the per-account backoff of the user service: after LOGIN_FAILS failures
-- within LOGIN_FAIL_WINDOW seconds, each attempt for that name is refused
-- until blocked_until. A successful login deletes the row.
CREATE TABLE login_failures (
  name          VARCHAR(20) NOT NULL PRIMARY KEY,
  failures      INT         NOT NULL,
  window_start  DATETIME(3) NOT NULL,
  blocked_until DATETIME(3) NULL,
  KEY login_failures_window (window_start)
) ENGINE=InnoDB;
