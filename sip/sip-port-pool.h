/* gst-sip: RTP/RTCP port pairs from a configured range (private)
 * Copyright (C) 2026 The gst-sip authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _SipPortPool SipPortPool;

/* An even RTP port and the next (odd) port for RTCP, both bound */
typedef struct
{
  SipPortPool *pool;
  guint rtp_port;
  GSocket *rtp;
  GSocket *rtcp;
} SipPortPair;

gboolean sip_port_range_parse (const gchar * range, guint * low,
    guint * high, GError ** error);

SipPortPool *sip_port_pool_new (const gchar * range,
    GInetAddress * bind_address, GError ** error);
SipPortPool *sip_port_pool_ref (SipPortPool * pool);
void sip_port_pool_unref (SipPortPool * pool);
guint sip_port_pool_get_n_allocated (SipPortPool * pool);

SipPortPair *sip_port_pool_allocate (SipPortPool * pool, GError ** error);
void sip_port_pair_free (SipPortPair * pair);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SipPortPool, sip_port_pool_unref)

G_END_DECLS
