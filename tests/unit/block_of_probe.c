/* fp_block_of through a preload library, linked against it: the block around any byte,
 * from small blocks to huge ones, aligned ones, and NULL for memory that is not fastpool's.
 * Run against the release and the hardened library (whose blocks carry a header). */
#include <stdio.h>
#include <stdlib.h>

#include "fastpool/fastpool.h"

int main(void) {
  size_t sizes[] = {16, 1000, 100000, 3u << 20, 64u << 20};
  int bad = 0;
  for (int i = 0; i < 5; i++) {
    char* p = malloc(sizes[i]);
    if (p == NULL || fp_block_of(p) != p || fp_block_of(p + sizes[i] / 2) != p ||
        fp_block_of(p + sizes[i] - 1) != p) {
      printf("FAIL: block of %zu bytes\n", sizes[i]);
      bad++;
    }
    free(p);
  }
  char* a = fp_aligned_alloc(4096, 5000);
  if (fp_block_of(a + 4999) != a) printf("FAIL: aligned block\n"), bad++;
  fp_free(a);
  int local = 0;
  if (fp_block_of(&local) != NULL) printf("FAIL: a stack address\n"), bad++;
  if (fp_block_of(NULL) != NULL) printf("FAIL: NULL\n"), bad++;
  return bad != 0;
}
