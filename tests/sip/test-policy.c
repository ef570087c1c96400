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

/* the token buckets, with a clock of our own */
static void
test_rate_limiter (void)
{
  SipRateLimiter *limiter = sip_rate_limiter_new (4);
  GInetAddress *a = g_inet_address_new_from_string ("192.0.2.1");
  GInetAddress *a_mapped = g_inet_address_new_from_string ("::ffff:192.0.2.1");
  GInetAddress *b = g_inet_address_new_from_string ("2001:db8::1");
  gint64 t = 1000 * G_USEC_PER_SEC;

  /* 0: no limit, nothing tracked */
  for (guint i = 0; i < 100; i++)
    g_assert_cmpint (sip_rate_limiter_check (limiter, a, 0, t), ==,
        SIP_RATE_ALLOW);
  g_assert_cmpuint (sip_rate_limiter_get_size (limiter), ==, 0);

  /* 2/s: a burst of 2, then 503 for 2 more (the debt), then dropped */
  g_assert_cmpint (sip_rate_limiter_check (limiter, a, 2, t), ==,
      SIP_RATE_ALLOW);
  g_assert_cmpint (sip_rate_limiter_check (limiter, a_mapped, 2, t), ==,
      SIP_RATE_ALLOW);
  g_assert_cmpint (sip_rate_limiter_check (limiter, a, 2, t), ==,
      SIP_RATE_REFUSE);
  g_assert_cmpint (sip_rate_limiter_check (limiter, a, 2, t), ==,
      SIP_RATE_REFUSE);
  for (guint i = 0; i < 10; i++)
    g_assert_cmpint (sip_rate_limiter_check (limiter, a, 2, t), ==,
        SIP_RATE_DROP);
  /* another source is not affected */
  g_assert_cmpint (sip_rate_limiter_check (limiter, b, 2, t), ==,
      SIP_RATE_ALLOW);
  g_assert_cmpuint (sip_rate_limiter_get_size (limiter), ==, 2);

  /* a flooder must slow down: 1 s later the debt is paid back only in
   * part, 2 s later it may call again */
  t += G_USEC_PER_SEC;
  g_assert_cmpint (sip_rate_limiter_check (limiter, a, 2, t), ==,
      SIP_RATE_REFUSE);
  t += 2 * G_USEC_PER_SEC;
  g_assert_cmpint (sip_rate_limiter_check (limiter, a, 2, t), ==,
      SIP_RATE_ALLOW);
  /* and the bucket never holds more than a second's worth */
  t += (gint64) 3600 * G_USEC_PER_SEC;
  g_assert_cmpint (sip_rate_limiter_check (limiter, a, 2, t), ==,
      SIP_RATE_ALLOW);
  g_assert_cmpint (sip_rate_limiter_check (limiter, a, 2, t), ==,
      SIP_RATE_ALLOW);
  g_assert_cmpint (sip_rate_limiter_check (limiter, a, 2, t), ==,
      SIP_RATE_REFUSE);

  /* the table is bounded: spoofed sources beyond it share one bucket */
  {
    guint dropped = 0;
    for (guint i = 0; i < 1000; i++) {
      gchar *ip = g_strdup_printf ("198.51.100.%u", i % 250 + 1);
      GInetAddress *x = g_inet_address_new_from_string (ip);
      dropped += sip_rate_limiter_check (limiter, x, 2, t) == SIP_RATE_DROP;
      g_object_unref (x);
      g_free (ip);
    }
    g_assert_cmpuint (sip_rate_limiter_get_size (limiter), ==, 4);
    /* at most 2 + 2 per tracked source and for the shared bucket */
    g_assert_cmpuint (dropped, >=, 1000 - 5 * 4);
  }
  /* idle buckets are full again and make room */
  t += 10 * G_USEC_PER_SEC;
  g_assert_cmpint (sip_rate_limiter_check (limiter, b, 2, t), ==,
      SIP_RATE_ALLOW);
  {
    GInetAddress *x = g_inet_address_new_from_string ("203.0.113.1");
    g_assert_cmpint (sip_rate_limiter_check (limiter, x, 2, t), ==,
        SIP_RATE_ALLOW);
    g_object_unref (x);
  }
  g_assert_cmpuint (sip_rate_limiter_get_size (limiter), <=, 4);

  g_object_unref (a);
  g_object_unref (a_mapped);
  g_object_unref (b);
  sip_rate_limiter_free (limiter);
}

/* collects final responses for a while: Call-ID -> status */
static GHashTable *
collect_finals (TestPeer * peer, guint ms)
{
  GHashTable *finals = g_hash_table_new_full (g_str_hash, g_str_equal,
      g_free, NULL);
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;
  gint64 left;

  while ((left = (end - g_get_monotonic_time ()) / 1000) > 0) {
    gchar *msg = test_peer_recv (peer, left);
    guint status;
    if (msg == NULL)
      break;
    status = test_msg_status (msg);
    if (status >= 200) {
      g_hash_table_replace (finals, test_msg_header (msg, "Call-ID"),
          GUINT_TO_POINTER (status));
      if (status == 503) {
        gchar *retry = test_msg_header (msg, "Retry-After");
        g_assert_cmpstr (retry, ==, "5");
        g_free (retry);
      }
    }
    g_free (msg);
  }
  return finals;
}

static guint
count_status (GHashTable * finals, guint status)
{
  GHashTableIter iter;
  gpointer value;
  guint n = 0;

  g_hash_table_iter_init (&iter, finals);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    n += GPOINTER_TO_UINT (value) == status;
  return n;
}

/* sends @n new requests, each in its own dialog and transaction */
static void
send_new_requests (TestAgent * ta, TestPeer * peer, const gchar * method,
    const gchar * body, guint n)
{
  for (guint i = 0; i < n; i++) {
    TestDialog *d = test_dialog_new (peer, ta->port);
    gchar *req = test_dialog_request (d, method, NULL, 0, NULL, body);
    test_peer_send (peer, ta->port, req);
    g_free (req);
    test_dialog_free (d);
  }
}

/* a flood of INVITEs from 127.0.0.2, over real UDP */
static void
test_invite_rate_limit (void)
{
  TestAgent *ta = test_agent_new (TEST_ANSWER_NONE, "invite-rate-limit", 2,
      NULL);
  TestPeer *flooder = test_peer_new_on ("127.0.0.2", 0);
  gchar *sdp = test_sdp_offer (40000, "0", NULL);
  GHashTable *finals;
  guint rate, sent = 20, answered, refused;

  g_object_get (ta->agent, "invite-rate-limit", &rate, NULL);
  g_assert_cmpuint (rate, ==, 2);
  if (flooder == NULL) {
    g_test_skip ("cannot bind 127.0.0.2");
    goto out;
  }

  send_new_requests (ta, flooder, "INVITE", sdp, sent);
  finals = collect_finals (flooder, 500);
  answered = count_status (finals, 480);
  refused = count_status (finals, 503);
  g_test_message ("%u INVITEs: %u got 480, %u got 503, %u nothing", sent,
      answered, refused, sent - g_hash_table_size (finals));
  /* the burst (and what refilled meanwhile) got through, the next ones
   * were refused cheaply, the rest dropped: no call, no RTP port */
  g_assert_cmpuint (answered, >=, 2);
  g_assert_cmpuint (answered, <=, 4);
  g_assert_cmpuint (refused, >=, 1);
  g_assert_cmpuint (g_hash_table_size (finals), <, sent);
  g_assert_cmpint (g_atomic_int_get (&ta->incoming_count), ==, answered);
  g_hash_table_unref (finals);

  /* another source is not affected; OPTIONS are not limited */
  g_assert_cmpuint (request_status (ta, "INVITE"), ==, 480);
  {
    TestDialog *d = test_dialog_new (flooder, ta->port);
    gchar *req = test_dialog_request (d, "OPTIONS", NULL, 0, NULL, NULL);
    gchar *resp;
    test_peer_send (flooder, ta->port, req);
    resp = test_peer_recv_response (flooder, WAIT, 200);
    g_assert_nonnull (resp);
    g_free (resp);
    g_free (req);
    test_dialog_free (d);
  }

  /* 0 switches it off at once */
  g_object_set (ta->agent, "invite-rate-limit", 0, NULL);
  {
    TestDialog *d = test_dialog_new (flooder, ta->port);
    gchar *req = test_dialog_request (d, "INVITE", NULL, 0, NULL, sdp);
    gchar *resp;
    test_peer_send (flooder, ta->port, req);
    resp = test_peer_recv_response (flooder, WAIT, 480);
    g_assert_nonnull (resp);
    g_free (resp);
    g_free (req);
    test_dialog_free (d);
  }
  test_peer_free (flooder);

out:
  g_free (sdp);
  test_agent_free (ta);
}

/* SIP_MAX_TRANSACTIONS bounds the live transactions: a flood of new
 * requests is dropped beyond it, and refused requests keep no state */
static void
test_transaction_limit (void)
{
  TestAgent *ta;
  TestPeer *peer = test_peer_new ();
  GHashTable *finals;

  g_setenv ("SIP_MAX_TRANSACTIONS", "10", TRUE);
  ta = test_agent_new (TEST_ANSWER_NONE, NULL);
  g_unsetenv ("SIP_MAX_TRANSACTIONS");

  send_new_requests (ta, peer, "OPTIONS", NULL, 25);
  finals = collect_finals (peer, 500);
  g_assert_cmpuint (count_status (finals, 200), ==, 10);
  g_assert_cmpuint (g_hash_table_size (finals), ==, 10);
  g_hash_table_unref (finals);

  /* Timer J (64*T1) ends them: room again */
  g_usleep ((64 * TEST_T1_MS + 300) * 1000);
  g_assert_cmpuint (request_status (ta, "OPTIONS"), ==, 200);

  /* answered statelessly: 403s for strangers take no room */
  g_object_set (ta->agent, "allowed-sources", "192.0.2.0/24", NULL);
  send_new_requests (ta, peer, "OPTIONS", NULL, 25);
  finals = collect_finals (peer, 500);
  g_assert_cmpuint (count_status (finals, 403), ==, 25);
  g_hash_table_unref (finals);
  g_object_set (ta->agent, "allowed-sources", NULL, NULL);
  g_assert_cmpuint (request_status (ta, "OPTIONS"), ==, 200);

  test_peer_free (peer);
  test_agent_free (ta);
}

static void
test_rate_limit_default (void)
{
  SipAgent *agent = sip_agent_new ();
  guint rate;

  g_object_get (agent, "invite-rate-limit", &rate, NULL);
  g_assert_cmpuint (rate, ==, 10);
  g_object_unref (agent);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/sip/policy/cidr", test_cidr);
  g_test_add_func ("/sip/policy/forbidden", test_forbidden);
  g_test_add_func ("/sip/policy/max-calls", test_max_calls);
  g_test_add_func ("/sip/policy/rate-limiter", test_rate_limiter);
  g_test_add_func ("/sip/policy/invite-rate-limit", test_invite_rate_limit);
  g_test_add_func ("/sip/policy/rate-limit-default", test_rate_limit_default);
  g_test_add_func ("/sip/policy/transaction-limit", test_transaction_limit);

  return g_test_run ();
}
