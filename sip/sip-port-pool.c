/* gst-sip: RTP/RTCP port pairs from a configured range
 * Copyright (C) 2026 The gst-sip authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* RTP uses an even port and RTCP the next one (RFC 3550 11).  A pair is
 * taken by binding both UDP sockets for real, so a port some other program
 * holds is simply skipped.  The search goes round-robin through the range,
 * so a pair just given back is not handed out again at once (a late RTP
 * packet of the old call must not land in the new one).
 *
 * The sockets belong to the pair; the media layer takes its own references
 * (udpsrc/udpsink with close-socket=FALSE).  A pair goes back to the pool
 * when it is freed, which a SipCall does when it is finalized; while
 * someone still holds a socket the port stays bound and the pool skips it.
 *
 * The pool is thread-safe: calls are finalized in whatever thread drops
 * the last reference. */

#include "sip-port-pool.h"

struct _SipPortPool
{
  gint ref_count;
  GMutex lock;
  GInetAddress *bind_address;
  guint first;                  /* first even port */
  guint n_pairs;
  guint next;                   /* index of the next pair to try */
  guint n_allocated;
  guint8 *allocated;            /* per pair: handed out */
};

static gboolean
parse_port_number (const gchar * range, const gchar * text, guint * port,
    GError ** error)
{
  guint64 value;
  GError *local = NULL;

  if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT16, &value, &local)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "invalid port range \"%s\": \"%s\" is not a port number "
        "(1024-65535)", range, text);
    g_clear_error (&local);
    return FALSE;
  }
  if (value < 1024) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "invalid port range \"%s\": %s is below 1024", range, text);
    return FALSE;
  }
  *port = value;
  return TRUE;
}

/**
 * sip_port_range_parse:
 * @range: "LOW-HIGH"
 * @low: (out): LOW
 * @high: (out): HIGH
 * @error: names the bad value
 *
 * Returns: %TRUE if @range is two port numbers within 1024..65535, LOW
 * below HIGH, holding at least one even port and the odd one after it.
 */
gboolean
sip_port_range_parse (const gchar * range, guint * low, guint * high,
    GError ** error)
{
  gchar **parts = NULL;
  gchar *lo_text, *hi_text;
  gboolean ok = FALSE;
  guint lo, hi;

  if (range == NULL || *range == '\0') {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "empty port range: expected LOW-HIGH, e.g. 10000-15000");
    return FALSE;
  }
  parts = g_strsplit (range, "-", -1);
  if (g_strv_length (parts) != 2) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "invalid port range \"%s\": expected LOW-HIGH, e.g. 10000-15000",
        range);
    goto out;
  }
  lo_text = g_strstrip (parts[0]);
  hi_text = g_strstrip (parts[1]);
  if (!parse_port_number (range, lo_text, &lo, error)
      || !parse_port_number (range, hi_text, &hi, error))
    goto out;
  if (lo >= hi) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "invalid port range \"%s\": low port %u is not below high port %u",
        range, lo, hi);
    goto out;
  }
  if ((lo + (lo & 1)) + 1 > hi) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "invalid port range \"%s\": no even RTP port with an RTCP port "
        "after it", range);
    goto out;
  }
  *low = lo;
  *high = hi;
  ok = TRUE;
out:
  g_strfreev (parts);
  return ok;
}

/**
 * sip_port_pool_new:
 * @range: "LOW-HIGH"
 * @bind_address: the address RTP sockets are bound to
 * @error: when @range is invalid
 *
 * Returns: (transfer full) (nullable): a pool
 */
SipPortPool *
sip_port_pool_new (const gchar * range, GInetAddress * bind_address,
    GError ** error)
{
  SipPortPool *pool;
  guint low, high;

  if (!sip_port_range_parse (range, &low, &high, error))
    return NULL;
  pool = g_new0 (SipPortPool, 1);
  pool->ref_count = 1;
  g_mutex_init (&pool->lock);
  pool->bind_address = g_object_ref (bind_address);
  pool->first = low + (low & 1);
  pool->n_pairs = (high - pool->first + 1) / 2;
  pool->allocated = g_new0 (guint8, pool->n_pairs);
  return pool;
}

SipPortPool *
sip_port_pool_ref (SipPortPool * pool)
{
  g_atomic_int_inc (&pool->ref_count);
  return pool;
}

void
sip_port_pool_unref (SipPortPool * pool)
{
  if (!g_atomic_int_dec_and_test (&pool->ref_count))
    return;
  g_object_unref (pool->bind_address);
  g_free (pool->allocated);
  g_mutex_clear (&pool->lock);
  g_free (pool);
}

guint
sip_port_pool_get_n_allocated (SipPortPool * pool)
{
  guint n;

  g_mutex_lock (&pool->lock);
  n = pool->n_allocated;
  g_mutex_unlock (&pool->lock);
  return n;
}

static GSocket *
bind_udp (GInetAddress * address, guint port)
{
  GSocket *socket;
  GSocketAddress *sa;
  GError *error = NULL;

  socket = g_socket_new (g_inet_address_get_family (address),
      G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &error);
  if (socket == NULL) {
    g_debug ("cannot create a UDP socket: %s", error->message);
    g_error_free (error);
    return NULL;
  }
  sa = g_inet_socket_address_new (address, port);
  if (!g_socket_bind (socket, sa, FALSE, &error)) {
    g_debug ("RTP port %u skipped: %s", port, error->message);
    g_clear_error (&error);
    g_clear_object (&socket);
  }
  g_object_unref (sa);
  return socket;
}

/**
 * sip_port_pool_allocate:
 * @pool: a pool
 * @error: when no pair is free
 *
 * Returns: (transfer full) (nullable): a bound RTP/RTCP socket pair
 */
SipPortPair *
sip_port_pool_allocate (SipPortPool * pool, GError ** error)
{
  SipPortPair *pair = NULL;

  g_mutex_lock (&pool->lock);
  for (guint i = 0; i < pool->n_pairs && pair == NULL; i++) {
    guint index = (pool->next + i) % pool->n_pairs;
    guint port = pool->first + 2 * index;
    GSocket *rtp, *rtcp;

    if (pool->allocated[index])
      continue;
    rtp = bind_udp (pool->bind_address, port);
    if (rtp == NULL)
      continue;
    rtcp = bind_udp (pool->bind_address, port + 1);
    if (rtcp == NULL) {
      g_object_unref (rtp);
      continue;
    }
    pool->allocated[index] = 1;
    pool->n_allocated++;
    pool->next = (index + 1) % pool->n_pairs;
    pair = g_new0 (SipPortPair, 1);
    pair->pool = sip_port_pool_ref (pool);
    pair->rtp_port = port;
    pair->rtp = rtp;
    pair->rtcp = rtcp;
  }
  g_mutex_unlock (&pool->lock);

  if (pair == NULL)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE,
        "no free RTP/RTCP port pair in %u-%u", pool->first,
        pool->first + 2 * pool->n_pairs - 1);
  else
    g_debug ("RTP port pair %u/%u allocated", pair->rtp_port,
        pair->rtp_port + 1);
  return pair;
}

/**
 * sip_port_pair_free:
 * @pair: (transfer full): a pair
 *
 * Drops our references to the sockets (they close when the media layer
 * drops its own) and gives the ports back to the pool.
 */
void
sip_port_pair_free (SipPortPair * pair)
{
  SipPortPool *pool;
  guint index;

  if (pair == NULL)
    return;
  pool = pair->pool;
  index = (pair->rtp_port - pool->first) / 2;
  g_debug ("RTP port pair %u/%u released", pair->rtp_port, pair->rtp_port + 1);
  g_clear_object (&pair->rtp);
  g_clear_object (&pair->rtcp);
  g_mutex_lock (&pool->lock);
  if (index < pool->n_pairs && pool->allocated[index]) {
    pool->allocated[index] = 0;
    pool->n_allocated--;
  }
  g_mutex_unlock (&pool->lock);
  sip_port_pool_unref (pool);
  g_free (pair);
}
