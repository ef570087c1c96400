/* gst-sip tests: sipsink, with real SIP and RTP over UDP loopback
 * Copyright (C) 2026 The gst-sip authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include <gst/check/gstcheck.h>

#include "testuac.h"
#include "testutil.h"
#include "testcall.h"

typedef struct
{
  guint n;
  guint bad_source;
  guint bad_size;
  guint bad_pt;
  guint bad_seq;
  guint bad_ts;
  guint16 last_seq;
  guint32 last_ts;
  gint64 first_time;
  gint64 last_time;
  guint8 first_payload;
} RtpStats;

static void
check_rtp (Call * c, RtpStats * st, const guint8 * pkt, gssize len,
    guint16 from_port)
{
  guint16 seq;
  guint32 ts;

  if (from_port != c->uac->remote_rtp_port)
    st->bad_source++;
  if (len != 12 + 160 || (pkt[0] & 0xc0) != 0x80) {
    st->bad_size++;
    return;
  }
  if ((pkt[1] & 0x7f) != 0)
    st->bad_pt++;
  seq = GST_READ_UINT16_BE (pkt + 2);
  ts = GST_READ_UINT32_BE (pkt + 4);
  if (st->n > 0) {
    if (seq != (guint16) (st->last_seq + 1))
      st->bad_seq++;
    if (ts != st->last_ts + 160)
      st->bad_ts++;
  } else {
    st->first_time = g_get_monotonic_time ();
    st->first_payload = pkt[12];
  }
  st->last_time = g_get_monotonic_time ();
  st->last_seq = seq;
  st->last_ts = ts;
  st->n++;
}

GST_START_TEST (test_sipsink_properties)
{
  GstElement *sink = gst_element_factory_make ("sipsink", NULL);
  gchar *src = NULL;
  GObject *call = NULL;
  GstPad *pad;

  fail_unless (sink != NULL);
  fail_unless (GST_OBJECT_FLAG_IS_SET (sink, GST_ELEMENT_FLAG_SINK));
  g_object_get (sink, "src", &src, "call", &call, NULL);
  fail_unless (src == NULL);
  fail_unless (call == NULL);
  g_object_set (sink, "src", "mysrc", NULL);
  g_object_get (sink, "src", &src, NULL);
  fail_unless_equals_string (src, "mysrc");
  g_free (src);
  pad = gst_element_get_static_pad (sink, "sink");
  fail_unless (pad != NULL);
  gst_object_unref (pad);
  gst_object_unref (sink);
}

GST_END_TEST;

/* 20 ms PCMU packets, paced, from the call's RTP port to the caller */
GST_START_TEST (test_sipsink_sends_rtp)
{
  Call c = { 0 };
  RtpStats st = { 0 };
  guint8 pkt[2048];
  gint64 end, mid_time = 0;

  start_pipeline (&c, "sipsrc name=src host=127.0.0.1 port=0 ! fakesink "
      "audiotestsrc wave=sine ! audio/x-raw,rate=48000,channels=2 ! sipsink");
  place_call (&c);

  end = g_get_monotonic_time () + 5 * G_TIME_SPAN_SECOND;
  while (st.n < 50 && g_get_monotonic_time () < end) {
    guint16 from = 0;
    gssize len = test_uac_recv_rtp (c.uac, pkt, sizeof (pkt), 500, &from);

    if (len > 0)
      check_rtp (&c, &st, pkt, len, from);
    if (st.n == 25 && !mid_time)
      mid_time = st.last_time;
  }
  fail_unless_equals_int (st.n, 50);
  fail_unless_equals_int (st.bad_source, 0);
  fail_unless_equals_int (st.bad_size, 0);
  fail_unless_equals_int (st.bad_pt, 0);
  fail_unless_equals_int (st.bad_seq, 0);
  fail_unless_equals_int (st.bad_ts, 0);
  /* paced in real time: the last 25 packets in 24 intervals of 20 ms, not
   * a burst (the first ones may catch up on a call set up slowly, as on a
   * loaded machine or under ASan: the audio source is not live) */
  fail_unless (st.last_time - mid_time >= 400 * 1000,
      "25 packets came within %" G_GINT64_FORMAT " us",
      st.last_time - mid_time);

  test_uac_send_bye (c.uac);
  fail_unless_equals_int (test_uac_wait_response (c.uac, "BYE", 3000), 200);
  stop_pipeline (&c);
}

GST_END_TEST;

/* a prompt waiting before the call is played from its start, paced, then
 * the call is hung up after it and the pipeline ends */
GST_START_TEST (test_sipsink_prompt_then_bye)
{
  Call c = { 0 };
  RtpStats st = { 0 };
  guint8 pkt[2048];
  gint64 end;
  gboolean got_bye = FALSE;
  GstMessage *msg;

  start_pipeline (&c, "sipsrc name=src host=127.0.0.1 port=0 ! fakesink "
      "audiotestsrc num-buffers=25 samplesperbuffer=160 wave=sine ! "
      "audio/x-raw,rate=8000,channels=1 ! sipsink");
  /* the prompt is ready long before the call */
  g_usleep (300 * 1000);
  place_call (&c);

  end = g_get_monotonic_time () + 5 * G_TIME_SPAN_SECOND;
  while (!got_bye && g_get_monotonic_time () < end) {
    guint16 from = 0;
    gssize len = test_uac_recv_rtp (c.uac, pkt, sizeof (pkt), 20, &from);
    gchar *sip;

    if (len > 0)
      check_rtp (&c, &st, pkt, len, from);
    while ((sip = test_uac_recv_sip (c.uac, 0))) {
      if (test_uac_is_request (sip, "BYE")) {
        got_bye = TRUE;
        test_uac_reply (c.uac, sip, 200);
      }
      g_free (sip);
    }
  }
  /* packets still queued in the socket */
  while (TRUE) {
    guint16 from = 0;
    gssize len = test_uac_recv_rtp (c.uac, pkt, sizeof (pkt), 0, &from);

    if (len <= 0)
      break;
    check_rtp (&c, &st, pkt, len, from);
  }

  fail_unless (got_bye, "no BYE after the prompt");
  fail_unless_equals_int (st.n, 25);
  fail_unless_equals_int (st.bad_source, 0);
  fail_unless_equals_int (st.bad_size, 0);
  fail_unless_equals_int (st.bad_seq, 0);
  fail_unless (st.last_time - st.first_time >= 300 * 1000,
      "the prompt came as a burst (%" G_GINT64_FORMAT " us)",
      st.last_time - st.first_time);

  msg = test_wait_element_message (c.bus, "sip-call-ended", 3000);
  fail_unless (msg != NULL, "no sip-call-ended");
  fail_unless_equals_string (gst_structure_get_string
      (gst_message_get_structure (msg), "reason"), "local-bye");
  gst_message_unref (msg);
  fail_unless (test_wait_eos (c.bus, 3000), "the pipeline did not end");
  stop_pipeline (&c);
}

GST_END_TEST;

/* @desc (a sipsrc feeding a sipsink) plays the caller's voice back; the
 * caller's BYE ends the pipeline */
static void
check_echo (const gchar * desc)
{
  Call c = { 0 };
  guint8 pkt[2048];
  guint echoed = 0, matching = 0;
  gint64 end;

  start_pipeline (&c, desc);
  place_call (&c);

  for (guint i = 0; i < 50; i++) {
    guint16 from = 0;
    gssize len;

    test_uac_send_pcmu (c.uac, 0x9a);
    while ((len = test_uac_recv_rtp (c.uac, pkt, sizeof (pkt), 0, &from)) > 0) {
      echoed++;
      if (len == 172 && pkt[12] == 0x9a && pkt[171] == 0x9a)
        matching++;
    }
    g_usleep (20000);
  }
  end = g_get_monotonic_time () + G_TIME_SPAN_SECOND;
  while (g_get_monotonic_time () < end) {
    guint16 from = 0;
    gssize len = test_uac_recv_rtp (c.uac, pkt, sizeof (pkt), 100, &from);

    if (len <= 0)
      break;
    echoed++;
    if (len == 172 && pkt[12] == 0x9a && pkt[171] == 0x9a)
      matching++;
  }
  fail_unless (matching >= 40, "%u of %u echoed packets carry the audio",
      matching, echoed);

  test_uac_send_bye (c.uac);
  fail_unless_equals_int (test_uac_wait_response (c.uac, "BYE", 3000), 200);
  fail_unless (test_wait_eos (c.bus, 5000), "no EOS after the caller's BYE");
  stop_pipeline (&c);
}

GST_START_TEST (test_sipsink_echo)
{
  check_echo ("sipsrc name=src host=127.0.0.1 port=0 latency=40 ! "
      "queue ! sipsink");
}

GST_END_TEST;

/* without a queue sipsink sends from sipsrc's streaming thread, which with
 * shared-threads serves every call of the process and must never wait */
GST_START_TEST (test_sipsink_echo_no_queue)
{
  check_echo ("sipsrc name=src host=127.0.0.1 port=0 latency=0 ! sipsink");
}

GST_END_TEST;

/* counts RTP packets arriving within @ms */
static guint
count_rtp (Call * c, gint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;
  guint8 pkt[2048];
  guint n = 0;

  while (g_get_monotonic_time () < end) {
    guint16 from = 0;

    if (test_uac_recv_rtp (c->uac, pkt, sizeof (pkt), 20, &from) == 172)
      n++;
  }
  return n;
}

/* re-INVITEs: the caller moves its RTP port, then holds and resumes */
GST_START_TEST (test_sipsink_reinvite)
{
  Call c = { 0 };
  guint n;

  start_pipeline (&c, "sipsrc name=src host=127.0.0.1 port=0 ! fakesink "
      "audiotestsrc is-live=true wave=sine ! sipsink");
  place_call (&c);
  fail_unless (count_rtp (&c, 300) >= 10, "no RTP");

  /* new address: the audio follows */
  test_uac_new_rtp_port (c.uac);
  fail_unless_equals_int (test_uac_reinvite (c.uac, "sendrecv"), 200);
  n = count_rtp (&c, 400);
  fail_unless (n >= 10, "%u packets to the new port", n);

  /* hold (sendonly offer, recvonly answer): nothing is sent */
  fail_unless_equals_int (test_uac_reinvite (c.uac, "sendonly"), 200);
  count_rtp (&c, 100);
  n = count_rtp (&c, 400);
  fail_unless (n == 0, "%u packets sent while on hold", n);

  /* resume */
  fail_unless_equals_int (test_uac_reinvite (c.uac, "sendrecv"), 200);
  n = count_rtp (&c, 400);
  fail_unless (n >= 10, "%u packets after resume", n);

  test_uac_send_bye (c.uac);
  fail_unless_equals_int (test_uac_wait_response (c.uac, "BYE", 3000), 200);
  stop_pipeline (&c);
}

GST_END_TEST;

GST_START_TEST (test_sipsink_named_src)
{
  GstElement *pipeline;
  GstBus *bus;
  GstMessage *msg;
  GError *err = NULL;

  pipeline = gst_parse_launch ("sipsrc name=a host=127.0.0.1 port=0 ! "
      "fakesink audiotestsrc ! sipsink src=nope", NULL);
  bus = gst_element_get_bus (pipeline);
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_PLAYING),
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &err, NULL);
  fail_unless (g_error_matches (err, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NOT_FOUND));
  g_error_free (err);
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
}

GST_END_TEST;

static Suite *
sipsink_suite (void)
{
  Suite *s = suite_create ("sipsink");
  TCase *tc = tcase_create ("general");

  g_test_log_set_fatal_handler (test_fatal_log_handler, NULL);
  tcase_set_timeout (tc, 30);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_sipsink_properties);
  tcase_add_test (tc, test_sipsink_sends_rtp);
  tcase_add_test (tc, test_sipsink_prompt_then_bye);
  tcase_add_test (tc, test_sipsink_echo);
  tcase_add_test (tc, test_sipsink_echo_no_queue);
  tcase_add_test (tc, test_sipsink_reinvite);
  tcase_add_test (tc, test_sipsink_named_src);
  return s;
}

GST_CHECK_MAIN (sipsink);
