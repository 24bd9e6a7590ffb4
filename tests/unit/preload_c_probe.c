/* A C program under libfastpool_preload.so: malloc works and the C++ runtime is not
 * loaded on its behalf (the preload library's references into it are weak). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
  char* p = malloc(100);
  if (p == NULL) return 1;
  strcpy(p, "fastpool");
  FILE* maps = fopen("/proc/self/maps", "r");
  char line[512];
  int fastpool = 0, cxx = 0;
  while (maps != NULL && fgets(line, sizeof line, maps) != NULL) {
    if (strstr(line, "libfastpool_preload") != NULL) fastpool = 1;
    if (strstr(line, "libstdc++") != NULL) cxx = 1;
  }
  if (maps != NULL) fclose(maps);
  printf("preloaded %d, libstdc++ %d, block %s\n", fastpool, cxx, p);
  free(p);
  return fastpool && !cxx ? 0 : 1;
}
