/*
 * The pod sandbox's init process (containerd's `sandbox_image`): it holds the pod's namespaces
 * open and does nothing else. As PID 1 of the pod it must
 *   - sleep until told to stop, without using CPU,
 *   - exit 0 on SIGINT or SIGTERM (PID 1 gets no default signal actions, so it must handle them),
 *   - reap zombies: processes re-parented to it (when the pod shares its PID namespace) would
 *     otherwise stay in the process table.
 * Built statically by src/targets/images/pause-binary.ts (gcc -static), so the image needs no libc.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_stop(int signo) {
  (void)signo;
  _exit(0);
}

static void on_child(int signo) {
  (void)signo;
  int saved = errno;
  /* Several children may end before one SIGCHLD is delivered: collect every one that is done. */
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  errno = saved;
}

static int install(int signo, void (*handler)(int), int flags) {
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = handler;
  action.sa_flags = flags;
  sigemptyset(&action.sa_mask);
  return sigaction(signo, &action, NULL);
}

int main(int argc, char **argv) {
  /* `pause -v` prints the version, so the build can check the binary it made actually runs. */
  if (argc > 1 && strcmp(argv[1], "-v") == 0) {
    static const char version[] = "drill-pause 3.10\n";
    return write(STDOUT_FILENO, version, sizeof version - 1) == (ssize_t)(sizeof version - 1) ? 0 : 1;
  }
  if (install(SIGINT, on_stop, 0) < 0 || install(SIGTERM, on_stop, 0) < 0 ||
      install(SIGCHLD, on_child, SA_NOCLDSTOP | SA_RESTART) < 0) {
    static const char failed[] = "pause: sigaction failed\n";
    (void)!write(STDERR_FILENO, failed, sizeof failed - 1);
    return 1;
  }
  for (;;) pause();
}
