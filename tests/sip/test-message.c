/* gst-sip: parsing, checking and answering SIP messages
 * Copyright (C) 2026 The gst-sip authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "sip-message.h"
#include "sip-test-util.h"

#include <string.h>

static gchar *
crlf (const gchar * text)
{
  GString *s = g_string_new (NULL);

  for (const gchar * p = text; *p; p++) {
    if (*p == '\n')
      g_string_append_c (s, '\r');
    g_string_append_c (s, *p);
  }
  return g_string_free (s, FALSE);
}

static osip_message_t *
parse (const gchar * text)
{
  gchar *data = crlf (text);
  gchar *why = NULL;
  osip_message_t *msg = sip_message_parse (data, strlen (data), &why);

  if (msg == NULL)
    g_test_message ("not parsed: %s", why);
  g_free (why);
  g_free (data);
  return msg;
}

static const gchar *invite_text =
    "INVITE sip:bot@192.0.2.10 SIP/2.0\n"
    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKfirst;rport\n"
    "Via: SIP/2.0/UDP 192.0.2.2:5070;branch=z9hG4bKsecond\n"
    "Record-Route: <sip:p1.example.com;lr>\n"
    "Max-Forwards: 70\n"
    "From: \"Alice\" <sip:alice@example.com>;tag=abc\n"
    "To: <sip:bot@192.0.2.10>\n"
    "Call-ID: c1@192.0.2.1\n"
    "CSeq: 42 INVITE\n"
    "Contact: <sip:alice@192.0.2.1>\n" "Content-Length: 0\n\n";

static void
test_parse_and_respond (void)
{
  osip_message_t *req = parse (invite_text);
  osip_message_t *resp;
  const gchar *reason = NULL;
  gchar *text, *tag, *call_id;
  guint32 cseq = 0;

  g_assert_nonnull (req);
  g_assert_true (sip_message_is_request (req));
  g_assert_cmpuint (sip_message_check_request (req, &reason), ==, 0);
  g_assert_cmpstr (sip_message_get_top_branch (req), ==, "z9hG4bKfirst");
  g_assert_cmpstr (sip_message_get_from_tag (req), ==, "abc");
  g_assert_null (sip_message_get_to_tag (req));
  g_assert_true (sip_message_get_cseq_number (req, &cseq));
  g_assert_cmpuint (cseq, ==, 42);
  g_assert_cmpstr (sip_message_get_call_id_string (req, &call_id), ==,
      "c1@192.0.2.1");
  g_free (call_id);

  /* 180: To tag added, all Via in order, the rest copied */
  resp = sip_message_new_response (req, 180, NULL, "mytag", "test/1");
  text = sip_message_to_string (resp, NULL);
  osip_message_free (resp);
  g_assert_true (g_str_has_prefix (text, "SIP/2.0 180 Ringing\r\n"));
  g_assert_cmpuint (test_msg_count_header (text, "Via"), ==, 2);
  g_assert_true (strstr (text, "z9hG4bKfirst") < strstr (text,
          "z9hG4bKsecond"));
  tag = test_msg_header_param (text, "To", "tag");
  g_assert_cmpstr (tag, ==, "mytag");
  g_free (tag);
  g_assert_nonnull (strstr (text, "From: \"Alice\" <sip:alice@example.com>;"
          "tag=abc\r\n"));
  g_assert_nonnull (strstr (text, "Call-ID: c1@192.0.2.1\r\n"));
  g_assert_nonnull (strstr (text, "CSeq: 42 INVITE\r\n"));
  g_assert_nonnull (strstr (text, "Server: test/1\r\n"));
  g_assert_nonnull (strstr (text, "Content-Length: 0\r\n"));
  /* Record-Route is the caller's business (dialog-creating 2xx/1xx) */
  g_assert_null (strstr (text, "Record-Route"));
  g_free (text);

  /* 100 Trying never gets a tag */
  resp = sip_message_new_response (req, 100, NULL, "mytag", NULL);
  text = sip_message_to_string (resp, NULL);
  osip_message_free (resp);
  g_assert_null (test_msg_header_param (text, "To", "tag"));
  g_free (text);

  /* reason phrase */
  resp = sip_message_new_response (req, 400, "Bad Request - test", "t", NULL);
  text = sip_message_to_string (resp, NULL);
  osip_message_free (resp);
  g_assert_true (g_str_has_prefix (text, "SIP/2.0 400 Bad Request - test"));
  g_free (text);

  osip_message_free (req);
}

static void
test_existing_to_tag (void)
{
  osip_message_t *req = parse ("BYE sip:bot@192.0.2.10 SIP/2.0\n"
      "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKbye\n"
      "From: <sip:alice@example.com>;tag=abc\n"
      "To: <sip:bot@192.0.2.10>;tag=dialogtag\n"
      "Call-ID: c1\nCSeq: 43 BYE\nContent-Length: 0\n\n");
  osip_message_t *resp = sip_message_new_response (req, 200, NULL, "other",
      NULL);
  gchar *text = sip_message_to_string (resp, NULL);
  gchar *tag = test_msg_header_param (text, "To", "tag");

  g_assert_cmpstr (tag, ==, "dialogtag");
  g_assert_cmpuint (test_msg_count_header (text, "To"), ==, 1);
  g_assert_null (strstr (text, "other"));
  g_free (tag);
  g_free (text);
  osip_message_free (resp);
  osip_message_free (req);
}

static gchar *
via_after_fix (const gchar * via, const gchar * ip, guint port)
{
  gchar *text = g_strdup_printf ("OPTIONS sip:bot@192.0.2.10 SIP/2.0\n"
      "Via: %s\nFrom: <sip:a@b>;tag=1\nTo: <sip:bot@c>\nCall-ID: x\n"
      "CSeq: 1 OPTIONS\nContent-Length: 0\n\n", via);
  osip_message_t *req = parse (text);
  osip_message_t *resp;
  gchar *out, *result;

  sip_message_fix_top_via (req, ip, port);
  resp = sip_message_new_response (req, 200, NULL, "t", NULL);
  out = sip_message_to_string (resp, NULL);
  result = test_msg_header (out, "Via");
  g_free (out);
  g_free (text);
  osip_message_free (resp);
  osip_message_free (req);
  return result;
}

static void
test_via_received_rport (void)
{
  gchar *via;

  /* RFC 3261 18.2.1: sent-by differs from the source: received= */
  via = via_after_fix ("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1",
      "198.51.100.7", 5062);
  g_assert_nonnull (strstr (via, ";received=198.51.100.7"));
  g_assert_null (strstr (via, "rport"));
  g_free (via);

  /* same address, no rport: unchanged */
  via = via_after_fix ("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1",
      "192.0.2.1", 5060);
  g_assert_cmpstr (via, ==, "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1");
  g_free (via);

  /* RFC 3581: rport filled, received added even for the same address */
  via = via_after_fix ("SIP/2.0/UDP 192.0.2.1:5060;rport;branch=z9hG4bK1",
      "192.0.2.1", 40000);
  g_assert_nonnull (strstr (via, "rport=40000"));
  g_assert_nonnull (strstr (via, "received=192.0.2.1"));
  g_free (via);

  /* a host name as sent-by */
  via = via_after_fix ("SIP/2.0/UDP pc33.example.com;branch=z9hG4bK1",
      "192.0.2.9", 5060);
  g_assert_nonnull (strstr (via, "received=192.0.2.9"));
  g_free (via);

  /* IPv6 */
  via = via_after_fix ("SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK1",
      "2001:db8::1", 5060);
  g_assert_null (strstr (via, "received"));
  g_free (via);
}

static void
test_compact_forms (void)
{
  osip_message_t *req = parse ("OPTIONS sip:bot@192.0.2.10 SIP/2.0\n"
      "v: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKc\n"
      "f: <sip:alice@example.com>;tag=abc\n"
      "t: <sip:bot@192.0.2.10>\n"
      "i: compact@192.0.2.1\n"
      "CSeq: 1 OPTIONS\n" "m: <sip:alice@192.0.2.1>\n" "l: 0\n\n");
  const gchar *reason = NULL;
  gchar *free_me;

  g_assert_nonnull (req);
  g_assert_cmpuint (sip_message_check_request (req, &reason), ==, 0);
  g_assert_cmpstr (sip_message_get_call_id_string (req, &free_me), ==,
      "compact@192.0.2.1");
  g_free (free_me);
  g_assert_cmpstr (sip_message_get_from_tag (req), ==, "abc");
  g_assert_cmpstr (sip_message_get_top_branch (req), ==, "z9hG4bKc");
  osip_message_free (req);

  for (const gchar ** p = (const gchar *[]) {
        "v", "via", "I", "call-id", "X-Foo", "x-foo", "Via", "via", NULL
      }; *p; p += 2) {
    gchar *name = sip_message_header_canonical_name (p[0]);
    g_assert_cmpstr (name, ==, p[1]);
    g_free (name);
  }
}

static void
test_check_request (void)
{
  const gchar *reason = NULL;
  osip_message_t *req;

  req = parse ("OPTIONS sip:bot@h SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\n"
      "From: <sip:a@b>;tag=1\nTo: <sip:c@d>\nCall-ID: x\n"
      "CSeq: 1 INVITE\n\n");
  g_assert_cmpuint (sip_message_check_request (req, &reason), ==, 400);
  g_assert_nonnull (strstr (reason, "CSeq"));
  osip_message_free (req);

  req = parse ("OPTIONS sip:bot@h SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\n"
      "From: <sip:a@b>;tag=1\nTo: <sip:c@d>\nCall-ID: x\n"
      "CSeq: 36893488147419103232 OPTIONS\n\n");
  g_assert_cmpuint (sip_message_check_request (req, &reason), ==, 400);
  osip_message_free (req);

  req = parse ("OPTIONS sip:bot@h SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\n"
      "From: <sip:a@b>;tag=1\nTo: <sip:c@d>\n" "CSeq: 1 OPTIONS\n\n");
  g_assert_cmpuint (sip_message_check_request (req, &reason), ==, 400);
  g_assert_nonnull (strstr (reason, "Call-ID"));
  osip_message_free (req);

  req = parse ("OPTIONS sip:bot@h SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\n"
      "From: <sip:a@b>;tag=1\nTo: <sip:c@d>\nCall-ID: x\n"
      "CSeq: 1 OPTIONS\nContent-Length: -3\n\n");
  g_assert_cmpuint (sip_message_check_request (req, &reason), ==, 400);
  osip_message_free (req);

  req = parse ("OPTIONS sip:bot@h SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\n"
      "From: <sip:a@b>;tag=1\nTo: <sip:c@d>\nCall-ID: x\n"
      "CSeq: 1 OPTIONS\nMax-Forwards: ten\n\n");
  g_assert_cmpuint (sip_message_check_request (req, &reason), ==, 400);
  osip_message_free (req);
}

static void
test_unparseable (void)
{
  gchar *why = NULL;
  gchar big[70000];
  const gchar nul_in_quotes[] = "OPTIONS sip:bot@h SIP/2.0\r\n"
      "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
      "To: \"NUL:\\\0\" <sip:c@d>\r\nFrom: <sip:a@b>;tag=1\r\nCall-ID: x\r\n"
      "CSeq: 1 OPTIONS\r\n\r\n";
  const gchar bare_nul[] = "OPTIONS sip:bot@h SIP/2.0\r\n"
      "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
      "To: <sip:c@d>\0\r\nFrom: <sip:a@b>;tag=1\r\nCall-ID: x\r\n"
      "CSeq: 1 OPTIONS\r\n\r\n";
  osip_message_t *msg;

  g_assert_null (sip_message_parse ("\x01\x02\x03\xff", 4, &why));
  g_assert_nonnull (why);
  g_clear_pointer (&why, g_free);
  g_assert_null (sip_message_parse ("\r\n\r\n", 4, &why));
  g_assert_true (g_str_has_prefix (why, "keep-alive"));
  g_clear_pointer (&why, g_free);
  memset (big, 'a', sizeof (big));
  g_assert_null (sip_message_parse (big, sizeof (big), &why));
  g_assert_nonnull (strstr (why, "too large"));
  g_clear_pointer (&why, g_free);
  g_assert_null (sip_message_parse ("", 0, NULL));

  /* a NUL escaped in a quoted string is valid (RFC 4475 3.1.1.2) */
  msg = sip_message_parse (nul_in_quotes, sizeof (nul_in_quotes) - 1, &why);
  g_assert_nonnull (msg);
  osip_message_free (msg);
  /* elsewhere it is not */
  g_assert_null (sip_message_parse (bare_nul, sizeof (bare_nul) - 1, &why));
  g_clear_pointer (&why, g_free);
}

static void
test_raw_error (void)
{
  gchar *data;
  GString *resp;
  guint status = 0;
  gchar *tag, *tag2;

  /* unparseable (two SP in the Request-Line): 400 from the raw lines */
  data = crlf ("INVITE  sip:bot@h  SIP/2.0\n"
      "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKraw\n"
      "v: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bKraw2\n"
      "From: <sip:a@b>;tag=1\nTo: <sip:c@d>\nCall-ID: raw1\n"
      "X-Other: dropped\nCSeq: 5 INVITE\nContent-Length: 0\n\n");
  resp = sip_message_new_raw_error (data, strlen (data), &status);
  g_assert_nonnull (resp);
  g_assert_cmpuint (status, ==, 400);
  g_assert_cmpuint (test_msg_status (resp->str), ==, 400);
  g_assert_cmpuint (test_msg_count_header (resp->str, "Via"), ==, 2);
  g_assert_nonnull (strstr (resp->str, "Call-ID: raw1\r\n"));
  g_assert_nonnull (strstr (resp->str, "CSeq: 5 INVITE\r\n"));
  g_assert_null (strstr (resp->str, "X-Other"));
  tag = test_msg_header_param (resp->str, "To", "tag");
  g_assert_nonnull (tag);
  g_string_free (resp, TRUE);
  /* the same request gets the same tag */
  resp = sip_message_new_raw_error (data, strlen (data), &status);
  tag2 = test_msg_header_param (resp->str, "To", "tag");
  g_assert_cmpstr (tag, ==, tag2);
  g_free (tag);
  g_free (tag2);
  g_string_free (resp, TRUE);
  g_free (data);

  /* unknown URI scheme: 416; other version: 505 */
  data = crlf ("OPTIONS soap.beep://192.0.2.103:3002 SIP/2.0\n"
      "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKraw\n\n");
  resp = sip_message_new_raw_error (data, strlen (data), &status);
  g_assert_cmpuint (status, ==, 416);
  g_string_free (resp, TRUE);
  g_free (data);
  data = crlf ("OPTIONS sip:a@b SIP/7.0\n"
      "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKraw\n\n");
  resp = sip_message_new_raw_error (data, strlen (data), &status);
  g_assert_cmpuint (status, ==, 505);
  g_string_free (resp, TRUE);
  g_free (data);

  /* no Via, or a response: no answer */
  data = crlf ("INVITE  sip:bot@h SIP/2.0\nFrom: <sip:a@b>\n\n");
  g_assert_null (sip_message_new_raw_error (data, strlen (data), &status));
  g_free (data);
  data = crlf ("SIP/2.0 200 OK\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\n\n");
  g_assert_null (sip_message_new_raw_error (data, strlen (data), &status));
  g_free (data);
}

static void
test_parse_headers (void)
{
  gchar *data = crlf ("INVITE sip:bot@h SIP/2.0\n"
      "Via: SIP/2.0/UDP a;branch=z9hG4bK1\n"
      "Via: SIP/2.0/UDP b;branch=z9hG4bK2\n"
      "f: <sip:a@b>;tag=1\n"
      "Subject: folded\n line\n" "X-Trunk-Id: 42\n\nbody: not a header\n");
  GHashTable *h = sip_message_parse_headers (data, strlen (data));

  g_assert_cmpstr (g_hash_table_lookup (h, "via"), ==,
      "SIP/2.0/UDP a;branch=z9hG4bK1");
  g_assert_cmpstr (g_hash_table_lookup (h, "from"), ==, "<sip:a@b>;tag=1");
  g_assert_cmpstr (g_hash_table_lookup (h, "subject"), ==, "folded line");
  g_assert_cmpstr (g_hash_table_lookup (h, "x-trunk-id"), ==, "42");
  g_assert_false (g_hash_table_contains (h, "body"));
  g_hash_table_unref (h);
  g_free (data);
}

static void
test_methods (void)
{
  g_assert_true (sip_message_method_is_allowed ("INVITE"));
  g_assert_true (sip_message_method_is_allowed ("OPTIONS"));
  g_assert_false (sip_message_method_is_allowed ("REGISTER"));
  g_assert_true (sip_message_method_is_known ("REGISTER"));
  g_assert_true (sip_message_method_is_known ("PRACK"));
  g_assert_false (sip_message_method_is_known ("RE%47IST%45R"));
  g_assert_false (sip_message_method_is_known ("invite"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/sip/message/parse-and-respond", test_parse_and_respond);
  g_test_add_func ("/sip/message/existing-to-tag", test_existing_to_tag);
  g_test_add_func ("/sip/message/via-received-rport", test_via_received_rport);
  g_test_add_func ("/sip/message/compact-forms", test_compact_forms);
  g_test_add_func ("/sip/message/check-request", test_check_request);
  g_test_add_func ("/sip/message/unparseable", test_unparseable);
  g_test_add_func ("/sip/message/raw-error", test_raw_error);
  g_test_add_func ("/sip/message/parse-headers", test_parse_headers);
  g_test_add_func ("/sip/message/methods", test_methods);

  return g_test_run ();
}
