// Frees a bad pointer in a child process and passes when the child was stopped by
// fastpool with its message (SIGABRT and "fastpool: free(): ..." on stderr).
// Every pointer here is fastpool's or nobody's: glibc's heap is never involved.
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

// Launders a pointer so the compiler does not diagnose the deliberate misuse.
void* opaque(void* p) {
  void* volatile v = p;
  return v;
}

char not_heap[64];

void misuse(const char* kind) {
  if (strcmp(kind, "foreign") == 0) free(opaque(not_heap + 16));
  if (strcmp(kind, "interior") == 0) free(opaque(static_cast<char*>(malloc(100000)) + 8));
  if (strcmp(kind, "double") == 0) {
    void* p = malloc(300);
    free(p);
    free(opaque(p));
  }
  // Caught by the release library too: none of these reaches a fast path.
  if (strcmp(kind, "stack") == 0) {
    char local[32];
    free(opaque(local));
  }
  if (strcmp(kind, "far") == 0) free(opaque(reinterpret_cast<void*>(0x123456789000)));
  if (strcmp(kind, "large_interior") == 0) free(opaque(static_cast<char*>(malloc(1000000)) + 4096));
  if (strcmp(kind, "large_double") == 0) {
    void* p = malloc(1000000);
    free(p);
    free(opaque(p));
  }
  if (strcmp(kind, "realloc_foreign") == 0) free(realloc(opaque(not_heap + 16), 100));
  if (strcmp(kind, "realloc_freed") == 0) {
    void* p = malloc(1000000);
    free(p);
    free(realloc(opaque(p), 2000000));
  }
  // Past the last 48-byte block of its 64 KiB page, where a whole block would not fit.
  if (strcmp(kind, "page_tail") == 0) {
    auto a = reinterpret_cast<uintptr_t>(malloc(48));
    free(opaque(reinterpret_cast<char*>(a & ~uintptr_t{0xFFFF}) + 65536 / 48 * 48));
  }
  // Hardened build: a write after free of a block still in the quarantine when the
  // program exits is found at exit.
  if (strcmp(kind, "uaf_at_exit") == 0) {
    auto* p = static_cast<char*>(malloc(64));
    free(p);
    static_cast<char volatile*>(opaque(p))[0] = 'A';
    exit(0);
  }
  if (strcmp(kind, "huge_interior") == 0) free(opaque(static_cast<char*>(malloc(8 << 20)) + 65536));
  if (strcmp(kind, "huge_double") == 0) {
    void* p = malloc(8 << 20);
    free(p);
    free(opaque(p));
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  int fds[2];
  if (pipe(fds) != 0) return 2;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 2);
    misuse(argv[1]);
    _exit(0);  // not stopped: the misuse went unnoticed
  }
  close(fds[1]);
  char out[512] = {};
  ssize_t n = read(fds[0], out, sizeof out - 1);
  int status = 0;
  waitpid(pid, &status, 0);
  bool aborted = WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
  bool said = n > 0 && (strstr(out, "fastpool: free(): ") != nullptr ||
                        strstr(out, "fastpool: realloc(): ") != nullptr ||
                        strstr(out, "fastpool: write after free") != nullptr);
  printf("%s: child %s, stderr: %s\n", argv[1], aborted ? "aborted" : "was not stopped", out);
  return aborted && said ? 0 : 1;
}
