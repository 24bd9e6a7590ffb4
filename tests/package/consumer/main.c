/* A C program with fastpool linked in (fastpool::override, or pkg-config
 * fastpool-override with the C compiler): the malloc family is fastpool's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fastpool/fastpool.h"

int main(void) {
  char* s = strdup("fastpool");
  void* p = malloc(100);
  void* q = calloc(10, 10);
  int ok = fp_owns(s) && fp_owns(p) && fp_owns(q);
  printf("%s: C malloc family is fastpool's\n", ok ? "ok" : "FAILED");
  free(s);
  free(p);
  free(q);
  return ok ? 0 : 1;
}
