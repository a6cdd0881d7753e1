/* nnlist: see nnlist.h. */
#include "nnlist.h"

#include <nanomsg/nn.h>
#include <stdlib.h>
#include <string.h>

int
nnlist_connect(int sock, const char *list)
{
	char *copy, *tok, *save = NULL;
	int n = 0;

	if (list == NULL || (copy = strdup(list)) == NULL)
		return -1;
	for (tok = strtok_r(copy, ", \t", &save); tok != NULL; tok = strtok_r(NULL, ", \t", &save)) {
		if (nn_connect(sock, tok) < 0) {
			free(copy);
			return -1;
		}
		n++;
	}
	free(copy);
	return n > 0 ? 0 : -1;
}
