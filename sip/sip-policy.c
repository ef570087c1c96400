/* gst-sip: who may call: trusted source networks
 * Copyright (C) 2026 The gst-sip authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* allowed-sources is a comma-separated list of CIDR networks, IPv4 or
 * IPv6 ("10.0.0.0/8, 192.0.2.7, 2001:db8::/32"); a bare address is a
 * single host.  An empty list lets everyone in.  IPv4 peers seen on a
 * dual-stack socket (::ffff:a.b.c.d) are matched as IPv4. */

#include "sip-policy.h"
#include "sip-transport.h"

/**
 * sip_policy_parse_sources:
 * @list: (nullable): comma-separated CIDR networks
 * @error: names the bad entry
 *
 * Returns: (transfer full) (element-type GInetAddressMask) (nullable): the
 * networks (empty: everyone), or %NULL on error
 */
GPtrArray *
sip_policy_parse_sources (const gchar * list, GError ** error)
{
  GPtrArray *masks = g_ptr_array_new_with_free_func (g_object_unref);
  gchar **entries;

  if (list == NULL)
    return masks;
  entries = g_strsplit (list, ",", -1);
  for (gchar ** e = entries; *e; e++) {
    gchar *entry = g_strstrip (*e);
    GInetAddressMask *mask;
    GError *local = NULL;

    if (*entry == '\0')
      continue;
    mask = g_inet_address_mask_new_from_string (entry, &local);
    if (mask == NULL) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
          "invalid allowed-sources entry \"%s\": %s", entry, local->message);
      g_error_free (local);
      g_strfreev (entries);
      g_ptr_array_unref (masks);
      return NULL;
    }
    g_ptr_array_add (masks, mask);
  }
  g_strfreev (entries);
  return masks;
}

/**
 * sip_policy_source_allowed:
 * @sources: (element-type GInetAddressMask): from sip_policy_parse_sources()
 * @address: a peer's address
 *
 * Returns: %TRUE if @sources is empty or a network in it holds @address
 */
gboolean
sip_policy_source_allowed (GPtrArray * sources, GInetAddress * address)
{
  GInetAddress *unmapped;
  gboolean allowed = FALSE;

  if (sources == NULL || sources->len == 0)
    return TRUE;
  unmapped = sip_inet_address_unmap (address);
  for (guint i = 0; i < sources->len && !allowed; i++)
    allowed = g_inet_address_mask_matches (g_ptr_array_index (sources, i),
        unmapped);
  g_object_unref (unmapped);
  return allowed;
}

/* ---- invite-rate-limit -------------------------------------------------- */

/* One token bucket per source address: it holds up to @rate tokens (a
 * burst of one second) and refills at @rate tokens per second; a new
 * INVITE takes a token.  Without a token the INVITE is refused with 503
 * and Retry-After, and the bucket goes into debt; a source whose debt
 * reaches another @rate tokens (it keeps sending at twice the limit or
 * more) is dropped silently, as Kamailio's pike module does with a
 * flooding source, until it slows down and the bucket refills.  A
 * bucket that has been idle long enough to be full again carries no
 * state, so it is forgotten when the table needs room; when the table is
 * full of active sources, new ones share one overflow bucket. */

typedef struct
{
  gdouble tokens;
  gint64 updated;               /* monotonic, µs */
} SipRateBucket;

struct _SipRateLimiter
{
  GHashTable *buckets;          /* address string -> SipRateBucket */
  SipRateBucket overflow;
  gboolean overflow_used;
  guint table_size;
  gint64 last_purge;
  gboolean purged;              /* last_purge is set */
};

SipRateLimiter *
sip_rate_limiter_new (guint table_size)
{
  SipRateLimiter *limiter = g_new0 (SipRateLimiter, 1);

  limiter->buckets = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
  limiter->table_size = MAX (table_size, 1);
  return limiter;
}

void
sip_rate_limiter_free (SipRateLimiter * limiter)
{
  if (limiter == NULL)
    return;
  g_hash_table_unref (limiter->buckets);
  g_free (limiter);
}

guint
sip_rate_limiter_get_size (SipRateLimiter * limiter)
{
  return g_hash_table_size (limiter->buckets);
}

static void
bucket_refill (SipRateBucket * bucket, guint rate, gint64 now_us)
{
  gint64 elapsed = now_us - bucket->updated;

  if (elapsed > 0) {
    bucket->tokens = MIN ((gdouble) rate,
        bucket->tokens + (gdouble) elapsed * rate / G_USEC_PER_SEC);
    bucket->updated = now_us;
  }
}

static SipRateVerdict
bucket_take (SipRateBucket * bucket, guint rate)
{
  if (bucket->tokens >= 1.0) {
    bucket->tokens -= 1.0;
    return SIP_RATE_ALLOW;
  }
  if (bucket->tokens > -(gdouble) rate) {
    bucket->tokens -= 1.0;
    return SIP_RATE_REFUSE;
  }
  return SIP_RATE_DROP;
}

/* forget the buckets that are full again (idle for a second or more) */
static void
purge_full_buckets (SipRateLimiter * limiter, guint rate, gint64 now_us)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, limiter->buckets);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    SipRateBucket *bucket = value;
    bucket_refill (bucket, rate, now_us);
    if (bucket->tokens >= (gdouble) rate)
      g_hash_table_iter_remove (&iter);
  }
  limiter->last_purge = now_us;
  limiter->purged = TRUE;
}

/**
 * sip_rate_limiter_check:
 * @limiter: a #SipRateLimiter
 * @address: the source of a new INVITE
 * @rate: INVITEs per second allowed per source (0: no limit)
 * @now_us: g_get_monotonic_time()
 *
 * Counts one new INVITE from @address.
 *
 * Returns: what to do with it
 */
SipRateVerdict
sip_rate_limiter_check (SipRateLimiter * limiter, GInetAddress * address,
    guint rate, gint64 now_us)
{
  SipRateBucket *bucket;
  GInetAddress *unmapped;
  gchar *key;

  if (rate == 0)
    return SIP_RATE_ALLOW;

  unmapped = sip_inet_address_unmap (address);
  key = g_inet_address_to_string (unmapped);
  g_object_unref (unmapped);

  bucket = g_hash_table_lookup (limiter->buckets, key);
  if (bucket == NULL) {
    /* at most one sweep of the table per second, however hard a flood
     * of new sources pushes */
    if (g_hash_table_size (limiter->buckets) >= limiter->table_size
        && (!limiter->purged
            || now_us - limiter->last_purge >= G_USEC_PER_SEC))
      purge_full_buckets (limiter, rate, now_us);
    if (g_hash_table_size (limiter->buckets) >= limiter->table_size) {
      g_free (key);
      bucket = &limiter->overflow;
      if (!limiter->overflow_used) {
        limiter->overflow_used = TRUE;
        bucket->tokens = rate;
        bucket->updated = now_us;
      }
      bucket_refill (bucket, rate, now_us);
      return bucket_take (bucket, rate);
    }
    bucket = g_new (SipRateBucket, 1);
    bucket->tokens = rate;
    bucket->updated = now_us;
    g_hash_table_insert (limiter->buckets, key, bucket);
  } else {
    g_free (key);
  }
  bucket_refill (bucket, rate, now_us);
  return bucket_take (bucket, rate);
}
