/* gst-sip: SIP message helpers on top of libosip2's parser (private)
 * Copyright (C) 2026 The gst-sip authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>
#include <osipparser2/osip_parser.h>

G_BEGIN_DECLS

/* RFC 3261 8.1.1.7: every branch we create starts with the magic cookie */
#define SIP_BRANCH_MAGIC_COOKIE "z9hG4bK"

/* The methods this user-agent server implements, for Allow (RFC 3261 20.5) */
#define SIP_ALLOWED_METHODS "INVITE, ACK, BYE, CANCEL, OPTIONS"

/* Largest datagram accepted; anything bigger is dropped */
#define SIP_MAX_DATAGRAM_SIZE 65535

void sip_message_init_library (void);

osip_message_t *sip_message_parse (const gchar * data, gsize len,
    gchar ** why);

guint sip_message_check_request (const osip_message_t * request,
    const gchar ** reason);

osip_message_t *sip_message_new_response (const osip_message_t * request,
    guint status_code, const gchar * reason, const gchar * to_tag,
    const gchar * server);

gchar *sip_message_to_string (osip_message_t * msg, gsize * len);

GString *sip_message_new_raw_error (const gchar * data, gsize len,
    guint * status_code);

gboolean sip_message_fix_top_via (osip_message_t * request,
    const gchar * source_ip, guint source_port);

gchar *sip_message_new_tag (void);
gchar *sip_message_new_branch (void);

const gchar *sip_message_get_top_branch (const osip_message_t * msg);
gchar *sip_message_get_top_sent_by (const osip_message_t * msg);
const gchar *sip_message_get_from_tag (const osip_message_t * msg);
const gchar *sip_message_get_to_tag (const osip_message_t * msg);
const gchar *sip_message_get_cseq_method (const osip_message_t * msg);
gboolean sip_message_get_cseq_number (const osip_message_t * msg,
    guint32 * number);
const gchar *sip_message_get_call_id_string (const osip_message_t * msg,
    gchar ** to_free);
gchar *sip_message_from_to_string (const osip_from_t * from);
gchar *sip_message_uri_to_string (const osip_uri_t * uri);
const osip_body_t *sip_message_get_sdp_body (const osip_message_t * msg);
gboolean sip_message_has_body (const osip_message_t * msg);
gchar *sip_message_get_header_value (const osip_message_t * msg,
    const gchar * name);
gboolean sip_message_is_request (const osip_message_t * msg);

gchar *sip_message_header_canonical_name (const gchar * name);
GHashTable *sip_message_parse_headers (const gchar * data, gsize len);

gboolean sip_message_method_is_known (const gchar * method);
gboolean sip_message_method_is_allowed (const gchar * method);

G_END_DECLS
