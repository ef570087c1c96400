/* gst-sip: who may call: trusted source networks (private)
 * Copyright (C) 2026 The gst-sip authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

GPtrArray *sip_policy_parse_sources (const gchar * list, GError ** error);
gboolean sip_policy_source_allowed (GPtrArray * sources,
    GInetAddress * address);

G_END_DECLS

/* A bound on new INVITEs per source address (token buckets) */

/**
 * SIP_RATE_LIMIT_TABLE_SIZE:
 *
 * Most source addresses tracked at once; beyond that, sources not in the
 * table share one bucket, so a flood from spoofed sources cannot grow
 * memory without bound.
 */
#define SIP_RATE_LIMIT_TABLE_SIZE 4096

typedef enum
{
  SIP_RATE_ALLOW,               /* within the limit */
  SIP_RATE_REFUSE,              /* over it: answer 503 + Retry-After */
  SIP_RATE_DROP,                /* far over it: drop silently */
} SipRateVerdict;

typedef struct _SipRateLimiter SipRateLimiter;

SipRateLimiter *sip_rate_limiter_new (guint table_size);
void sip_rate_limiter_free (SipRateLimiter * limiter);
SipRateVerdict sip_rate_limiter_check (SipRateLimiter * limiter,
    GInetAddress * address, guint rate, gint64 now_us);
guint sip_rate_limiter_get_size (SipRateLimiter * limiter);
