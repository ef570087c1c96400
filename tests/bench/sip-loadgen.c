/* gst-sip benchmark: SIP + RTP load generator
 * Copyright (C) 2026 The gst-sip authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Places N concurrent calls over UDP (INVITE / 200 / ACK, 20 ms PCMU RTP
 * both ways, BYE) from one SIP socket, like a trunk, and measures what comes
 * back: INVITE->200 time, echo delay and loss. One thread and one epoll set
 * for everything, so that it leaves the CPU to the server under test.
 *
 * The audio is quiet (u-law silence) with a 20 ms 400 Hz burst once a
 * second per call (the marker).  The echo path decodes, re-encodes and
 * maybe resamples and re-packetizes, so the marker is found back by its
 * energy, not its bytes or packet boundaries.  Echo delay = arrival of the
 * first loud packet - sending of the marker packet.  Loss counts payload
 * bytes (20 ms = 160 bytes) from each call's first marker of the steady
 * window on both sides (the same audio instant), after the senders stop and
 * the echo has drained.
 *
 * --no-sip: no signalling, call i sends from --local-rtp-port + 2i to
 * --target port + 2i (the floor reference, tests/bench/floor-echo.c).
 *
 * stdout: "ALL_UP", "STEADY_START", "STEADY_END" lines as the run goes
 * (the driver samples the server's CPU and memory between them), then one
 * JSON object as the last line.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PTIME_US 20000
#define FRAME_BYTES 160
#define MARKER_EVERY 50         /* packets: one marker a second */
#define LOUD 4000               /* linear amplitude that means "marker" */
#define QUIET 1000              /* below this the marker is over */
#define T1_US 500000
#define SETUP_TIMEOUT_US 16000000
#define SLOTS 20                /* 1 ms send slots inside a 20 ms period */

enum
{
  C_IDLE, C_INVITING, C_UP, C_BYEING, C_DONE, C_FAILED
};

typedef struct
{
  int idx;
  int state;
  int rtp_fd, rtcp_fd;
  uint16_t rtp_port;
  char call_id[64];
  char from_tag[24];
  char to[256];                 /* To of the 200 OK, with its tag */
  char ruri[256];               /* Contact of the 200 OK */
  unsigned cseq;
  int64_t invite_us, retx_us, retx_interval, up_us, hold_end_us;
  int retx;
  struct sockaddr_in remote;
  int sending;
  uint16_t seq;
  uint32_t ts, ssrc;
  uint64_t npkt;                /* packets sent */
  /* marker bookkeeping */
  int64_t marker_sent_us;       /* 0: none pending */
  int in_loud;
  int counting;                 /* 0 before the first steady marker */
  int64_t count_marker_us;      /* send time of that marker */
  int count_rx;                 /* its echo was seen: receive counting on */
  uint64_t tx_bytes, rx_bytes;  /* in the counting window */
  uint64_t tx_pkts, rx_pkts;    /* whole life */
  int ended_by_server;
} Call;

static int64_t
now_us (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* G.711 u-law, the classic tables */
static int16_t ulaw_dec[256];

static void
ulaw_init (void)
{
  for (int i = 0; i < 256; i++) {
    int u = ~i & 0xff;
    int t = ((u & 0x0f) << 3) + 0x84;
    t <<= (u & 0x70) >> 4;
    ulaw_dec[i] = (u & 0x80) ? (0x84 - t) : (t - 0x84);
  }
}

static uint8_t
ulaw_enc (int pcm)
{
  int mask = 0xff, seg = 0;
  if (pcm < 0) {
    pcm = -pcm;
    mask = 0x7f;
  }
  pcm += 0x84;
  if (pcm > 0x7fff)
    pcm = 0x7fff;
  for (int v = pcm >> 8; v; v >>= 1)
    seg++;
  if (seg > 7)
    seg = 7;
  return (uint8_t) (((seg << 4) | ((pcm >> (seg + 3)) & 0x0f)) ^ mask);
}

static uint8_t quiet_frame[FRAME_BYTES], marker_frame[FRAME_BYTES];

/* --- options ------------------------------------------------------------ */

static int opt_calls = 1, opt_no_sip = 0;
static double opt_duration = 10, opt_rate = 100, opt_hold = 0;
static char opt_host[64] = "127.0.0.1";
static int opt_port = 6060, opt_local_rtp = 40000;
static const char *opt_system = "sip";

static Call *calls;
static int sip_fd = -1, ep = -1;
static uint16_t sip_port;
static struct sockaddr_in server;
static volatile sig_atomic_t stop_now;

static double *setup_ms, *echo_ms;
static int n_setup, n_echo, cap_echo;
static uint64_t markers_sent_steady, markers_seen_steady;

/* --- sockets ------------------------------------------------------------ */

static int
udp_bind (uint16_t port)
{
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET,.sin_port = htons (port) };
  int sz = 256 * 1024;

  if (fd < 0)
    return -1;
  a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  setsockopt (fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
  if (bind (fd, (struct sockaddr *) &a, sizeof a) < 0) {
    close (fd);
    return -1;
  }
  return fd;
}

/* an even RTP port with RTCP on the next one; RTCP is bound so the
 * server's reports do not bounce (ICMP), but never read */
static int
bind_rtp_pair (Call * c, uint16_t * next)
{
  for (int tries = 0; tries < 2000; tries++) {
    uint16_t p = *next;
    *next += 2;
    if (*next > 65000)
      *next = 20000;
    c->rtp_fd = udp_bind (p);
    if (c->rtp_fd < 0)
      continue;
    c->rtcp_fd = udp_bind (p + 1);
    if (c->rtcp_fd < 0) {
      close (c->rtp_fd);
      continue;
    }
    c->rtp_port = p;
    return 0;
  }
  return -1;
}

static void
sip_send (const char *msg)
{
  if (sendto (sip_fd, msg, strlen (msg), 0, (struct sockaddr *) &server,
          sizeof server) < 0)
    perror ("sip sendto");
}

/* --- SIP ---------------------------------------------------------------- */

static void
send_invite (Call * c)
{
  char sdp[512], msg[2048];
  int n = snprintf (sdp, sizeof sdp, "v=0\r\n"
      "o=loadgen %d 1 IN IP4 127.0.0.1\r\n"
      "s=loadgen\r\n"
      "c=IN IP4 127.0.0.1\r\n"
      "t=0 0\r\n"
      "m=audio %u RTP/AVP 0\r\n"
      "a=rtpmap:0 PCMU/8000\r\n"
      "a=ptime:20\r\n" "a=sendrecv\r\n", c->idx, c->rtp_port);

  snprintf (msg, sizeof msg, "INVITE sip:echo@%s:%d SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK-inv-%d-%u;rport\r\n"
      "Max-Forwards: 70\r\n"
      "From: <sip:loadgen@127.0.0.1:%u>;tag=%s\r\n"
      "To: <sip:echo@%s:%d>\r\n"
      "Call-ID: %s\r\n"
      "CSeq: %u INVITE\r\n"
      "Contact: <sip:loadgen@127.0.0.1:%u>\r\n"
      "Content-Type: application/sdp\r\n"
      "Content-Length: %d\r\n\r\n%s", opt_host, opt_port, sip_port, c->idx,
      c->cseq, sip_port, c->from_tag, opt_host, opt_port, c->call_id, c->cseq,
      sip_port, n, sdp);
  sip_send (msg);
}

static void
send_in_dialog (Call * c, const char *method, unsigned cseq)
{
  char msg[1536];

  snprintf (msg, sizeof msg, "%s %s SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK-%s-%d-%u;rport\r\n"
      "Max-Forwards: 70\r\n"
      "From: <sip:loadgen@127.0.0.1:%u>;tag=%s\r\n"
      "To: %s\r\n"
      "Call-ID: %s\r\n"
      "CSeq: %u %s\r\n"
      "Content-Length: 0\r\n\r\n", method, c->ruri, sip_port, method, c->idx,
      cseq, sip_port, c->from_tag, c->to, c->call_id, cseq, method);
  sip_send (msg);
}

/* the value of header @name (long or compact form) in @msg, copied */
static int
get_header (const char *msg, const char *name, char compact, char *out,
    size_t size)
{
  const char *p = msg;
  size_t nl = strlen (name);

  while ((p = strstr (p, "\r\n")) != NULL) {
    const char *h = p + 2, *v = NULL, *e;
    p += 2;
    if (h[0] == '\r')
      break;
    if (strncasecmp (h, name, nl) == 0 && (h[nl] == ':' || h[nl] == ' '))
      v = h + nl;
    else if (compact && (h[0] == compact || h[0] == (compact ^ 0x20))
        && (h[1] == ':' || h[1] == ' '))
      v = h + 1;
    if (!v)
      continue;
    while (*v == ' ' || *v == ':' || *v == '\t')
      v++;
    e = strstr (v, "\r\n");
    if (!e)
      e = v + strlen (v);
    if ((size_t) (e - v) >= size)
      return -1;
    memcpy (out, v, e - v);
    out[e - v] = 0;
    return 0;
  }
  return -1;
}

static Call *
call_of (const char *msg)
{
  char cid[128];
  int idx;

  if (get_header (msg, "Call-ID", 'i', cid, sizeof cid) < 0)
    return NULL;
  if (sscanf (cid, "lg-%d-", &idx) != 1 || idx < 0 || idx >= opt_calls)
    return NULL;
  if (strcmp (calls[idx].call_id, cid) != 0)
    return NULL;
  return &calls[idx];
}

static void
reply_200 (const char *req)
{
  char msg[4096], via[1024], from[512], to[512], cid[128], cseq[64];
  int len = 0;
  const char *p = req;

  /* every Via, in order */
  via[0] = 0;
  while ((p = strstr (p, "\r\n")) != NULL) {
    const char *h = p + 2, *e;
    p += 2;
    if (h[0] == '\r')
      break;
    if (strncasecmp (h, "Via:", 4) == 0 || strncasecmp (h, "v:", 2) == 0) {
      e = strstr (h, "\r\n");
      if (e && len + (e - h) + 2 < (int) sizeof via) {
        memcpy (via + len, h, e - h + 2);
        len += e - h + 2;
        via[len] = 0;
      }
    }
  }
  if (get_header (req, "From", 'f', from, sizeof from) < 0 ||
      get_header (req, "To", 't', to, sizeof to) < 0 ||
      get_header (req, "Call-ID", 'i', cid, sizeof cid) < 0 ||
      get_header (req, "CSeq", 0, cseq, sizeof cseq) < 0)
    return;
  snprintf (msg, sizeof msg, "SIP/2.0 200 OK\r\n%s"
      "From: %s\r\nTo: %s%s\r\nCall-ID: %s\r\nCSeq: %s\r\n"
      "Content-Length: 0\r\n\r\n", via, from, to,
      strstr (to, "tag=") ? "" : ";tag=lg", cid, cseq);
  sip_send (msg);
}

static void
parse_answer (Call * c, const char *msg)
{
  const char *body = strstr (msg, "\r\n\r\n"), *cl, *m;
  char addr[64] = "127.0.0.1";
  unsigned port = 0;

  if (!body)
    return;
  cl = strstr (body, "c=IN IP4 ");
  if (cl)
    sscanf (cl + 9, "%63[0-9.]", addr);
  m = strstr (body, "m=audio ");
  if (m)
    sscanf (m + 8, "%u", &port);
  c->remote.sin_family = AF_INET;
  c->remote.sin_port = htons (port);
  if (strcmp (addr, "0.0.0.0") == 0)
    strcpy (addr, "127.0.0.1");
  c->remote.sin_addr.s_addr = inet_addr (addr);
}

static int n_up, n_failed, n_done;

static void
call_up (Call * c, int64_t now)
{
  c->state = C_UP;
  c->up_us = now;
  c->sending = 1;
  n_up++;
  if (opt_hold > 0)
    c->hold_end_us = now + (int64_t) (opt_hold * 1e6);
}

static void
call_fail (Call * c, const char *why)
{
  if (c->state == C_FAILED || c->state == C_DONE)
    return;
  if (c->state == C_UP || c->state == C_BYEING)
    n_up--;
  fprintf (stderr, "call %d failed: %s\n", c->idx, why);
  c->state = C_FAILED;
  c->sending = 0;
  n_failed++;
}

static void
handle_sip (char *msg, int64_t now)
{
  Call *c = call_of (msg);
  char cseq[64], tmp[256];
  unsigned code = 0;

  if (strncmp (msg, "SIP/2.0 ", 8) != 0) {
    /* a request: BYE from the server ends the call, the rest is 200 */
    if (strncmp (msg, "ACK ", 4) == 0)
      return;
    reply_200 (msg);
    if (c && strncmp (msg, "BYE ", 4) == 0) {
      c->ended_by_server = 1;
      call_fail (c, "BYE from the server");
    }
    return;
  }
  if (!c)
    return;
  code = (unsigned) atoi (msg + 8);
  if (get_header (msg, "CSeq", 0, cseq, sizeof cseq) < 0)
    return;
  if (strstr (cseq, "INVITE")) {
    if (code < 200)
      return;
    if (code >= 300) {
      snprintf (tmp, sizeof tmp, "INVITE answered %u", code);
      /* a non-2xx final response is ACKed by the transaction */
      if (c->state == C_INVITING) {
        get_header (msg, "To", 't', c->to, sizeof c->to);
        snprintf (c->ruri, sizeof c->ruri, "sip:echo@%s:%d", opt_host,
            opt_port);
        send_in_dialog (c, "ACK", c->cseq);
        call_fail (c, tmp);
      }
      return;
    }
    if (c->state == C_INVITING) {
      char contact[256];
      char *lt, *gt;

      get_header (msg, "To", 't', c->to, sizeof c->to);
      if (get_header (msg, "Contact", 'm', contact, sizeof contact) == 0
          && (lt = strchr (contact, '<')) && (gt = strchr (lt, '>'))) {
        *gt = 0;
        snprintf (c->ruri, sizeof c->ruri, "%s", lt + 1);
      } else {
        snprintf (c->ruri, sizeof c->ruri, "sip:echo@%s:%d", opt_host,
            opt_port);
      }
      parse_answer (c, msg);
      setup_ms[n_setup++] = (now - c->invite_us) / 1000.0;
      call_up (c, now);
    }
    /* every 2xx (retransmissions too) gets its ACK */
    send_in_dialog (c, "ACK", c->cseq);
  } else if (strstr (cseq, "BYE") && c->state == C_BYEING && code >= 200) {
    c->state = C_DONE;
    n_done++;
  }
}

/* stops the media and hangs up (BYE, retransmitted like the INVITE) */
static void
start_bye (Call * c, int64_t now)
{
  c->sending = 0;
  c->state = C_BYEING;
  c->cseq++;
  c->invite_us = now;
  c->retx = 0;
  c->retx_interval = T1_US;
  c->retx_us = now + T1_US;
  if (opt_no_sip) {
    c->state = C_DONE;
    n_done++;
  } else
    send_in_dialog (c, "BYE", c->cseq);
}

/* --- RTP ---------------------------------------------------------------- */

static int64_t steady_start_us, steady_end_us;
static uint64_t send_errors;

static void
send_rtp (Call * c, int64_t now)
{
  uint8_t pkt[12 + FRAME_BYTES];
  int marker = (c->npkt % MARKER_EVERY) == (uint64_t) (c->idx % MARKER_EVERY);

  pkt[0] = 0x80;
  pkt[1] = 0;
  pkt[2] = c->seq >> 8;
  pkt[3] = c->seq & 0xff;
  pkt[4] = c->ts >> 24;
  pkt[5] = c->ts >> 16;
  pkt[6] = c->ts >> 8;
  pkt[7] = c->ts;
  pkt[8] = c->ssrc >> 24;
  pkt[9] = c->ssrc >> 16;
  pkt[10] = c->ssrc >> 8;
  pkt[11] = c->ssrc;
  memcpy (pkt + 12, marker ? marker_frame : quiet_frame, FRAME_BYTES);
  c->seq++;
  c->ts += FRAME_BYTES;
  c->npkt++;
  if (sendto (c->rtp_fd, pkt, sizeof pkt, 0, (struct sockaddr *) &c->remote,
          sizeof c->remote) < 0) {
    /* EPERM from a firewall rule, ENOBUFS, ...: said in the JSON */
    if (send_errors++ == 0)
      perror ("RTP sendto");
    return;
  }
  c->tx_pkts++;
  if (marker) {
    if (steady_start_us && now >= steady_start_us && !steady_end_us) {
      markers_sent_steady++;
      if (!c->counting) {
        c->counting = 1;
        c->count_marker_us = now;
      }
    }
    /* the previous marker never came back: count it as a late echo */
    if (c->marker_sent_us && c->counting && c->marker_sent_us >=
        c->count_marker_us && n_echo < cap_echo)
      echo_ms[n_echo++] = (now - c->marker_sent_us) / 1000.0;
    c->marker_sent_us = now;
  }
  if (c->counting)
    c->tx_bytes += FRAME_BYTES;
}

static void
recv_rtp (Call * c, int64_t now)
{
  uint8_t buf[2048];
  ssize_t n;

  while ((n = recv (c->rtp_fd, buf, sizeof buf, 0)) > 0) {
    int peak = 0, hdr;
    if (n < 12 || (buf[0] & 0xc0) != 0x80)
      continue;
    hdr = 12 + 4 * (buf[0] & 0x0f);
    if ((buf[1] & 0x7f) != 0 || n <= hdr)
      continue;
    c->rx_pkts++;
    for (ssize_t i = hdr; i < n; i++) {
      int v = abs (ulaw_dec[buf[i]]);
      if (v > peak)
        peak = v;
    }
    if (peak >= LOUD && !c->in_loud) {
      c->in_loud = 1;
      if (c->marker_sent_us) {
        double d = (now - c->marker_sent_us) / 1000.0;
        if (c->counting && c->marker_sent_us >= c->count_marker_us) {
          if (n_echo < cap_echo)
            echo_ms[n_echo++] = d;
          markers_seen_steady++;
          c->count_rx = 1;
        }
        c->marker_sent_us = 0;
      }
    } else if (peak < QUIET) {
      c->in_loud = 0;
    }
    if (c->count_rx)
      c->rx_bytes += n - hdr;
  }
}

/* --- main loop ---------------------------------------------------------- */

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static double
pct (double *v, int n, double p)
{
  if (n == 0)
    return -1;
  qsort (v, n, sizeof *v, cmp_double);
  int i = (int) ceil (p / 100.0 * n) - 1;
  if (i < 0)
    i = 0;
  if (i >= n)
    i = n - 1;
  return v[i];
}

static void
on_signal (int sig)
{
  stop_now = 1;
}

static void
usage (void)
{
  fprintf (stderr, "usage: sip-loadgen --target HOST:PORT --calls N "
      "--duration S [--rate CALLS_PER_S] [--hold S] [--no-sip "
      "--local-rtp-port P] [--system NAME]\n");
  exit (2);
}

int
main (int argc, char **argv)
{
  static struct option lo[] = {
    {"target", required_argument, 0, 't'},
    {"calls", required_argument, 0, 'n'},
    {"duration", required_argument, 0, 'd'},
    {"rate", required_argument, 0, 'r'},
    {"hold", required_argument, 0, 'h'},
    {"no-sip", no_argument, 0, 'S'},
    {"local-rtp-port", required_argument, 0, 'l'},
    {"system", required_argument, 0, 's'},
    {0, 0, 0, 0}
  };
  int o;
  uint16_t next_port;
  int64_t t0, next_invite, tick_us, media_stop_us = 0, drain_end_us = 0;
  int64_t all_up_us = 0, bye_next = 0;
  int next_call = 0, next_bye = 0, said_steady = 0;
  uint64_t tick = 0;
  struct rlimit rl;
  struct epoll_event evs[256];
  Call **slot[SLOTS];
  int slot_n[SLOTS] = { 0 };

  while ((o = getopt_long (argc, argv, "", lo, NULL)) != -1) {
    switch (o) {
      case 't':{
        char *colon = strrchr (optarg, ':');
        if (!colon)
          usage ();
        *colon = 0;
        snprintf (opt_host, sizeof opt_host, "%s", optarg);
        opt_port = atoi (colon + 1);
        break;
      }
      case 'n':
        opt_calls = atoi (optarg);
        break;
      case 'd':
        opt_duration = atof (optarg);
        break;
      case 'r':
        opt_rate = atof (optarg);
        break;
      case 'h':
        opt_hold = atof (optarg);
        break;
      case 'S':
        opt_no_sip = 1;
        break;
      case 'l':
        opt_local_rtp = atoi (optarg);
        break;
      case 's':
        opt_system = optarg;
        break;
      default:
        usage ();
    }
  }
  if (opt_calls < 1 || opt_rate <= 0)
    usage ();
  if (strcmp (opt_host, "localhost") == 0)
    snprintf (opt_host, sizeof opt_host, "127.0.0.1");

  /* 2 sockets per call */
  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit (RLIMIT_NOFILE, &rl);
  }
  signal (SIGINT, on_signal);
  signal (SIGTERM, on_signal);
  signal (SIGPIPE, SIG_IGN);
  ulaw_init ();
  for (int i = 0; i < FRAME_BYTES; i++) {
    quiet_frame[i] = 0xff;
    marker_frame[i] =
        ulaw_enc ((int) (12000 * sin (2 * M_PI * 400 * i / 8000.0)));
  }

  calls = calloc (opt_calls, sizeof *calls);
  setup_ms = calloc (opt_calls, sizeof *setup_ms);
  cap_echo = opt_calls * (int) (opt_duration + 5 + opt_hold) + 16;
  echo_ms = calloc (cap_echo, sizeof *echo_ms);
  for (int s = 0; s < SLOTS; s++)
    slot[s] = calloc (opt_calls / SLOTS + 1, sizeof (Call *));
  ep = epoll_create1 (EPOLL_CLOEXEC);
  memset (&server, 0, sizeof server);
  server.sin_family = AF_INET;
  server.sin_port = htons (opt_port);
  server.sin_addr.s_addr = inet_addr (opt_host);

  if (!opt_no_sip) {
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    int sz = 4 * 1024 * 1024;
    struct epoll_event ev = {.events = EPOLLIN,.data.ptr = NULL };

    sip_fd = udp_bind (0);
    setsockopt (sip_fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    getsockname (sip_fd, (struct sockaddr *) &a, &al);
    sip_port = ntohs (a.sin_port);
    epoll_ctl (ep, EPOLL_CTL_ADD, sip_fd, &ev);
  }

  next_port = (uint16_t) (opt_local_rtp & ~1);
  for (int i = 0; i < opt_calls; i++) {
    Call *c = &calls[i];
    struct epoll_event ev = {.events = EPOLLIN,.data.ptr = c };

    c->idx = i;
    c->cseq = 1;
    c->ssrc = (uint32_t) random ();
    c->seq = (uint16_t) random ();
    c->ts = (uint32_t) random ();
    snprintf (c->call_id, sizeof c->call_id, "lg-%d-%d@127.0.0.1", i,
        (int) getpid ());
    snprintf (c->from_tag, sizeof c->from_tag, "%x", (unsigned) random ());
    if (opt_no_sip) {
      /* fixed pairs: ours at local + 2i, the floor's at target + 2i */
      next_port = (uint16_t) ((opt_local_rtp & ~1) + 2 * i);
      if (bind_rtp_pair (c, &next_port) < 0 || c->rtp_port !=
          (opt_local_rtp & ~1) + 2 * i) {
        fprintf (stderr, "cannot bind RTP port %d\n", (opt_local_rtp & ~1)
            + 2 * i);
        return 1;
      }
      c->remote = server;
      c->remote.sin_port = htons (opt_port + 2 * i);
    } else if (bind_rtp_pair (c, &next_port) < 0) {
      fprintf (stderr, "cannot bind RTP ports for call %d\n", i);
      return 1;
    }
    epoll_ctl (ep, EPOLL_CTL_ADD, c->rtp_fd, &ev);
    slot[i % SLOTS][slot_n[i % SLOTS]++] = c;
  }

  t0 = now_us ();
  next_invite = t0;
  tick_us = t0;
  while (!stop_now) {
    int64_t now = now_us (), wait;
    int n;

    /* place calls at the rate */
    while (next_call < opt_calls && now >= next_invite) {
      Call *c = &calls[next_call++];
      if (opt_no_sip) {
        call_up (c, now);
      } else {
        c->state = C_INVITING;
        c->invite_us = now;
        c->retx_interval = T1_US;
        c->retx_us = now + T1_US;
        send_invite (c);
      }
      next_invite += (int64_t) (1e6 / opt_rate);
    }

    /* INVITE retransmissions and setup timeouts, once per tick */
    if (now >= tick_us) {
      if (!opt_no_sip && (tick % 10) == 0) {
        for (int i = 0; i < next_call; i++) {
          Call *c = &calls[i];
          if (c->state != C_INVITING && c->state != C_BYEING)
            continue;
          if (now - c->invite_us > SETUP_TIMEOUT_US) {
            if (c->state == C_INVITING)
              call_fail (c, "no final response to the INVITE");
            else {
              c->state = C_DONE;
              n_done++;
            }
          } else if (now >= c->retx_us && c->retx < 6) {
            if (c->state == C_INVITING)
              send_invite (c);
            else
              send_in_dialog (c, "BYE", c->cseq);
            c->retx++;
            c->retx_interval *= 2;
            if (c->retx_interval > 4000000)
              c->retx_interval = 4000000;
            c->retx_us = now + c->retx_interval;
          }
        }
      }
      /* RTP: each call in its 1 ms slot of the 20 ms period; catch up
       * late ticks */
      while (tick_us <= now) {
        int s = (int) (tick % SLOTS);
        for (int k = 0; k < slot_n[s]; k++) {
          Call *c = slot[s][k];
          if (c->sending && (!media_stop_us || tick_us < media_stop_us))
            send_rtp (c, tick_us);
          if (opt_hold > 0 && c->state == C_UP && tick_us >= c->hold_end_us) {
            start_bye (c, tick_us);
          }
        }
        tick++;
        tick_us += 1000;
      }
    }

    /* phases of a concurrency run */
    if (opt_hold <= 0) {
      if (!all_up_us && next_call == opt_calls && n_up + n_failed >= opt_calls) {
        all_up_us = now;
        steady_start_us = now + 1000000;        /* let jitter buffers settle */
        printf ("ALL_UP %d\n", n_up);
        fflush (stdout);
      }
      if (steady_start_us && !said_steady && now >= steady_start_us) {
        said_steady = 1;
        printf ("STEADY_START\n");
        fflush (stdout);
      }
      if (steady_start_us && !steady_end_us &&
          now >= steady_start_us + (int64_t) (opt_duration * 1e6)) {
        steady_end_us = now;
        printf ("STEADY_END\n");
        fflush (stdout);
        media_stop_us = now;
        drain_end_us = now + 1500000;
      }
      if (drain_end_us && now >= drain_end_us) {
        /* hang up at the call rate */
        if (!bye_next)
          bye_next = now;
        while (next_bye < opt_calls && now >= bye_next) {
          Call *c = &calls[next_bye++];
          bye_next += (int64_t) (1e6 / (opt_rate * 2));
          if (c->state != C_UP)
            continue;
          start_bye (c, now);
        }
        if (next_bye == opt_calls && n_done + n_failed >= opt_calls)
          break;
        if (now - drain_end_us > 20000000)
          break;
      }
    } else if (next_call == opt_calls && n_done + n_failed >= opt_calls) {
      break;
    }

    /* sleep until the next 1 ms tick, not a whole ms more (late sends)
     * nor 0 (a busy loop stealing the server's CPU) */
    wait = tick_us - now_us ();
    if (wait < 0)
      wait = 0;
    {
      struct timespec ts = {.tv_sec = 0,.tv_nsec = wait * 1000 };
      n = epoll_pwait2 (ep, evs, 256, &ts, NULL);
    }
    now = now_us ();
    for (int i = 0; i < n; i++) {
      Call *c = evs[i].data.ptr;
      if (!c) {
        char buf[8192];
        ssize_t len;
        while ((len = recv (sip_fd, buf, sizeof buf - 1, 0)) > 0) {
          buf[len] = 0;
          handle_sip (buf, now);
        }
      } else {
        recv_rtp (c, now);
      }
    }
  }

  {
    uint64_t tx = 0, rx = 0, txp = 0, rxp = 0, tx_all = 0;
    int established = 0;
    double loss, elapsed = (now_us () - t0) / 1e6;
    double window_s = steady_end_us && steady_start_us ?
        (steady_end_us - steady_start_us) / 1e6 : opt_duration;

    for (int i = 0; i < opt_calls; i++) {
      Call *c = &calls[i];
      if (c->up_us)
        established++;
      txp += c->tx_pkts;
      rxp += c->rx_pkts;
      tx_all += c->tx_pkts;
      if (c->counting) {
        tx += c->tx_bytes;
        rx += c->count_rx ? c->rx_bytes : 0;
      }
    }
    loss = tx ? 100.0 * (1.0 - (double) rx / (double) tx) : 100.0;
    if (loss < 0)
      loss = 0;
    if (opt_hold > 0)
      loss = txp ? 100.0 * (1.0 - (double) rxp / (double) txp) : 100.0;
    printf ("{\"system\": \"%s\", \"calls_requested\": %d, "
        "\"calls_established\": %d, \"calls_failed\": %d, "
        "\"duration_s\": %.3f, \"packets_sent\": %llu, "
        "\"packets_received\": %llu, \"loss_pct\": %.4f, "
        "\"echo_delay_ms\": {\"p50\": %.2f, \"p99\": %.2f}, "
        "\"setup_ms\": {\"p50\": %.3f, \"p99\": %.3f}, "
        "\"markers_sent\": %llu, \"markers_echoed\": %llu, "
        "\"send_errors\": %llu, \"elapsed_s\": %.3f}\n", opt_system,
        opt_calls, established, n_failed, window_s,
        (unsigned long long) txp, (unsigned long long) rxp, loss,
        pct (echo_ms, n_echo, 50), pct (echo_ms, n_echo, 99),
        pct (setup_ms, n_setup, 50), pct (setup_ms, n_setup, 99),
        (unsigned long long) markers_sent_steady,
        (unsigned long long) markers_seen_steady,
        (unsigned long long) send_errors, elapsed);
    (void) tx_all;
  }
  return 0;
}
