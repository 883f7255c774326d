/*
 * tabby-cni-client: the thin client behind the installed `tabby` and `tabby-ipam` plugins.
 * One exec, no shell pipeline and no Node start-up: it reads the configuration from stdin,
 * sends the call to the node agent over its unix socket in the text framing of
 * packages/cni/src/agent-protocol.ts, prints the answer and exits with the agent's status.
 *
 *   tabby-cni-client <plugin> <default socket> <fallback program> [fallback args...]
 *
 * The socket is the configuration's "agent_socket" (an empty string disables the agent), else
 * <default socket>. When no agent listens (no socket, refused), for VERSION, or with
 * TABBY_CNI_NO_AGENT=1, it execs the fallback (Node on the plugin's built files) with the same
 * stdin, which runs the call against the datastore itself. Once the request is sent the call is
 * never run twice: a lost connection or an empty answer is CNI error 11 (try again later).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

extern char **environ;

struct buf {
  char *p;
  size_t len, cap;
};

static void put(struct buf *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
      fputs("tabby-cni-client: out of memory\n", stderr);
      exit(1);
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = 0;
}

static void puts_(struct buf *b, const char *s) { put(b, s, strlen(s)); }

/* Reads fd to its end; returns 0, or -1 on a read error. */
static int slurp(int fd, struct buf *b) {
  char chunk[16384];
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n == 0) return 0;
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    put(b, chunk, (size_t)n);
  }
}

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/*
 * The string value of "agent_socket" in the configuration: 1 and *out set when the key is there
 * (*out may be empty: the agent is disabled), 0 when absent or not a plain string (simple
 * escapes \" \\ \/ only; the default socket is used, as the Node client does), -1 when the
 * path does not fit a unix socket address (the call then runs directly).
 */
static int agent_socket(const char *conf, char *out, size_t outsz) {
  const char *k = strstr(conf, "\"agent_socket\"");
  if (!k) return 0;
  const char *p = k + strlen("\"agent_socket\"");
  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
  if (*p++ != ':') return 0;
  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
  if (*p++ != '"') return 0;
  size_t n = 0;
  for (; *p && *p != '"'; p++) {
    char c = *p;
    if (c == '\\') {
      c = *++p;
      if (c != '"' && c != '\\' && c != '/') return 0;
    }
    if (n + 1 >= outsz) return -1;
    out[n++] = c;
  }
  if (*p != '"') return 0;
  out[n] = 0;
  return 1;
}

/* Execs the fallback with the configuration as its stdin; returns only on failure. */
static void fallback(char **argv, const struct buf *conf) {
  int fd = memfd_create("tabby-cni-stdin", 0);
  FILE *tmp = NULL;
  if (fd < 0) {
    tmp = tmpfile();
    fd = tmp ? fileno(tmp) : -1;
  }
  if (fd < 0 || write_all(fd, conf->p ? conf->p : "", conf->len) < 0 || lseek(fd, 0, SEEK_SET) < 0 || dup2(fd, 0) < 0) {
    fprintf(stderr, "tabby-cni-client: cannot hand stdin to %s: %s\n", argv[0], strerror(errno));
    exit(1);
  }
  if (fd != 0) close(fd);
  execv(argv[0], argv);
  fprintf(stderr, "tabby-cni-client: cannot run %s: %s\n", argv[0], strerror(errno));
  exit(1);
}

static int try_again(const char *sock, const char *why) {
  printf("{\"cniVersion\":\"1.0.0\",\"code\":11,\"msg\":\"node agent at %s: %s\",\"details\":\"the runtime will retry\"}\n", sock, why);
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fputs("usage: tabby-cni-client <plugin> <default socket> <fallback program> [args...]\n", stderr);
    return 2;
  }
  const char *plugin = argv[1];
  signal(SIGPIPE, SIG_IGN);
  struct buf conf = {0};
  if (slurp(0, &conf) < 0) {
    fprintf(stderr, "tabby-cni-client: cannot read stdin: %s\n", strerror(errno));
    return 1;
  }
  puts_(&conf, ""); /* a NUL-terminated buffer even when stdin was empty */
  const char *cmd = getenv("CNI_COMMAND");
  const char *noAgent = getenv("TABBY_CNI_NO_AGENT");
  char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
  int found = agent_socket(conf.p, path, sizeof path);
  if (found == 0) snprintf(path, sizeof path, "%s", argv[2]);
  if (!cmd || strcmp(cmd, "VERSION") == 0 || (noAgent && strcmp(noAgent, "1") == 0) || found < 0 || path[0] == 0) fallback(argv + 3, &conf);

  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  memcpy(sa.sun_path, path, strlen(path) + 1);
  if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof sa) < 0) {
    if (s >= 0) close(s);
    fallback(argv + 3, &conf); /* no agent: the call runs directly */
  }

  struct buf req = {0};
  puts_(&req, "TABBY_PLUGIN=");
  puts_(&req, plugin);
  puts_(&req, "\n");
  for (char **e = environ; *e; e++) {
    if (strncmp(*e, "CNI_", 4) != 0 || strchr(*e, '\n')) continue;
    puts_(&req, *e);
    puts_(&req, "\n");
  }
  puts_(&req, "\n");
  put(&req, conf.p, conf.len);
  if (write_all(s, req.p, req.len) < 0) return try_again(path, strerror(errno));
  shutdown(s, SHUT_WR);

  struct buf resp = {0};
  if (slurp(s, &resp) < 0) return try_again(path, strerror(errno));
  if (resp.len == 0) return try_again(path, "gave no answer");
  char *nl = memchr(resp.p, '\n', resp.len);
  char *end;
  long code = strtol(resp.p, &end, 10);
  if (!nl || end != nl) return try_again(path, "malformed answer");
  size_t outLen = resp.len - (size_t)(nl + 1 - resp.p);
  while (outLen > 0 && nl[outLen] == '\n') outLen--; /* one trailing newline, as the shell client printed */
  if (outLen > 0) {
    if (write_all(1, nl + 1, outLen) < 0 || write_all(1, "\n", 1) < 0) return 1;
  }
  return (int)code;
}
