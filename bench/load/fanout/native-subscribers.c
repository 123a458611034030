/*
 * The fanout benchmarks' subscribers in C (`--client native`): N WebSocket or SSE connections in
 * one epoll loop, each delivery's latency taken against the stamp the publisher wrote into the
 * message (`k<id>@<CLOCK_MONOTONIC ms>`). The JavaScript subscribers (client.ts) cost 2–7 µs
 * of CPU per delivery, as much as or more than the server they measure, so on 2 cores they, not
 * the server, set the capacity found; this reader costs a fraction of that, and the same for
 * every server (it parses only the frame header and scans for the marker).
 *
 *   native-subscribers <host> <port> ws|sse <count> <warmup> <measured> <out.bin> [ws path]
 * Prints `ready` once every connection is subscribed, then reads commands on stdin:
 * `clock` (answers `clock <CLOCK_MONOTONIC ms>`, for the bench to put its stamps on this clock),
 * `go` (the publishing starts: CPU is counted from here), `stop` (write the results and exit).
 * Prints `done` when every measured delivery has arrived. Results, in <out.bin>: int32 received,
 * int32 disorder, int32 n, double cpu_ms, then n doubles (latencies, ms), (warmup+measured) int32
 * counts, doubles last-receive and doubles send stamps per message id.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <poll.h>

static const char MARK[] = "\"content\":\"k";
#define MARK_LEN (sizeof(MARK) - 1)
#define READ_SIZE (256 * 1024)

typedef struct {
  int fd;
  char *pending;
  size_t pending_len, pending_cap;
} Sub;

static int warmup, measured, total_ids, subs_n, sse;
static long long expected;
static double *latencies;
static long long n_lat, received, disorder;
static int32_t *counts;
static double *last_at, *send_at;
static int32_t *last_seen;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double cpu_ms(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static void die(const char *what) {
  fprintf(stderr, "native-subscribers: %s: %s\n", what, strerror(errno));
  exit(1);
}

/* Records the marker whose digits start at p (just after MARK); returns past it, or NULL if incomplete. */
static const char *record(const char *p, const char *end, double now, int sub) {
  long id = 0;
  while (p < end && *p >= '0' && *p <= '9') id = id * 10 + (*p++ - '0');
  if (p >= end) return NULL;
  if (*p++ != '@') return p;
  double whole = 0, frac = 0, scale = 1;
  while (p < end && *p >= '0' && *p <= '9') whole = whole * 10 + (*p++ - '0');
  if (p < end && *p == '.') {
    p++;
    while (p < end && *p >= '0' && *p <= '9') frac = frac * 10 + (*p++ - '0'), scale *= 10;
  }
  if (p >= end) return NULL;
  double sent = whole + frac / scale;
  if (id <= last_seen[sub]) disorder++;
  else last_seen[sub] = (int32_t) id;
  if (id < warmup || id >= total_ids) return p;
  counts[id]++;
  received++;
  if (now > last_at[id]) last_at[id] = now;
  send_at[id] = sent;
  if (n_lat < expected) latencies[n_lat++] = now - sent;
  return p;
}

/* Scans [p, end) for complete markers; returns where an incomplete tail starts. */
static const char *scan(const char *p, const char *end, double now, int sub) {
  for (;;) {
    const char *k = memmem(p, end - p, MARK, MARK_LEN);
    if (!k) return end - p > (long) MARK_LEN ? end - MARK_LEN : p;
    const char *after = record(k + MARK_LEN, end, now, sub);
    if (!after) return k;
    p = after;
  }
}

static void keep(Sub *s, const char *from, size_t len) {
  if (len > s->pending_cap) {
    s->pending_cap = len * 2;
    s->pending = realloc(s->pending, s->pending_cap);
  }
  memmove(s->pending, from, len);
  s->pending_len = len;
}

/* Parses WebSocket frames in buf; answers pings; returns bytes consumed. */
static size_t ws_frames(Sub *s, const unsigned char *buf, size_t len, double now, int sub) {
  size_t o = 0;
  while (len - o >= 2) {
    int opcode = buf[o] & 0x0f;
    uint64_t plen = buf[o + 1] & 0x7f;
    size_t head = 2;
    if (plen == 126) {
      if (len - o < 4) break;
      plen = ((uint64_t) buf[o + 2] << 8) | buf[o + 3];
      head = 4;
    } else if (plen == 127) {
      if (len - o < 10) break;
      plen = 0;
      for (int i = 0; i < 8; i++) plen = (plen << 8) | buf[o + 2 + i];
      head = 10;
    }
    if (len - o < head + plen) break;
    const char *payload = (const char *) buf + o + head;
    if (opcode == 0x1) scan(payload, payload + plen, now, sub);
    else if (opcode == 0x9 && plen < 126) {
      unsigned char pong[6 + 125] = {0x8a, (unsigned char) (0x80 | plen), 0, 0, 0, 0};
      memcpy(pong + 6, payload, plen);
      if (write(s->fd, pong, 6 + plen) < 0 && errno != EAGAIN) die("pong");
    }
    o += head + plen;
  }
  return o;
}

static int connect_one(const char *host, int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) die("socket");
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, host, &addr.sin_addr);
  if (connect(fd, (struct sockaddr *) &addr, sizeof addr) < 0) die("connect");
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

/* Blocking: reads until the response head (and, for SSE, the first body bytes); keeps the rest. */
static void handshake(Sub *s, const char *request, int i) {
  if (write(s->fd, request, strlen(request)) < 0) die("write handshake");
  char buf[8192];
  size_t len = 0;
  for (;;) {
    ssize_t n = read(s->fd, buf + len, sizeof buf - len);
    if (n <= 0) {
      fprintf(stderr, "native-subscribers: subscriber %d: closed during the handshake\n", i);
      exit(1);
    }
    len += n;
    char *end = memmem(buf, len, "\r\n\r\n", 4);
    if (!end) continue;
    if (strncmp(buf, sse ? "HTTP/1.1 200" : "HTTP/1.1 101", 12) != 0) {
      fprintf(stderr, "native-subscribers: subscriber %d: refused: %.*s\n", i, (int) (end - buf), buf);
      exit(1);
    }
    size_t body = end + 4 - buf;
    if (sse && body == len) continue; /* the stream is registered once its first comment is out */
    keep(s, buf + body, len - body);
    return;
  }
}

int main(int argc, char **argv) {
  if (argc < 8) {
    fprintf(stderr, "usage: native-subscribers <host> <port> ws|sse <count> <warmup> <measured> <out.bin> [ws path]\n");
    return 2;
  }
  const char *host = argv[1];
  int port = atoi(argv[2]);
  sse = strcmp(argv[3], "sse") == 0;
  subs_n = atoi(argv[4]);
  warmup = atoi(argv[5]);
  measured = atoi(argv[6]);
  const char *out = argv[7];
  const char *ws_path = argc > 8 ? argv[8] : "/ws?topics=chat";
  total_ids = warmup + measured;
  expected = (long long) measured * subs_n;
  latencies = malloc(sizeof(double) * (expected > 0 ? expected : 1));
  counts = calloc(total_ids, sizeof(int32_t));
  last_at = calloc(total_ids, sizeof(double));
  send_at = calloc(total_ids, sizeof(double));
  last_seen = malloc(sizeof(int32_t) * subs_n);
  for (int i = 0; i < subs_n; i++) last_seen[i] = -1;

  Sub *subs = calloc(subs_n, sizeof(Sub));
  int ep = epoll_create1(0);
  char request[1024];
  for (int i = 0; i < subs_n; i++) {
    subs[i].fd = connect_one(host, port);
    if (sse)
      snprintf(request, sizeof request, "GET /events?topics=chat&client_id=bench-%d HTTP/1.1\r\nHost: %s:%d\r\nAccept: text/event-stream\r\n\r\n", i, host, port);
    else
      snprintf(request, sizeof request,
               "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
               ws_path, host, port);
    handshake(&subs[i], request, i);
    fcntl(subs[i].fd, F_SETFL, fcntl(subs[i].fd, F_GETFL) | O_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t) i};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, subs[i].fd, &ev) < 0) die("epoll_ctl");
  }
  fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
  struct epoll_event in = {.events = EPOLLIN, .data.u32 = UINT32_MAX};
  epoll_ctl(ep, EPOLL_CTL_ADD, 0, &in);
  printf("ready\n");
  fflush(stdout);

  unsigned char *buf = malloc(READ_SIZE + 65536);
  struct epoll_event events[256];
  double cpu_at_go = cpu_ms();
  int said_done = 0;
  char cmd[256];
  size_t cmd_len = 0;
  for (;;) {
    int n = epoll_wait(ep, events, 256, 100);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    double now = now_ms();
    for (int e = 0; e < n; e++) {
      uint32_t i = events[e].data.u32;
      if (i == UINT32_MAX) {
        ssize_t r = read(0, cmd + cmd_len, sizeof cmd - cmd_len - 1);
        if (r == 0) return 0; /* the bench went away */
        if (r < 0) continue;
        cmd_len += r;
        cmd[cmd_len] = 0;
        char *line;
        while ((line = memchr(cmd, '\n', cmd_len))) {
          *line = 0;
          if (strcmp(cmd, "go") == 0) cpu_at_go = cpu_ms();
          else if (strcmp(cmd, "stop") == 0) goto finish;
          else if (strcmp(cmd, "clock") == 0) printf("clock %.4f\n", now_ms()), fflush(stdout);
          cmd_len -= line + 1 - cmd;
          memmove(cmd, line + 1, cmd_len);
        }
        continue;
      }
      Sub *s = &subs[i];
      size_t have = s->pending_len;
      if (have > 65536) { /* an unfinished frame this large: never in these benchmarks; fail, do not miscount */
        fprintf(stderr, "native-subscribers: subscriber %u: more than 64 KiB of one unfinished frame\n", i);
        exit(1);
      }
      memcpy(buf, s->pending, have);
      ssize_t r = recv(s->fd, buf + have, READ_SIZE, 0);
      if (r <= 0) {
        if (r < 0 && errno == EAGAIN) continue;
        epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
        continue;
      }
      size_t len = have + r;
      size_t used = sse ? (size_t) (scan((char *) buf, (char *) buf + len, now, i) - (char *) buf) : ws_frames(s, buf, len, now, i);
      keep(s, (char *) buf + used, len - used);
    }
    if (!said_done && received >= expected) {
      said_done = 1;
      printf("done\n");
      fflush(stdout);
    }
  }
finish:;
  double used_cpu = cpu_ms() - cpu_at_go;
  FILE *f = fopen(out, "wb");
  if (!f) die("open results");
  int32_t head[3] = {(int32_t) received, (int32_t) disorder, (int32_t) n_lat};
  fwrite(head, sizeof head, 1, f);
  fwrite(&used_cpu, sizeof used_cpu, 1, f);
  fwrite(latencies, sizeof(double), n_lat, f);
  fwrite(counts, sizeof(int32_t), total_ids, f);
  fwrite(last_at, sizeof(double), total_ids, f);
  fwrite(send_at, sizeof(double), total_ids, f);
  fclose(f);
  for (int i = 0; i < subs_n; i++) close(subs[i].fd);
  printf("written\n");
  fflush(stdout);
  return 0;
}
