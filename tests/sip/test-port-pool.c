/* gst-sip: RTP/RTCP port pairs
 * Copyright (C) 2026 The gst-sip authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "sip-port-pool.h"

#include <string.h>

static GInetAddress *
loopback (void)
{
  return g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
}

static gboolean
port_free (guint port)
{
  GInetAddress *lo = g_inet_address_new_any (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *sa = g_inet_socket_address_new (lo, port);
  GSocket *s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
      G_SOCKET_PROTOCOL_UDP, NULL);
  gboolean ok = g_socket_bind (s, sa, FALSE, NULL);

  g_object_unref (s);
  g_object_unref (sa);
  g_object_unref (lo);
  return ok;
}

/* an even port with @n free ports from it */
static guint
find_free_base (guint n)
{
  for (guint attempt = 0; attempt < 1000; attempt++) {
    guint base = 2 * g_random_int_range (20000, 30000);
    gboolean ok = TRUE;
    for (guint p = base; p < base + n && ok; p++)
      ok = port_free (p);
    if (ok)
      return base;
  }
  g_assert_not_reached ();
  return 0;
}

static guint
bound_port (GSocket * socket)
{
  GSocketAddress *sa = g_socket_get_local_address (socket, NULL);
  guint port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (sa));

  g_object_unref (sa);
  return port;
}

static void
test_ranges (void)
{
  struct
  {
    const gchar *range;
    const gchar *named;         /* the error names it */
  } bad[] = {
    {"", "empty"},
    {"abc", "\"abc\""},
    {"10000", "\"10000\""},
    {"10000-", "\"\""},
    {"-10000", "\"\""},
    {"10000-15000-20000", "10000-15000-20000"},
    {"x-15000", "\"x\""},
    {"10000-y", "\"y\""},
    {"80-1000", "80"},
    {"60000-70000", "\"70000\""},
    {"15000-10000", "15000"},
    {"10000-10000", "10000"},
    {"10001-10002", "10001-10002"},
    {"1e4-2e4", "\"1e4\""},
  };
  guint low, high;

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    GError *error = NULL;
    g_assert_false (sip_port_range_parse (bad[i].range, &low, &high, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    if (strstr (error->message, bad[i].named) == NULL)
      g_error ("\"%s\": message \"%s\" does not name %s", bad[i].range,
          error->message, bad[i].named);
    g_clear_error (&error);
  }
  g_assert_false (sip_port_range_parse (NULL, &low, &high, NULL));

  g_assert_true (sip_port_range_parse ("10000-15000", &low, &high, NULL));
  g_assert_cmpuint (low, ==, 10000);
  g_assert_cmpuint (high, ==, 15000);
  g_assert_true (sip_port_range_parse (" 10001 - 10003 ", &low, &high, NULL));
  g_assert_cmpuint (low, ==, 10001);
  g_assert_true (sip_port_range_parse ("1024-1025", &low, &high, NULL));
  g_assert_true (sip_port_range_parse ("65534-65535", &low, &high, NULL));
}

static void
test_allocate (void)
{
  guint base = find_free_base (6);
  gchar *range = g_strdup_printf ("%u-%u", base + 1, base + 5);
  GInetAddress *lo = loopback ();
  SipPortPool *pool = sip_port_pool_new (range, lo, NULL);
  SipPortPair *pair;

  g_assert_nonnull (pool);
  pair = sip_port_pool_allocate (pool, NULL);
  g_assert_nonnull (pair);
  /* the odd low end is skipped: the first even port */
  g_assert_cmpuint (pair->rtp_port, ==, base + 2);
  g_assert_cmpuint (pair->rtp_port % 2, ==, 0);
  g_assert_cmpuint (bound_port (pair->rtp), ==, pair->rtp_port);
  g_assert_cmpuint (bound_port (pair->rtcp), ==, pair->rtp_port + 1);
  g_assert_cmpuint (sip_port_pool_get_n_allocated (pool), ==, 1);
  /* the ports are really taken */
  g_assert_false (port_free (pair->rtp_port));
  g_assert_false (port_free (pair->rtp_port + 1));

  sip_port_pair_free (pair);
  g_assert_cmpuint (sip_port_pool_get_n_allocated (pool), ==, 0);
  g_assert_true (port_free (base + 2));

  sip_port_pool_unref (pool);
  g_object_unref (lo);
  g_free (range);
}

static void
test_busy_port_skipped (void)
{
  guint base = find_free_base (6);
  gchar *range = g_strdup_printf ("%u-%u", base, base + 5);
  GInetAddress *lo = loopback ();
  SipPortPool *pool = sip_port_pool_new (range, lo, NULL);
  GSocket *squatter = g_socket_new (G_SOCKET_FAMILY_IPV4,
      G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, NULL);
  GSocketAddress *sa = g_inet_socket_address_new (lo, base + 1);
  SipPortPair *pair;

  /* someone else holds the RTCP port of the first pair */
  g_assert_true (g_socket_bind (squatter, sa, FALSE, NULL));
  pair = sip_port_pool_allocate (pool, NULL);
  g_assert_nonnull (pair);
  g_assert_cmpuint (pair->rtp_port, ==, base + 2);
  /* and the RTP port of the first pair is free again */
  g_assert_true (port_free (base));

  sip_port_pair_free (pair);
  g_object_unref (squatter);
  g_object_unref (sa);
  sip_port_pool_unref (pool);
  g_object_unref (lo);
  g_free (range);
}

static void
test_round_robin_and_exhaustion (void)
{
  guint base = find_free_base (6);
  gchar *range = g_strdup_printf ("%u-%u", base, base + 5);
  GInetAddress *lo = loopback ();
  SipPortPool *pool = sip_port_pool_new (range, lo, NULL);
  SipPortPair *a, *b, *c, *d;
  GError *error = NULL;

  a = sip_port_pool_allocate (pool, NULL);
  g_assert_cmpuint (a->rtp_port, ==, base);
  sip_port_pair_free (a);
  /* just released: not handed out again at once */
  b = sip_port_pool_allocate (pool, NULL);
  g_assert_cmpuint (b->rtp_port, ==, base + 2);
  c = sip_port_pool_allocate (pool, NULL);
  g_assert_cmpuint (c->rtp_port, ==, base + 4);
  d = sip_port_pool_allocate (pool, NULL);
  g_assert_cmpuint (d->rtp_port, ==, base);
  g_assert_cmpuint (sip_port_pool_get_n_allocated (pool), ==, 3);

  /* all taken */
  g_assert_null (sip_port_pool_allocate (pool, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE);
  g_clear_error (&error);

  /* a pair outlives the pool's last other reference */
  sip_port_pool_unref (pool);
  sip_port_pair_free (b);
  sip_port_pair_free (c);
  sip_port_pair_free (d);
  g_object_unref (lo);
  g_free (range);
}

static void
test_socket_outlives_pair (void)
{
  guint base = find_free_base (2);
  gchar *range = g_strdup_printf ("%u-%u", base, base + 1);
  GInetAddress *lo = loopback ();
  SipPortPool *pool = sip_port_pool_new (range, lo, NULL);
  SipPortPair *pair = sip_port_pool_allocate (pool, NULL);
  GSocket *media = g_object_ref (pair->rtp);

  /* the media layer still holds the socket: it stays open and bound, the
   * pool skips the port until it is closed */
  sip_port_pair_free (pair);
  g_assert_false (g_socket_is_closed (media));
  g_assert_null (sip_port_pool_allocate (pool, NULL));
  g_object_unref (media);
  pair = sip_port_pool_allocate (pool, NULL);
  g_assert_nonnull (pair);
  sip_port_pair_free (pair);

  sip_port_pool_unref (pool);
  g_object_unref (lo);
  g_free (range);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/sip/port-pool/ranges", test_ranges);
  g_test_add_func ("/sip/port-pool/allocate", test_allocate);
  g_test_add_func ("/sip/port-pool/busy-port-skipped", test_busy_port_skipped);
  g_test_add_func ("/sip/port-pool/round-robin-and-exhaustion",
      test_round_robin_and_exhaustion);
  g_test_add_func ("/sip/port-pool/socket-outlives-pair",
      test_socket_outlives_pair);

  return g_test_run ();
}
