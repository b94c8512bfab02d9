/* A tiny HTTP/1.1 keep-alive server for bench/parallel.lua: it answers every
 * GET after a fixed latency with the same small JSON body, and counts the
 * connections it accepts. One thread, epoll, no per-request allocation beyond
 * buffers, so at a few thousand requests per second it is never the
 * bottleneck; the latency makes the client's concurrency the only thing that
 * sets the throughput (ideal = concurrency / latency).
 *
 * GET /stats answers at once with {"accepted":A,"served":S,"max_open":M,"open":O}
 * and GET /reset zeroes the counters; a connection whose first request is one
 * of those is not counted (the bench asks with a fresh curl process).
 *
 *   delay_server LATENCY_MS BODY_BYTES   prints "port N" on stdout once listening */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_FD 65536

typedef struct {
  char *p;
  size_t len, cap;
} buf_t;

typedef struct {
  int open, control, counted;
  unsigned gen;
  long requests;
  buf_t in, out;
} conn_t;

typedef struct {
  double due;
  int fd;
  unsigned gen;
  int kind; /* 0 body, 1 stats */
} job_t;

static conn_t conns[MAX_FD];
static job_t *jobs;
static size_t jobs_head, jobs_tail, jobs_cap; /* a FIFO: every job waits the same latency */
static long accepted, served, open_now, max_open;
static char *response;
static size_t response_len;
static int ep;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what) {
  perror(what);
  exit(1);
}

static void buf_add(buf_t *b, const char *s, size_t n) {
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n) cap *= 2;
    b->p = realloc(b->p, cap);
    if (!b->p) die("realloc");
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
}

static void push_job(double due, int fd, int kind) {
  if (jobs_tail - jobs_head == jobs_cap) {
    size_t cap = jobs_cap ? jobs_cap * 2 : 1024, n = jobs_tail - jobs_head, i;
    job_t *j = malloc(cap * sizeof *j);
    if (!j) die("malloc");
    for (i = 0; i < n; i++) j[i] = jobs[(jobs_head + i) % (jobs_cap ? jobs_cap : 1)];
    free(jobs);
    jobs = j;
    jobs_cap = cap;
    jobs_head = 0;
    jobs_tail = n;
  }
  jobs[jobs_tail % jobs_cap] = (job_t){ due, fd, conns[fd].gen, kind };
  jobs_tail++;
}

static void close_conn(int fd) {
  conn_t *c = &conns[fd];
  epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
  close(fd);
  if (c->counted) open_now--;
  c->open = c->control = c->counted = 0;
  c->requests = 0;
  c->in.len = c->out.len = 0;
  c->gen++;
}

static void flush_out(int fd) {
  conn_t *c = &conns[fd];
  size_t off = 0;
  while (off < c->out.len) {
    ssize_t w = write(fd, c->out.p + off, c->out.len - off);
    if (w < 0) {
      if (errno == EAGAIN) break;
      close_conn(fd);
      return;
    }
    off += (size_t)w;
  }
  memmove(c->out.p, c->out.p + off, c->out.len - off);
  c->out.len -= off;
  struct epoll_event ev = { .events = EPOLLIN | (c->out.len ? EPOLLOUT : 0), .data.fd = fd };
  epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

static void answer(int fd, int kind) {
  conn_t *c = &conns[fd];
  if (kind == 0) {
    buf_add(&c->out, response, response_len);
    served++;
  } else {
    char body[256], head[128];
    int n = snprintf(body, sizeof body, "{\"accepted\":%ld,\"served\":%ld,\"max_open\":%ld,\"open\":%ld}",
                     accepted, served, max_open, open_now);
    int h = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", n);
    buf_add(&c->out, head, (size_t)h);
    buf_add(&c->out, body, (size_t)n);
  }
  flush_out(fd);
}

/* Queues a job per complete request head in the connection's input. */
static void parse(int fd, double latency) {
  conn_t *c = &conns[fd];
  size_t start = 0;
  for (;;) {
    char *end = memmem(c->in.p + start, c->in.len - start, "\r\n\r\n", 4);
    if (!end) break;
    const char *line = c->in.p + start;
    int stats = strncmp(line, "GET /stats ", 11) == 0, reset = strncmp(line, "GET /reset ", 11) == 0;
    if ((stats || reset) && c->requests == 0) {
      c->control = 1;
      if (c->counted) {
        c->counted = 0;
        accepted--;
        open_now--;
      }
    }
    c->requests++;
    if (reset) {
      accepted = served = 0;
      max_open = open_now;
    }
    if (stats || reset) answer(fd, 1);
    else push_job(now_s() + latency, fd, 0);
    if (!conns[fd].open) return;
    start = (size_t)(end - c->in.p) + 4;
  }
  memmove(c->in.p, c->in.p + start, c->in.len - start);
  c->in.len -= start;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: delay_server LATENCY_MS BODY_BYTES\n");
    return 2;
  }
  double latency = atof(argv[1]) / 1000.0;
  long bytes = atol(argv[2]);
  char head[128];
  if (bytes < 8) bytes = 8;
  int h = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %ld\r\n\r\n", bytes);
  response_len = (size_t)h + (size_t)bytes;
  response = malloc(response_len);
  if (!response) die("malloc");
  memcpy(response, head, (size_t)h);
  memcpy(response + h, "{\"d\":\"", 6);
  memset(response + h + 6, 'x', (size_t)bytes - 8);
  memcpy(response + response_len - 2, "\"}", 2);
  signal(SIGPIPE, SIG_IGN);

  int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
  if (ls < 0) die("socket");
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  socklen_t alen = sizeof a;
  if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 4096) < 0) die("bind/listen");
  getsockname(ls, (struct sockaddr *)&a, &alen);
  printf("port %d\n", ntohs(a.sin_port));
  fflush(stdout);

  ep = epoll_create1(0);
  if (ep < 0) die("epoll_create1");
  struct epoll_event ev = { .events = EPOLLIN, .data.fd = ls }, evs[256];
  epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
  for (;;) {
    int timeout = -1;
    double t = now_s();
    while (jobs_head < jobs_tail && jobs[jobs_head % jobs_cap].due <= t) {
      job_t j = jobs[jobs_head % jobs_cap];
      jobs_head++;
      if (conns[j.fd].open && conns[j.fd].gen == j.gen) answer(j.fd, j.kind);
    }
    if (jobs_head < jobs_tail) timeout = (int)((jobs[jobs_head % jobs_cap].due - t) * 1000.0) + 1;
    int n = epoll_wait(ep, evs, 256, timeout);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    for (int i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      if (fd == ls) {
        int cfd;
        while ((cfd = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          if (cfd >= MAX_FD) {
            close(cfd);
            continue;
          }
          setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          conns[cfd].open = conns[cfd].counted = 1;
          accepted++;
          if (++open_now > max_open) max_open = open_now;
          struct epoll_event cev = { .events = EPOLLIN, .data.fd = cfd };
          epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &cev);
        }
        continue;
      }
      if (evs[i].events & EPOLLOUT) flush_out(fd);
      if (!conns[fd].open || !(evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) continue;
      char rb[16384];
      ssize_t r = read(fd, rb, sizeof rb);
      if (r <= 0) {
        if (r < 0 && errno == EAGAIN) continue;
        close_conn(fd);
        continue;
      }
      buf_add(&conns[fd].in, rb, (size_t)r);
      parse(fd, latency);
    }
  }
}
