/* gst-sip: SDP offer/answer (RFC 3264, RFC 4566)
 * Copyright (C) 2026 The gst-sip authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "sip-sdp.h"

#include <string.h>

static SipSdpRemote *
parse (const gchar * sdp, GError ** error)
{
  return sip_sdp_remote_parse (sdp, strlen (sdp), error);
}

static const gchar *basic_offer =
    "v=0\r\n"
    "o=alice 2890844526 2890844526 IN IP4 198.51.100.1\r\n"
    "s=-\r\n"
    "c=IN IP4 198.51.100.1\r\n"
    "t=0 0\r\n"
    "m=audio 49170 RTP/AVP 0 8 97 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:97 iLBC/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n" "a=fmtp:101 0-16\r\n";

static void
test_basic_answer (void)
{
  GError *error = NULL;
  SipSdpRemote *offer = parse (basic_offer, &error);
  SipSdpLocal local;
  gchar *answer;

  g_assert_no_error (error);
  g_assert_nonnull (offer);
  g_assert_cmpstr (offer->address, ==, "198.51.100.1");
  g_assert_cmpuint (offer->port, ==, 49170);
  g_assert_cmpint (offer->pcmu_pt, ==, 0);
  g_assert_cmpint (offer->telephone_event_pt, ==, 101);
  g_assert_cmpint (offer->direction, ==, SIP_SDP_SENDRECV);
  g_assert_false (sip_sdp_remote_is_hold (offer));
  g_assert_false (offer->ipv6);

  sip_sdp_local_init (&local, "203.0.113.5", 10000);
  answer = sip_sdp_build_answer (&local, offer);
  g_assert_true (g_str_has_prefix (answer, "v=0\r\no=gst-sip "));
  g_assert_nonnull (strstr (answer, " IN IP4 203.0.113.5\r\n"));
  g_assert_nonnull (strstr (answer, "c=IN IP4 203.0.113.5\r\n"));
  g_assert_nonnull (strstr (answer, "t=0 0\r\n"));
  g_assert_nonnull (strstr (answer, "m=audio 10000 RTP/AVP 0 101\r\n"));
  g_assert_nonnull (strstr (answer, "a=rtpmap:0 PCMU/8000\r\n"));
  g_assert_nonnull (strstr (answer, "a=rtpmap:101 telephone-event/8000\r\n"));
  g_assert_nonnull (strstr (answer, "a=fmtp:101 0-15\r\n"));
  g_assert_nonnull (strstr (answer, "a=ptime:20\r\n"));
  g_assert_nonnull (strstr (answer, "a=sendrecv\r\n"));
  g_assert_null (strstr (answer, "PCMA"));
  g_assert_null (strstr (answer, "iLBC"));

  g_free (answer);
  sip_sdp_local_clear (&local);
  sip_sdp_remote_free (offer);
}

static void
test_not_acceptable (void)
{
  const gchar *offers[] = {
    /* PCMA only */
    "v=0\r\no=a 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
        "t=0 0\r\nm=audio 4000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n",
    /* SRTP only */
    "v=0\r\no=a 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
        "t=0 0\r\nm=audio 4000 RTP/SAVP 0\r\n",
    /* the audio stream is disabled */
    "v=0\r\no=a 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
        "t=0 0\r\nm=audio 0 RTP/AVP 0\r\n",
    /* video only */
    "v=0\r\no=a 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
        "t=0 0\r\nm=video 4000 RTP/AVP 31\r\n",
    /* no media at all */
    "v=0\r\no=a 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
        "t=0 0\r\n",
    /* PCMU at another rate */
    "v=0\r\no=a 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
        "t=0 0\r\nm=audio 4000 RTP/AVP 96\r\na=rtpmap:96 PCMU/16000\r\n",
  };

  for (guint i = 0; i < G_N_ELEMENTS (offers); i++) {
    GError *error = NULL;
    g_assert_null (parse (offers[i], &error));
    g_assert_error (error, SIP_SDP_ERROR, SIP_SDP_ERROR_NOT_ACCEPTABLE);
    g_clear_error (&error);
  }
}

static void
test_malformed (void)
{
  const gchar *offers[] = {
    "this is not SDP",
    "",
    /* no c= anywhere */
    "v=0\r\no=a 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n"
        "m=audio 4000 RTP/AVP 0\r\n",
  };

  for (guint i = 0; i < G_N_ELEMENTS (offers); i++) {
    GError *error = NULL;
    g_assert_null (parse (offers[i], &error));
    g_assert_error (error, SIP_SDP_ERROR, SIP_SDP_ERROR_MALFORMED);
    g_clear_error (&error);
  }
  /* ends in a bare CR: libosip2 would read past the end (fuzzing) */
  {
    GError *error = NULL;
    g_assert_null (parse ("v=0\r\no=a 1 1 IN IP4 192.0.2.5\r\ns=-\r\n"
            "c=IN IP4 192.0.2.5\r\nt=0 0\r\nm=audio 49217 RTP/AVP\r", &error));
    g_assert_nonnull (error);
    g_clear_error (&error);
  }
  /* bare LF or CR line ends are fine */
  {
    SipSdpRemote *offer = parse ("v=0\no=a 1 1 IN IP4 192.0.2.5\rs=-\n"
        "c=IN IP4 192.0.2.5\nt=0 0\nm=audio 4000 RTP/AVP 0", NULL);
    g_assert_nonnull (offer);
    g_assert_cmpuint (offer->port, ==, 4000);
    sip_sdp_remote_free (offer);
  }
  /* a NUL byte */
  {
    GError *error = NULL;
    g_assert_null (sip_sdp_remote_parse ("v=0\0x", 5, &error));
    g_assert_error (error, SIP_SDP_ERROR, SIP_SDP_ERROR_MALFORMED);
    g_clear_error (&error);
  }
}

static void
test_dynamic_pcmu (void)
{
  SipSdpRemote *offer = parse ("v=0\r\no=a 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"
      "c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 96 97\r\n"
      "a=rtpmap:96 pcmu/8000\r\na=rtpmap:97 telephone-event/8000\r\n", NULL);
  SipSdpLocal local;
  gchar *answer;

  g_assert_nonnull (offer);
  g_assert_cmpint (offer->pcmu_pt, ==, 96);
  g_assert_cmpint (offer->telephone_event_pt, ==, 97);
  sip_sdp_local_init (&local, "192.0.2.9", 12000);
  answer = sip_sdp_build_answer (&local, offer);
  g_assert_nonnull (strstr (answer, "m=audio 12000 RTP/AVP 96 97\r\n"));
  g_assert_nonnull (strstr (answer, "a=rtpmap:96 PCMU/8000\r\n"));
  g_free (answer);
  sip_sdp_local_clear (&local);
  sip_sdp_remote_free (offer);
}

static void
test_media_lines_mirrored (void)
{
  SipSdpRemote *offer = parse ("v=0\r\no=a 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"
      "c=IN IP4 192.0.2.1\r\nt=0 0\r\n"
      "m=video 5000 RTP/AVP 31\r\n"
      "m=audio 4000 RTP/AVP 8\r\n"
      "m=audio 4002 RTP/AVP 0\r\nc=IN IP4 192.0.2.2\r\n"
      "m=audio 4004 RTP/AVP 0\r\n", NULL);
  SipSdpLocal local;
  gchar *answer;
  const gchar *video, *audio8, *audio0, *audio_other;

  g_assert_nonnull (offer);
  g_assert_cmpuint (offer->audio_index, ==, 2);
  g_assert_cmpuint (offer->port, ==, 4002);
  /* media-level c= wins */
  g_assert_cmpstr (offer->address, ==, "192.0.2.2");
  sip_sdp_local_init (&local, "192.0.2.9", 12000);
  answer = sip_sdp_build_answer (&local, offer);
  /* RFC 3264 6: as many m= lines as offered, the others rejected */
  video = strstr (answer, "m=video 0 RTP/AVP 31\r\n");
  audio8 = strstr (answer, "m=audio 0 RTP/AVP 8\r\n");
  audio0 = strstr (answer, "m=audio 12000 RTP/AVP 0\r\n");
  audio_other = strstr (answer, "m=audio 0 RTP/AVP 0\r\n");
  g_assert_nonnull (video);
  g_assert_nonnull (audio8);
  g_assert_nonnull (audio0);
  g_assert_nonnull (audio_other);
  g_assert_true (video < audio8 && audio8 < audio0 && audio0 < audio_other);
  g_free (answer);
  sip_sdp_local_clear (&local);
  sip_sdp_remote_free (offer);
}

static void
check_direction (const gchar * attribute, gboolean session_level,
    const gchar * expected, gboolean hold)
{
  gchar *sdp = g_strdup_printf ("v=0\r\no=a 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"
      "c=IN IP4 192.0.2.1\r\nt=0 0\r\n%s%s%s%s",
      session_level ? attribute : "", "m=audio 4000 RTP/AVP 0\r\n",
      session_level ? "" : attribute, "");
  SipSdpRemote *offer = parse (sdp, NULL);
  SipSdpLocal local;
  gchar *answer;

  g_assert_nonnull (offer);
  g_assert_cmpint (sip_sdp_remote_is_hold (offer), ==, hold);
  sip_sdp_local_init (&local, "192.0.2.9", 12000);
  answer = sip_sdp_build_answer (&local, offer);
  g_assert_nonnull (strstr (answer, expected));
  g_free (answer);
  g_free (sdp);
  sip_sdp_local_clear (&local);
  sip_sdp_remote_free (offer);
}

static void
test_directions (void)
{
  check_direction ("", FALSE, "a=sendrecv\r\n", FALSE);
  check_direction ("a=sendrecv\r\n", FALSE, "a=sendrecv\r\n", FALSE);
  check_direction ("a=sendonly\r\n", FALSE, "a=recvonly\r\n", TRUE);
  check_direction ("a=recvonly\r\n", FALSE, "a=sendonly\r\n", FALSE);
  check_direction ("a=inactive\r\n", FALSE, "a=inactive\r\n", TRUE);
  check_direction ("a=sendonly\r\n", TRUE, "a=recvonly\r\n", TRUE);
}

static void
test_hold_address_and_ipv6 (void)
{
  SipSdpRemote *offer;
  SipSdpLocal local;
  gchar *answer;

  offer = parse ("v=0\r\no=a 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"
      "c=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n", NULL);
  g_assert_true (offer->hold_address);
  g_assert_true (sip_sdp_remote_is_hold (offer));
  sip_sdp_remote_free (offer);

  offer = parse ("v=0\r\no=a 1 1 IN IP6 2001:db8::1\r\ns=-\r\n"
      "c=IN IP6 2001:db8::1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n", NULL);
  g_assert_nonnull (offer);
  g_assert_true (offer->ipv6);
  g_assert_cmpstr (offer->address, ==, "2001:db8::1");
  sip_sdp_local_init (&local, "2001:db8::9", 12000);
  answer = sip_sdp_build_answer (&local, offer);
  g_assert_nonnull (strstr (answer, "c=IN IP6 2001:db8::9\r\n"));
  g_assert_nonnull (strstr (answer, " IN IP6 2001:db8::9\r\n"));
  g_free (answer);
  sip_sdp_local_clear (&local);
  sip_sdp_remote_free (offer);
}

static guint64
version_of (const gchar * sdp)
{
  gchar **fields = g_strsplit (strstr (sdp, "o="), " ", 4);
  guint64 v = g_ascii_strtoull (fields[2], NULL, 10);
  g_strfreev (fields);
  return v;
}

static void
test_version (void)
{
  SipSdpRemote *offer = parse (basic_offer, NULL);
  SipSdpRemote *hold = parse ("v=0\r\no=a 1 2 IN IP4 198.51.100.1\r\ns=-\r\n"
      "c=IN IP4 198.51.100.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0 101\r\n"
      "a=rtpmap:101 telephone-event/8000\r\na=sendonly\r\n", NULL);
  SipSdpLocal local;
  gchar *a1, *a2, *a3;
  guint64 v1, v2, v3;

  sip_sdp_local_init (&local, "203.0.113.5", 10000);
  a1 = sip_sdp_build_answer (&local, offer);
  a2 = sip_sdp_build_answer (&local, offer);
  a3 = sip_sdp_build_answer (&local, hold);
  v1 = version_of (a1);
  v2 = version_of (a2);
  v3 = version_of (a3);
  /* RFC 3264 8: the version changes with the session, only then */
  g_assert_cmpuint (v1, ==, v2);
  g_assert_cmpuint (v3, ==, v1 + 1);
  g_free (a1);
  g_free (a2);
  g_free (a3);
  sip_sdp_local_clear (&local);
  sip_sdp_remote_free (offer);
  sip_sdp_remote_free (hold);
}

static void
test_offer (void)
{
  SipSdpLocal local;
  gchar *offer;
  SipSdpRemote *parsed;

  sip_sdp_local_init (&local, "192.0.2.9", 12000);
  offer = sip_sdp_build_offer (&local, 101);
  g_assert_nonnull (strstr (offer, "m=audio 12000 RTP/AVP 0 101\r\n"));
  g_assert_nonnull (strstr (offer, "a=rtpmap:101 telephone-event/8000\r\n"));
  /* our own offer parses as acceptable */
  parsed = parse (offer, NULL);
  g_assert_nonnull (parsed);
  g_assert_cmpuint (parsed->port, ==, 12000);
  g_assert_cmpint (parsed->telephone_event_pt, ==, 101);
  sip_sdp_remote_free (parsed);
  g_free (offer);
  sip_sdp_local_clear (&local);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/sip/sdp/basic-answer", test_basic_answer);
  g_test_add_func ("/sip/sdp/not-acceptable", test_not_acceptable);
  g_test_add_func ("/sip/sdp/malformed", test_malformed);
  g_test_add_func ("/sip/sdp/dynamic-pcmu", test_dynamic_pcmu);
  g_test_add_func ("/sip/sdp/media-lines-mirrored", test_media_lines_mirrored);
  g_test_add_func ("/sip/sdp/directions", test_directions);
  g_test_add_func ("/sip/sdp/hold-address-and-ipv6",
      test_hold_address_and_ipv6);
  g_test_add_func ("/sip/sdp/version", test_version);
  g_test_add_func ("/sip/sdp/offer", test_offer);

  return g_test_run ();
}
