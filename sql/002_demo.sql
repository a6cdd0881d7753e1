-- Demo data: the seed's user micro / 123 (registration itself asks for 8+
-- characters; this account is the tutorial's) and a few books with stock.
-- The hash is PBKDF2-HMAC-SHA256, 600000 iterations, in pw.c's stored form.
INSERT IGNORE INTO users (id, name, pwd_hash, created_at) VALUES
  (10001, 'micro', 'pbkdf2-sha256$600000$bWljcm9ib29rLWRlbW8tMQ$VIrIi0Dv_VzkBz_k7fuoeyufX5QmJu4oKXw1v-uzoBU', UTC_TIMESTAMP(3));

INSERT IGNORE INTO books (id, title, unit_price, stock, initial_stock) VALUES
  (1, 'The C Programming Language', 4200, 50, 50),
  (2, 'Advanced Programming in the UNIX Environment', 6900, 30, 30),
  (3, 'TCP/IP Illustrated, Volume 1', 5900, 20, 20),
  (4, 'Designing Data-Intensive Applications', 4500, 40, 40),
  (5, 'The Art of Computer Programming, Volume 1', 8900, 10, 10),
  (6, 'Structure and Interpretation of Computer Programs', 3900, 25, 25),
  (7, 'Database Internals', 4800, 15, 15);
