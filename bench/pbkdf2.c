/*
 * Floor for POST /user/login: raw PBKDF2-HMAC-SHA256 (OpenSSL's
 * PKCS5_PBKDF2_HMAC, 16-byte salt, 32-byte key, as lib/pw.c derives it) on
 * THREADS threads for about SECONDS seconds; prints "hashes_per_s=<rate>",
 * the sum over the threads of whole hashes / that thread's own elapsed time.
 *   pbkdf2 ITERATIONS THREADS SECONDS
 */
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int    iter;
static double seconds;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct job {
	long   count;
	double elapsed;
} job;

/* Whole hashes until SECONDS have passed; the rate is count / own elapsed time. */
static void *
worker(void *arg)
{
	static const unsigned char salt[16] = "microbook-bench";
	static const char pwd[] = "bench-password-1";
	unsigned char dk[32];
	job *j = arg;
	double t0 = now_s();

	do {
		if (PKCS5_PBKDF2_HMAC(pwd, (int)sizeof pwd - 1, salt, (int)sizeof salt, iter,
		    EVP_sha256(), (int)sizeof dk, dk) != 1) {
			fprintf(stderr, "PKCS5_PBKDF2_HMAC failed\n");
			exit(1);
		}
		j->count++;
		j->elapsed = now_s() - t0;
	} while (j->elapsed < seconds);
	return NULL;
}

int
main(int argc, char **argv)
{
	pthread_t th[256];
	job jobs[256] = { { 0, 0 } };
	long total = 0;
	double rate = 0;
	int i, n;

	if (argc != 4) {
		fprintf(stderr, "usage: %s ITERATIONS THREADS SECONDS\n", argv[0]);
		return 2;
	}
	iter = atoi(argv[1]);
	n = atoi(argv[2]);
	seconds = atof(argv[3]);
	if (iter < 1 || n < 1 || n > 256 || seconds <= 0) {
		fprintf(stderr, "bad arguments\n");
		return 2;
	}
	for (i = 0; i < n; i++)
		pthread_create(&th[i], NULL, worker, &jobs[i]);
	for (i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		total += jobs[i].count;
		rate += (double)jobs[i].count / jobs[i].elapsed;
	}
	printf("hashes=%ld threads=%d iterations=%d hashes_per_s=%.3f\n", total, n, iter, rate);
	return 0;
}
