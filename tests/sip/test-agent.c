/* gst-sip: SipAgent over real UDP sockets: transactions, timers, dialogs
 * Copyright (C) 2026 The gst-sip authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "sip-test-util.h"

#include <string.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#define WAIT 2000               /* ms: generous, for loaded CI machines */

static void
assert_state_event (TestAgent * ta, SipCall * call, SipCallState state)
{
  gchar *event = test_state_event (call, state);
  g_assert_true (test_agent_wait_event (ta, event, WAIT));
  g_free (event);
}

/* INVITE with PCMU (+ telephone-event) -> 100/180/200; returns the 200
 * and the call; the dialog learns the To tag */
static gchar *
send_invite (TestAgent * ta, TestPeer * peer, TestDialog * d,
    const gchar * extra, guint expect)
{
  gchar *sdp = test_sdp_offer (40000, "0 8 101",
      "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n");
  gchar *invite = test_dialog_request (d, "INVITE", d->invite_branch, 0,
      extra, sdp);
  gchar *resp;

  test_peer_send (peer, ta->port, invite);
  resp = test_peer_recv_response (peer, WAIT, expect);
  g_assert_nonnull (resp);
  if (d->to_tag == NULL)
    d->to_tag = test_msg_header_param (resp, "To", "tag");
  g_free (invite);
  g_free (sdp);
  return resp;
}

static void
send_ack (TestPeer * peer, TestDialog * d, guint port, const gchar * body)
{
  gchar *ack = test_dialog_request (d, "ACK", NULL, d->cseq, NULL, body);
  test_peer_send (peer, port, ack);
  g_free (ack);
}

static SipCall *
establish_call (TestAgent * ta, TestPeer * peer, TestDialog * d,
    const gchar * extra)
{
  gchar *ok = send_invite (ta, peer, d, extra, 200);
  SipCall *call = test_agent_pop_call (ta, WAIT);

  g_assert_nonnull (call);
  g_free (ok);
  send_ack (peer, d, ta->port, NULL);
  assert_state_event (ta, call, SIP_CALL_STATE_ACTIVE);
  return call;
}

static void
test_options (void)
{
  TestAgent *ta = test_agent_new (TEST_ANSWER_NONE, NULL);
  TestPeer *peer = test_peer_new ();
  TestDialog *d = test_dialog_new (peer, ta->port);
  gchar *req = test_dialog_request (d, "OPTIONS", NULL, 0, NULL, NULL);
  gchar *resp, *allow, *accept, *tag, *rport, *received, *server;

  test_peer_send (peer, ta->port, req);
  resp = test_peer_recv (peer, WAIT);
  g_assert_cmpuint (test_msg_status (resp), ==, 200);
  allow = test_msg_header (resp, "Allow");
  g_assert_cmpstr (allow, ==, "INVITE, ACK, BYE, CANCEL, OPTIONS");
  accept = test_msg_header (resp, "Accept");
  g_assert_cmpstr (accept, ==, "application/sdp");
  tag = test_msg_header_param (resp, "To", "tag");
  g_assert_nonnull (tag);
  g_assert_cmpstr (tag, !=, "");
  /* RFC 3581: rport filled, received added */
  rport = test_msg_header_param (resp, "Via", "rport");
  g_assert_cmpuint (g_ascii_strtoull (rport, NULL, 10), ==, peer->port);
  received = test_msg_header_param (resp, "Via", "received");
  g_assert_cmpstr (received, ==, "127.0.0.1");
  server = test_msg_header (resp, "Server");
  g_assert_cmpstr (server, ==, "gst-sip/0.1");
  g_assert_cmpint (ta->incoming_count, ==, 0);

  g_free (server);
  g_free (received);
  g_free (rport);
  g_free (tag);
  g_free (accept);
  g_free (allow);
  g_free (resp);
  g_free (req);
  test_dialog_free (d);
  test_peer_free (peer);
  test_agent_free (ta);
}

static void
expect_status_for (const gchar * method, guint status, const gchar * extra)
{
  TestAgent *ta = test_agent_new (TEST_ANSWER_NONE, NULL);
  TestPeer *peer = test_peer_new ();
  TestDialog *d = test_dialog_new (peer, ta->port);
  gchar *req = test_dialog_request (d, method, NULL, 0, extra, NULL);
  gchar *resp;

  test_peer_send (peer, ta->port, req);
  resp = test_peer_recv_response (peer, WAIT, 0);
  g_assert_cmpuint (test_msg_status (resp), ==, status);
  if (status == 405) {
    gchar *allow = test_msg_header (resp, "Allow");
    g_assert_cmpstr (allow, ==, "INVITE, ACK, BYE, CANCEL, OPTIONS");
    g_free (allow);
  }
  g_free (resp);
  g_free (req);
  test_dialog_free (d);
  test_peer_free (peer);
  test_agent_free (ta);
}

static void
test_unknown_method (void)
{
  expect_status_for ("FOOBAR", 501, NULL);
}

static void
test_unsupported_methods (void)
{
  const gchar *methods[] = { "REGISTER", "SUBSCRIBE", "MESSAGE", "INFO",
    "UPDATE", "REFER", "NOTIFY", "PRACK", "PUBLISH"
  };
  for (guint i = 0; i < G_N_ELEMENTS (methods); i++)
    expect_status_for (methods[i], 405, NULL);
}

static void
test_require (void)
{
  TestAgent *ta = test_agent_new (TEST_ANSWER_NONE, NULL);
  TestPeer *peer = test_peer_new ();
  TestDialog *d = test_dialog_new (peer, ta->port);
  gchar *req = test_dialog_request (d, "OPTIONS", NULL, 0,
      "Require: foo, bar\n", NULL);
  gchar *resp, *unsupported;

  test_peer_send (peer, ta->port, req);
  resp = test_peer_recv_response (peer, WAIT, 0);
  g_assert_cmpuint (test_msg_status (resp), ==, 420);
  unsupported = test_msg_header (resp, "Unsupported");
  g_assert_cmpstr (unsupported, ==, "foo, bar");
  g_free (unsupported);
  g_free (resp);
  g_free (req);
  test_dialog_free (d);
  test_peer_free (peer);
  test_agent_free (ta);
}

static void
test_bad_requests (void)
{
  TestAgent *ta = test_agent_new (TEST_ANSWER_NONE, NULL);
  TestPeer *peer = test_peer_new ();
  gchar *resp, *reason;

  /* CSeq method mismatch */
  test_peer_send (peer, ta->port, "OPTIONS sip:bot@127.0.0.1 SIP/2.0\n"
      "Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKmm1\n"
      "From: <sip:a@127.0.0.1>;tag=1\nTo: <sip:bot@127.0.0.1>\n"
      "Call-ID: mm1\nCSeq: 1 INVITE\nMax-Forwards: 70\n"
      "Content-Length: 0\n\n");
  resp = test_peer_recv (peer, WAIT);
  g_assert_cmpuint (test_msg_status (resp), ==, 400);
  g_assert_nonnull (strstr (resp, "CSeq"));
  g_free (resp);

  /* no Call-ID */
  test_peer_send (peer, ta->port, "OPTIONS sip:bot@127.0.0.1 SIP/2.0\n"
      "Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKmm2\n"
      "From: <sip:a@127.0.0.1>;tag=1\nTo: <sip:bot@127.0.0.1>\n"
      "CSeq: 1 OPTIONS\nMax-Forwards: 70\nContent-Length: 0\n\n");
  resp = test_peer_recv (peer, WAIT);
  g_assert_cmpuint (test_msg_status (resp), ==, 400);
  g_free (resp);

  /* negative Content-Length */
  test_peer_send (peer, ta->port, "OPTIONS sip:bot@127.0.0.1 SIP/2.0\n"
      "Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKmm3\n"
      "From: <sip:a@127.0.0.1>;tag=1\nTo: <sip:bot@127.0.0.1>\n"
      "Call-ID: mm3\nCSeq: 1 OPTIONS\nMax-Forwards: 70\n"
      "Content-Length: -5\n\n");
  resp = test_peer_recv (peer, WAIT);
  g_assert_cmpuint (test_msg_status (resp), ==, 400);
  g_free (resp);

  /* Content-Length larger than the datagram */
  test_peer_send (peer, ta->port, "OPTIONS sip:bot@127.0.0.1 SIP/2.0\n"
      "Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKmm4\n"
      "From: <sip:a@127.0.0.1>;tag=1\nTo: <sip:bot@127.0.0.1>\n"
      "Call-ID: mm4\nCSeq: 1 OPTIONS\nMax-Forwards: 70\n"
      "Content-Length: 500\n\nshort");
  resp = test_peer_recv (peer, WAIT);
  g_assert_cmpuint (test_msg_status (resp), ==, 400);
  g_free (resp);

  /* another SIP version */
  test_peer_send (peer, ta->port, "OPTIONS sip:bot@127.0.0.1 SIP/3.0\n"
      "Via: SIP/3.0/UDP 127.0.0.1;branch=z9hG4bKmm5\n"
      "From: <sip:a@127.0.0.1>;tag=1\nTo: <sip:bot@127.0.0.1>\n"
      "Call-ID: mm5\nCSeq: 1 OPTIONS\nMax-Forwards: 70\n"
      "Content-Length: 0\n\n");
  resp = test_peer_recv (peer, WAIT);
  g_assert_cmpuint (test_msg_status (resp), ==, 505);
  g_free (resp);

  /* binary garbage, a stray response, no Via: nothing comes back */
  test_peer_send_raw (peer, ta->port, "\x01\x02\xff\xfe garbage", 12);
  test_peer_send (peer, ta->port, "SIP/2.0 200 OK\n"
      "Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKstray\n"
      "From: <sip:a@127.0.0.1>;tag=1\nTo: <sip:bot@127.0.0.1>;tag=2\n"
      "Call-ID: stray\nCSeq: 1 BYE\nContent-Length: 0\n\n");
  test_peer_send (peer, ta->port, "OPTIONS sip:bot@127.0.0.1 SIP/2.0\n"
      "From: <sip:a@127.0.0.1>;tag=1\nTo: <sip:bot@127.0.0.1>\n"
      "Call-ID: noVia\nCSeq: 1 OPTIONS\nContent-Length: 0\n\n");
  test_peer_send (peer, ta->port, "\r\n\r\n");
  g_assert_null (test_peer_recv (peer, 300));

  /* and the agent still answers */
  test_peer_send (peer, ta->port, "OPTIONS sip:bot@127.0.0.1 SIP/2.0\n"
      "v: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKmm6\n"
      "f: <sip:a@127.0.0.1>;tag=1\nt: <sip:bot@127.0.0.1>\n"
      "i: mm6\nCSeq: 1 OPTIONS\nl: 0\n\n");
  resp = test_peer_recv (peer, WAIT);
  g_assert_cmpuint (test_msg_status (resp), ==, 200);
  reason = test_msg_header (resp, "Call-ID");
  g_assert_cmpstr (reason, ==, "mm6");
  g_free (reason);
  g_free (resp);

  test_peer_free (peer);
  test_agent_free (ta);
}

static void
test_basic_call (void)
{
  TestAgent *ta = test_agent_new (TEST_ANSWER_ANSWER, NULL);
  TestPeer *peer = test_peer_new ();
  TestDialog *d = test_dialog_new (peer, ta->port);
  gchar *sdp = test_sdp_offer (40000, "0 101",
      "a=rtpmap:101 telephone-event/8000\r\n");
  gchar *invite = test_dialog_request (d, "INVITE", d->invite_branch, 0,
      "Record-Route: <sip:p1.example.com;lr>\n"
      "Record-Route: <sip:p2.example.com;lr>\n" "X-Custom: hello\n", sdp);
  gchar *trying, *ringing, *ok, *tag180, *tag200, *contact, *body, *rr;
  gchar *req, *resp, *m_line, *addr, *custom;
  SipCall *call;
  GHashTable *headers;

  test_peer_send (peer, ta->port, invite);
  trying = test_peer_recv_response (peer, WAIT, 100);
  g_assert_nonnull (trying);
  g_assert_null (test_msg_header_param (trying, "To", "tag"));
  ringing = test_peer_recv_response (peer, WAIT, 180);
  g_assert_nonnull (ringing);
  ok = test_peer_recv_response (peer, WAIT, 200);
  g_assert_nonnull (ok);

  /* the same To tag on 180 and 200 */
  tag180 = test_msg_header_param (ringing, "To", "tag");
  tag200 = test_msg_header_param (ok, "To", "tag");
  g_assert_nonnull (tag180);
  g_assert_cmpstr (tag180, ==, tag200);
  d->to_tag = g_strdup (tag200);

  contact = test_msg_header (ok, "Contact");
  g_assert_nonnull (strstr (contact, "127.0.0.1"));
  g_assert_cmpuint (test_msg_count_header (ok, "Record-Route"), ==, 2);
  rr = test_msg_header (ok, "Record-Route");
  g_assert_nonnull (strstr (rr, "p1.example.com"));

  /* the SDP answer */
  body = g_strdup (test_msg_body (ok));
  call = test_agent_pop_call (ta, WAIT);
  g_assert_nonnull (call);
  m_line = g_strdup_printf ("m=audio %u RTP/AVP 0 101\r\n",
      sip_call_get_local_rtp_port (call));
  g_assert_nonnull (strstr (body, m_line));
  g_assert_nonnull (strstr (body, "a=rtpmap:0 PCMU/8000\r\n"));
  g_assert_nonnull (strstr (body, "a=rtpmap:101 telephone-event/8000\r\n"));
  g_assert_nonnull (strstr (body, "a=fmtp:101 0-15\r\n"));
  g_assert_nonnull (strstr (body, "a=ptime:20\r\n"));
  g_assert_nonnull (strstr (body, "a=sendrecv\r\n"));
  g_assert_nonnull (strstr (body, "c=IN IP4 127.0.0.1\r\n"));

  /* what the call knows */
  g_assert_cmpuint (sip_call_get_local_rtp_port (call) % 2, ==, 0);
  g_assert_nonnull (sip_call_get_rtp_socket (call));
  g_assert_nonnull (sip_call_get_rtcp_socket (call));
  addr = sip_call_get_remote_rtp_address (call);
  g_assert_cmpstr (addr, ==, "127.0.0.1");
  g_assert_cmpuint (sip_call_get_remote_rtp_port (call), ==, 40000);
  g_assert_cmpint (sip_call_get_telephone_event_pt (call), ==, 101);
  g_assert_cmpstr (sip_call_get_call_id (call), ==, d->call_id);
  g_assert_nonnull (strstr (sip_call_get_from (call), "alice"));
  g_assert_nonnull (strstr (sip_call_get_to (call), tag200));
  custom = sip_call_get_header (call, "x-custom");
  g_assert_cmpstr (custom, ==, "hello");
  g_free (custom);
  custom = sip_call_get_header (call, "i");
  g_assert_cmpstr (custom, ==, d->call_id);
  g_free (custom);
  headers = sip_call_get_headers (call);
  g_assert_cmpstr (g_hash_table_lookup (headers, "call-id"), ==, d->call_id);
  g_hash_table_unref (headers);
  g_assert_cmpuint (sip_agent_get_active_calls (ta->agent), ==, 1);

  send_ack (peer, d, ta->port, NULL);
  assert_state_event (ta, call, SIP_CALL_STATE_ACTIVE);

  /* BYE -> 200, ENDED "remote-bye" */
  d->cseq++;
  req = test_dialog_request (d, "BYE", NULL, 0, NULL, NULL);
  test_peer_send (peer, ta->port, req);
  resp = test_peer_recv_response (peer, WAIT, 0);
  g_assert_cmpuint (test_msg_status (resp), ==, 200);
  assert_state_event (ta, call, SIP_CALL_STATE_ENDED);
  g_assert_cmpint (sip_call_get_state (call), ==, SIP_CALL_STATE_ENDED);
  g_assert_cmpstr (sip_call_get_end_reason (call), ==, "remote-bye");
  g_assert_true (test_agent_wait_active_calls (ta, 0, WAIT));
  /* sockets stay open for the media layer */
  g_assert_false (g_socket_is_closed (sip_call_get_rtp_socket (call)));

  /* the BYE again: same answer (non-INVITE server transaction) */
  g_free (resp);
  test_peer_send (peer, ta->port, req);
  resp = test_peer_recv_response (peer, WAIT, 0);
  g_assert_cmpuint (test_msg_status (resp), ==, 200);

  g_object_unref (call);
  g_free (resp);
  g_free (req);
  g_free (addr);
  g_free (m_line);
  g_free (body);
  g_free (rr);
  g_free (contact);
  g_free (tag180);
  g_free (tag200);
  g_free (trying);
  g_free (ringing);
  g_free (ok);
  g_free (invite);
  g_free (sdp);
  test_dialog_free (d);
  test_peer_free (peer);
  test_agent_free (ta);
}

static void
test_public_address (void)
{
  TestAgent *ta = test_agent_new (TEST_ANSWER_ANSWER, "public-address",
      "203.0.113.7", "user-agent", "test-agent/2", NULL);
  TestPeer *peer = test_peer_new ();
  TestDialog *d = test_dialog_new (peer, ta->port);
  gchar *ok = send_invite (ta, peer, d, NULL, 200);
  gchar *contact = test_msg_header (ok, "Contact");
  gchar *server = test_msg_header (ok, "Server");
  gchar *expected = g_strdup_printf ("<sip:bot@203.0.113.7:%u>", ta->port);
  SipCall *call = test_agent_pop_call (ta, WAIT);

  g_assert_cmpstr (contact, ==, expected);
  g_assert_cmpstr (server, ==, "test-agent/2");
  g_assert_nonnull (strstr (test_msg_body (ok), "c=IN IP4 203.0.113.7\r\n"));
  g_assert_nonnull (strstr (test_msg_body (ok), " IN IP4 203.0.113.7\r\n"));

  g_object_unref (call);
  g_free (expected);
  g_free (server);
  g_free (contact);
  g_free (ok);
  test_dialog_free (d);
  test_peer_free (peer);
  test_agent_free (ta);
}

static void
test_compact_forms (void)
{
  TestAgent *ta = test_agent_new (TEST_ANSWER_ANSWER, NULL);
  TestPeer *peer = test_peer_new ();
  gchar *sdp = test_sdp_offer (40002, "0", NULL);
  gchar *invite = g_strdup_printf ("INVITE sip:bot@127.0.0.1 SIP/2.0\n"
      "v: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKcompact\n"
      "f: <sip:alice@127.0.0.1>;tag=cf1\n"
      "t: <sip:bot@127.0.0.1>\n"
      "i: compact-call@127.0.0.1\n"
      "CSeq: 7 INVITE\n"
      "m: <sip:alice@127.0.0.1:%u>\n"
      "c: application/sdp\n"
      "l: %u\n\n%s", peer->port, peer->port, (guint) strlen (sdp), sdp);
  gchar *ok, *call_id, *branch;
  SipCall *call;

  test_peer_send (peer, ta->port, invite);
  ok = test_peer_recv_response (peer, WAIT, 200);
  g_assert_nonnull (ok);
  call_id = test_msg_header (ok, "Call-ID");
  g_assert_cmpstr (call_id, ==, "compact-call@127.0.0.1");
  branch = test_msg_header_param (ok, "Via", "branch");
  g_assert_cmpstr (branch, ==, "z9hG4bKcompact");
  call = test_agent_pop_call (ta, WAIT);
  g_assert_nonnull (call);
  g_assert_cmpuint (sip_call_get_remote_rtp_port (call), ==, 40002);
  g_object_unref (call);

  g_free (branch);
  g_free (call_id);
  g_free (ok);
  g_free (invite);
  g_free (sdp);
  test_peer_free (peer);
  test_agent_free (ta);
}

static void
test_via_received (void)
{
  TestAgent *ta = test_agent_new (TEST_ANSWER_NONE, NULL);
  TestPeer *peer = test_peer_new ();
  gchar *resp, *received, *rport;

  /* sent-by is not where it came from: received=, and the answer still
   * comes back here */
  test_peer_send (peer, ta->port, "OPTIONS sip:bot@127.0.0.1 SIP/2.0\n"
      "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKrecv\n"
      "Via: SIP/2.0/UDP 192.0.2.2:5070;branch=z9hG4bKsecond\n"
      "From: <sip:a@192.0.2.1>;tag=1\nTo: <sip:bot@127.0.0.1>\n"
      "Call-ID: recv1\nCSeq: 1 OPTIONS\nMax-Forwards: 70\n"
      "Content-Length: 0\n\n");
  resp = test_peer_recv (peer, WAIT);
  g_assert_cmpuint (test_msg_status (resp), ==, 200);
  received = test_msg_header_param (resp, "Via", "received");
  g_assert_cmpstr (received, ==, "127.0.0.1");
  rport = test_msg_header_param (resp, "Via", "rport");
  g_assert_null (rport);
  /* all Via, in order */
  g_assert_nonnull (strstr (resp, "z9hG4bKsecond"));
  g_assert_true (strstr (resp, "z9hG4bKrecv") < strstr (resp, "z9hG4bKsecond"));
  g_free (received);
  g_free (resp);
  test_peer_free (peer);
  test_agent_free (ta);
}

static void
test_retransmitted_invite (void)
{
  TestAgent *ta = test_agent_new (TEST_ANSWER_RING, NULL);
  TestPeer *peer = test_peer_new ();
  TestDialog *d = test_dialog_new (peer, ta->port);
  gchar *ringing = send_invite (ta, peer, d, NULL, 180);
  gchar *again, *tag, *ok, *bye, *resp, *bye_cseq, *bye_to, *bye_from;
  SipCall *call = test_agent_pop_call (ta, WAIT);
  gint64 before_answer, answered;
  gchar *sdp = test_sdp_offer (40000, "0 8 101",
      "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n");
  gchar *invite = test_dialog_request (d, "INVITE", d->invite_branch, 0,
      NULL, sdp);

  g_assert_nonnull (call);
  /* the same INVITE again (To without tag, same branch): the 180 again */
  g_free (d->to_tag);
  d->to_tag = NULL;
  g_free (invite);
  invite = test_dialog_request (d, "INVITE", d->invite_branch, 0, NULL, sdp);
  test_peer_send (peer, ta->port, invite);
  again = test_peer_recv_response (peer, WAIT, 180);
  g_assert_nonnull (again);
  tag = test_msg_header_param (again, "To", "tag");
  d->to_tag = test_msg_header_param (ringing, "To", "tag");
  g_assert_cmpstr (tag, ==, d->to_tag);
  g_assert_cmpint (g_atomic_int_get (&ta->incoming_count), ==, 1);

  /* answered from this (another) thread; its time is when the 200 left */
  g_assert_cmpint (sip_call_get_answered_time (call), ==, 0);
  before_answer = g_get_monotonic_time ();
  sip_call_answer (call);
  ok = test_peer_recv_response (peer, WAIT, 200);
  g_assert_nonnull (ok);
  answered = sip_call_get_answered_time (call);
  g_assert_cmpint (answered, >=, before_answer);
  g_assert_cmpint (answered, <=, g_get_monotonic_time ());
  send_ack (peer, d, ta->port, NULL);
  assert_state_event (ta, call, SIP_CALL_STATE_ACTIVE);
  g_assert_cmpint (sip_call_get_answered_time (call), ==, answered);

  /* we hang up: BYE in the dialog */
  sip_call_hangup (call);
  bye = test_peer_recv_request (peer, WAIT, "BYE");
  g_assert_nonnull (bye);
  bye_to = test_msg_header_param (bye, "To", "tag");
  bye_from = test_msg_header_param (bye, "From", "tag");
  g_assert_cmpstr (bye_to, ==, d->from_tag);
  g_assert_cmpstr (bye_from, ==, d->to_tag);
  bye_cseq = test_msg_header (bye, "CSeq");
  g_assert_true (g_str_has_suffix (bye_cseq, " BYE"));
  g_assert_true (g_str_has_prefix (bye, "BYE sip:alice@127.0.0.1:"));
  assert_state_event (ta, call, SIP_CALL_STATE_ENDED);
  g_assert_cmpstr (sip_call_get_end_reason (call), ==, "local-bye");

  /* answer it, from a hand-made response */
  {
    gchar *via = test_msg_header (bye, "Via");
    gchar *from = test_msg_header (bye, "From");
    gchar *to = test_msg_header (bye, "To");
    resp = g_strdup_printf ("SIP/2.0 200 OK\nVia: %s\nFrom: %s\nTo: %s\n"
        "Call-ID: %s\nCSeq: %s\nContent-Length: 0\n\n", via, from, to,
        d->call_id, bye_cseq);
    test_peer_send (peer, ta->port, resp);
    g_free (via);
    g_free (from);
    g_free (to);
  }
  /* no more BYE retransmissions once answered */
  g_assert_null (test_peer_recv_request (peer, 10 * TEST_T1_MS, "BYE"));

  g_object_unref (call);
  g_free (resp);
  g_free (bye_cseq);
  g_free (bye_to);
  g_free (bye_from);
  g_free (bye);
  g_free (ok);
  g_free (tag);
  g_free (again);
  g_free (invite);
  g_free (sdp);
  g_free (ringing);
  test_dialog_free (d);
  test_peer_free (peer);
  test_agent_free (ta);
}

static void
test_ok_retransmitted_until_ack (void)
{
  TestAgent *ta = test_agent_new (TEST_ANSWER_ANSWER, NULL);
  TestPeer *peer = test_peer_new ();
  TestDialog *d = test_dialog_new (peer, ta->port);
  gchar *ok = send_invite (ta, peer, d, NULL, 200);
  SipCall *call = test_agent_pop_call (ta, WAIT);
  guint retransmissions = 0;
  gchar *msg;

  g_assert_nonnull (call);
  /* T1 = 20 ms: within 200 ms the 200 comes again (20, 40, 80 ms) */
  while ((msg = test_peer_recv_response (peer, 10 * TEST_T1_MS, 200))) {
    g_assert_cmpstr (test_msg_body (msg), ==, test_msg_body (ok));
    g_free (msg);
    if (++retransmissions == 3)
      break;
  }
  g_assert_cmpuint (retransmissions, ==, 3);
  g_assert_cmpint (sip_call_get_state (call), ==, SIP_CALL_STATE_ANSWERED);

  send_ack (peer, d, ta->port, NULL);
  assert_state_event (ta, call, SIP_CALL_STATE_ACTIVE);
  /* a 200 may have crossed the ACK; then silence (more than T2) */
  test_peer_drain (peer, TEST_T1_MS);
  g_assert_null (test_peer_recv (peer, 20 * TEST_T1_MS));
  g_assert_cmpint (sip_call_get_state (call), ==, SIP_CALL_STATE_ACTIVE);

  g_object_unref (call);
  g_free (ok);
  test_dialog_free (d);
  test_peer_free (peer);
  test_agent_free (ta);
}

static void
test_no_ack_bye (void)
{
  TestAgent *ta = test_agent_new (TEST_ANSWER_ANSWER, NULL);
  TestPeer *peer = test_peer_new ();
  TestDialog *d = test_dialog_new (peer, ta->port);
  gchar *ok = send_invite (ta, peer, d, NULL, 200);
  SipCall *call = test_agent_pop_call (ta, WAIT);
  gchar *bye;

  g_assert_nonnull (call);
  /* no ACK: after 64*T1 (1.28 s) a BYE */
  bye = test_peer_recv_request (peer, 64 * TEST_T1_MS + WAIT, "BYE");
  g_assert_nonnull (bye);
  assert_state_event (ta, call, SIP_CALL_STATE_ENDED);
  g_assert_cmpstr (sip_call_get_end_reason (call), ==, "ack-timeout");
  g_assert_true (test_agent_wait_active_calls (ta, 0, WAIT));

  g_object_unref (call);
  g_free (bye);
  g_free (ok);
  test_dialog_free (d);
  test_peer_free (peer);
  test_agent_free (ta);
}

static void
test_hangup_before_ack (void)
{
  TestAgent *ta = test_agent_new (TEST_ANSWER_ANSWER, NULL);
  TestPeer *peer = test_peer_new ();
  TestDialog *d = test_dialog_new (peer, ta->port);
  gchar *ok = send_invite (ta, peer, d, NULL, 200);
  SipCall *call = test_agent_pop_call (ta, WAIT);
  gchar *msg, *bye;

  g_assert_nonnull (call);
  sip_call_hangup (call);
  assert_state_event (ta, call, SIP_CALL_STATE_ENDED);
  g_assert_cmpstr (sip_call_get_end_reason (call), ==, "local-bye");
  /* RFC 3261 15: no BYE before the ACK, only 200 retransmissions */
  while ((msg = test_peer_recv (peer, 5 * TEST_T1_MS))) {
    g_assert_cmpuint (test_msg_status (msg), ==, 200);
    g_free (msg);
  }
  send_ack (peer, d, ta->port, NULL);
  bye = test_peer_recv_request (peer, WAIT, "BYE");
  g_assert_nonnull (bye);

  g_object_unref (call);
  g_free (bye);
  g_free (ok);
  test_dialog_free (d);
  test_peer_free (peer);
  test_agent_free (ta);
}

/* a 200 OK for @request: its header fields (Via, From, To, Call-ID, CSeq)
 * under a status line */
static gchar *
ok_for_request (const gchar * request)
{
  return g_strdup_printf ("SIP/2.0 200 OK\r\n%s", strstr (request, "\n") + 1);
}

/* SipAgent:max-call-duration and SipCall:max-duration: BYE that long after
 * the 200 OK, end-reason "max-duration"; a change applies at once */
static void
test_max_duration (void)
{
  TestAgent *ta = test_agent_new (TEST_ANSWER_ANSWER, "max-call-duration",
      1, NULL);
  TestPeer *peer = test_peer_new ();
  TestDialog *d = test_dialog_new (peer, ta->port);
  TestDialog *d2 = test_dialog_new (peer, ta->port);
  gchar *ok, *ok2, *bye, *msg;
  SipCall *call, *call2;
  gint64 answered;
  guint seconds = 0;

  /* the agent's limit: BYE 1 s after the 200 OK */
  ok = send_invite (ta, peer, d, NULL, 200);
  call = test_agent_pop_call (ta, WAIT);
  g_assert_nonnull (call);
  answered = g_get_monotonic_time ();
  g_object_get (call, "max-duration", &seconds, NULL);
  g_assert_cmpuint (seconds, ==, 1);
  send_ack (peer, d, ta->port, NULL);
  assert_state_event (ta, call, SIP_CALL_STATE_ACTIVE);
  bye = test_peer_recv_request (peer, 1000 + WAIT, "BYE");
  g_assert_nonnull (bye);
  g_assert_cmpint (g_get_monotonic_time () - answered, >=, 900000);
  assert_state_event (ta, call, SIP_CALL_STATE_ENDED);
  g_assert_cmpstr (sip_call_get_end_reason (call), ==, "max-duration");
  msg = ok_for_request (bye);
  test_peer_send (peer, ta->port, msg);
  g_free (msg);
  g_free (bye);

  /* a call's own limit: lifted, no BYE; set again once it has lasted
   * longer than that: BYE at once */
  ok2 = send_invite (ta, peer, d2, NULL, 200);
  call2 = test_agent_pop_call (ta, WAIT);
  g_assert_nonnull (call2);
  sip_call_set_max_duration (call2, 0);
  g_assert_cmpuint (sip_call_get_max_duration (call2), ==, 0);
  send_ack (peer, d2, ta->port, NULL);
  assert_state_event (ta, call2, SIP_CALL_STATE_ACTIVE);
  while ((msg = test_peer_recv (peer, 1500))) {
    g_assert_null (g_strstr_len (msg, 4, "BYE "));
    g_free (msg);
  }
  g_assert_cmpint (sip_call_get_state (call2), ==, SIP_CALL_STATE_ACTIVE);
  g_object_set (call2, "max-duration", 1, NULL);
  bye = test_peer_recv_request (peer, WAIT, "BYE");
  g_assert_nonnull (bye);
  assert_state_event (ta, call2, SIP_CALL_STATE_ENDED);
  g_assert_cmpstr (sip_call_get_end_reason (call2), ==, "max-duration");
  g_assert_true (test_agent_wait_active_calls (ta, 0, WAIT));

  g_object_unref (call);
  g_object_unref (call2);
  g_free (bye);
  g_free (ok);
  g_free (ok2);
  test_dialog_free (d);
  test_dialog_free (d2);
  test_peer_free (peer);
  test_agent_free (ta);
}

static void
test_cancel (void)
{
  TestAgent *ta = test_agent_new (TEST_ANSWER_RING, NULL);
  TestPeer *peer = test_peer_new ();
  TestDialog *d = test_dialog_new (peer, ta->port);
  gchar *ringing = send_invite (ta, peer, d, NULL, 180);
  SipCall *call = test_agent_pop_call (ta, WAIT);
  gchar *cancel, *resp1, *resp2, *ack, *tag, *to_tag;
  gchar *saved_tag;
  guint cancel_ok = 0, terminated = 0;

  g_assert_nonnull (call);
  /* CANCEL: same branch, same CSeq number, To as in the INVITE */
  saved_tag = d->to_tag;
  d->to_tag = NULL;
  cancel = test_dialog_request (d, "CANCEL", d->invite_branch, 0, NULL, NULL);
  test_peer_send (peer, ta->port, cancel);
  resp1 = test_peer_recv_response (peer, WAIT, 0);
  resp2 = test_peer_recv_response (peer, WAIT, 0);
  g_assert_nonnull (resp1);
  g_assert_nonnull (resp2);
  for (gchar ** r = (gchar *[]) {
      resp1, resp2, NULL}; *r; r++) {
    gchar *cseq = test_msg_header (*r, "CSeq");
    if (test_msg_status (*r) == 200 && g_str_has_suffix (cseq, "CANCEL"))
      cancel_ok++;
    if (test_msg_status (*r) == 487 && g_str_has_suffix (cseq, "INVITE")) {
      terminated++;
      to_tag = test_msg_header_param (*r, "To", "tag");
      g_assert_cmpstr (to_tag, ==, saved_tag);
      g_free (to_tag);
    }
    g_free (cseq);
  }
  g_assert_cmpuint (cancel_ok, ==, 1);
  g_assert_cmpuint (terminated, ==, 1);
  assert_state_event (ta, call, SIP_CALL_STATE_ENDED);
  g_assert_cmpstr (sip_call_get_end_reason (call), ==, "cancelled");

  /* ACK for the 487 (same branch): it stops the 487 retransmissions */
  d->to_tag = saved_tag;
  ack = test_dialog_request (d, "ACK", d->invite_branch, 0, NULL, NULL);
  test_peer_send (peer, ta->port, ack);
  test_peer_drain (peer, 2 * TEST_T1_MS);
  g_assert_null (test_peer_recv (peer, 20 * TEST_T1_MS));

  /* a CANCEL for nothing: 481 */
  tag = g_strdup_printf ("z9hG4bKnothing%08x", g_random_int ());
  g_free (cancel);
  d->to_tag = NULL;
  cancel = test_dialog_request (d, "CANCEL", tag, 0, NULL, NULL);
  test_peer_send (peer, ta->port, cancel);
  g_free (resp1);
  resp1 = test_peer_recv_response (peer, WAIT, 0);
  g_assert_cmpuint (test_msg_status (resp1), ==, 481);

  g_free (saved_tag);
  g_free (tag);
  g_object_unref (call);
  g_free (ack);
  g_free (resp1);
  g_free (resp2);
  g_free (cancel);
  g_free (ringing);
  test_dialog_free (d);
  test_peer_free (peer);
  test_agent_free (ta);
}

static gchar *
reinvite (TestAgent * ta, TestPeer * peer, TestDialog * d, const gchar * sdp)
{
  gchar *req, *ok;

  d->cseq++;
  g_free (d->invite_branch);
  d->invite_branch = g_strdup_printf ("z9hG4bKre%08x", g_random_int ());
  req = test_dialog_request (d, "INVITE", d->invite_branch, 0, NULL, sdp);
  test_peer_send (peer, ta->port, req);
  ok = test_peer_recv_response (peer, WAIT, 0);
  g_assert_cmpuint (test_msg_status (ok), ==, 200);
  send_ack (peer, d, ta->port, NULL);
  g_free (req);
  return ok;
}

static guint64
sdp_version (const gchar * msg)
{
  const gchar *o = strstr (test_msg_body (msg), "o=");
  gchar **fields = g_strsplit (o, " ", 4);
  guint64 version = g_ascii_strtoull (fields[2], NULL, 10);

  g_strfreev (fields);
  return version;
}

static void
test_reinvite_hold (void)
{
  TestAgent *ta = test_agent_new (TEST_ANSWER_ANSWER, NULL);
  TestPeer *peer = test_peer_new ();
  TestDialog *d = test_dialog_new (peer, ta->port);
  SipCall *call = establish_call (ta, peer, d, NULL);
  gchar *media_event = g_strdup_printf ("media:%s", d->call_id);
  gchar *sdp, *ok, *m_line;
  guint64 v1, v2, v3;

  m_line = g_strdup_printf ("m=audio %u RTP/AVP 0 101\r\n",
      sip_call_get_local_rtp_port (call));

  /* hold: a=sendonly -> a=recvonly, same port */
  sdp = test_sdp_offer (40000, "0 101",
      "a=rtpmap:101 telephone-event/8000\r\na=sendonly\r\n");
  ok = reinvite (ta, peer, d, sdp);
  g_assert_nonnull (strstr (test_msg_body (ok), "a=recvonly\r\n"));
  g_assert_nonnull (strstr (test_msg_body (ok), m_line));
  g_assert_true (test_agent_wait_event (ta, media_event, WAIT));
  g_assert_true (sip_call_get_on_hold (call));
  v1 = sdp_version (ok);
  g_free (ok);
  g_free (sdp);

  /* resume, new port */
  sdp = test_sdp_offer (40010, "0 101",
      "a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n");
  ok = reinvite (ta, peer, d, sdp);
  g_assert_nonnull (strstr (test_msg_body (ok), "a=sendrecv\r\n"));
  g_assert_nonnull (strstr (test_msg_body (ok), m_line));
  g_assert_true (test_agent_wait_event (ta, media_event, WAIT));
  g_assert_false (sip_call_get_on_hold (call));
  g_assert_cmpuint (sip_call_get_remote_rtp_port (call), ==, 40010);
  v2 = sdp_version (ok);
  g_assert_cmpuint (v2, ==, v1 + 1);
  g_free (ok);

  /* session refresh, same SDP: same version */
  ok = reinvite (ta, peer, d, sdp);
  v3 = sdp_version (ok);
  g_assert_cmpuint (v3, ==, v2);
  g_free (ok);
  g_free (sdp);

  /* RFC 2543 hold: c=0.0.0.0 */
  sdp = g_strdup ("v=0\r\no=alice 1 3 IN IP4 127.0.0.1\r\ns=-\r\n"
      "c=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 40010 RTP/AVP 0\r\n");
  ok = reinvite (ta, peer, d, sdp);
  g_assert_true (test_agent_wait_event (ta, media_event, WAIT));
  g_assert_true (sip_call_get_on_hold (call));
  g_assert_cmpint (sip_call_get_telephone_event_pt (call), ==, -1);
  g_free (ok);
  g_free (sdp);

  /* re-INVITE without SDP: 200 with our SDP */
  ok = reinvite (ta, peer, d, NULL);
  g_assert_nonnull (strstr (test_msg_body (ok), m_line));
  g_free (ok);

  /* an unacceptable offer: 488, the call goes on */
  sdp = test_sdp_offer (40000, "8", NULL);
  d->cseq++;
  {
    gchar *req = test_dialog_request (d, "INVITE", NULL, 0, NULL, sdp);
    test_peer_send (peer, ta->port, req);
    ok = test_peer_recv_response (peer, WAIT, 0);
    g_assert_cmpuint (test_msg_status (ok), ==, 488);
    g_free (req);
  }
  g_assert_cmpint (sip_call_get_state (call), ==, SIP_CALL_STATE_ACTIVE);
  g_free (ok);
  g_free (sdp);

  /* OPTIONS within the dialog */
  {
    gchar *req;
    d->cseq++;
    req = test_dialog_request (d, "OPTIONS", NULL, 0, NULL, NULL);
    test_peer_send (peer, ta->port, req);
    ok = test_peer_recv_response (peer, WAIT, 0);
    g_assert_cmpuint (test_msg_status (ok), ==, 200);
    g_free (req);
    g_free (ok);
  }

  g_object_unref (call);
  g_free (m_line);
  g_free (media_event);
  test_dialog_free (d);
  test_peer_free (peer);
  test_agent_free (ta);
}

static void
test_unknown_dialog (void)
{
  TestAgent *ta = test_agent_new (TEST_ANSWER_NONE, NULL);
  TestPeer *peer = test_peer_new ();
  TestDialog *d = test_dialog_new (peer, ta->port);
  gchar *req, *resp;

  d->to_tag = g_strdup ("nosuchtag");
  req = test_dialog_request (d, "BYE", NULL, 0, NULL, NULL);
  test_peer_send (peer, ta->port, req);
  resp = test_peer_recv_response (peer, WAIT, 0);
  g_assert_cmpuint (test_msg_status (resp), ==, 481);
  g_free (resp);
  g_free (req);

  /* a BYE without To tag is outside any dialog too */
  g_clear_pointer (&d->to_tag, g_free);
  req = test_dialog_request (d, "BYE", NULL, 0, NULL, NULL);
  test_peer_send (peer, ta->port, req);
  resp = test_peer_recv_response (peer, WAIT, 0);
  g_assert_cmpuint (test_msg_status (resp), ==, 481);
  g_free (resp);
  g_free (req);

  test_dialog_free (d);
  test_peer_free (peer);
  test_agent_free (ta);
}

static void
test_pcma_only (void)
{
  TestAgent *ta = test_agent_new (TEST_ANSWER_ANSWER, NULL);
  TestPeer *peer = test_peer_new ();
  TestDialog *d = test_dialog_new (peer, ta->port);
  gchar *sdp = test_sdp_offer (40000, "8", "a=rtpmap:8 PCMA/8000\r\n");
  gchar *invite = test_dialog_request (d, "INVITE", d->invite_branch, 0,
      NULL, sdp);
  gchar *resp, *again;

  test_peer_send (peer, ta->port, invite);
  resp = test_peer_recv_response (peer, WAIT, 0);
  g_assert_cmpuint (test_msg_status (resp), ==, 488);
  g_assert_cmpint (g_atomic_int_get (&ta->incoming_count), ==, 0);
  g_assert_true (test_agent_wait_active_calls (ta, 0, WAIT));
  /* without ACK, the 488 is retransmitted (Timer G) */
  again = test_peer_recv_response (peer, WAIT, 488);
  g_assert_nonnull (again);
  g_free (again);
  g_free (resp);
  g_free (invite);
  g_free (sdp);

  /* malformed SDP: 400 */
  g_free (d->invite_branch);
  d->invite_branch = g_strdup ("z9hG4bKbadsdp");
  invite = test_dialog_request (d, "INVITE", d->invite_branch, 2, NULL,
      "this is not SDP");
  test_peer_send (peer, ta->port, invite);
  resp = test_peer_recv_response (peer, WAIT, 0);
  g_assert_cmpuint (test_msg_status (resp), ==, 400);
  g_free (resp);
  g_free (invite);

  test_dialog_free (d);
  test_peer_free (peer);
  test_agent_free (ta);
}

static void
test_no_handler (void)
{
  TestAgent *ta = test_agent_new (TEST_ANSWER_NONE, NULL);
  TestPeer *peer = test_peer_new ();
  TestDialog *d = test_dialog_new (peer, ta->port);
  gchar *resp = send_invite (ta, peer, d, NULL, 0);

  g_assert_cmpuint (test_msg_status (resp), ==, 480);
  g_assert_cmpint (g_atomic_int_get (&ta->incoming_count), ==, 1);
  g_assert_true (test_agent_wait_active_calls (ta, 0, WAIT));
  g_free (resp);
  test_dialog_free (d);
  test_peer_free (peer);
  test_agent_free (ta);
}

static void
test_reject (void)
{
  TestAgent *ta = test_agent_new (TEST_ANSWER_KEEP, NULL);
  TestPeer *peer = test_peer_new ();
  TestDialog *d = test_dialog_new (peer, ta->port);
  gchar *sdp = test_sdp_offer (40000, "0", NULL);
  gchar *invite = test_dialog_request (d, "INVITE", d->invite_branch, 0,
      NULL, sdp);
  gchar *resp;
  SipCall *call;

  test_peer_send (peer, ta->port, invite);
  call = test_agent_pop_call (ta, WAIT);
  g_assert_nonnull (call);
  sip_call_reject (call, 603);
  resp = test_peer_recv_response (peer, WAIT, 0);
  g_assert_cmpuint (test_msg_status (resp), ==, 603);
  assert_state_event (ta, call, SIP_CALL_STATE_ENDED);
  g_assert_cmpstr (sip_call_get_end_reason (call), ==, "rejected");
  /* actions on an ENDED call do nothing */
  sip_call_answer (call);
  sip_call_hangup (call);
  g_assert_null (test_peer_recv_response (peer, 5 * TEST_T1_MS, 200));

  g_object_unref (call);
  g_free (resp);
  g_free (invite);
  g_free (sdp);
  test_dialog_free (d);
  test_peer_free (peer);
  test_agent_free (ta);
}

static void
test_delayed_offer (void)
{
  TestAgent *ta = test_agent_new (TEST_ANSWER_ANSWER, NULL);
  TestPeer *peer = test_peer_new ();
  TestDialog *d = test_dialog_new (peer, ta->port);
  gchar *invite = test_dialog_request (d, "INVITE", d->invite_branch, 0,
      NULL, NULL);
  gchar *ok, *answer;
  SipCall *call;

  test_peer_send (peer, ta->port, invite);
  ok = test_peer_recv_response (peer, WAIT, 200);
  g_assert_nonnull (ok);
  d->to_tag = test_msg_header_param (ok, "To", "tag");
  /* our offer */
  g_assert_nonnull (strstr (test_msg_body (ok), "m=audio "));
  g_assert_nonnull (strstr (test_msg_body (ok), " RTP/AVP 0 101\r\n"));
  call = test_agent_pop_call (ta, WAIT);
  g_assert_nonnull (call);
  g_assert_cmpuint (sip_call_get_remote_rtp_port (call), ==, 0);

  /* the answer comes in the ACK */
  answer = test_sdp_offer (40020, "0 101",
      "a=rtpmap:101 telephone-event/8000\r\n");
  send_ack (peer, d, ta->port, answer);
  assert_state_event (ta, call, SIP_CALL_STATE_ACTIVE);
  g_assert_cmpuint (sip_call_get_remote_rtp_port (call), ==, 40020);
  g_assert_cmpint (sip_call_get_telephone_event_pt (call), ==, 101);

  g_object_unref (call);
  g_free (answer);
  g_free (ok);
  g_free (invite);
  test_dialog_free (d);
  test_peer_free (peer);
  test_agent_free (ta);
}

static void
test_record_route_bye (void)
{
  TestAgent *ta = test_agent_new (TEST_ANSWER_ANSWER, NULL);
  TestPeer *peer = test_peer_new ();
  TestDialog *d = test_dialog_new (peer, ta->port);
  gchar *rr = g_strdup_printf ("Record-Route: <sip:127.0.0.1:%u;lr>\n"
      "Record-Route: <sip:proxy2.invalid;lr>\n", peer->port);
  SipCall *call = establish_call (ta, peer, d, rr);
  gchar *bye, *route;

  /* loose routing: Request-URI is the remote target, Route the route set
   * in order, sent to the first route */
  sip_call_hangup (call);
  bye = test_peer_recv_request (peer, WAIT, "BYE");
  g_assert_nonnull (bye);
  g_assert_true (g_str_has_prefix (bye, "BYE sip:alice@127.0.0.1:"));
  g_assert_cmpuint (test_msg_count_header (bye, "Route"), ==, 2);
  route = test_msg_header (bye, "Route");
  g_assert_nonnull (strstr (route, "127.0.0.1"));
  g_assert_true (strstr (bye, "127.0.0.1:") < strstr (bye, "proxy2.invalid"));

  g_object_unref (call);
  g_free (route);
  g_free (bye);
  g_free (rr);
  test_dialog_free (d);
  test_peer_free (peer);
  test_agent_free (ta);
}

static void
test_strict_route_bye (void)
{
  TestAgent *ta = test_agent_new (TEST_ANSWER_ANSWER, NULL);
  TestPeer *peer = test_peer_new ();
  TestDialog *d = test_dialog_new (peer, ta->port);
  gchar *rr = g_strdup_printf ("Record-Route: <sip:127.0.0.1:%u>\n",
      peer->port);
  SipCall *call = establish_call (ta, peer, d, rr);
  gchar *bye, *route, *start;

  /* RFC 3261 12.2.1.1, strict routing (no ;lr): the Request-URI is the
   * first route, the remote target goes last into Route */
  sip_call_hangup (call);
  bye = test_peer_recv_request (peer, WAIT, "BYE");
  g_assert_nonnull (bye);
  start = g_strdup_printf ("BYE sip:127.0.0.1:%u SIP/2.0\r\n", peer->port);
  g_assert_true (g_str_has_prefix (bye, start));
  g_assert_cmpuint (test_msg_count_header (bye, "Route"), ==, 1);
  route = test_msg_header (bye, "Route");
  g_assert_nonnull (strstr (route, "sip:alice@127.0.0.1"));

  g_object_unref (call);
  g_free (start);
  g_free (route);
  g_free (bye);
  g_free (rr);
  test_dialog_free (d);
  test_peer_free (peer);
  test_agent_free (ta);
}

static void
test_stop_ends_calls (void)
{
  TestAgent *ta = test_agent_new (TEST_ANSWER_ANSWER, NULL);
  TestPeer *peer = test_peer_new ();
  TestDialog *d = test_dialog_new (peer, ta->port);
  SipCall *call = establish_call (ta, peer, d, NULL);
  gchar *bye;

  sip_agent_stop (ta->agent);
  bye = test_peer_recv_request (peer, WAIT, "BYE");
  g_assert_nonnull (bye);
  g_assert_cmpint (sip_call_get_state (call), ==, SIP_CALL_STATE_ENDED);
  g_assert_cmpstr (sip_call_get_end_reason (call), ==, "shutdown");
  g_assert_cmpuint (sip_agent_get_bound_port (ta->agent), ==, 0);
  /* idempotent; actions after the stop do nothing */
  sip_agent_stop (ta->agent);
  sip_call_hangup (call);

  g_object_unref (call);
  g_free (bye);
  test_dialog_free (d);
  test_peer_free (peer);
  test_agent_free (ta);
}

/* graceful shutdown: new calls refused, current ones go on, stop ends
 * them with BYE */
static void
test_drain (void)
{
  TestAgent *ta = test_agent_new (TEST_ANSWER_ANSWER, NULL);
  TestPeer *peer = test_peer_new ();
  TestPeer *peer2 = test_peer_new ();
  TestDialog *d = test_dialog_new (peer, ta->port);
  TestDialog *d2 = test_dialog_new (peer2, ta->port);
  SipCall *call = establish_call (ta, peer, d, NULL);
  gboolean draining = TRUE;
  gchar *resp, *retry, *req, *bye;

  g_object_get (ta->agent, "draining", &draining, NULL);
  g_assert_false (draining);
  sip_agent_drain (ta->agent);
  g_object_get (ta->agent, "draining", &draining, NULL);
  g_assert_true (draining);

  /* a new INVITE: 503 with Retry-After, no call, no media */
  resp = send_invite (ta, peer2, d2, NULL, 503);
  retry = test_msg_header (resp, "Retry-After");
  g_assert_cmpstr (retry, ==, "30");
  g_free (retry);
  g_free (resp);
  g_assert_cmpint (g_atomic_int_get (&ta->incoming_count), ==, 1);
  g_assert_cmpuint (sip_agent_get_active_calls (ta->agent), ==, 1);

  /* the current call goes on: in-dialog requests are answered */
  g_assert_cmpint (sip_call_get_state (call), ==, SIP_CALL_STATE_ACTIVE);
  d->cseq++;
  req = test_dialog_request (d, "OPTIONS", NULL, 0, NULL, NULL);
  test_peer_send (peer, ta->port, req);
  resp = test_peer_recv_response (peer, WAIT, 200);
  g_assert_nonnull (resp);
  g_free (resp);
  g_free (req);

  /* the stop sends BYE to what is left and clears draining */
  sip_agent_stop (ta->agent);
  bye = test_peer_recv_request (peer, WAIT, "BYE");
  g_assert_nonnull (bye);
  g_assert_cmpstr (sip_call_get_end_reason (call), ==, "shutdown");
  g_object_get (ta->agent, "draining", &draining, NULL);
  g_assert_false (draining);

  g_object_unref (call);
  g_free (bye);
  test_dialog_free (d);
  test_dialog_free (d2);
  test_peer_free (peer);
  test_peer_free (peer2);
  test_agent_free (ta);
}

/* one end of an AF_UNIX socket pair of @type */
static gint
unix_socket (gint type)
{
  gint pair[2];

  g_assert_cmpint (socketpair (AF_UNIX, type, 0, pair), ==, 0);
  close (pair[1]);
  return pair[0];
}

/* @fd as the value of @property fails sip_agent_start(), with an error
 * naming the property and saying @why */
static void
assert_fd_refused (SipAgent * agent, const gchar * property, gint fd,
    const gchar * why)
{
  GError *error = NULL;

  g_object_set (agent, property, fd, NULL);
  g_assert_false (sip_agent_start (agent, &error));
  g_assert_error (error, SIP_AGENT_ERROR, SIP_AGENT_ERROR_CONFIG);
  g_assert_nonnull (strstr (error->message, property));
  g_assert_nonnull (strstr (error->message, why));
  g_error_free (error);
}

static void
test_start_errors (void)
{
  TestAgent *ta = test_agent_new (TEST_ANSWER_NONE, NULL);
  SipAgent *agent = sip_agent_new ();
  GError *error = NULL;
  gchar *message;

  /* the port is taken */
  g_object_set (agent, "host", "127.0.0.1", "port", ta->port, NULL);
  g_assert_false (sip_agent_start (agent, &error));
  g_assert_error (error, SIP_AGENT_ERROR, SIP_AGENT_ERROR_BIND);
  message = g_strdup_printf ("port %u", ta->port);
  g_assert_nonnull (strstr (error->message, message));
  g_assert_nonnull (strstr (error->message, "in use"));
  g_free (message);
  g_clear_error (&error);

  /* bad settings */
  g_object_set (agent, "port", 0, "rtp-port-range", "20000-1000", NULL);
  g_assert_false (sip_agent_start (agent, &error));
  g_assert_error (error, SIP_AGENT_ERROR, SIP_AGENT_ERROR_CONFIG);
  g_clear_error (&error);
  g_object_set (agent, "rtp-port-range", "20000-20100",
      "allowed-sources", "10.0.0.0/99", NULL);
  g_assert_false (sip_agent_start (agent, &error));
  g_assert_error (error, SIP_AGENT_ERROR, SIP_AGENT_ERROR_CONFIG);
  g_assert_nonnull (strstr (error->message, "10.0.0.0/99"));
  g_clear_error (&error);
  g_object_set (agent, "allowed-sources", NULL, "host", "not-an-ip", NULL);
  g_assert_false (sip_agent_start (agent, &error));
  g_assert_error (error, SIP_AGENT_ERROR, SIP_AGENT_ERROR_CONFIG);
  g_clear_error (&error);

  /* descriptors to take over of the wrong kind: no socket, a datagram
   * socket but no UDP one as the SIP socket, a stream socket as the relay */
  g_object_set (agent, "host", "127.0.0.1", NULL);
  assert_fd_refused (agent, "socket-fd", open ("/dev/null", O_RDONLY),
      "is not a socket");
  assert_fd_refused (agent, "socket-fd", unix_socket (SOCK_DGRAM),
      "is not a UDP socket");
  assert_fd_refused (agent, "relay-fd", unix_socket (SOCK_STREAM),
      "is not a datagram socket");
  g_object_set (agent, "socket-fd", -1, NULL);

  /* started twice */
  g_object_set (agent, "host", "127.0.0.1", NULL);
  g_assert_true (sip_agent_start (agent, &error));
  g_assert_false (sip_agent_start (agent, &error));
  g_assert_error (error, SIP_AGENT_ERROR, SIP_AGENT_ERROR_STATE);
  g_clear_error (&error);
  /* restart */
  sip_agent_stop (agent);
  g_assert_true (sip_agent_start (agent, &error));
  g_assert_no_error (error);
  /* finalize stops */
  g_object_unref (agent);
  test_agent_free (ta);
}

static void
test_dual_stack (void)
{
  SipAgent *agent = sip_agent_new ();
  TestPeer *peer;
  GError *error = NULL;
  gchar *resp, *received;

  g_object_set (agent, "host", "::", "port", 0, NULL);
  if (!sip_agent_start (agent, &error)) {
    g_test_skip (error->message);
    g_clear_error (&error);
    g_object_unref (agent);
    return;
  }
  peer = test_peer_new ();
  test_peer_send (peer, sip_agent_get_bound_port (agent),
      "OPTIONS sip:bot@127.0.0.1 SIP/2.0\n"
      "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKds\n"
      "From: <sip:a@192.0.2.1>;tag=1\nTo: <sip:bot@127.0.0.1>\n"
      "Call-ID: ds1\nCSeq: 1 OPTIONS\nContent-Length: 0\n\n");
  resp = test_peer_recv (peer, WAIT);
  g_assert_cmpuint (test_msg_status (resp), ==, 200);
  /* an IPv4 peer on a dual-stack socket: plain IPv4 in received= */
  received = test_msg_header_param (resp, "Via", "received");
  g_assert_cmpstr (received, ==, "127.0.0.1");
  g_free (received);
  g_free (resp);
  test_peer_free (peer);
  g_object_unref (agent);
}

static gboolean
stop_in_handler (SipAgent * agent, SipCall * call, gpointer user_data)
{
  /* from the agent's own thread */
  sip_agent_stop (agent);
  return FALSE;
}

static gboolean
unref_in_handler (SipAgent * agent, SipCall * call, gpointer user_data)
{
  /* drops the last reference of the application: the agent is finalized
   * in its own thread */
  g_object_unref (agent);
  return FALSE;
}

static void
stop_from_agent_thread (GCallback handler)
{
  SipAgent *agent = sip_agent_new ();
  TestPeer *peer = test_peer_new ();
  TestDialog *d;
  GError *error = NULL;
  gchar *sdp = test_sdp_offer (40000, "0", NULL);
  gchar *invite, *resp;
  guint port;

  test_set_short_timers ();
  g_object_set (agent, "host", "127.0.0.1", "port", 0, "rtp-port-range",
      "20000-40000", NULL);
  g_signal_connect (agent, "incoming-call", handler, NULL);
  g_assert_true (sip_agent_start (agent, &error));
  port = sip_agent_get_bound_port (agent);
  d = test_dialog_new (peer, port);
  invite = test_dialog_request (d, "INVITE", NULL, 0, NULL, sdp);
  test_peer_send (peer, port, invite);
  /* the call is refused: 503 as the agent shuts down, or 480 when the
   * agent finalizes only after the handler */
  resp = test_peer_recv_response (peer, WAIT, 0);
  if (handler == G_CALLBACK (stop_in_handler))
    g_assert_cmpuint (test_msg_status (resp), ==, 503);
  else
    g_assert_cmpuint (test_msg_status (resp), ==, 480);
  if (handler == G_CALLBACK (stop_in_handler)) {
    gint64 end = g_get_monotonic_time () + WAIT * 1000;
    while (sip_agent_get_bound_port (agent) != 0
        && g_get_monotonic_time () < end)
      g_usleep (1000);
    g_assert_cmpuint (sip_agent_get_bound_port (agent), ==, 0);
    g_object_unref (agent);
  }
  /* nothing listens any more */
  g_free (resp);
  g_usleep (100000);
  test_peer_drain (peer, 10);
  g_free (invite);
  d->cseq++;
  invite = test_dialog_request (d, "OPTIONS", NULL, 0, NULL, NULL);
  test_peer_send (peer, port, invite);
  g_assert_null (test_peer_recv (peer, 300));
  g_free (invite);
  g_free (sdp);
  test_dialog_free (d);
  test_peer_free (peer);
}

static void
test_stop_in_handler (void)
{
  stop_from_agent_thread (G_CALLBACK (stop_in_handler));
}

static void
test_unref_in_handler (void)
{
  stop_from_agent_thread (G_CALLBACK (unref_in_handler));
}

static void
test_cancel_after_answer (void)
{
  TestAgent *ta = test_agent_new (TEST_ANSWER_ANSWER, NULL);
  TestPeer *peer = test_peer_new ();
  TestDialog *d = test_dialog_new (peer, ta->port);
  gchar *ok = send_invite (ta, peer, d, NULL, 200);
  SipCall *call = test_agent_pop_call (ta, WAIT);
  gchar *saved_tag = d->to_tag, *cancel, *resp;

  g_assert_nonnull (call);
  d->to_tag = NULL;
  cancel = test_dialog_request (d, "CANCEL", d->invite_branch, 0, NULL, NULL);
  d->to_tag = saved_tag;
  test_peer_send (peer, ta->port, cancel);
  /* 200 for the CANCEL (retransmitted 200s of the INVITE may come too) */
  for (;;) {
    gchar *cseq;
    resp = test_peer_recv_response (peer, WAIT, 200);
    g_assert_nonnull (resp);
    cseq = test_msg_header (resp, "CSeq");
    if (g_str_has_suffix (cseq, "CANCEL")) {
      g_free (cseq);
      break;
    }
    g_free (cseq);
    g_free (resp);
  }
  send_ack (peer, d, ta->port, NULL);
  /* the call goes on */
  assert_state_event (ta, call, SIP_CALL_STATE_ACTIVE);

  g_object_unref (call);
  g_free (resp);
  g_free (cancel);
  g_free (ok);
  test_dialog_free (d);
  test_peer_free (peer);
  test_agent_free (ta);
}

#define N_CALLS 20

static void
test_many_calls (void)
{
  TestAgent *ta = test_agent_new (TEST_ANSWER_ANSWER, NULL);
  TestPeer *peers[N_CALLS];
  TestDialog *dialogs[N_CALLS];
  SipCall *calls[N_CALLS];
  GHashTable *ports = g_hash_table_new (NULL, NULL);

  for (guint i = 0; i < N_CALLS; i++) {
    peers[i] = test_peer_new ();
    dialogs[i] = test_dialog_new (peers[i], ta->port);
    calls[i] = establish_call (ta, peers[i], dialogs[i], NULL);
    g_hash_table_add (ports,
        GUINT_TO_POINTER (sip_call_get_local_rtp_port (calls[i])));
  }
  /* each call its own port pair */
  g_assert_cmpuint (g_hash_table_size (ports), ==, N_CALLS);
  g_assert_cmpuint (sip_agent_get_active_calls (ta->agent), ==, N_CALLS);

  for (guint i = 0; i < N_CALLS; i++) {
    gchar *bye, *resp;
    dialogs[i]->cseq++;
    bye = test_dialog_request (dialogs[i], "BYE", NULL, 0, NULL, NULL);
    test_peer_send (peers[i], ta->port, bye);
    resp = test_peer_recv_response (peers[i], WAIT, 0);
    g_assert_cmpuint (test_msg_status (resp), ==, 200);
    g_free (resp);
    g_free (bye);
  }
  g_assert_true (test_agent_wait_active_calls (ta, 0, WAIT));
  for (guint i = 0; i < N_CALLS; i++) {
    g_assert_cmpstr (sip_call_get_end_reason (calls[i]), ==, "remote-bye");
    g_object_unref (calls[i]);
    test_dialog_free (dialogs[i]);
    test_peer_free (peers[i]);
  }
  g_hash_table_unref (ports);
  test_agent_free (ta);
}

/* What a dispatcher in front of worker agents does (see SipAgent:relay-fd):
 * it reads the shared SIP socket and relays each datagram, prefixed by its
 * source, to one worker; the worker answers through the shared socket. */
static void
relay_send_from (gint relay, GSocketAddress * source, const gchar * text)
{
  GInetSocketAddress *inet = G_INET_SOCKET_ADDRESS (source);
  GInetAddress *ip = g_inet_socket_address_get_address (inet);
  gsize ip_len = g_inet_address_get_native_size (ip);
  guint port = g_inet_socket_address_get_port (inet);
  guint32 scope_id = ip_len == 16 ? g_inet_socket_address_get_scope_id (inet)
      : 0;
  guint8 head[] = { ip_len == 4 ? 4 : 6, port >> 8, port & 0xff };
  guint8 scope[] = { scope_id >> 24, (scope_id >> 16) & 0xff,
    (scope_id >> 8) & 0xff, scope_id & 0xff
  };
  GByteArray *datagram = g_byte_array_new ();

  g_byte_array_append (datagram, head, sizeof head);
  g_byte_array_append (datagram, g_inet_address_to_bytes (ip), ip_len);
  if (ip_len == 16)
    g_byte_array_append (datagram, scope, sizeof scope);
  g_byte_array_append (datagram, (const guint8 *) text, strlen (text));
  g_assert_cmpint (send (relay, datagram->data, datagram->len, 0), ==,
      (gssize) datagram->len);
  g_byte_array_unref (datagram);
}

static void
relay_send (gint relay, TestPeer * peer, const gchar * text)
{
  GInetAddress *loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *source = g_inet_socket_address_new (loopback, peer->port);

  relay_send_from (relay, source, text);
  g_object_unref (source);
  g_object_unref (loopback);
}

/* A UDP socket on the loopback address of @family, any free port, which
 * goes to @port; NULL when there is no such address */
static GSocket *
loopback_udp_socket (GSocketFamily family, guint * port)
{
  GInetAddress *loopback = g_inet_address_new_loopback (family);
  GSocketAddress *any_port = g_inet_socket_address_new (loopback, 0);
  GSocket *socket = g_socket_new (family, G_SOCKET_TYPE_DATAGRAM,
      G_SOCKET_PROTOCOL_UDP, NULL);
  GSocketAddress *local;

  if (socket && g_socket_bind (socket, any_port, FALSE, NULL)) {
    local = g_socket_get_local_address (socket, NULL);
    *port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
    g_object_unref (local);
  } else {
    g_clear_object (&socket);
  }
  g_object_unref (any_port);
  g_object_unref (loopback);
  return socket;
}

static void
test_relayed_datagrams (void)
{
  guint shared_port;
  GSocket *shared = loopback_udp_socket (G_SOCKET_FAMILY_IPV4, &shared_port);
  GSocketAddress *source = NULL;
  TestAgent *ta;
  TestPeer *peer = test_peer_new ();
  TestDialog *d;
  gint pair[2], relay_fd, taken_fd, taken_relay_fd;
  gchar *req, *resp, *contact, *port_text, *bye, *bye_ok, *sdp;
  gchar buffer[2048];
  SipCall *call;

  g_assert_nonnull (shared);
  g_assert_cmpint (socketpair (AF_UNIX, SOCK_DGRAM, 0, pair), ==, 0);
  relay_fd = pair[0];
  taken_fd = dup (g_socket_get_fd (shared));
  taken_relay_fd = pair[1];
  g_assert_false (fcntl (taken_fd, F_GETFD) & FD_CLOEXEC);
  ta = test_agent_new (TEST_ANSWER_ANSWER, "socket-fd", taken_fd,
      "relay-fd", taken_relay_fd, NULL);
  /* the agent took the descriptors over, and programs started later do not
   * get them */
  g_assert_cmpuint (ta->port, ==, shared_port);
  g_object_get (ta->agent, "relay-fd", &pair[1], NULL);
  g_assert_cmpint (pair[1], ==, -1);
  g_assert_true (fcntl (taken_fd, F_GETFD) & FD_CLOEXEC);
  g_assert_true (fcntl (taken_relay_fd, F_GETFD) & FD_CLOEXEC);

  /* what arrives on the shared socket is the dispatcher's to read */
  d = test_dialog_new (peer, shared_port);
  req = test_dialog_request (d, "OPTIONS", NULL, 0, NULL, NULL);
  test_peer_send (peer, shared_port, req);
  g_assert_null (test_peer_recv (peer, 10 * TEST_T1_MS));
  g_socket_set_timeout (shared, 2);
  g_assert_cmpint (g_socket_receive_from (shared, &source, buffer,
          sizeof buffer, NULL, NULL), >, 0);
  g_assert_true (g_str_has_prefix (buffer, "OPTIONS "));
  g_free (req);

  /* malformed relayed datagrams are dropped; the next one is answered,
   * from the shared port, to the source the dispatcher named */
  g_assert_cmpint (send (relay_fd, "\x04", 1, 0), ==, 1);
  g_assert_cmpint (send (relay_fd, "\x05\x13\xc4OPTIONS", 10, 0), ==, 10);
  req = test_dialog_request (d, "OPTIONS", NULL, 0, NULL, NULL);
  relay_send (relay_fd, peer, req);
  resp = test_peer_recv_response (peer, WAIT, 200);
  g_assert_nonnull (resp);
  port_text = test_msg_header_param (resp, "Via", "rport");
  g_assert_cmpuint (g_ascii_strtoull (port_text, NULL, 10), ==, peer->port);
  g_free (port_text);
  g_free (resp);
  g_free (req);

  /* a whole call: INVITE, ACK, and the agent's BYE */
  sdp = test_sdp_offer (40000, "0", NULL);
  req = test_dialog_request (d, "INVITE", d->invite_branch, 0, NULL, sdp);
  relay_send (relay_fd, peer, req);
  resp = test_peer_recv_response (peer, WAIT, 200);
  g_assert_nonnull (resp);
  d->to_tag = test_msg_header_param (resp, "To", "tag");
  contact = test_msg_header (resp, "Contact");
  port_text = g_strdup_printf (":%u", shared_port);
  g_assert_nonnull (strstr (contact, port_text));
  g_free (req);
  req = test_dialog_request (d, "ACK", NULL, d->cseq, NULL, NULL);
  relay_send (relay_fd, peer, req);
  call = test_agent_pop_call (ta, WAIT);
  g_assert_nonnull (call);
  assert_state_event (ta, call, SIP_CALL_STATE_ACTIVE);
  sip_call_hangup (call);
  bye = test_peer_recv_request (peer, WAIT, "BYE");
  g_assert_nonnull (bye);
  bye_ok = ok_for_request (bye);
  relay_send (relay_fd, peer, bye_ok);
  assert_state_event (ta, call, SIP_CALL_STATE_ENDED);

  g_free (bye_ok);
  g_free (bye);
  g_free (sdp);
  g_free (port_text);
  g_free (contact);
  g_free (resp);
  g_free (req);
  g_object_unref (call);
  test_dialog_free (d);
  test_peer_free (peer);
  test_agent_free (ta);
  close (relay_fd);
  g_object_unref (source);
  g_object_unref (shared);
}

/* An IPv6 caller relayed: its address goes with its scope id (::1 has
 * none, 0), and the answer goes back to it from the shared socket */
static void
test_relayed_ipv6 (void)
{
  guint shared_port, caller_port;
  GSocket *shared = loopback_udp_socket (G_SOCKET_FAMILY_IPV6, &shared_port);
  GSocket *caller = loopback_udp_socket (G_SOCKET_FAMILY_IPV6, &caller_port);
  GSocketAddress *caller_address, *from = NULL;
  TestAgent *ta;
  gint pair[2];
  gchar buffer[2048], *req, *rport, *received;
  gssize len;

  if (shared == NULL || caller == NULL) {
    g_test_skip ("no IPv6 loopback");
    g_clear_object (&caller);
    g_clear_object (&shared);
    return;
  }
  caller_address = g_socket_get_local_address (caller, NULL);
  g_assert_cmpint (socketpair (AF_UNIX, SOCK_DGRAM, 0, pair), ==, 0);
  ta = test_agent_new (TEST_ANSWER_NONE, "host", "::1", "socket-fd",
      dup (g_socket_get_fd (shared)), "relay-fd", pair[1], NULL);
  g_assert_cmpuint (ta->port, ==, shared_port);

  /* a prefix cut inside the scope id is dropped */
  g_assert_cmpint (send (pair[0], "\x06\x13\xc4\0\0\0\0\0\0\0\0\0\0\0\0"
          "\0\0\0\x01\0\0", 21, 0), ==, 21);
  req = g_strdup_printf ("OPTIONS sip:bot@[::1]:%u SIP/2.0\r\n"
      "Via: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bKv6relay;rport\r\n"
      "From: <sip:a@[2001:db8::1]>;tag=1\r\nTo: <sip:bot@[::1]>\r\n"
      "Call-ID: v6relay\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
      shared_port);
  relay_send_from (pair[0], caller_address, req);
  g_socket_set_timeout (caller, 2);
  len = g_socket_receive_from (caller, &from, buffer, sizeof buffer - 1,
      NULL, NULL);
  g_assert_cmpint (len, >, 0);
  buffer[len] = '\0';
  g_assert_cmpuint (test_msg_status (buffer), ==, 200);
  g_assert_cmpuint (g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS
          (from)), ==, shared_port);
  rport = test_msg_header_param (buffer, "Via", "rport");
  g_assert_cmpuint (g_ascii_strtoull (rport, NULL, 10), ==, caller_port);
  received = test_msg_header_param (buffer, "Via", "received");
  g_assert_cmpstr (received, ==, "::1");

  g_free (received);
  g_free (rport);
  g_free (req);
  test_agent_free (ta);
  close (pair[0]);
  g_object_unref (from);
  g_object_unref (caller_address);
  g_object_unref (caller);
  g_object_unref (shared);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/sip/agent/options", test_options);
  g_test_add_func ("/sip/agent/unknown-method", test_unknown_method);
  g_test_add_func ("/sip/agent/unsupported-methods", test_unsupported_methods);
  g_test_add_func ("/sip/agent/require", test_require);
  g_test_add_func ("/sip/agent/bad-requests", test_bad_requests);
  g_test_add_func ("/sip/agent/via-received", test_via_received);
  g_test_add_func ("/sip/agent/compact-forms", test_compact_forms);
  g_test_add_func ("/sip/agent/public-address", test_public_address);
  g_test_add_func ("/sip/agent/basic-call", test_basic_call);
  g_test_add_func ("/sip/agent/retransmitted-invite",
      test_retransmitted_invite);
  g_test_add_func ("/sip/agent/ok-retransmitted-until-ack",
      test_ok_retransmitted_until_ack);
  g_test_add_func ("/sip/agent/no-ack-bye", test_no_ack_bye);
  g_test_add_func ("/sip/agent/hangup-before-ack", test_hangup_before_ack);
  g_test_add_func ("/sip/agent/max-duration", test_max_duration);
  g_test_add_func ("/sip/agent/cancel", test_cancel);
  g_test_add_func ("/sip/agent/reinvite-hold", test_reinvite_hold);
  g_test_add_func ("/sip/agent/unknown-dialog", test_unknown_dialog);
  g_test_add_func ("/sip/agent/pcma-only", test_pcma_only);
  g_test_add_func ("/sip/agent/no-handler", test_no_handler);
  g_test_add_func ("/sip/agent/reject", test_reject);
  g_test_add_func ("/sip/agent/delayed-offer", test_delayed_offer);
  g_test_add_func ("/sip/agent/record-route-bye", test_record_route_bye);
  g_test_add_func ("/sip/agent/strict-route-bye", test_strict_route_bye);
  g_test_add_func ("/sip/agent/stop-ends-calls", test_stop_ends_calls);
  g_test_add_func ("/sip/agent/drain", test_drain);
  g_test_add_func ("/sip/agent/start-errors", test_start_errors);
  g_test_add_func ("/sip/agent/dual-stack", test_dual_stack);
  g_test_add_func ("/sip/agent/stop-in-handler", test_stop_in_handler);
  g_test_add_func ("/sip/agent/unref-in-handler", test_unref_in_handler);
  g_test_add_func ("/sip/agent/cancel-after-answer", test_cancel_after_answer);
  g_test_add_func ("/sip/agent/many-calls", test_many_calls);
  g_test_add_func ("/sip/agent/relayed-datagrams", test_relayed_datagrams);
  g_test_add_func ("/sip/agent/relayed-ipv6", test_relayed_ipv6);

  return g_test_run ();
}
