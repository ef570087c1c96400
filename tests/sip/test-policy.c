/* gst-sip: policy: trusted source networks and the call limit
 * Copyright (C) 2026 The gst-sip authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "sip-policy.h"
#include "sip-test-util.h"

#include <string.h>

#define WAIT 2000

static gboolean
allowed (GPtrArray * sources, const gchar * ip)
{
  GInetAddress *address = g_inet_address_new_from_string (ip);
  gboolean ok = sip_policy_source_allowed (sources, address);

  g_object_unref (address);
  return ok;
}

static void
test_cidr (void)
{
  GError *error = NULL;
  GPtrArray *sources = sip_policy_parse_sources
      ("10.0.0.0/8, 192.0.2.7 ,2001:db8::/32,", &error);

  g_assert_no_error (error);
  g_assert_cmpuint (sources->len, ==, 3);
  g_assert_true (allowed (sources, "10.1.2.3"));
  g_assert_false (allowed (sources, "11.0.0.1"));
  g_assert_true (allowed (sources, "192.0.2.7"));
  g_assert_false (allowed (sources, "192.0.2.8"));
  g_assert_true (allowed (sources, "2001:db8::5"));
  g_assert_false (allowed (sources, "2001:db9::5"));
  /* an IPv4 peer on a dual-stack socket */
  g_assert_true (allowed (sources, "::ffff:10.9.9.9"));
  g_assert_false (allowed (sources, "::ffff:11.9.9.9"));
  g_ptr_array_unref (sources);

  /* empty: everyone */
  sources = sip_policy_parse_sources (NULL, NULL);
  g_assert_true (allowed (sources, "203.0.113.1"));
  g_ptr_array_unref (sources);
  sources = sip_policy_parse_sources (" , ", NULL);
  g_assert_true (allowed (sources, "::1"));
  g_ptr_array_unref (sources);

  /* errors name the entry */
  for (const gchar ** bad = (const gchar *[]) {
        "10.0.0.0/33", "foo", "10.0.0.0/8, bar/3", "1.2.3.4.5", NULL
      }; *bad; bad++) {
    g_assert_null (sip_policy_parse_sources (*bad, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull (strstr (error->message, "allowed-sources"));
    g_clear_error (&error);
  }
}

/* from a fresh socket each time: a final answer to an INVITE is
 * retransmitted until ACKed */
static guint
request_status (TestAgent * ta, const gchar * method)
{
  TestPeer *peer = test_peer_new ();
  TestDialog *d = test_dialog_new (peer, ta->port);
  gchar *sdp = test_sdp_offer (40000, "0", NULL);
  gchar *req = test_dialog_request (d, method, NULL, 0, NULL,
      strcmp (method, "INVITE") == 0 ? sdp : NULL);
  gchar *resp;
  guint status;

  test_peer_send (peer, ta->port, req);
  resp = test_peer_recv_response (peer, WAIT, 0);
  status = test_msg_status (resp);
  g_free (resp);
  g_free (req);
  g_free (sdp);
  test_dialog_free (d);
  test_peer_free (peer);
  return status;
}

static void
test_forbidden (void)
{
  TestAgent *ta = test_agent_new (TEST_ANSWER_ANSWER,
      "allowed-sources", "192.0.2.0/24, 2001:db8::/32", NULL);

  g_assert_cmpuint (request_status (ta, "OPTIONS"), ==, 403);
  g_assert_cmpuint (request_status (ta, "INVITE"), ==, 403);
  g_assert_cmpint (g_atomic_int_get (&ta->incoming_count), ==, 0);

  /* changed while running: applies at once */
  g_object_set (ta->agent, "allowed-sources", "127.0.0.0/8", NULL);
  g_assert_cmpuint (request_status (ta, "OPTIONS"), ==, 200);
  g_assert_cmpuint (request_status (ta, "INVITE"), ==, 200);
  g_assert_cmpint (g_atomic_int_get (&ta->incoming_count), ==, 1);

  test_agent_free (ta);
}

static void
test_max_calls (void)
{
  TestAgent *ta = test_agent_new (TEST_ANSWER_KEEP, "max-calls", 1, NULL);
  TestPeer *peer = test_peer_new ();
  TestPeer *peer2 = test_peer_new ();
  TestDialog *d = test_dialog_new (peer, ta->port);
  gchar *sdp = test_sdp_offer (40000, "0", NULL);
  gchar *req = test_dialog_request (d, "INVITE", NULL, 0, NULL, sdp);
  SipCall *call;
  guint max_calls;

  g_object_get (ta->agent, "max-calls", &max_calls, NULL);
  g_assert_cmpuint (max_calls, ==, 1);
  test_peer_send (peer, ta->port, req);
  call = test_agent_pop_call (ta, WAIT);
  g_assert_nonnull (call);
  g_assert_cmpuint (sip_agent_get_active_calls (ta->agent), ==, 1);

  /* a second call: Busy Here, before any media is allocated */
  g_assert_cmpuint (request_status (ta, "INVITE"), ==, 486);
  g_assert_cmpint (g_atomic_int_get (&ta->incoming_count), ==, 1);

  /* the first one ends: room again */
  sip_call_reject (call, 486);
  {
    gchar *resp = test_peer_recv_response (peer, WAIT, 0);
    g_assert_cmpuint (test_msg_status (resp), ==, 486);
    g_free (resp);
  }
  g_assert_true (test_agent_wait_active_calls (ta, 0, WAIT));
  g_assert_cmpuint (request_status (ta, "OPTIONS"), ==, 200);
  {
    SipCall *second;
    TestDialog *d2 = test_dialog_new (peer2, ta->port);
    gchar *req2 = test_dialog_request (d2, "INVITE", NULL, 0, NULL, sdp);
    test_peer_send (peer2, ta->port, req2);
    second = test_agent_pop_call (ta, WAIT);
    g_assert_nonnull (second);
    g_object_unref (second);
    g_free (req2);
    test_dialog_free (d2);
  }

  g_object_unref (call);
  g_free (req);
  g_free (sdp);
  test_dialog_free (d);
  test_peer_free (peer);
  test_peer_free (peer2);
  test_agent_free (ta);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/sip/policy/cidr", test_cidr);
  g_test_add_func ("/sip/policy/forbidden", test_forbidden);
  g_test_add_func ("/sip/policy/max-calls", test_max_calls);

  return g_test_run ();
}
