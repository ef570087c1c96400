/* gst-sip: one SIP dialog (a call) answered by a SipAgent
 * Copyright (C) 2026 The gst-sip authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/**
 * SipCallState:
 * @SIP_CALL_STATE_INCOMING: INVITE received, 100 Trying sent, not answered yet
 * @SIP_CALL_STATE_RINGING: 180 Ringing sent
 * @SIP_CALL_STATE_ANSWERED: 200 OK sent, waiting for the ACK
 * @SIP_CALL_STATE_ACTIVE: ACK received: the dialog is confirmed
 * @SIP_CALL_STATE_ENDED: the call is over (BYE, CANCEL, rejected, timeout); see #SipCall:end-reason
 */
typedef enum
{
  SIP_CALL_STATE_INCOMING,
  SIP_CALL_STATE_RINGING,
  SIP_CALL_STATE_ANSWERED,
  SIP_CALL_STATE_ACTIVE,
  SIP_CALL_STATE_ENDED,
} SipCallState;

GType sip_call_state_get_type (void);
#define SIP_TYPE_CALL_STATE (sip_call_state_get_type ())

#define SIP_TYPE_CALL (sip_call_get_type ())
G_DECLARE_FINAL_TYPE (SipCall, sip_call, SIP, CALL, GObject)

/* Identity of the dialog, from the INVITE */
const gchar *sip_call_get_call_id (SipCall * call);
const gchar *sip_call_get_from (SipCall * call);
const gchar *sip_call_get_to (SipCall * call);
gchar *sip_call_get_header (SipCall * call, const gchar * name);
GHashTable *sip_call_get_headers (SipCall * call);

SipCallState sip_call_get_state (SipCall * call);
const gchar *sip_call_get_end_reason (SipCall * call);
gint64 sip_call_get_answered_time (SipCall * call);
guint sip_call_get_max_duration (SipCall * call);
void sip_call_set_max_duration (SipCall * call, guint seconds);

/* Media negotiated by SDP offer/answer */
gchar *sip_call_get_remote_rtp_address (SipCall * call);
guint sip_call_get_remote_rtp_port (SipCall * call);
guint sip_call_get_local_rtp_port (SipCall * call);
gint sip_call_get_telephone_event_pt (SipCall * call);
gint sip_call_get_pcmu_pt (SipCall * call);
gboolean sip_call_get_on_hold (SipCall * call);
GSocket *sip_call_get_rtp_socket (SipCall * call);
GSocket *sip_call_get_rtcp_socket (SipCall * call);
GSocketAddress *sip_call_get_remote_rtp_socket_address (SipCall * call);
GSocketAddress *sip_call_get_remote_rtcp_socket_address (SipCall * call);

/* Actions: thread-safe, carried out in the agent's thread */
void sip_call_ring (SipCall * call);
void sip_call_answer (SipCall * call);
void sip_call_reject (SipCall * call, guint status_code);
void sip_call_hangup (SipCall * call);

G_END_DECLS
