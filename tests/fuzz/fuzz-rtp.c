/* gst-sip: libFuzzer target: a datagram at a call's RTP port
 * Copyright (C) 2026 The gst-sip authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* The real element path, in process: a pipeline "sipsrc ! fakesink" answers
 * one call from a TestUac over loopback (PCMU mapped to the dynamic payload
 * type 96, telephone-event on 101), and each input is pushed, as the call's
 * udpsrc would push a datagram, from its src pad: through sipsrc's RTP
 * filter (RTP check, source check and latching, payload types), rtpbin and
 * its jitter buffer, then, in the jitter buffer's thread, the PCMU decoder
 * or the RFC 4733 telephone-event probe that posts sip-dtmf; or, on the
 * RTCP port, through sipsrc's RTCP filter into rtpbin's session.
 *
 * Input: byte 0 picks the sender (bits 0-1 modulo 3: the caller's SDP address,
 * another port of the caller's IP, another IP) and the port (bit 2: RTCP),
 * byte 1 the SSRC of an RTP packet (one of four: each new SSRC makes rtpbin
 * build a jitter buffer and a thread, which would measure rtpbin, not us);
 * the rest is the datagram. Criticals and error messages are fatal.
 *
 * Built a second time as fuzz-rtp-shared (FUZZ_SHARED_THREADS): sipsrc
 * with shared-threads, each input pushed where the shared receive threads
 * push, then through sipsrc's filters, rtpsession and sipsrc's own PCMU
 * decoder and telephone-event reader, all in the fuzzer's thread. */

#include <gst/gst.h>
#include <gst/net/gstnetaddressmeta.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gstsipelements.h"
#include "testuac.h"

#ifdef FUZZ_SHARED_THREADS
#define SIPSRC_MODE "shared-threads=true "
#else
#define SIPSRC_MODE ""
#endif

static GstElement *pipeline;
/* the src pads of the call's udpsrcs, and the senders, for RTP and RTCP */
static GstPad *pads[2];
static GSocketAddress *senders[2][3];
/* the caller's sockets stay open (nothing else may take its port): the call
 * lives as long as the process */
static TestUac *uac;

static void
fatal_log (const gchar * domain, GLogLevelFlags level, const gchar * message,
    gpointer user_data)
{
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)) {
    fprintf (stderr, "%s: %s\n", domain ? domain : "", message);
    abort ();
  }
}

/* messages (sip-dtmf above all) would pile up on an unread bus; errors are
 * bugs here */
static GstBusSyncReply
drop_message (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    fprintf (stderr, "error message from %s\n", GST_OBJECT_NAME (msg->src));
    abort ();
  }
  return GST_BUS_DROP;
}

static GSocketAddress *
address (const gchar * ip, guint16 port)
{
  GInetAddress *a = g_inet_address_new_from_string (ip);
  GSocketAddress *sa = g_inet_socket_address_new (a, port);

  g_object_unref (a);
  return sa;
}

#ifndef FUZZ_SHARED_THREADS
/* Sends real datagrams from the caller to udpsrc @name until it has pushed
 * its stream-start, caps and segment (the caller's SDP address is latched
 * on the way); returns its src pad. */
static GstPad *
start_udpsrc (GstElement * src, const gchar * name, gboolean rtcp)
{
  /* an RTCP receiver report without report blocks */
  static const guint8 rr[8] = { 0x80, 201, 0, 1, 0x5e, 0xed, 0, 0 };
  gint64 end = g_get_monotonic_time () + 5 * G_TIME_SPAN_SECOND;
  GstElement *udpsrc = NULL;
  GstPad *pad = NULL;

  while (!pad && g_get_monotonic_time () < end) {
    GstEvent *segment;

    if (!udpsrc)
      udpsrc = gst_bin_get_by_name (GST_BIN (src), name);
    if (udpsrc) {
      if (rtcp) {
        test_uac_send_rtcp (uac, rr, sizeof (rr));
      } else {
        test_uac_send_rtp (uac, 96, FALSE, uac->rtp_ts, rr, 4);
        uac->rtp_ts += 160;
      }
      pad = gst_element_get_static_pad (udpsrc, "src");
      segment = gst_pad_get_sticky_event (pad, GST_EVENT_SEGMENT, 0);
      if (segment)
        gst_event_unref (segment);
      else
        gst_clear_object (&pad);
    }
    g_usleep (20000);
  }
  if (!pad) {
    fprintf (stderr, "%s never started\n", name);
    abort ();
  }
  gst_object_unref (udpsrc);
  return pad;
}
#endif

#ifdef FUZZ_SHARED_THREADS
/* the pad the shared receive threads push into: the peer of rtpsession's
 * @sink_name */
static GstPad *
shared_receive_pad (GstElement * src, const gchar * sink_name)
{
  GstElement *session = gst_bin_get_by_name (GST_BIN (src), "rtpsession");
  GstPad *sink = session ? gst_element_get_static_pad (session, sink_name) :
      NULL;
  GstPad *pad = sink ? gst_pad_get_peer (sink) : NULL;

  if (!pad) {
    fprintf (stderr, "no shared receive pad for %s\n", sink_name);
    abort ();
  }
  gst_object_unref (sink);
  gst_object_unref (session);
  return pad;
}
#endif

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  GstElement *src;
  GstBus *bus;
  guint port = 0;

  g_log_set_default_handler (fatal_log, NULL);
  g_log_set_always_fatal (G_LOG_FATAL_MASK);
  gst_init (argc, argv);
  if (!GST_ELEMENT_REGISTER (sipsrc, NULL)) {
    fprintf (stderr, "cannot register sipsrc\n");
    abort ();
  }
  /* no media timeout: stranger-only inputs must not end the call */
  pipeline = gst_parse_launch ("sipsrc name=src host=127.0.0.1 port=0 "
      SIPSRC_MODE "media-timeout=0 latency=20 ! "
      "fakesink sync=false async=false", NULL);
  if (!pipeline) {
    fprintf (stderr, "cannot build the pipeline\n");
    abort ();
  }
  bus = gst_element_get_bus (pipeline);
  gst_bus_set_sync_handler (bus, drop_message, NULL, NULL);
  gst_object_unref (bus);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  g_object_get (src, "bound-port", &port, NULL);

  uac = test_uac_new (port);
  test_uac_bind_rtcp (uac);
  test_uac_send_invite_offer (uac, 96, 101);
  if (test_uac_wait_final (uac, 5000) != 200) {
    fprintf (stderr, "the call was not answered\n");
    abort ();
  }
  test_uac_send_ack (uac);

#ifdef FUZZ_SHARED_THREADS
  pads[0] = shared_receive_pad (src, "recv_rtp_sink");
  pads[1] = shared_receive_pad (src, "recv_rtcp_sink");
#else
  pads[0] = start_udpsrc (src, "rtp_udpsrc", FALSE);
  pads[1] = start_udpsrc (src, "rtcp_udpsrc", TRUE);
#endif
  for (guint i = 0; i < 2; i++) {
    senders[i][0] = address ("127.0.0.1", uac->rtp_port + i);
    senders[i][1] = address ("127.0.0.1", uac->rtp_port + 2 + i);
    senders[i][2] = address ("203.0.113.5", 4000 + i);
  }
  gst_object_unref (src);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  GstBuffer *buf;
  GstClock *clock;
  guint rtcp;

  if (size < 2)
    return 0;
  rtcp = (data[0] >> 2) & 1;
  /* exactly the datagram's size, so that ASan sees any read past its end
   * (udpsrc's buffers have room behind: such reads go unnoticed there); an
   * empty datagram too, which udpsrc pushes as an empty buffer */
  if (size > 2)
    buf = gst_buffer_new_wrapped (g_memdup2 (data + 2, size - 2), size - 2);
  else
    buf = gst_buffer_new ();
  if (!rtcp && size - 2 >= 12) {
    const guint8 ssrc[4] = { 0x5e, 0xed, 0x00, data[1] & 3 };

    gst_buffer_fill (buf, 8, ssrc, 4);
  }
  gst_buffer_add_net_address_meta (buf, senders[rtcp][(data[0] & 3) % 3]);
  /* stamped with the running time, as udpsrc does */
  clock = gst_element_get_clock (pipeline);
  if (clock) {
    GST_BUFFER_DTS (buf) = gst_clock_get_time (clock) -
        gst_element_get_base_time (pipeline);
    gst_object_unref (clock);
  }
  gst_pad_push (pads[rtcp], buf);
  return 0;
}
