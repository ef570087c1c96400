/* gst-sip tests: sipsrc, with real SIP and RTP over UDP loopback
 * Copyright (C) 2026 The gst-sip authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include <sip.h>

#include "testuac.h"
#include "testutil.h"

/* G.711 mu-law to linear, as in ITU-T G.711 */
static gint16
ulaw_decode (guint8 u)
{
  gint sample, exponent, mantissa;

  u = ~u;
  exponent = (u >> 4) & 0x07;
  mantissa = u & 0x0f;
  sample = (((mantissa << 3) + 0x84) << exponent) - 0x84;
  return (u & 0x80) ? -sample : sample;
}

/* a harness around a sipsrc listening on a free port, playing */
static GstHarness *
start_sipsrc (GstBus ** bus, guint * port)
{
  GstHarness *h = gst_harness_new_with_padnames ("sipsrc", NULL, "src");

  test_apply_mode (h->element);
  gst_harness_use_systemclock (h);
  g_object_set (h->element, "host", "127.0.0.1", "port", 0, "latency", 40,
      NULL);
  *bus = gst_bus_new ();
  gst_element_set_bus (h->element, *bus);
  gst_harness_play (h);
  *port = test_bound_port (h->element);
  fail_unless (*port > 0, "sipsrc does not listen");
  return h;
}

static void
stop_sipsrc (GstHarness * h, GstBus * bus)
{
  gst_harness_teardown (h);
  gst_object_unref (bus);
}

/* calls offering PCMU as @pcmu_pt and telephone-event as @te_pt (-1:
 * none) and checks that the call is answered */
static TestUac *
call_sipsrc_offer (GstBus * bus, guint port, guint pcmu_pt, gint te_pt)
{
  TestUac *uac = test_uac_new (port);
  GstMessage *msg;

  test_uac_send_invite_offer (uac, pcmu_pt, te_pt);
  fail_unless_equals_int (test_uac_wait_final (uac, 5000), 200);
  test_uac_send_ack (uac);

  msg = test_wait_element_message (bus, "sip-call-incoming", 2000);
  fail_unless (msg != NULL, "no sip-call-incoming message");
  fail_unless_equals_string (gst_structure_get_string
      (gst_message_get_structure (msg), "call-id"), uac->call_id);
  gst_message_unref (msg);
  msg = test_wait_element_message (bus, "sip-call-answered", 2000);
  fail_unless (msg != NULL, "no sip-call-answered message");
  gst_message_unref (msg);
  return uac;
}

static TestUac *
call_sipsrc (GstBus * bus, guint port, gboolean dtmf)
{
  return call_sipsrc_offer (bus, port, 0, dtmf ? 101 : -1);
}

/* no error was posted; the caller hangs up and everything is freed */
static void
hang_up_cleanly (GstHarness * h, GstBus * bus, TestUac * uac)
{
  GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);

  fail_unless (msg == NULL, "error: %" GST_PTR_FORMAT, msg);
  test_uac_send_bye (uac);
  fail_unless_equals_int (test_uac_wait_response (uac, "BYE", 3000), 200);
  test_uac_free (uac);
  stop_sipsrc (h, bus);
}

static gboolean
pull_until_eos (GstHarness * h, gint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (g_get_monotonic_time () < end) {
    GstEvent *ev;
    GstBuffer *buf;

    while ((buf = gst_harness_try_pull (h)))
      gst_buffer_unref (buf);
    while ((ev = gst_harness_try_pull_event (h))) {
      gboolean eos = GST_EVENT_TYPE (ev) == GST_EVENT_EOS;

      gst_event_unref (ev);
      if (eos)
        return TRUE;
    }
    g_usleep (10000);
  }
  return FALSE;
}

GST_START_TEST (test_sipsrc_properties)
{
  GstElement *src = gst_element_factory_make ("sipsrc", NULL);
  gchar *host, *range, *public_address, *allowed, *call_id, *from, *to, *remote;
  guint port, latency, bound;
  gboolean auto_answer;
  GObject *call;
  GstPad *pad;
  GstCaps *caps, *expected;

  fail_unless (src != NULL);
  fail_unless (GST_OBJECT_FLAG_IS_SET (src, GST_ELEMENT_FLAG_SOURCE));
  fail_if (GST_OBJECT_FLAG_IS_SET (src, GST_ELEMENT_FLAG_SINK));

  g_object_get (src, "host", &host, "port", &port, "rtp-port-range", &range,
      "public-address", &public_address, "latency", &latency,
      "allowed-sources", &allowed, "auto-answer", &auto_answer, "call", &call,
      "call-id", &call_id, "from", &from, "to", &to, "remote-address", &remote,
      "bound-port", &bound, NULL);
  fail_unless (host == NULL);
  fail_unless_equals_int (port, 6060);
  fail_unless_equals_string (range, "10000-15000");
  fail_unless (public_address == NULL);
  fail_unless_equals_int (latency, 60);
  fail_unless (allowed == NULL);
  fail_unless (auto_answer);
  fail_unless (call == NULL);
  fail_unless (call_id == NULL && from == NULL && to == NULL && remote == NULL);
  fail_unless_equals_int (bound, 0);
  g_free (range);

  g_object_set (src, "host", "127.0.0.1", "port", 5070, "rtp-port-range",
      "20000-20100", "public-address", "203.0.113.5", "latency", 40,
      "allowed-sources", "127.0.0.0/8,::1/128", "auto-answer", FALSE, NULL);
  g_object_get (src, "host", &host, "port", &port, "rtp-port-range", &range,
      "public-address", &public_address, "latency", &latency,
      "allowed-sources", &allowed, "auto-answer", &auto_answer, NULL);
  fail_unless_equals_string (host, "127.0.0.1");
  fail_unless_equals_int (port, 5070);
  fail_unless_equals_string (range, "20000-20100");
  fail_unless_equals_string (public_address, "203.0.113.5");
  fail_unless_equals_int (latency, 40);
  fail_unless_equals_string (allowed, "127.0.0.0/8,::1/128");
  fail_if (auto_answer);
  g_free (host);
  g_free (range);
  g_free (public_address);
  g_free (allowed);

  pad = gst_element_get_static_pad (src, "src");
  fail_unless (pad != NULL);
  caps = gst_pad_query_caps (pad, NULL);
  expected = gst_caps_from_string ("audio/x-raw,format=S16LE,rate=8000,"
      "channels=1,layout=interleaved");
  fail_unless (gst_caps_is_equal (caps, expected));
  gst_caps_unref (caps);
  gst_caps_unref (expected);
  gst_object_unref (pad);

  gst_object_unref (src);
}

GST_END_TEST;

GST_START_TEST (test_sipsrc_call_audio)
{
  GstBus *bus;
  guint port, got = 0, matching = 0;
  GstHarness *h = start_sipsrc (&bus, &port);
  TestUac *uac = call_sipsrc (bus, port, FALSE);
  const guint8 value = 0x9a;
  const gint16 expected = ulaw_decode (value);
  gint64 end;
  gchar *call_id, *remote, *want;
  GstCaps *caps, *want_caps;
  GstMessage *msg;

  g_object_get (h->element, "call-id", &call_id, "remote-address", &remote,
      NULL);
  fail_unless_equals_string (call_id, uac->call_id);
  want = g_strdup_printf ("127.0.0.1:%u", uac->rtp_port);
  fail_unless_equals_string (remote, want);
  g_free (want);
  g_free (call_id);
  g_free (remote);

  /* 1 s of audio, paced like a phone */
  for (guint i = 0; i < 50; i++) {
    test_uac_send_pcmu (uac, value);
    g_usleep (20000);
  }

  end = g_get_monotonic_time () + 3 * G_TIME_SPAN_SECOND;
  while (got < 40 * 160 && g_get_monotonic_time () < end) {
    GstBuffer *buf = gst_harness_try_pull (h);
    GstMapInfo map;

    if (!buf) {
      g_usleep (10000);
      continue;
    }
    gst_buffer_map (buf, &map, GST_MAP_READ);
    for (gsize i = 0; i + 1 < map.size; i += 2) {
      if (GST_READ_UINT16_LE (map.data + i) == (guint16) expected)
        matching++;
    }
    got += map.size / 2;
    gst_buffer_unmap (buf, &map);
    gst_buffer_unref (buf);
  }
  fail_unless (got >= 40 * 160, "only %u samples came out", got);
  fail_unless (matching >= 40 * 160, "only %u samples decoded right", matching);

  caps = gst_pad_get_current_caps (h->sinkpad);
  want_caps = gst_caps_from_string ("audio/x-raw,format=S16LE,rate=8000,"
      "channels=1,layout=interleaved");
  fail_unless (caps && gst_caps_can_intersect (caps, want_caps));
  gst_caps_unref (caps);
  gst_caps_unref (want_caps);

  /* the caller hangs up: EOS */
  test_uac_send_bye (uac);
  fail_unless_equals_int (test_uac_wait_response (uac, "BYE", 3000), 200);
  msg = test_wait_element_message (bus, "sip-call-ended", 3000);
  fail_unless (msg != NULL, "no sip-call-ended");
  fail_unless_equals_string (gst_structure_get_string
      (gst_message_get_structure (msg), "reason"), "remote-bye");
  gst_message_unref (msg);
  fail_unless (pull_until_eos (h, 3000), "no EOS after BYE");

  test_uac_free (uac);
  stop_sipsrc (h, bus);
}

GST_END_TEST;

GST_START_TEST (test_sipsrc_eos_without_rtp)
{
  GstBus *bus;
  guint port;
  GstHarness *h = start_sipsrc (&bus, &port);
  TestUac *uac = call_sipsrc (bus, port, FALSE);
  GstCaps *caps;

  test_uac_send_bye (uac);
  fail_unless_equals_int (test_uac_wait_response (uac, "BYE", 3000), 200);
  fail_unless (pull_until_eos (h, 3000), "no EOS after BYE");
  /* a valid stream for muxers even without audio */
  caps = gst_pad_get_current_caps (h->sinkpad);
  fail_unless (caps != NULL, "no caps before EOS");
  gst_caps_unref (caps);

  test_uac_free (uac);
  stop_sipsrc (h, bus);
}

GST_END_TEST;

GST_START_TEST (test_sipsrc_busy)
{
  GstBus *bus;
  guint port;
  GstHarness *h = start_sipsrc (&bus, &port);
  TestUac *uac = call_sipsrc (bus, port, FALSE);
  TestUac *second = test_uac_new (port);

  test_uac_send_invite (second, FALSE);
  fail_unless_equals_int (test_uac_wait_final (second, 5000), 486);
  test_uac_free (second);

  test_uac_send_bye (uac);
  fail_unless_equals_int (test_uac_wait_response (uac, "BYE", 3000), 200);
  test_uac_free (uac);
  stop_sipsrc (h, bus);
}

GST_END_TEST;

/* invite-rate-limit reaches sipsrc's agent, at start and while playing */
GST_START_TEST (test_sipsrc_invite_rate_limit)
{
  GstHarness *h = gst_harness_new_with_padnames ("sipsrc", NULL, "src");
  GstBus *bus = gst_bus_new ();
  TestUac *uac1, *uac2, *uac3;
  GstMessage *msg;
  guint port, limit;

  g_object_get (h->element, "invite-rate-limit", &limit, NULL);
  fail_unless_equals_int (limit, 10);

  test_apply_mode (h->element);
  gst_harness_use_systemclock (h);
  g_object_set (h->element, "host", "127.0.0.1", "port", 0, "latency", 40,
      "invite-rate-limit", 1, NULL);
  gst_element_set_bus (h->element, bus);
  gst_harness_play (h);
  port = test_bound_port (h->element);
  fail_unless (port > 0, "sipsrc does not listen");

  /* two new INVITEs from 127.0.0.1 at once: the second is over 1/s */
  uac1 = test_uac_new (port);
  uac2 = test_uac_new (port);
  test_uac_send_invite (uac1, FALSE);
  test_uac_send_invite (uac2, FALSE);
  fail_unless_equals_int (test_uac_wait_final (uac2, 5000), 503);
  fail_unless_equals_int (test_uac_wait_final (uac1, 5000), 200);
  test_uac_send_ack (uac1);
  msg = test_wait_element_message (bus, "sip-call-answered", 2000);
  fail_unless (msg != NULL, "no sip-call-answered message");
  gst_message_unref (msg);

  /* no limit: the next INVITE gets past it to max-calls (486) */
  g_object_set (h->element, "invite-rate-limit", 0, NULL);
  g_object_get (h->element, "invite-rate-limit", &limit, NULL);
  fail_unless_equals_int (limit, 0);
  uac3 = test_uac_new (port);
  test_uac_send_invite (uac3, FALSE);
  fail_unless_equals_int (test_uac_wait_final (uac3, 5000), 486);

  test_uac_send_bye (uac1);
  fail_unless_equals_int (test_uac_wait_response (uac1, "BYE", 3000), 200);
  test_uac_free (uac3);
  test_uac_free (uac2);
  test_uac_free (uac1);
  stop_sipsrc (h, bus);
}

GST_END_TEST;

/* RFC 4733: key @key held for 80 ms on payload type @pt, three updates,
 * then the end packet three times; the event's timestamp is the audio's at
 * its start */
static void
send_key (TestUac * uac, guint8 pt, guint8 key)
{
  guint32 ts = uac->rtp_ts;
  guint8 ev[4];

  for (guint i = 0; i < 6; i++) {
    guint16 dur = MIN (i + 1, 4) * 160;

    ev[0] = key;
    ev[1] = (i >= 3 ? 0x80 : 0) | 10;
    ev[2] = dur >> 8;
    ev[3] = dur & 0xff;
    test_uac_send_rtp (uac, pt, i == 0, ts, ev, 4);
    g_usleep (20000);
  }
  uac->rtp_ts += 6 * 160;
}

GST_START_TEST (test_sipsrc_dtmf)
{
  GstBus *bus;
  guint port;
  GstHarness *h = start_sipsrc (&bus, &port);
  TestUac *uac = call_sipsrc (bus, port, TRUE);
  GstMessage *msg;
  const GstStructure *s;
  gint number = -1;
  guint duration = 0;

  fail_unless_equals_int (uac->remote_te_pt, 101);
  for (guint i = 0; i < 10; i++) {
    test_uac_send_pcmu (uac, 0xff);
    g_usleep (20000);
  }
  send_key (uac, 101, 5);

  msg = test_wait_element_message (bus, "sip-dtmf", 3000);
  fail_unless (msg != NULL, "no sip-dtmf message");
  s = gst_message_get_structure (msg);
  fail_unless_equals_string (gst_structure_get_string (s, "digit"), "5");
  fail_unless (gst_structure_get_int (s, "number", &number));
  fail_unless_equals_int (number, 5);
  fail_unless (gst_structure_get_uint (s, "duration", &duration));
  fail_unless_equals_int (duration, 80);
  fail_unless_equals_string (gst_structure_get_string (s, "call-id"),
      uac->call_id);
  gst_message_unref (msg);
  /* the end packet came three times, the digit once */
  fail_unless (test_wait_element_message (bus, "sip-dtmf", 300) == NULL);

  test_uac_send_bye (uac);
  fail_unless_equals_int (test_uac_wait_response (uac, "BYE", 3000), 200);
  test_uac_free (uac);
  stop_sipsrc (h, bus);
}

GST_END_TEST;

GST_START_TEST (test_sipsrc_port_in_use)
{
  GSocket *sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
      G_SOCKET_PROTOCOL_UDP, NULL);
  GInetAddress *any = g_inet_address_new_any (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *addr = g_inet_socket_address_new (any, 0), *bound;
  GstElement *src = gst_element_factory_make ("sipsrc", NULL);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;
  guint port;

  fail_unless (g_socket_bind (sock, addr, FALSE, NULL));
  bound = g_socket_get_local_address (sock, NULL);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));

  gst_element_set_bus (src, bus);
  g_object_set (src, "port", port, NULL);
  fail_unless_equals_int (gst_element_set_state (src, GST_STATE_READY),
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no error message");
  gst_message_parse_error (msg, &err, NULL);
  fail_unless (g_error_matches (err, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_OPEN_READ), "unexpected error %s", err->message);
  GST_INFO ("error: %s", err->message);
  fail_unless (strstr (err->message, "port") != NULL);
  g_error_free (err);
  gst_message_unref (msg);

  gst_element_set_state (src, GST_STATE_NULL);
  gst_object_unref (src);
  gst_object_unref (bus);
  g_object_unref (bound);
  g_object_unref (addr);
  g_object_unref (any);
  g_object_unref (sock);
}

GST_END_TEST;

GST_START_TEST (test_sipsrc_bad_range)
{
  GstElement *src = gst_element_factory_make ("sipsrc", NULL);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;

  gst_element_set_bus (src, bus);
  g_object_set (src, "host", "127.0.0.1", "port", 0, "rtp-port-range",
      "15000-nonsense", NULL);
  fail_unless_equals_int (gst_element_set_state (src, GST_STATE_READY),
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no error message");
  gst_message_parse_error (msg, &err, NULL);
  fail_unless (g_error_matches (err, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_SETTINGS), "unexpected error %s", err->message);
  g_error_free (err);
  gst_message_unref (msg);

  gst_element_set_state (src, GST_STATE_NULL);
  gst_object_unref (src);
  gst_object_unref (bus);
}

GST_END_TEST;

/* a WAV recording finished by the caller's BYE */
GST_START_TEST (test_sipsrc_recording)
{
  gchar *dir = g_dir_make_tmp ("gst-sip-XXXXXX", NULL);
  gchar *path = g_build_filename (dir, "call.wav", NULL);
  gchar *desc = g_strdup_printf ("sipsrc name=src host=127.0.0.1 port=0 ! "
      "audioconvert ! wavenc ! filesink location=\"%s\"", path);
  GstElement *pipeline = gst_parse_launch (desc, NULL);
  GstElement *src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  GstBus *bus = gst_element_get_bus (pipeline);
  gchar *contents = NULL;
  gsize len = 0;
  TestUac *uac;

  fail_unless (pipeline != NULL);
  test_apply_mode (pipeline);
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  uac = call_sipsrc (bus, test_bound_port (src), FALSE);
  for (guint i = 0; i < 50; i++) {
    test_uac_send_pcmu (uac, 0x9a);
    g_usleep (20000);
  }
  test_uac_send_bye (uac);
  fail_unless_equals_int (test_uac_wait_response (uac, "BYE", 3000), 200);
  fail_unless (test_wait_eos (bus, 5000), "no EOS after BYE");
  gst_element_set_state (pipeline, GST_STATE_NULL);

  fail_unless (g_file_get_contents (path, &contents, &len, NULL));
  fail_unless (len > 44);
  fail_unless (memcmp (contents, "RIFF", 4) == 0);
  fail_unless (memcmp (contents + 8, "WAVE", 4) == 0);
  /* a finished header: the RIFF size covers the file */
  fail_unless_equals_int (GST_READ_UINT32_LE (contents + 4), len - 8);
  /* most of the second of audio is there */
  fail_unless (len - 44 >= 40 * 320, "only %zu bytes recorded", len - 44);

  g_free (contents);
  test_uac_free (uac);
  gst_object_unref (bus);
  gst_object_unref (src);
  gst_object_unref (pipeline);
  g_unlink (path);
  g_rmdir (dir);
  g_free (desc);
  g_free (path);
  g_free (dir);
}

GST_END_TEST;

/* pulls the audio that is there, counting the samples equal to @a and @b;
 * returns how many samples came */
static guint
count_samples (GstHarness * h, gint16 a, guint * n_a, gint16 b, guint * n_b)
{
  GstBuffer *buf;
  guint got = 0;

  while ((buf = gst_harness_try_pull (h))) {
    GstMapInfo map;

    gst_buffer_map (buf, &map, GST_MAP_READ);
    for (gsize i = 0; i + 1 < map.size; i += 2) {
      gint16 v = (gint16) GST_READ_UINT16_LE (map.data + i);

      if (v == a)
        (*n_a)++;
      else if (v == b)
        (*n_b)++;
    }
    got += map.size / 2;
    gst_buffer_unmap (buf, &map);
    gst_buffer_unref (buf);
  }
  return got;
}

/* pulls audio until @n samples came, counting those equal to @a and @b */
static guint
pull_samples (GstHarness * h, guint n, gint16 a, guint * n_a, gint16 b,
    guint * n_b)
{
  gint64 end = g_get_monotonic_time () + 3 * G_TIME_SPAN_SECOND;
  guint got = 0;

  while (got < n && g_get_monotonic_time () < end) {
    guint more = count_samples (h, a, n_a, b, n_b);

    if (!more)
      g_usleep (10000);
    got += more;
  }
  return got;
}

/* the caller changes its SSRC mid-call (trunks do): audio keeps flowing */
GST_START_TEST (test_sipsrc_ssrc_change)
{
  GstBus *bus;
  guint port, n_a = 0, n_b = 0;
  GstHarness *h = start_sipsrc (&bus, &port);
  TestUac *uac = call_sipsrc (bus, port, FALSE);

  /* the first stream plays until its audio comes out: setting up its
   * decoding chain takes a while in an ASan build on a loaded machine */
  for (guint i = 0; i < 250 && n_a < 20 * 160; i++) {
    test_uac_send_pcmu (uac, 0x9a);
    g_usleep (20000);
    count_samples (h, ulaw_decode (0x9a), &n_a, ulaw_decode (0xb5), &n_b);
  }
  fail_unless (n_a >= 20 * 160, "first SSRC: %u samples", n_a);
  /* a new stream: other SSRC, sequence numbers and timestamps */
  uac->rtp_ssrc ^= 0x5a5a5a5a;
  uac->rtp_seq += 20000;
  uac->rtp_ts += 1000000;
  for (guint i = 0; i < 25; i++) {
    test_uac_send_pcmu (uac, 0xb5);
    g_usleep (20000);
  }
  pull_samples (h, 25 * 160, ulaw_decode (0x9a), &n_a, ulaw_decode (0xb5),
      &n_b);
  fail_unless (n_b >= 20 * 160, "second SSRC: %u samples", n_b);

  test_uac_send_bye (uac);
  fail_unless_equals_int (test_uac_wait_response (uac, "BYE", 3000), 200);
  fail_unless (pull_until_eos (h, 3000), "no EOS after BYE");
  test_uac_free (uac);
  stop_sipsrc (h, bus);
}

GST_END_TEST;

static void
count_jitterbuffer (GstElement * rtpbin, GstElement * jitterbuffer,
    guint session, guint ssrc, gint * count)
{
  g_atomic_int_inc (count);
}

/* a caller spraying SSRCs gets at most 16 streams (each a jitter buffer
 * with its thread and a decoder) */
GST_START_TEST (test_sipsrc_max_streams)
{
  GstBus *bus;
  guint port;
  GstHarness *h = start_sipsrc (&bus, &port);
  GstElement *rtpbin = gst_bin_get_by_name (GST_BIN (h->element), "rtpbin");
  TestUac *uac = call_sipsrc (bus, port, FALSE);
  gint streams = 0;

  if (test_shared_threads ()) {
    /* no jitter buffer nor decoder per SSRC there: nothing to count */
    test_uac_free (uac);
    stop_sipsrc (h, bus);
    return;
  }
  fail_unless (rtpbin != NULL);
  g_signal_connect (rtpbin, "new-jitterbuffer",
      G_CALLBACK (count_jitterbuffer), &streams);
  for (guint i = 0; i < 40; i++) {
    uac->rtp_ssrc += 0x01010101;
    uac->rtp_seq += 1000;
    for (guint j = 0; j < 3; j++) {
      test_uac_send_pcmu (uac, 0x9a);
      g_usleep (2000);
    }
  }
  g_usleep (500000);
  fail_unless (g_atomic_int_get (&streams) >= 2, "%d streams", streams);
  fail_unless (g_atomic_int_get (&streams) <= 16, "%d streams", streams);

  test_uac_send_bye (uac);
  fail_unless_equals_int (test_uac_wait_response (uac, "BYE", 3000), 200);
  test_uac_free (uac);
  g_signal_handlers_disconnect_by_func (rtpbin, count_jitterbuffer, &streams);
  gst_object_unref (rtpbin);
  stop_sipsrc (h, bus);
}

GST_END_TEST;

/* payload types other than PCMU and the negotiated telephone-event are
 * dropped before rtpbin, without an error */
GST_START_TEST (test_sipsrc_foreign_payload)
{
  GstBus *bus;
  guint port, n_a = 0, n_b = 0;
  GstHarness *h = start_sipsrc (&bus, &port);
  TestUac *uac = call_sipsrc (bus, port, FALSE);
  guint8 payload[160];

  memset (payload, 0x55, sizeof (payload));
  for (guint i = 0; i < 30; i++) {
    if (i % 3 == 1) {
      /* PCMA, not negotiated */
      test_uac_send_rtp (uac, 8, FALSE, uac->rtp_ts, payload, 160);
      uac->rtp_ts += 160;
    } else {
      test_uac_send_pcmu (uac, 0x9a);
    }
    g_usleep (20000);
  }
  pull_samples (h, 15 * 160, ulaw_decode (0x9a), &n_a, 0, &n_b);
  fail_unless (n_a >= 15 * 160, "only %u samples", n_a);
  hang_up_cleanly (h, bus, uac);
}

GST_END_TEST;

/* a caller that maps PCMU to a dynamic payload type (RFC 3551 allows it)
 * is heard on that type; PCMU's static type 0, not negotiated in this
 * call, is dropped like any other; DTMF still works beside it */
GST_START_TEST (test_sipsrc_dynamic_pcmu)
{
  GstBus *bus;
  guint port, n_a = 0, n_b = 0;
  GstHarness *h = start_sipsrc (&bus, &port);
  TestUac *uac = call_sipsrc_offer (bus, port, 96, 97);
  guint8 heard[160], dropped[160];
  GstMessage *msg;

  /* the answer keeps the caller's mapping */
  fail_unless_equals_int (uac->remote_pcmu_pt, 96);
  fail_unless_equals_int (uac->remote_te_pt, 97);

  memset (heard, 0x9a, sizeof (heard));
  memset (dropped, 0x55, sizeof (dropped));
  for (guint i = 0; i < 45; i++) {
    /* every third packet on PT 0, which the caller did not offer */
    test_uac_send_rtp (uac, i % 3 == 1 ? 0 : 96, FALSE, uac->rtp_ts,
        i % 3 == 1 ? dropped : heard, 160);
    uac->rtp_ts += 160;
    g_usleep (20000);
  }
  pull_samples (h, 20 * 160, ulaw_decode (0x9a), &n_a, ulaw_decode (0x55),
      &n_b);
  fail_unless (n_a >= 20 * 160, "only %u samples of PT 96 heard", n_a);
  fail_unless_equals_int (n_b, 0);

  send_key (uac, 97, 7);
  msg = test_wait_element_message (bus, "sip-dtmf", 3000);
  fail_unless (msg != NULL, "no sip-dtmf message");
  fail_unless_equals_string (gst_structure_get_string
      (gst_message_get_structure (msg), "digit"), "7");
  gst_message_unref (msg);
  hang_up_cleanly (h, bus, uac);
}

GST_END_TEST;

static gboolean
take_call (SipAgent * agent, SipCall * call, GAsyncQueue * calls)
{
  g_async_queue_push (calls, g_object_ref (call));
  return TRUE;
}

/* an application runs its own agent and hands the call over: sipsrc and
 * sipsink in pipelines of their own, sipsrc answers */
GST_START_TEST (test_sipsrc_sipsink_call_property)
{
  SipAgent *agent = sip_agent_new ();
  GAsyncQueue *calls = g_async_queue_new_full (g_object_unref);
  GError *err = NULL;
  TestUac *uac;
  SipCall *call;
  GstHarness *h;
  GstBus *bus = gst_bus_new ();
  GstElement *out, *sink;
  guint n_a = 0, n_b = 0, rtp = 0;
  guint8 pkt[2048];
  gint64 end;

  g_object_set (agent, "host", "127.0.0.1", "port", 0, NULL);
  g_signal_connect (agent, "incoming-call", G_CALLBACK (take_call), calls);
  fail_unless (sip_agent_start (agent, &err), "%s", err ? err->message : "");

  uac = test_uac_new (sip_agent_get_bound_port (agent));
  test_uac_send_invite (uac, FALSE);
  call = g_async_queue_timeout_pop (calls, 5 * G_USEC_PER_SEC);
  fail_unless (call != NULL, "no incoming call");

  h = gst_harness_new_with_padnames ("sipsrc", NULL, "src");
  test_apply_mode (h->element);
  gst_harness_use_systemclock (h);
  gst_element_set_bus (h->element, bus);
  g_object_set (h->element, "call", call, NULL);
  out = gst_parse_launch ("audiotestsrc is-live=true wave=sine ! "
      "sipsink name=sink", NULL);
  sink = gst_bin_get_by_name (GST_BIN (out), "sink");
  g_object_set (sink, "call", call, NULL);
  fail_unless (gst_element_set_state (out, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  gst_harness_play (h);
  /* sipsrc runs no agent of its own */
  fail_unless_equals_int (test_bound_port (h->element), 0);

  fail_unless_equals_int (test_uac_wait_final (uac, 5000), 200);
  test_uac_send_ack (uac);

  for (guint i = 0; i < 30; i++) {
    test_uac_send_pcmu (uac, 0x9a);
    g_usleep (20000);
  }
  pull_samples (h, 20 * 160, ulaw_decode (0x9a), &n_a, 0, &n_b);
  fail_unless (n_a >= 20 * 160, "only %u samples", n_a);

  end = g_get_monotonic_time () + 2 * G_TIME_SPAN_SECOND;
  while (rtp < 10 && g_get_monotonic_time () < end) {
    guint16 from = 0;
    gssize len = test_uac_recv_rtp (uac, pkt, sizeof (pkt), 200, &from);

    if (len == 172 && (pkt[1] & 0x7f) == 0 && from == uac->remote_rtp_port)
      rtp++;
  }
  fail_unless (rtp >= 10, "sipsink sent %u packets", rtp);

  /* the caller hangs up: sipsrc ends its stream */
  test_uac_send_bye (uac);
  fail_unless_equals_int (test_uac_wait_response (uac, "BYE", 3000), 200);
  fail_unless (pull_until_eos (h, 3000), "no EOS after BYE");

  gst_element_set_state (out, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (out);
  gst_harness_teardown (h);
  gst_object_unref (bus);
  g_object_unref (call);
  sip_agent_stop (agent);
  g_object_unref (agent);
  g_async_queue_unref (calls);
  test_uac_free (uac);
}

GST_END_TEST;

static Suite *
sipsrc_suite (void)
{
  Suite *s = suite_create ("sipsrc");
  TCase *tc = tcase_create ("general");

  g_test_log_set_fatal_handler (test_fatal_log_handler, NULL);
  tcase_set_timeout (tc, 30);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_sipsrc_properties);
  tcase_add_test (tc, test_sipsrc_call_audio);
  tcase_add_test (tc, test_sipsrc_eos_without_rtp);
  tcase_add_test (tc, test_sipsrc_busy);
  tcase_add_test (tc, test_sipsrc_invite_rate_limit);
  tcase_add_test (tc, test_sipsrc_dtmf);
  tcase_add_test (tc, test_sipsrc_port_in_use);
  tcase_add_test (tc, test_sipsrc_bad_range);
  tcase_add_test (tc, test_sipsrc_recording);
  tcase_add_test (tc, test_sipsrc_ssrc_change);
  tcase_add_test (tc, test_sipsrc_foreign_payload);
  tcase_add_test (tc, test_sipsrc_dynamic_pcmu);
  tcase_add_test (tc, test_sipsrc_max_streams);
  tcase_add_test (tc, test_sipsrc_sipsink_call_property);
  return s;
}

GST_CHECK_MAIN (sipsrc);
