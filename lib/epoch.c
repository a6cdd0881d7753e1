/* epoch: see epoch.h. */
#include "epoch.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static volatile uint64_t *epochs;

int
epoch_init(const char *path)
{
	size_t size = EPOCH_COUNT * sizeof(uint64_t);
	struct stat st;
	void *p;
	int fd;

	if (path == NULL || epochs != NULL)
		return MB_OK;
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return MB_ERROR;
	/* only ever grown: a shorter file would be a SIGBUS for those mapping it */
	if (fstat(fd, &st) != 0 || ((size_t)st.st_size < size && ftruncate(fd, (off_t)size) != 0)) {
		close(fd);
		return MB_ERROR;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return MB_ERROR;
	epochs = p;
	return MB_OK;
}

uint64_t
epoch_get(int slot)
{
	if (epochs == NULL || slot < 0 || slot >= EPOCH_COUNT)
		return 0;
	return __atomic_load_n(&epochs[slot], __ATOMIC_ACQUIRE) + 1;
}

void
epoch_bump(int slot)
{
	if (epochs != NULL && slot >= 0 && slot < EPOCH_COUNT)
		__atomic_add_fetch(&epochs[slot], 1, __ATOMIC_RELEASE);
}

int
epoch_user(int64_t uid)
{
	uint64_t h = (uint64_t)uid * 0x9e3779b97f4a7c15ULL;

	return EPOCH_USERS + (int)(h >> 52); /* the top 12 bits: 0..4095 */
}
