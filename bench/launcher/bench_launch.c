/* Runs one workload process and reports its wall time and peak RSS.
 *
 * Why not measure from Python directly: the kernel carries a process's pre-exec peak RSS
 * into ru_maxrss, so a child forked from the Python harness reports at least the harness's
 * own ~15 MiB. Forked from this small program, the floor is about 1 MiB.
 *
 * Usage: bench_launch RESULT_FILE TIMEOUT_S [--preload=LIB] -- PROGRAM ARGS...
 * LD_PRELOAD is set in the child only, so this launcher never runs on the allocator under test.
 * After TIMEOUT_S seconds the child's process group (g++ and its cc1plus) is killed.
 * Writes "wall_ns=N maxrss_kb=N status=N timed_out=0|1" (status: the raw wait status).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile pid_t child;
static volatile sig_atomic_t timed_out;

static void on_alarm(int sig) {
  (void)sig;
  timed_out = 1;
  kill(-child, SIGKILL);
}

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char** argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s RESULT_FILE TIMEOUT_S [--preload=LIB] -- PROGRAM ARGS...\n",
            argv[0]);
    return 2;
  }
  const char* result_path = argv[1];
  const unsigned timeout_s = (unsigned)atoi(argv[2]);
  const char* preload = NULL;
  int i = 3;
  if (strncmp(argv[i], "--preload=", 10) == 0) preload = argv[i++] + 10;
  if (i >= argc || strcmp(argv[i], "--") != 0 || i + 1 >= argc) {
    fprintf(stderr, "bench_launch: expected -- PROGRAM\n");
    return 2;
  }
  char** child_argv = argv + i + 1;

  const long long start = now_ns();
  const pid_t pid = fork();
  if (pid < 0) {
    perror("bench_launch: fork");
    return 2;
  }
  if (pid == 0) {
    setpgid(0, 0);
    if (preload) setenv("LD_PRELOAD", preload, 1);
    execvp(child_argv[0], child_argv);
    perror("bench_launch: exec");
    _exit(127);
  }
  setpgid(pid, pid); /* also here: the child may not have run yet when the alarm fires */
  child = pid;
  signal(SIGALRM, on_alarm);
  alarm(timeout_s);
  int status = 0;
  struct rusage usage;
  while (wait4(pid, &status, 0, &usage) < 0) {
    if (errno != EINTR) {
      perror("bench_launch: wait4");
      return 2;
    }
  }
  const long long wall = now_ns() - start;

  FILE* out = fopen(result_path, "w");
  if (!out) {
    perror("bench_launch: result file");
    return 2;
  }
  fprintf(out, "wall_ns=%lld maxrss_kb=%ld status=%d timed_out=%d\n", wall, usage.ru_maxrss, status,
          (int)timed_out);
  fclose(out);
  return 0;
}
