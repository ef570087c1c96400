/* gst-sip tests: media safety of sipsrc and sipsink (RTP source latching,
 * strangers, media timeout, maximum duration, RTCP statistics), with real
 * SIP and RTP over UDP loopback
 * Copyright (C) 2026 The gst-sip authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include <gst/check/gstcheck.h>

#include "testuac.h"
#include "testutil.h"
#include "testcall.h"

#define CALLER_VALUE 0x9a
#define STRANGER_VALUE 0x55

/* another RTP sender aiming at the call's RTP port; from 127.0.0.1 on
 * another port, or from another loopback address */
static TestUac *
new_sender (Call * c)
{
  TestUac *s = test_uac_new (test_bound_port (c->src));

  s->remote_rtp_port = c->uac->remote_rtp_port;
  return s;
}

static GSocket *
bind_loopback (const gchar * ip)
{
  GSocket *s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
      G_SOCKET_PROTOCOL_UDP, NULL);
  GInetAddress *ia = g_inet_address_new_from_string (ip);
  GSocketAddress *addr = g_inet_socket_address_new (ia, 0);

  fail_unless (g_socket_bind (s, addr, FALSE, NULL));
  g_object_unref (addr);
  g_object_unref (ia);
  return s;
}

/* echoed packets received on @sock: those carrying @value, the others, and
 * whether any came from another port than @expected_from */
typedef struct
{
  guint total;
  guint matching;
  guint bad_source;
  guint carrying_stranger;
} Echo;

static void
drain_echo (GSocket * sock, guint16 expected_from, Echo * e, gint timeout_ms)
{
  guint8 pkt[2048];

  while (g_socket_condition_timed_wait (sock, G_IO_IN,
          (gint64) timeout_ms * 1000, NULL, NULL)) {
    GSocketAddress *from = NULL;
    gssize len = g_socket_receive_from (sock, &from, (gchar *) pkt,
        sizeof (pkt), NULL, NULL);

    if (len <= 0) {
      g_clear_object (&from);
      break;
    }
    e->total++;
    if (g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (from)) !=
        expected_from)
      e->bad_source++;
    if (len == 172 && pkt[12] == CALLER_VALUE && pkt[171] == CALLER_VALUE)
      e->matching++;
    for (gssize i = 12; i < len; i++) {
      if (pkt[i] == STRANGER_VALUE) {
        e->carrying_stranger++;
        break;
      }
    }
    g_object_unref (from);
    timeout_ms = 0;
  }
}

static GstStructure *
get_stats (GstElement * e)
{
  GstStructure *s = NULL;

  g_object_get (e, "stats", &s, NULL);
  fail_unless (s != NULL, "no stats");
  GST_INFO ("stats of %s: %" GST_PTR_FORMAT, GST_OBJECT_NAME (e), s);
  return s;
}

static guint64
stats_uint64 (const GstStructure * s, const gchar * field)
{
  guint64 v = 0;

  fail_unless (gst_structure_get_uint64 (s, field, &v), "no %s in %"
      GST_PTR_FORMAT, field, s);
  return v;
}

/* waits for a BYE from sipsrc (answered 200); returns its arrival time or 0;
 * RTP arriving meanwhile is thrown away */
static gint64
wait_bye (TestUac * uac, gint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (g_get_monotonic_time () < end) {
    gchar *sip = test_uac_recv_sip (uac, 20);
    guint8 pkt[2048];

    while (test_uac_recv_rtp (uac, pkt, sizeof (pkt), 0, NULL) > 0);
    if (sip && test_uac_is_request (sip, "BYE")) {
      test_uac_reply (uac, sip, 200);
      g_free (sip);
      return g_get_monotonic_time ();
    }
    g_free (sip);
  }
  return 0;
}

static void
check_ended (Call * c, const gchar * reason)
{
  GstMessage *msg = test_wait_element_message (c->bus, "sip-call-ended", 3000);
  const GstStructure *s;
  gint rtt = 0;
  guint jitter;
  gint64 lost;

  fail_unless (msg != NULL, "no sip-call-ended");
  s = gst_message_get_structure (msg);
  fail_unless_equals_string (gst_structure_get_string (s, "reason"), reason);
  fail_unless_equals_string (gst_structure_get_string (s, "call-id"),
      c->uac->call_id);
  /* the statistics are in the message */
  stats_uint64 (s, "packets-received");
  stats_uint64 (s, "packets-sent");
  stats_uint64 (s, "packets-rejected");
  fail_unless (gst_structure_get_int64 (s, "packets-lost", &lost));
  fail_unless (gst_structure_get_uint (s, "jitter", &jitter));
  fail_unless (gst_structure_get_int (s, "round-trip", &rtt));
  gst_message_unref (msg);
}

GST_START_TEST (test_media_properties)
{
  GstElement *src = gst_element_factory_make ("sipsrc", NULL);
  GstElement *sink = gst_element_factory_make ("sipsink", NULL);
  GstStructure *stats = (GstStructure *) 0x1;
  guint timeout, duration;
  gchar *latching;

  g_object_get (src, "media-timeout", &timeout, "max-duration", &duration,
      "stats", &stats, NULL);
  fail_unless_equals_int (timeout, 30);
  fail_unless_equals_int (duration, 0);
  fail_unless (stats == NULL);
  g_object_get (sink, "stats", &stats, NULL);
  fail_unless (stats == NULL);
  {
    gboolean send_silence = FALSE;

    g_object_get (sink, "send-silence", &send_silence, NULL);
    fail_unless (send_silence);
  }

  {
    GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (src),
        "rtp-latching");
    GValue v = G_VALUE_INIT;

    fail_unless (pspec != NULL);
    g_value_init (&v, pspec->value_type);
    g_object_get_property (G_OBJECT (src), "rtp-latching", &v);
    latching = gst_value_serialize (&v);
    fail_unless_equals_string (latching, "any");
    g_free (latching);
    g_value_unset (&v);
  }
  gst_util_set_object_arg (G_OBJECT (src), "rtp-latching", "off");
  gst_util_set_object_arg (G_OBJECT (src), "rtp-latching", "same-ip");
  g_object_set (src, "media-timeout", 5, "max-duration", 3600, NULL);
  g_object_get (src, "media-timeout", &timeout, "max-duration", &duration,
      NULL);
  fail_unless_equals_int (timeout, 5);
  fail_unless_equals_int (duration, 3600);

  gst_object_unref (src);
  gst_object_unref (sink);
}

GST_END_TEST;

/* A stranger sprays RTP (and a forged RTCP BYE) at the call's ports while
 * the caller talks: the caller's echo carries only the caller's audio, the
 * stranger gets nothing back. */
GST_START_TEST (test_media_stranger)
{
  Call c = { 0 };
  Echo caller = { 0 }, stranger = { 0 };
  TestUac *spray;
  GstStructure *stats;
  guint8 bye[8];

  start_pipeline (&c, "sipsrc name=src host=127.0.0.1 port=0 latency=200 ! "
      "queue ! sipsink name=sink");
  place_call (&c);
  spray = new_sender (&c);
  test_uac_bind_rtcp (spray);

  for (guint i = 0; i < 50; i++) {
    test_uac_send_pcmu (c.uac, CALLER_VALUE);
    test_uac_send_pcmu (spray, STRANGER_VALUE);
    if (i == 20) {
      /* RTCP BYE for the caller's SSRC, from the stranger */
      bye[0] = 0x81;
      bye[1] = 203;
      bye[2] = 0;
      bye[3] = 1;
      GST_WRITE_UINT32_BE (bye + 4, c.uac->rtp_ssrc);
      test_uac_send_rtcp (spray, bye, sizeof (bye));
    }
    drain_echo (c.uac->rtp, c.uac->remote_rtp_port, &caller, 0);
    drain_echo (spray->rtp, c.uac->remote_rtp_port, &stranger, 0);
    g_usleep (20000);
  }
  drain_echo (c.uac->rtp, c.uac->remote_rtp_port, &caller, 300);
  drain_echo (spray->rtp, c.uac->remote_rtp_port, &stranger, 0);

  fail_unless (caller.matching >= 25, "%u of %u echoed packets carry the "
      "caller's audio", caller.matching, caller.total);
  fail_unless_equals_int (caller.carrying_stranger, 0);
  fail_unless_equals_int (caller.bad_source, 0);
  fail_unless_equals_int (stranger.total, 0);

  stats = get_stats (c.src);
  fail_unless (stats_uint64 (stats, "packets-rejected") >= 50);
  fail_unless (stats_uint64 (stats, "packets-received") >= 40);
  gst_structure_free (stats);
  stats = get_stats (c.sink);
  fail_unless (stats_uint64 (stats, "packets-sent") >= 20);
  gst_structure_free (stats);

  test_uac_send_bye (c.uac);
  fail_unless_equals_int (test_uac_wait_response (c.uac, "BYE", 3000), 200);
  check_ended (&c, "remote-bye");
  test_uac_free (spray);
  stop_pipeline (&c);
}

GST_END_TEST;

/* A caller behind NAT: its RTP comes from another port than its SDP says;
 * sipsrc latches onto it and sipsink answers there, not to the SDP port. */
GST_START_TEST (test_media_latch_nat)
{
  Call c = { 0 };
  Echo nat = { 0 }, sdp = { 0 };
  TestUac *natted;
  GstStructure *stats;

  start_pipeline (&c, "sipsrc name=src host=127.0.0.1 port=0 latency=200 ! "
      "queue ! sipsink name=sink");
  place_call (&c);
  natted = new_sender (&c);
  natted->rtp_ssrc = c.uac->rtp_ssrc;

  for (guint i = 0; i < 50; i++) {
    test_uac_send_pcmu (natted, CALLER_VALUE);
    drain_echo (natted->rtp, c.uac->remote_rtp_port, &nat, 0);
    drain_echo (c.uac->rtp, c.uac->remote_rtp_port, &sdp, 0);
    g_usleep (20000);
  }
  drain_echo (natted->rtp, c.uac->remote_rtp_port, &nat, 300);
  drain_echo (c.uac->rtp, c.uac->remote_rtp_port, &sdp, 0);

  fail_unless (nat.matching >= 25, "%u of %u packets echoed to the NAT port",
      nat.matching, nat.total);
  fail_unless_equals_int (nat.bad_source, 0);
  /* the SDP port may get silence before the latch, never the audio */
  fail_unless_equals_int (sdp.matching, 0);
  fail_unless_equals_int (sdp.carrying_stranger, 0);
  stats = get_stats (c.src);
  /* the packets before the latch (probation) */
  fail_unless (stats_uint64 (stats, "packets-rejected") <= 3);
  gst_structure_free (stats);

  test_uac_send_bye (c.uac);
  fail_unless_equals_int (test_uac_wait_response (c.uac, "BYE", 3000), 200);
  test_uac_free (natted);
  stop_pipeline (&c);
}

GST_END_TEST;

/* A stranger who sprays sequential RTP before the caller's first packet is
 * latched onto (it looks like a caller behind NAT), but the caller's SDP
 * address takes over as soon as it sends, and the stranger gets nothing
 * more. */
GST_START_TEST (test_media_latch_sdp_wins)
{
  Call c = { 0 };
  Echo caller = { 0 }, stranger = { 0 };
  TestUac *spray;

  start_pipeline (&c, "sipsrc name=src host=127.0.0.1 port=0 latency=200 ! "
      "queue ! sipsink name=sink");
  place_call (&c);
  spray = new_sender (&c);
  for (guint i = 0; i < 5; i++) {
    test_uac_send_pcmu (spray, STRANGER_VALUE);
    g_usleep (20000);
  }
  for (guint i = 0; i < 50; i++) {
    test_uac_send_pcmu (c.uac, CALLER_VALUE);
    test_uac_send_pcmu (spray, STRANGER_VALUE);
    if (i == 25) {
      /* what was on its way before the take-over is through */
      drain_echo (spray->rtp, c.uac->remote_rtp_port, &stranger, 0);
      drain_echo (c.uac->rtp, c.uac->remote_rtp_port, &caller, 0);
      memset (&stranger, 0, sizeof (stranger));
      memset (&caller, 0, sizeof (caller));
    }
    drain_echo (c.uac->rtp, c.uac->remote_rtp_port, &caller, 0);
    drain_echo (spray->rtp, c.uac->remote_rtp_port, &stranger, 0);
    g_usleep (20000);
  }
  drain_echo (c.uac->rtp, c.uac->remote_rtp_port, &caller, 300);
  drain_echo (spray->rtp, c.uac->remote_rtp_port, &stranger, 0);
  fail_unless (caller.matching >= 10, "%u echoed to the caller",
      caller.matching);
  fail_unless_equals_int (caller.carrying_stranger, 0);
  fail_unless_equals_int (stranger.total, 0);

  test_uac_send_bye (c.uac);
  fail_unless_equals_int (test_uac_wait_response (c.uac, "BYE", 3000), 200);
  test_uac_free (spray);
  stop_pipeline (&c);
}

GST_END_TEST;

/* rtp-latching=off: only the SDP address and port */
GST_START_TEST (test_media_latch_off)
{
  Call c = { 0 };
  Echo nat = { 0 }, caller = { 0 };
  TestUac *natted;
  GstStructure *stats;

  start_pipeline (&c, "sipsrc name=src host=127.0.0.1 port=0 latency=200 "
      "rtp-latching=off ! queue ! sipsink name=sink");
  place_call (&c);
  natted = new_sender (&c);

  for (guint i = 0; i < 25; i++) {
    test_uac_send_pcmu (natted, CALLER_VALUE);
    g_usleep (20000);
  }
  drain_echo (natted->rtp, c.uac->remote_rtp_port, &nat, 300);
  drain_echo (c.uac->rtp, c.uac->remote_rtp_port, &caller, 0);
  fail_unless_equals_int (nat.total, 0);
  /* silence only */
  fail_unless_equals_int (caller.matching, 0);
  stats = get_stats (c.src);
  fail_unless_equals_int (stats_uint64 (stats, "packets-rejected"), 25);
  fail_unless_equals_int (stats_uint64 (stats, "packets-received"), 0);
  gst_structure_free (stats);

  /* the SDP address is accepted */
  for (guint i = 0; i < 25; i++) {
    test_uac_send_pcmu (c.uac, CALLER_VALUE);
    drain_echo (c.uac->rtp, c.uac->remote_rtp_port, &caller, 0);
    g_usleep (20000);
  }
  drain_echo (c.uac->rtp, c.uac->remote_rtp_port, &caller, 300);
  fail_unless (caller.matching >= 10, "%u echoed", caller.matching);

  test_uac_send_bye (c.uac);
  fail_unless_equals_int (test_uac_wait_response (c.uac, "BYE", 3000), 200);
  test_uac_free (natted);
  stop_pipeline (&c);
}

GST_END_TEST;

/* rtp-latching=same-ip: another port of the SDP's IP address is latched
 * onto, another IP address (127.0.0.2) is not */
GST_START_TEST (test_media_latch_same_ip)
{
  Call c = { 0 };
  Echo nat = { 0 }, other = { 0 };
  TestUac *natted;
  GSocket *elsewhere;
  GInetAddress *lo;
  GSocketAddress *to;
  GstStructure *stats;
  guint8 pkt[172];

  start_pipeline (&c, "sipsrc name=src host=127.0.0.1 port=0 latency=200 "
      "rtp-latching=same-ip ! queue ! sipsink name=sink");
  place_call (&c);
  natted = new_sender (&c);
  elsewhere = bind_loopback ("127.0.0.2");
  lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  to = g_inet_socket_address_new (lo, c.uac->remote_rtp_port);

  /* sequential packets from 127.0.0.2 first: not latched */
  memset (pkt, STRANGER_VALUE, sizeof (pkt));
  for (guint i = 0; i < 10; i++) {
    pkt[0] = 0x80;
    pkt[1] = 0;
    GST_WRITE_UINT16_BE (pkt + 2, 1000 + i);
    GST_WRITE_UINT32_BE (pkt + 4, 160 * i);
    GST_WRITE_UINT32_BE (pkt + 8, 0x12345678);
    fail_unless (g_socket_send_to (elsewhere, to, (gchar *) pkt, sizeof (pkt),
            NULL, NULL) == sizeof (pkt));
    g_usleep (20000);
  }
  for (guint i = 0; i < 40; i++) {
    test_uac_send_pcmu (natted, CALLER_VALUE);
    drain_echo (natted->rtp, c.uac->remote_rtp_port, &nat, 0);
    g_usleep (20000);
  }
  drain_echo (natted->rtp, c.uac->remote_rtp_port, &nat, 300);
  while (g_socket_condition_timed_wait (elsewhere, G_IO_IN, 0, NULL, NULL)) {
    g_socket_receive (elsewhere, (gchar *) pkt, sizeof (pkt), NULL, NULL);
    other.total++;
  }
  fail_unless (nat.matching >= 15, "%u echoed to the other port", nat.matching);
  fail_unless_equals_int (nat.carrying_stranger, 0);
  fail_unless_equals_int (other.total, 0);
  stats = get_stats (c.src);
  fail_unless (stats_uint64 (stats, "packets-rejected") >= 10);
  gst_structure_free (stats);

  test_uac_send_bye (c.uac);
  fail_unless_equals_int (test_uac_wait_response (c.uac, "BYE", 3000), 200);
  g_object_unref (to);
  g_object_unref (lo);
  g_object_unref (elsewhere);
  test_uac_free (natted);
  stop_pipeline (&c);
}

GST_END_TEST;

/* A re-INVITE moving the caller's media re-arms the latch: the new address
 * is used, the old (latched) one is no longer accepted. */
GST_START_TEST (test_media_latch_rearm)
{
  Call c = { 0 };
  Echo first = { 0 }, second = { 0 }, old = { 0 };
  GSocket *old_rtp;
  gint64 pause;

  start_pipeline (&c, "sipsrc name=src host=127.0.0.1 port=0 latency=200 ! "
      "queue ! sipsink name=sink");
  place_call (&c);
  for (guint i = 0; i < 20; i++) {
    test_uac_send_pcmu (c.uac, CALLER_VALUE);
    drain_echo (c.uac->rtp, c.uac->remote_rtp_port, &first, 0);
    g_usleep (20000);
  }
  drain_echo (c.uac->rtp, c.uac->remote_rtp_port, &first, 200);
  fail_unless (first.matching >= 10);

  /* keep the old socket: it now plays a stranger */
  old_rtp = g_object_ref (c.uac->rtp);
  pause = g_get_monotonic_time ();
  test_uac_new_rtp_port (c.uac);
  fail_unless_equals_int (test_uac_reinvite (c.uac, "sendrecv"), 200);
  /* the caller's clock went on meanwhile */
  c.uac->rtp_ts += (g_get_monotonic_time () - pause) * 8 / 1000;
  for (guint i = 0; i < 30; i++) {
    guint8 payload[160];
    GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
    GSocketAddress *to = g_inet_socket_address_new (lo,
        c.uac->remote_rtp_port);
    guint8 pkt[172];

    test_uac_send_pcmu (c.uac, CALLER_VALUE);
    /* the old address goes on with its stream: dropped */
    memset (payload, STRANGER_VALUE, sizeof (payload));
    pkt[0] = 0x80;
    pkt[1] = 0;
    GST_WRITE_UINT16_BE (pkt + 2, 40000 + i);
    GST_WRITE_UINT32_BE (pkt + 4, 160 * i);
    GST_WRITE_UINT32_BE (pkt + 8, 0x0badf00d);
    memcpy (pkt + 12, payload, 160);
    g_socket_send_to (old_rtp, to, (gchar *) pkt, sizeof (pkt), NULL, NULL);
    g_object_unref (to);
    g_object_unref (lo);
    drain_echo (c.uac->rtp, c.uac->remote_rtp_port, &second, 0);
    drain_echo (old_rtp, c.uac->remote_rtp_port, &old, 0);
    g_usleep (20000);
  }
  drain_echo (c.uac->rtp, c.uac->remote_rtp_port, &second, 300);
  drain_echo (old_rtp, c.uac->remote_rtp_port, &old, 0);
  fail_unless (second.matching >= 12, "%u echoed to the new address",
      second.matching);
  fail_unless_equals_int (second.carrying_stranger, 0);
  /* a packet echoed before the re-INVITE may still have been under way */
  fail_unless (old.carrying_stranger == 0, "the old address got %u",
      old.carrying_stranger);

  test_uac_send_bye (c.uac);
  fail_unless_equals_int (test_uac_wait_response (c.uac, "BYE", 3000), 200);
  g_object_unref (old_rtp);
  stop_pipeline (&c);
}

GST_END_TEST;

/* the echo still on its way (paced by sipsink, later on a loaded machine):
 * until none came for 500 ms, 3 s at most */
static void
drain_echo_until_quiet (GSocket * sock, guint16 expected_from, Echo * e)
{
  gint64 end = g_get_monotonic_time () + 3 * G_USEC_PER_SEC;
  guint before;

  do {
    before = e->total;
    drain_echo (sock, expected_from, e, 500);
  } while (e->total > before && g_get_monotonic_time () < end);
}

/* Payload types that were not negotiated are dropped, also from the
 * caller's own address, without an error; telephone-event only when it was
 * offered. */
GST_START_TEST (test_media_foreign_payload)
{
  Call c = { 0 };
  Echo caller = { 0 };
  guint8 payload[160];
  GstStructure *stats;
  GstMessage *msg;

  start_pipeline (&c, "sipsrc name=src host=127.0.0.1 port=0 latency=200 ! "
      "queue ! sipsink name=sink");
  place_call (&c);
  memset (payload, STRANGER_VALUE, sizeof (payload));
  for (guint i = 0; i < 45; i++) {
    switch (i % 3) {
      case 0:
        test_uac_send_pcmu (c.uac, CALLER_VALUE);
        break;
      case 1:
        /* PCMA, G.729 payload type, dynamic 101 (no DTMF offered) */
        test_uac_send_rtp (c.uac, (i / 3) % 2 ? 8 : 101, FALSE,
            c.uac->rtp_ts, payload, sizeof (payload));
        c.uac->rtp_ts += 160;
        break;
      default:
        test_uac_send_rtp (c.uac, 18, FALSE, c.uac->rtp_ts, payload, 20);
        c.uac->rtp_ts += 160;
        break;
    }
    drain_echo (c.uac->rtp, c.uac->remote_rtp_port, &caller, 0);
    g_usleep (20000);
  }
  drain_echo_until_quiet (c.uac->rtp, c.uac->remote_rtp_port, &caller);
  fail_unless (caller.matching >= 5, "%u echoed", caller.matching);
  fail_unless_equals_int (caller.carrying_stranger, 0);
  msg = gst_bus_pop_filtered (c.bus, GST_MESSAGE_ERROR);
  fail_unless (msg == NULL, "error: %" GST_PTR_FORMAT, msg);
  stats = get_stats (c.src);
  /* only the 15 PCMU packets reached rtpbin; the others came from the
   * right source: not counted as rejected */
  fail_unless_equals_int (stats_uint64 (stats, "packets-received"), 15);
  fail_unless_equals_int (stats_uint64 (stats, "packets-rejected"), 0);
  gst_structure_free (stats);

  test_uac_send_bye (c.uac);
  fail_unless_equals_int (test_uac_wait_response (c.uac, "BYE", 3000), 200);
  stop_pipeline (&c);
}

GST_END_TEST;

/* The caller goes silent (a stranger's RTP does not count): BYE after the
 * media timeout, the reason on the bus, EOS. */
GST_START_TEST (test_media_timeout)
{
  Call c = { 0 };
  TestUac *spray;
  gint64 last, bye;

  start_pipeline (&c, "sipsrc name=src host=127.0.0.1 port=0 media-timeout=1 "
      "! fakesink async=false");
  place_call (&c);
  spray = new_sender (&c);
  for (guint i = 0; i < 10; i++) {
    test_uac_send_pcmu (c.uac, CALLER_VALUE);
    g_usleep (20000);
  }
  last = g_get_monotonic_time ();
  bye = 0;
  while (!bye && g_get_monotonic_time () - last < 3 * G_USEC_PER_SEC) {
    gchar *sip;

    test_uac_send_pcmu (spray, STRANGER_VALUE);
    sip = test_uac_recv_sip (c.uac, 20);
    if (sip && test_uac_is_request (sip, "BYE")) {
      bye = g_get_monotonic_time ();
      test_uac_reply (c.uac, sip, 200);
    }
    g_free (sip);
  }
  fail_unless (bye > 0, "no BYE after the media timeout");
  fail_unless (bye - last >= 900 * 1000, "BYE after %" G_GINT64_FORMAT " us",
      bye - last);
  check_ended (&c, "media-timeout");
  fail_unless (test_wait_eos (c.bus, 3000), "no EOS after the media timeout");

  test_uac_free (spray);
  stop_pipeline (&c);
}

GST_END_TEST;

/* No media timeout while the call is on hold; it counts again after the
 * call is resumed. */
GST_START_TEST (test_media_timeout_hold)
{
  Call c = { 0 };
  gint64 resumed, bye;

  start_pipeline (&c, "sipsrc name=src host=127.0.0.1 port=0 media-timeout=1 "
      "! fakesink async=false");
  place_call (&c);
  test_uac_send_pcmu (c.uac, CALLER_VALUE);
  fail_unless_equals_int (test_uac_reinvite (c.uac, "inactive"), 200);
  fail_unless (wait_bye (c.uac, 2000) == 0, "BYE while on hold");
  fail_unless_equals_int (test_uac_reinvite (c.uac, "sendrecv"), 200);
  resumed = g_get_monotonic_time ();
  bye = wait_bye (c.uac, 3000);
  fail_unless (bye > 0, "no BYE after resuming");
  fail_unless (bye - resumed >= 900 * 1000);
  check_ended (&c, "media-timeout");
  fail_unless (test_wait_eos (c.bus, 3000), "no EOS after the media timeout");
  stop_pipeline (&c);
}

GST_END_TEST;

/* max-duration: BYE after it although media flows; the pipeline of an echo
 * ends too */
GST_START_TEST (test_media_max_duration)
{
  Call c = { 0 };
  gint64 answered, bye = 0;

  start_pipeline (&c, "sipsrc name=src host=127.0.0.1 port=0 max-duration=1 "
      "media-timeout=0 latency=200 ! queue ! sipsink name=sink");
  place_call (&c);
  answered = g_get_monotonic_time ();
  while (!bye && g_get_monotonic_time () - answered < 4 * G_USEC_PER_SEC) {
    gchar *sip;

    test_uac_send_pcmu (c.uac, CALLER_VALUE);
    sip = test_uac_recv_sip (c.uac, 20);
    if (sip && test_uac_is_request (sip, "BYE")) {
      bye = g_get_monotonic_time ();
      test_uac_reply (c.uac, sip, 200);
    }
    g_free (sip);
  }
  fail_unless (bye > 0, "no BYE after max-duration");
  fail_unless (bye - answered >= 800 * 1000 && bye - answered < 3000 * 1000,
      "BYE after %" G_GINT64_FORMAT " us", bye - answered);
  check_ended (&c, "max-duration");
  fail_unless (test_wait_eos (c.bus, 3000), "no EOS after max-duration");
  stop_pipeline (&c);
}

GST_END_TEST;

/* RTCP statistics: loss and jitter of the caller's stream, packets sent,
 * and the round-trip time from the caller's receiver report about our
 * sender report */
GST_START_TEST (test_media_stats)
{
  Call c = { 0 };
  GObject *session = NULL;
  GstStructure *stats;
  GstMessage *msg;
  const GstStructure *s;
  guint32 rtp_ssrc = 0, sr_ssrc = 0;
  gint rtt = -1;
  gint64 lost = 0, end;
  guint i;

  start_pipeline (&c, "sipsrc name=src host=127.0.0.1 port=0 latency=200 ! "
      "fakesink async=false audiotestsrc is-live=true wave=sine ! "
      "sipsink name=sink");
  place_call_full (&c, TRUE);

  /* sooner RTCP than the default 5 s, for the test */
  session = test_internal_session (c.src);
  fail_unless (session != NULL);
  g_object_set (session, "rtcp-min-interval", (guint64) 300 * GST_MSECOND,
      NULL);
  g_object_unref (session);

  /* 60 packets, 5 of them lost on the way */
  end = g_get_monotonic_time () + 8 * G_USEC_PER_SEC;
  for (i = 0; (i < 60 || rtt < 0) && g_get_monotonic_time () < end; i++) {
    guint8 pkt[2048];
    gssize len;

    if (i >= 20 && i < 25) {
      c.uac->rtp_seq++;
      c.uac->rtp_ts += 160;
    } else {
      test_uac_send_pcmu (c.uac, CALLER_VALUE);
    }
    while ((len = test_uac_recv_rtp (c.uac, pkt, sizeof (pkt), 0, NULL)) > 0)
      if (len >= 12)
        rtp_ssrc = GST_READ_UINT32_BE (pkt + 8);

    /* answer each sender report with a receiver report */
    while ((len = test_uac_recv_rtcp (c.uac, pkt, sizeof (pkt), 0)) > 0) {
      guint8 rr[32];
      guint32 lsr;

      if (len < 28 || pkt[1] != 200)
        continue;
      sr_ssrc = GST_READ_UINT32_BE (pkt + 4);
      /* middle 32 bits of the NTP timestamp */
      lsr = (GST_READ_UINT32_BE (pkt + 8) << 16) |
          (GST_READ_UINT32_BE (pkt + 12) >> 16);
      memset (rr, 0, sizeof (rr));
      rr[0] = 0x81;
      rr[1] = 201;
      rr[3] = 7;
      GST_WRITE_UINT32_BE (rr + 4, c.uac->rtp_ssrc);
      GST_WRITE_UINT32_BE (rr + 8, sr_ssrc);
      GST_WRITE_UINT32_BE (rr + 24, lsr);
      /* answered at once: DLSR 0 */
      test_uac_send_rtcp (c.uac, rr, sizeof (rr));
    }
    if (i >= 60) {
      stats = get_stats (c.src);
      fail_unless (gst_structure_get_int (stats, "round-trip", &rtt));
      gst_structure_free (stats);
    }
    g_usleep (20000);
  }
  fail_unless (rtp_ssrc != 0, "no RTP from sipsink");
  fail_unless (sr_ssrc != 0, "no sender report");
  /* one participant: RTP and RTCP with the same SSRC */
  fail_unless_equals_uint64 (sr_ssrc, rtp_ssrc);
  fail_unless (rtt >= 0 && rtt < 1000, "round-trip %d", rtt);

  test_uac_send_bye (c.uac);
  fail_unless_equals_int (test_uac_wait_response (c.uac, "BYE", 3000), 200);
  msg = test_wait_element_message (c.bus, "sip-call-ended", 3000);
  fail_unless (msg != NULL);
  s = gst_message_get_structure (msg);
  GST_INFO ("%" GST_PTR_FORMAT, s);
  fail_unless (stats_uint64 (s, "packets-received") >= i - 10);
  fail_unless (gst_structure_get_int64 (s, "packets-lost", &lost));
  fail_unless_equals_int (lost, 5);
  fail_unless (stats_uint64 (s, "packets-sent") >= 40);
  fail_unless_equals_int (stats_uint64 (s, "packets-rejected"), 0);
  fail_unless (gst_structure_get_int (s, "round-trip", &rtt));
  fail_unless (rtt >= 0);
  gst_message_unref (msg);

  /* still readable after the call */
  stats = get_stats (c.src);
  fail_unless (gst_structure_get_int64 (stats, "packets-lost", &lost));
  fail_unless_equals_int (lost, 5);
  gst_structure_free (stats);
  stop_pipeline (&c);
}

GST_END_TEST;

/* the CNAME the RTP session holds for the caller's SSRC, NULL if none */
static gchar *
caller_cname (Call * c)
{
  GObject *session = test_internal_session (c->src), *source = NULL;
  GstStructure *sdes = NULL;
  gchar *cname = NULL;

  fail_unless (session != NULL);
  g_signal_emit_by_name (session, "get-source-by-ssrc", c->uac->rtp_ssrc,
      &source);
  if (source) {
    g_object_get (source, "sdes", &sdes, NULL);
    if (sdes)
      cname = g_strdup (gst_structure_get_string (sdes, "cname"));
    g_clear_pointer (&sdes, gst_structure_free);
    g_object_unref (source);
  }
  g_object_unref (session);
  return cname;
}

/* RR + SDES with CNAME @cname and, with @bad_priv, a PRIV item whose
 * prefix length overruns it (and no null item): GStreamer 1.22's rtpsession
 * would read past the datagram; sipsrc drops such RTCP before rtpbin */
static void
send_sdes (Call * c, const gchar * cname, gboolean bad_priv)
{
  guint8 pkt[64] = { 0x80, 201, 0, 1 };
  gsize n = strlen (cname), sdes_len;

  GST_WRITE_UINT32_BE (pkt + 4, c->uac->rtp_ssrc);
  pkt[8] = 0x81;
  pkt[9] = 202;
  GST_WRITE_UINT32_BE (pkt + 12, c->uac->rtp_ssrc);
  pkt[16] = 1;
  pkt[17] = n;
  memcpy (pkt + 18, cname, n);
  sdes_len = 10 + n;
  if (bad_priv) {
    /* PRIV of length 1 saying its prefix is 2 long, then non-zero bytes */
    memcpy (pkt + 8 + sdes_len, "\x08\x01\x02" "AAAAA", 8);
    sdes_len += 8;
  } else {
    pkt[8 + sdes_len++] = 0;
  }
  sdes_len = (sdes_len + 3) & ~3;
  GST_WRITE_UINT16_BE (pkt + 10, sdes_len / 4 - 1);
  test_uac_send_rtcp (c->uac, pkt, 8 + sdes_len);
}

GST_START_TEST (test_media_rtcp_malformed_sdes)
{
  Call c = { 0 };
  gchar *cname = NULL;
  gint64 end;

  start_pipeline (&c, "sipsrc name=src host=127.0.0.1 port=0 ! "
      "fakesink async=false");
  place_call_full (&c, TRUE);
  /* the caller's RTP is latched, its RTCP is accepted */
  for (guint i = 0; i < 5; i++) {
    test_uac_send_pcmu (c.uac, CALLER_VALUE);
    g_usleep (20000);
  }

  send_sdes (&c, "evil", TRUE);
  send_sdes (&c, "good", FALSE);
  end = g_get_monotonic_time () + 3 * G_USEC_PER_SEC;
  while (!cname && g_get_monotonic_time () < end) {
    g_usleep (20000);
    cname = caller_cname (&c);
  }
  /* the malformed compound came first and was dropped whole */
  fail_unless_equals_string (cname, "good");
  g_free (cname);
  send_sdes (&c, "evil", TRUE);
  g_usleep (200000);
  cname = caller_cname (&c);
  fail_unless_equals_string (cname, "good");
  g_free (cname);

  test_uac_send_bye (c.uac);
  fail_unless_equals_int (test_uac_wait_response (c.uac, "BYE", 3000), 200);
  stop_pipeline (&c);
}

GST_END_TEST;

/* the RTP stream sipsink sends, as the caller sees it */
typedef struct
{
  guint n;
  guint silence;
  guint audio;
  guint seq_gaps;
  guint ts_not_forward;
  guint bad_source;
  guint ssrc_changes;
  guint pt_counts[128];         /* packets per payload type */
  guint16 last_seq;
  guint32 last_ts;
  guint32 ssrc;
} Stream;

static void
collect (Call * c, Stream * st, gint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < end) {
    guint8 pkt[2048];
    guint16 from = 0, seq;
    guint32 ts, ssrc;
    gboolean silence = TRUE;
    gssize len = test_uac_recv_rtp (c->uac, pkt, sizeof (pkt), 10, &from);

    if (len < 12)
      continue;
    seq = GST_READ_UINT16_BE (pkt + 2);
    ts = GST_READ_UINT32_BE (pkt + 4);
    ssrc = GST_READ_UINT32_BE (pkt + 8);
    if (from != c->uac->remote_rtp_port)
      st->bad_source++;
    st->pt_counts[pkt[1] & 0x7f]++;
    for (gssize i = 12; i < len; i++)
      silence = silence && pkt[i] == 0xff;
    if (len == 172 && silence)
      st->silence++;
    else
      st->audio++;
    if (st->n > 0) {
      if (seq != (guint16) (st->last_seq + 1))
        st->seq_gaps++;
      if ((gint32) (ts - st->last_ts) <= 0)
        st->ts_not_forward++;
      if (ssrc != st->ssrc)
        st->ssrc_changes++;
    }
    st->last_seq = seq;
    st->last_ts = ts;
    st->ssrc = ssrc;
    st->n++;
  }
}

/* sums the duration of the audio that passed the valve */
static GstPadProbeReturn
count_passed (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);

  if (GST_BUFFER_DURATION_IS_VALID (buf))
    g_atomic_pointer_add ((gsize *) user_data, GST_BUFFER_DURATION (buf));
  return GST_PAD_PROBE_OK;
}

static GstClockTime
pipeline_latency (GstElement * pipeline)
{
  GstQuery *q = gst_query_new_latency ();
  GstClockTime min = 0;

  if (gst_element_query (pipeline, q))
    gst_query_parse_latency (q, NULL, &min, NULL);
  gst_query_unref (q);
  return GST_CLOCK_TIME_IS_VALID (min) ? min : 0;
}

/* A caller that mapped PCMU to a dynamic payload type gets every packet,
 * audio and silence, with that type (RFC 3264 6.1) */
GST_START_TEST (test_media_dynamic_pcmu_sent)
{
  Call c = { 0 };
  Stream st = { 0 };
  GstMessage *msg;
  GstElement *valve;

  start_pipeline (&c, "sipsrc name=src host=127.0.0.1 port=0 ! "
      "fakesink async=false audiotestsrc is-live=true wave=sine ! "
      "valve name=v ! sipsink name=sink send-silence=true");
  c.uac = test_uac_new (test_bound_port (c.src));
  test_uac_send_invite_offer (c.uac, 96, -1);
  fail_unless_equals_int (test_uac_wait_final (c.uac, 5000), 200);
  fail_unless_equals_int (c.uac->remote_pcmu_pt, 96);
  test_uac_send_ack (c.uac);
  msg = test_wait_element_message (c.bus, "sip-call-answered", 2000);
  fail_unless (msg != NULL, "call not answered");
  gst_message_unref (msg);

  /* audio, then silence */
  collect (&c, &st, 600);
  valve = gst_bin_get_by_name (GST_BIN (c.pipeline), "v");
  g_object_set (valve, "drop", TRUE, NULL);
  gst_object_unref (valve);
  collect (&c, &st, 800);
  fail_unless (st.audio >= 10, "%u audio packets", st.audio);
  fail_unless (st.silence >= 10, "%u silence packets", st.silence);
  fail_unless_equals_int (st.pt_counts[96], st.n);
  stop_pipeline (&c);
}

GST_END_TEST;

/* While the bot says nothing, sipsink sends silence; audio and silence
 * make one stream (sequence numbers without gaps, timestamps forward, one
 * SSRC); nothing while on hold. */
GST_START_TEST (test_media_silence)
{
  Call c = { 0 };
  Stream st = { 0 }, held = { 0 };
  GstElement *valve;
  GstPad *valve_src;
  gsize passed = 0;
  GstClockTime latency;
  guint audio, produced;
  gint64 closed, stop_by;

  start_pipeline (&c, "sipsrc name=src host=127.0.0.1 port=0 ! "
      "fakesink async=false audiotestsrc is-live=true wave=sine ! "
      "valve name=v drop=true ! sipsink name=sink send-silence=true");
  valve = gst_bin_get_by_name (GST_BIN (c.pipeline), "v");
  valve_src = gst_element_get_static_pad (valve, "src");
  gst_pad_add_probe (valve_src, GST_PAD_PROBE_TYPE_BUFFER, count_passed,
      &passed, NULL);
  place_call (&c);

  /* no audio at all yet: silence, paced */
  collect (&c, &st, 500);
  fail_unless (st.silence >= 8 && st.silence <= 35, "%u silence packets",
      st.silence);
  fail_unless_equals_int (st.audio, 0);

  /* the bot speaks */
  g_object_set (valve, "drop", FALSE, NULL);
  collect (&c, &st, 500);
  fail_unless (st.audio >= 10, "%u audio packets", st.audio);

  /* and is silent again: what is still in flight (in sipsink's queue and
   * payloader, paced by its clock-synced udpsink) comes out within the
   * pipeline's latency plus scheduling (a slow ASan build on a loaded
   * machine needs it), then silence only */
  g_object_set (valve, "drop", TRUE, NULL);
  closed = g_get_monotonic_time ();
  latency = pipeline_latency (c.pipeline);
  stop_by = closed + (gint64) (latency / GST_USECOND) + G_USEC_PER_SEC;
  do {
    audio = st.audio;
    collect (&c, &st, 200);
  } while (st.audio > audio && g_get_monotonic_time () < stop_by);
  fail_unless (st.audio == audio, "audio still sent %" G_GINT64_FORMAT
      " ms after the valve closed (latency %" GST_TIME_FORMAT ")",
      (g_get_monotonic_time () - closed) / 1000, GST_TIME_ARGS (latency));
  st.silence = 0;
  collect (&c, &st, 400);
  fail_unless (st.silence >= 10, "%u silence packets after the audio",
      st.silence);
  fail_unless_equals_int (st.audio, audio);
  /* and everything sent as audio is audio that passed the valve (20 ms
   * per packet; the last partial one waits in the payloader): none is
   * repeated or made up around the silence */
  produced = (g_atomic_pointer_get (&passed) + 20 * GST_MSECOND - 1) /
      (20 * GST_MSECOND);
  GST_INFO ("%u audio packets sent, %u produced, latency %" GST_TIME_FORMAT,
      st.audio, produced, GST_TIME_ARGS (latency));
  fail_unless (st.audio <= produced, "%u audio packets sent, %u produced",
      st.audio, produced);

  fail_unless_equals_int (st.seq_gaps, 0);
  fail_unless_equals_int (st.ts_not_forward, 0);
  fail_unless_equals_int (st.ssrc_changes, 0);
  fail_unless_equals_int (st.bad_source, 0);

  /* on hold: nothing */
  fail_unless_equals_int (test_uac_reinvite (c.uac, "sendonly"), 200);
  collect (&c, &held, 100);
  memset (&held, 0, sizeof (held));
  collect (&c, &held, 400);
  fail_unless_equals_int (held.n, 0);

  test_uac_send_bye (c.uac);
  fail_unless_equals_int (test_uac_wait_response (c.uac, "BYE", 3000), 200);
  gst_object_unref (valve_src);
  gst_object_unref (valve);
  stop_pipeline (&c);
}

GST_END_TEST;

GST_START_TEST (test_media_no_silence)
{
  Call c = { 0 };
  Stream st = { 0 };
  gboolean send_silence = FALSE;

  start_pipeline (&c, "sipsrc name=src host=127.0.0.1 port=0 ! "
      "fakesink async=false audiotestsrc is-live=true wave=sine ! "
      "valve drop=true ! sipsink name=sink send-silence=false");
  g_object_get (c.sink, "send-silence", &send_silence, NULL);
  fail_if (send_silence);
  place_call (&c);
  collect (&c, &st, 400);
  fail_unless_equals_int (st.n, 0);
  test_uac_send_bye (c.uac);
  fail_unless_equals_int (test_uac_wait_response (c.uac, "BYE", 3000), 200);
  stop_pipeline (&c);
}

GST_END_TEST;

/* With shared-threads, an element after sipsrc that waits (here a sink
 * synchronized to the clock, 300 ms of latency) holds the thread that
 * receives every call's RTP: sipsrc says so with a warning on the bus. With
 * its own threads nothing is reported. */
GST_START_TEST (test_media_shared_thread_stall_warning)
{
  Call c = { 0 };
  GstMessage *msg;
  GError *err = NULL;
  gchar *debug = NULL;

  start_pipeline (&c, "sipsrc name=src host=127.0.0.1 port=0 latency=300 ! "
      "fakesink sync=true");
  place_call (&c);
  for (guint i = 0; i < 10; i++) {
    test_uac_send_pcmu (c.uac, 0x9a);
    g_usleep (20000);
  }
  msg = gst_bus_timed_pop_filtered (c.bus, 2 * GST_SECOND,
      GST_MESSAGE_WARNING);
  if (!test_shared_threads ()) {
    fail_unless (msg == NULL, "a warning with the element's own threads");
  } else {
    fail_unless (msg != NULL, "no warning about the held thread");
    gst_message_parse_warning (msg, &err, &debug);
    fail_unless (g_str_has_prefix (err->message, "Downstream of src held "
            "a receive thread shared by all calls"), "%s", err->message);
    g_clear_error (&err);
    g_free (debug);
  }
  g_clear_pointer (&msg, gst_message_unref);
  stop_pipeline (&c);
}

GST_END_TEST;

static Suite *
media_suite (void)
{
  Suite *s = suite_create ("media");
  TCase *tc = tcase_create ("general");

  g_test_log_set_fatal_handler (test_fatal_log_handler, NULL);
  tcase_set_timeout (tc, 30);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_media_properties);
  tcase_add_test (tc, test_media_stranger);
  tcase_add_test (tc, test_media_latch_nat);
  tcase_add_test (tc, test_media_latch_sdp_wins);
  tcase_add_test (tc, test_media_latch_off);
  tcase_add_test (tc, test_media_latch_same_ip);
  tcase_add_test (tc, test_media_latch_rearm);
  tcase_add_test (tc, test_media_foreign_payload);
  tcase_add_test (tc, test_media_timeout);
  tcase_add_test (tc, test_media_timeout_hold);
  tcase_add_test (tc, test_media_max_duration);
  tcase_add_test (tc, test_media_stats);
  tcase_add_test (tc, test_media_rtcp_malformed_sdes);
  tcase_add_test (tc, test_media_silence);
  tcase_add_test (tc, test_media_dynamic_pcmu_sent);
  tcase_add_test (tc, test_media_no_silence);
  tcase_add_test (tc, test_media_shared_thread_stall_warning);
  return s;
}

GST_CHECK_MAIN (media);
