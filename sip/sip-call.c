/* gst-sip: one SIP dialog (a call) answered by a SipAgent
 * Copyright (C) 2026 The gst-sip authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:sip-call
 * @title: SipCall
 * @short_description: one incoming call: its dialog, its media, its actions
 *
 * A #SipCall is created by a #SipAgent for each INVITE it accepts, and
 * handed to the #SipAgent::incoming-call handlers.  It holds the dialog
 * (RFC 3261 12: Call-ID, tags, CSeq, remote target, route set), the
 * negotiated media (RFC 3264 offer/answer) and the RTP/RTCP sockets.
 *
 * The actions sip_call_ring(), sip_call_answer(), sip_call_reject() and
 * sip_call_hangup() may be called from any thread: they are carried out in
 * the agent's thread, where all signals of the call are emitted too.
 *
 * The RTP and RTCP sockets stay open until the call object is finalized,
 * also after the call has ENDED, so a media pipeline can shut down
 * cleanly; the port pair goes back to the agent's pool at finalization.
 */

#include "sip-private.h"

#include <string.h>

enum
{
  PROP_0,
  PROP_CALL_ID,
  PROP_FROM,
  PROP_TO,
  PROP_STATE,
  PROP_END_REASON,
  PROP_REMOTE_RTP_ADDRESS,
  PROP_REMOTE_RTP_PORT,
  PROP_LOCAL_RTP_PORT,
  PROP_TELEPHONE_EVENT_PT,
  PROP_PCMU_PT,
  PROP_ON_HOLD,
  PROP_MAX_DURATION,
  N_PROPS
};

enum
{
  SIGNAL_STATE_CHANGED,
  SIGNAL_MEDIA_CHANGED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_ENUM_TYPE (SipCallState, sip_call_state,
    G_DEFINE_ENUM_VALUE (SIP_CALL_STATE_INCOMING, "incoming"),
    G_DEFINE_ENUM_VALUE (SIP_CALL_STATE_RINGING, "ringing"),
    G_DEFINE_ENUM_VALUE (SIP_CALL_STATE_ANSWERED, "answered"),
    G_DEFINE_ENUM_VALUE (SIP_CALL_STATE_ACTIVE, "active"),
    G_DEFINE_ENUM_VALUE (SIP_CALL_STATE_ENDED, "ended"));

G_DEFINE_FINAL_TYPE (SipCall, sip_call, G_TYPE_OBJECT);

static void stop_ok_retransmission (SipCall * call);

static void
clear_source (GSource ** source)
{
  if (*source) {
    g_source_destroy (*source);
    g_source_unref (*source);
    *source = NULL;
  }
}

static void
sip_call_init (SipCall * call)
{
  g_mutex_init (&call->lock);
  g_weak_ref_init (&call->agent, NULL);
  call->state = SIP_CALL_STATE_INCOMING;
  call->telephone_event_pt = -1;
  call->pcmu_pt = 0;
  call->route_set = g_ptr_array_new_with_free_func (g_free);
}

static void
sip_call_finalize (GObject * object)
{
  SipCall *call = SIP_CALL (object);

  clear_source (&call->ok_timer);
  clear_source (&call->ok_giveup);
  clear_source (&call->duration_timer);
  g_clear_pointer (&call->invite, sip_transaction_unref);
  g_weak_ref_clear (&call->agent);
  g_free (call->call_id);
  g_free (call->from);
  g_free (call->to);
  g_clear_pointer (&call->headers, g_hash_table_unref);
  /* the port pair goes back to the pool; the sockets close when the media
   * layer drops its references too */
  g_clear_pointer (&call->ports, sip_port_pair_free);
  g_free (call->end_reason);
  g_free (call->remote_rtp_address);
  g_free (call->dialog_id);
  g_free (call->local_tag);
  g_free (call->remote_tag);
  g_free (call->remote_target);
  g_ptr_array_unref (call->route_set);
  g_clear_object (&call->source);
  g_free (call->local_address);
  g_free (call->contact);
  sip_sdp_local_clear (&call->sdp);
  g_clear_pointer (&call->remote_sdp, sip_sdp_remote_free);
  g_free (call->ok_text);
  g_clear_object (&call->ok_dest);
  g_mutex_clear (&call->lock);

  G_OBJECT_CLASS (sip_call_parent_class)->finalize (object);
}

static void
sip_call_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  SipCall *call = SIP_CALL (object);

  switch (prop_id) {
    case PROP_CALL_ID:
      g_value_set_string (value, call->call_id);
      break;
    case PROP_FROM:
      g_value_set_string (value, call->from);
      break;
    case PROP_TO:
      g_value_set_string (value, call->to);
      break;
    case PROP_STATE:
      g_value_set_enum (value, sip_call_get_state (call));
      break;
    case PROP_END_REASON:
      g_mutex_lock (&call->lock);
      g_value_set_string (value, call->end_reason);
      g_mutex_unlock (&call->lock);
      break;
    case PROP_REMOTE_RTP_ADDRESS:
      g_value_take_string (value, sip_call_get_remote_rtp_address (call));
      break;
    case PROP_REMOTE_RTP_PORT:
      g_value_set_uint (value, sip_call_get_remote_rtp_port (call));
      break;
    case PROP_LOCAL_RTP_PORT:
      g_value_set_uint (value, sip_call_get_local_rtp_port (call));
      break;
    case PROP_TELEPHONE_EVENT_PT:
      g_value_set_int (value, sip_call_get_telephone_event_pt (call));
      break;
    case PROP_PCMU_PT:
      g_value_set_int (value, sip_call_get_pcmu_pt (call));
      break;
    case PROP_ON_HOLD:
      g_value_set_boolean (value, sip_call_get_on_hold (call));
      break;
    case PROP_MAX_DURATION:
      g_value_set_uint (value, sip_call_get_max_duration (call));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
sip_call_set_property (GObject * object, guint prop_id, const GValue * value,
    GParamSpec * pspec)
{
  SipCall *call = SIP_CALL (object);

  switch (prop_id) {
    case PROP_MAX_DURATION:
      sip_call_set_max_duration (call, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
sip_call_class_init (SipCallClass * klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->finalize = sip_call_finalize;
  object_class->get_property = sip_call_get_property;
  object_class->set_property = sip_call_set_property;

  /**
   * SipCall:call-id:
   *
   * The Call-ID of the INVITE.
   */
  properties[PROP_CALL_ID] = g_param_spec_string ("call-id", "Call-ID",
      "Call-ID of the dialog", NULL, ro);
  /**
   * SipCall:from:
   *
   * The From header field of the INVITE (the caller), e.g.
   * "\"Alice\" <sip:alice@example.com>;tag=1928301774".
   */
  properties[PROP_FROM] = g_param_spec_string ("from", "From",
      "From header field of the INVITE (the caller)", NULL, ro);
  /**
   * SipCall:to:
   *
   * The To header field of the INVITE with our tag added (the callee).
   */
  properties[PROP_TO] = g_param_spec_string ("to", "To",
      "To header field of the INVITE, with our tag", NULL, ro);
  /**
   * SipCall:state:
   *
   * Where the call is; changes are signalled by #SipCall::state-changed.
   * Default: %SIP_CALL_STATE_INCOMING.
   */
  properties[PROP_STATE] = g_param_spec_enum ("state", "State",
      "State of the call", SIP_TYPE_CALL_STATE, SIP_CALL_STATE_INCOMING, ro);
  /**
   * SipCall:end-reason:
   *
   * Why the call ENDED: "remote-bye", "local-bye", "max-duration",
   * "cancelled", "rejected", "ack-timeout", "shutdown", "bad-answer";
   * %NULL before.
   */
  properties[PROP_END_REASON] = g_param_spec_string ("end-reason",
      "End reason", "Why the call ended (NULL while it lasts)", NULL, ro);
  /**
   * SipCall:remote-rtp-address:
   *
   * The IP address the caller receives RTP on (SDP c=).  Default: %NULL
   * (no SDP yet).
   */
  properties[PROP_REMOTE_RTP_ADDRESS] = g_param_spec_string
      ("remote-rtp-address", "Remote RTP address",
      "IP address the caller receives RTP on (SDP c=)", NULL, ro);
  /**
   * SipCall:remote-rtp-port:
   *
   * The port the caller receives RTP on (SDP m=); RTCP is the next port.
   * Default: 0 (no SDP yet).
   */
  properties[PROP_REMOTE_RTP_PORT] = g_param_spec_uint ("remote-rtp-port",
      "Remote RTP port", "Port the caller receives RTP on (SDP m=)", 0,
      65535, 0, ro);
  /**
   * SipCall:local-rtp-port:
   *
   * Our RTP port (even); RTCP is the next one.
   */
  properties[PROP_LOCAL_RTP_PORT] = g_param_spec_uint ("local-rtp-port",
      "Local RTP port", "Our RTP port (RTCP is the next one)", 0, 65535, 0, ro);
  /**
   * SipCall:telephone-event-pt:
   *
   * RTP payload type of RFC 4733 telephone-event (DTMF), -1 when not
   * negotiated.  Default: -1.
   */
  properties[PROP_TELEPHONE_EVENT_PT] = g_param_spec_int
      ("telephone-event-pt", "telephone-event payload type",
      "RTP payload type of telephone-event (DTMF), -1 if not negotiated",
      -1, 127, -1, ro);
  /**
   * SipCall:pcmu-pt:
   *
   * RTP payload type of PCMU: 0, unless the caller mapped PCMU/8000 to a
   * dynamic payload type.  Default: 0.
   */
  properties[PROP_PCMU_PT] = g_param_spec_int ("pcmu-pt",
      "PCMU payload type", "RTP payload type of PCMU (normally 0)", 0, 127,
      0, ro);
  /**
   * SipCall:on-hold:
   *
   * %TRUE while the caller holds the call (a=sendonly, a=inactive or
   * c=0.0.0.0 in its last offer): do not send media then.  Default: %FALSE.
   */
  properties[PROP_ON_HOLD] = g_param_spec_boolean ("on-hold", "On hold",
      "Whether the caller has put the call on hold", FALSE, ro);
  /**
   * SipCall:max-duration:
   *
   * The longest the call may last, in seconds counted from its 200 OK: the
   * agent then hangs it up (BYE, #SipCall:end-reason "max-duration").  A
   * change applies at once, also to a call already answered (one that has
   * lasted longer is hung up now); 0 means no limit.  Default: the agent's
   * #SipAgent:max-call-duration when the call came in.
   */
  properties[PROP_MAX_DURATION] = g_param_spec_uint ("max-duration",
      "Maximum duration", "Seconds after the answer at which the call is "
      "hung up (0 = no limit)", 0, G_MAXUINT / 1000, 0,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * SipCall::state-changed:
   * @call: the call
   * @state: the new state
   *
   * Emitted in the agent's thread on every change of #SipCall:state.
   */
  signals[SIGNAL_STATE_CHANGED] = g_signal_new ("state-changed",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 1, SIP_TYPE_CALL_STATE);

  /**
   * SipCall::media-changed:
   * @call: the call
   *
   * Emitted in the agent's thread when a re-INVITE (or the answer in an
   * ACK) changed the remote RTP address or port, the telephone-event
   * payload type or #SipCall:on-hold.
   */
  signals[SIGNAL_MEDIA_CHANGED] = g_signal_new ("media-changed",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 0);
}

/* ---- State -------------------------------------------------------------- */

static void
set_state (SipCall * call, SipCallState state)
{
  g_mutex_lock (&call->lock);
  if (call->state == state) {
    g_mutex_unlock (&call->lock);
    return;
  }
  call->state = state;
  g_mutex_unlock (&call->lock);

  {
    gchar *name = g_enum_to_string (SIP_TYPE_CALL_STATE, state);
    g_debug ("call %s: state %s", call->call_id, name);
    g_free (name);
  }
  g_object_notify_by_pspec (G_OBJECT (call), properties[PROP_STATE]);
  g_signal_emit (call, signals[SIGNAL_STATE_CHANGED], 0, state);
}

/* The call is over for its user; the dialog may live on briefly when a
 * BYE waits for the ACK (bye_after_ack). */
static void
end_call (SipCall * call, const gchar * reason)
{
  SipAgent *agent;

  if (sip_call_get_state (call) == SIP_CALL_STATE_ENDED)
    return;
  g_object_ref (call);
  clear_source (&call->duration_timer);
  g_mutex_lock (&call->lock);
  g_free (call->end_reason);
  call->end_reason = g_strdup (reason);
  g_mutex_unlock (&call->lock);
  g_debug ("call %s ended: %s", call->call_id, reason);

  agent = g_weak_ref_get (&call->agent);
  if (agent) {
    sip_agent_call_ended (agent, call);
    if (!call->bye_after_ack)
      sip_agent_forget_call (agent, call);
    g_object_unref (agent);
  }
  g_object_notify_by_pspec (G_OBJECT (call), properties[PROP_END_REASON]);
  set_state (call, SIP_CALL_STATE_ENDED);
  g_object_unref (call);
}

/* ---- Creation ----------------------------------------------------------- */

gchar *
sip_call_make_dialog_id (const gchar * call_id, const gchar * local_tag,
    const gchar * remote_tag)
{
  return g_strdup_printf ("%s|%s|%s", call_id, local_tag ? local_tag : "",
      remote_tag ? remote_tag : "");
}

/* Takes the media of a remote SDP; returns TRUE if anything changed */
static gboolean
apply_remote_sdp (SipCall * call, SipSdpRemote * remote)
{
  gboolean changed, hold = sip_sdp_remote_is_hold (remote);
  gboolean address_changed = FALSE;

  g_mutex_lock (&call->lock);
  /* c=0.0.0.0 (RFC 2543 hold) says nothing about where media goes: keep
   * the last address, sending there is paused by on-hold anyway */
  if (!remote->hold_address || call->remote_rtp_address == NULL) {
    address_changed = g_strcmp0 (call->remote_rtp_address,
        remote->address) != 0 || call->remote_rtp_port != remote->port;
    g_free (call->remote_rtp_address);
    call->remote_rtp_address = g_strdup (remote->address);
    call->remote_rtp_port = remote->port;
  }
  changed = address_changed || call->on_hold != hold
      || call->telephone_event_pt != remote->telephone_event_pt
      || call->pcmu_pt != remote->pcmu_pt;
  call->on_hold = hold;
  call->telephone_event_pt = remote->telephone_event_pt;
  call->pcmu_pt = remote->pcmu_pt;
  g_mutex_unlock (&call->lock);

  g_clear_pointer (&call->remote_sdp, sip_sdp_remote_free);
  call->remote_sdp = remote;

  if (changed) {
    g_object_notify_by_pspec (G_OBJECT (call),
        properties[PROP_REMOTE_RTP_ADDRESS]);
    g_object_notify_by_pspec (G_OBJECT (call),
        properties[PROP_REMOTE_RTP_PORT]);
    g_object_notify_by_pspec (G_OBJECT (call), properties[PROP_ON_HOLD]);
    g_object_notify_by_pspec (G_OBJECT (call),
        properties[PROP_TELEPHONE_EVENT_PT]);
    g_object_notify_by_pspec (G_OBJECT (call), properties[PROP_PCMU_PT]);
  }
  return changed;
}

static gchar *
contact_target (const osip_message_t * msg)
{
  osip_contact_t *contact = NULL;

  osip_message_get_contact (msg, 0, &contact);
  if (contact == NULL || contact->url == NULL)
    return NULL;
  return sip_message_uri_to_string (contact->url);
}

/**
 * sip_call_new_incoming: (skip)
 * @agent: the agent
 * @invite: the INVITE server transaction
 * @offer: (transfer full) (nullable): the SDP offer, %NULL for none
 * @ports: (transfer full): RTP/RTCP ports
 * @headers: (transfer full): the INVITE's header fields
 * @local_address: our address as the caller sees it
 *
 * Creates the UAS side of a dialog (RFC 3261 12.1.1).
 *
 * Returns: (transfer full): the call
 */
SipCall *
sip_call_new_incoming (SipAgent * agent, SipTransaction * invite,
    SipSdpRemote * offer, SipPortPair * ports, GHashTable * headers,
    const gchar * local_address)
{
  SipCall *call = g_object_new (SIP_TYPE_CALL, NULL);
  const osip_message_t *req = sip_transaction_get_request (invite);
  osip_via_t *via = osip_list_get (&req->vias, 0);
  osip_generic_param_t *received = NULL;
  gchar *call_id_free, *host;
  osip_to_t *to = NULL;
  int pos = 0;

  g_weak_ref_set (&call->agent, agent);
  g_mutex_lock (&agent->lock);
  call->max_duration = agent->max_call_duration;
  g_mutex_unlock (&agent->lock);
  call->call_id = g_strdup (sip_message_get_call_id_string (req,
          &call_id_free));
  g_free (call_id_free);
  call->local_tag = sip_message_new_tag ();
  call->remote_tag = g_strdup (sip_message_get_from_tag (req));
  call->dialog_id = sip_call_make_dialog_id (call->call_id, call->local_tag,
      call->remote_tag);
  call->from = sip_message_from_to_string (req->from);
  osip_to_clone (req->to, &to);
  osip_to_set_tag (to, osip_strdup (call->local_tag));
  call->to = sip_message_from_to_string (to);
  osip_to_free (to);
  call->headers = headers;
  call->ports = ports;

  /* RFC 3261 12.1.1: remote sequence number from the request, the local
   * one is ours to choose; remote target from Contact; route set from
   * Record-Route, in order */
  sip_message_get_cseq_number (req, &call->remote_cseq);
  call->invite_cseq = call->remote_cseq;
  call->local_cseq = g_random_int_range (1, 1 << 16);
  call->remote_target = contact_target (req);
  if (call->remote_target == NULL)
    call->remote_target = sip_message_uri_to_string (req->from->url);
  while (!osip_list_eol (&req->record_routes, pos)) {
    osip_record_route_t *rr = osip_list_get (&req->record_routes, pos++);
    gchar *value = sip_message_from_to_string (rr);
    if (value)
      g_ptr_array_add (call->route_set, value);
  }
  call->source = g_object_ref (sip_transaction_get_peer (invite));
  if (via)
    osip_via_param_get_byname (via, (char *) "received", &received);
  call->behind_nat = received != NULL;

  call->local_address = g_strdup (local_address);
  host = sip_format_host (local_address);
  if (req->req_uri && req->req_uri->username)
    call->contact = g_strdup_printf ("<sip:%s@%s:%u>",
        req->req_uri->username, host, sip_agent_get_bound_port (agent));
  else
    call->contact = g_strdup_printf ("<sip:%s:%u>", host,
        sip_agent_get_bound_port (agent));
  g_free (host);

  sip_sdp_local_init (&call->sdp, local_address, ports->rtp_port);
  if (offer)
    apply_remote_sdp (call, offer);

  call->invite = sip_transaction_ref (invite);
  sip_transaction_set_owner (invite, g_object_ref (call), g_object_unref);
  return call;
}

/* ---- Responses ---------------------------------------------------------- */

static osip_message_t *
new_response (SipCall * call, SipAgent * agent, const osip_message_t * req,
    guint status_code, const gchar * reason)
{
  osip_message_t *resp = sip_agent_new_response (agent, req, status_code,
      reason, call->local_tag);

  if (status_code > 100 && status_code < 300
      && strcmp (req->sip_method, "INVITE") == 0) {
    int pos = 0;

    /* RFC 3261 12.1.1: Record-Route copied into the response, Contact
     * with our address */
    while (!osip_list_eol (&req->record_routes, pos)) {
      osip_record_route_t *rr = osip_list_get (&req->record_routes, pos++);
      osip_record_route_t *copy = NULL;
      if (osip_record_route_clone (rr, &copy) == OSIP_SUCCESS)
        osip_list_add (&resp->record_routes, copy, -1);
    }
    osip_message_set_contact (resp, call->contact);
  }
  return resp;
}

static void
set_sdp_body (osip_message_t * resp, const gchar * sdp)
{
  osip_message_set_content_type (resp, "application/sdp");
  osip_message_set_body (resp, sdp, strlen (sdp));
}

/* The INVITE got its final response: a CANCEL can no longer change
 * anything, the transaction need not know the call any more */
static void
release_invite (SipCall * call)
{
  if (call->invite) {
    sip_transaction_set_owner (call->invite, NULL, NULL);
    g_clear_pointer (&call->invite, sip_transaction_unref);
  }
}

void
sip_call_send_trying (SipCall * call)
{
  SipAgent *agent = g_weak_ref_get (&call->agent);

  if (agent && call->invite) {
    const osip_message_t *req = sip_transaction_get_request (call->invite);
    sip_transaction_respond (call->invite, sip_agent_new_response (agent, req,
            100, NULL, NULL));
  }
  g_clear_object (&agent);
}

/* ---- 2xx retransmission (RFC 3261 13.3.1.4) ----------------------------- */

static void send_bye (SipCall * call);

static gboolean
ok_timer_fired (gpointer data)
{
  SipCall *call = data;
  SipAgent *agent = g_weak_ref_get (&call->agent);

  clear_source (&call->ok_timer);
  if (agent == NULL || !agent->alive) {
    g_clear_object (&agent);
    return G_SOURCE_REMOVE;
  }
  /* T1, doubling up to T2 */
  sip_transport_send (agent->transport, call->ok_dest, call->ok_text,
      call->ok_len);
  call->ok_interval = MIN (call->ok_interval * 2, agent->timers.t2);
  call->ok_timer = g_timeout_source_new (call->ok_interval);
  g_source_set_callback (call->ok_timer, ok_timer_fired, call, NULL);
  g_source_attach (call->ok_timer, agent->context);
  g_object_unref (agent);
  return G_SOURCE_REMOVE;
}

static gboolean
ok_giveup_fired (gpointer data)
{
  SipCall *call = g_object_ref (data);

  /* RFC 3261 13.3.1.4: no ACK after 64*T1: confirm and then end the
   * dialog with BYE */
  g_debug ("call %s: no ACK for the 2xx, hanging up", call->call_id);
  stop_ok_retransmission (call);
  call->offer_in_ok = FALSE;
  send_bye (call);
  if (call->bye_after_ack) {
    SipAgent *agent = g_weak_ref_get (&call->agent);
    call->bye_after_ack = FALSE;
    if (agent) {
      sip_agent_forget_call (agent, call);
      g_object_unref (agent);
    }
  }
  end_call (call, "ack-timeout");
  g_object_unref (call);
  return G_SOURCE_REMOVE;
}

static void
start_ok_retransmission (SipCall * call, SipAgent * agent,
    osip_message_t * ok, guint32 cseq)
{
  stop_ok_retransmission (call);
  call->ok_text = sip_message_to_string (ok, &call->ok_len);
  call->ok_dest = g_object_ref (call->invite ?
      sip_transaction_get_peer (call->invite) : call->source);
  call->ok_cseq = cseq;
  call->ok_interval = agent->timers.t1;
  if (call->ok_text == NULL)
    return;
  call->ok_timer = g_timeout_source_new (call->ok_interval);
  g_source_set_callback (call->ok_timer, ok_timer_fired, call, NULL);
  g_source_attach (call->ok_timer, agent->context);
  call->ok_giveup = g_timeout_source_new (64 * agent->timers.t1);
  g_source_set_callback (call->ok_giveup, ok_giveup_fired, call, NULL);
  g_source_attach (call->ok_giveup, agent->context);
}

static void
stop_ok_retransmission (SipCall * call)
{
  clear_source (&call->ok_timer);
  clear_source (&call->ok_giveup);
  g_clear_pointer (&call->ok_text, g_free);
  g_clear_object (&call->ok_dest);
}

/* ---- BYE (RFC 3261 15.1.1, requests within a dialog 12.2.1.1) ----------- */

static void
bye_result (SipTransaction * tr, const osip_message_t * response,
    gpointer user_data)
{
  gchar *call_id = user_data;

  if (response)
    g_debug ("call %s: BYE answered %d", call_id,
        osip_message_get_status_code (response));
  else
    g_debug ("call %s: BYE timed out", call_id);
}

static gboolean
uri_has_lr (const osip_uri_t * uri)
{
  osip_uri_param_t *lr = NULL;

  osip_uri_param_get_byname ((osip_list_t *) & uri->url_params, (char *) "lr",
      &lr);
  return lr != NULL;
}

typedef struct
{
  SipCall *call;
  osip_message_t *request;
  guint port;
} PendingRequest;

static void
pending_request_free (PendingRequest * pending)
{
  g_object_unref (pending->call);
  if (pending->request)
    osip_message_free (pending->request);
  g_free (pending);
}

static void
send_request_to (SipCall * call, SipAgent * agent, osip_message_t * request,
    GInetAddress * address, guint port)
{
  GSocketAddress *dest = sip_transport_make_address (agent->transport,
      address, port);

  if (dest == NULL) {
    g_debug ("call %s: cannot reach an IPv6 address from an IPv4 socket",
        call->call_id);
    osip_message_free (request);
    return;
  }
  sip_transaction_client_new (agent->layer, request, dest, bye_result,
      g_strdup (call->call_id), g_free);
  g_object_unref (dest);
}

static void
resolved (GObject * source, GAsyncResult * result, gpointer user_data)
{
  PendingRequest *pending = user_data;
  GError *error = NULL;
  GList *addresses = g_resolver_lookup_by_name_finish (G_RESOLVER (source),
      result, &error);
  SipAgent *agent = g_weak_ref_get (&pending->call->agent);

  if (addresses == NULL) {
    g_debug ("call %s: cannot resolve the BYE's destination: %s",
        pending->call->call_id, error->message);
    g_clear_error (&error);
  } else if (agent && agent->alive) {
    send_request_to (pending->call, agent, pending->request,
        addresses->data, pending->port);
    pending->request = NULL;
  }
  g_resolver_free_addresses (addresses);
  g_clear_object (&agent);
  pending_request_free (pending);
}

/* Builds and sends a request within the dialog, per RFC 3261 12.2.1.1 */
static void
send_in_dialog (SipCall * call, SipAgent * agent, const gchar * method)
{
  osip_message_t *req = NULL;
  osip_uri_t *ruri = NULL, *next_hop = NULL;
  gboolean strict = FALSE;
  gchar *via, *host, *branch, *cseq;
  guint first_route = 0;

  osip_message_init (&req);
  osip_message_set_method (req, osip_strdup (method));
  osip_message_set_version (req, osip_strdup ("SIP/2.0"));

  /* Request-URI and Route: loose routing if the first route has ;lr,
   * else strict routing (12.2.1.1) */
  if (call->route_set->len > 0) {
    osip_route_t *route = NULL;
    osip_route_init (&route);
    if (osip_route_parse (route, g_ptr_array_index (call->route_set,
                0)) == OSIP_SUCCESS && route->url != NULL) {
      osip_uri_clone (route->url, &next_hop);
      strict = !uri_has_lr (route->url);
    }
    osip_route_free (route);
  }
  if (strict && next_hop) {
    osip_uri_clone (next_hop, &ruri);
    osip_uri_param_freelist (&ruri->url_params);
    first_route = 1;
  } else {
    osip_uri_init (&ruri);
    if (osip_uri_parse (ruri, call->remote_target) != OSIP_SUCCESS) {
      g_debug ("call %s: bad remote target %s", call->call_id,
          call->remote_target);
      osip_uri_free (ruri);
      osip_uri_free (next_hop);
      osip_message_free (req);
      return;
    }
  }
  osip_message_set_uri (req, ruri);
  for (guint i = first_route; i < call->route_set->len; i++)
    osip_message_set_route (req, g_ptr_array_index (call->route_set, i));
  if (strict) {
    gchar *target = g_strdup_printf ("<%s>", call->remote_target);
    osip_message_set_route (req, target);
    g_free (target);
  }

  host = sip_format_host (call->local_address);
  branch = sip_message_new_branch ();
  via = g_strdup_printf ("SIP/2.0/UDP %s:%u;rport;branch=%s", host,
      sip_agent_get_bound_port (agent), branch);
  osip_message_set_via (req, via);
  g_free (via);
  g_free (branch);
  g_free (host);
  /* From is us (the To of the INVITE with our tag), To is them */
  osip_message_set_from (req, call->to);
  osip_message_set_to (req, call->from);
  osip_message_set_call_id (req, call->call_id);
  cseq = g_strdup_printf ("%u %s", ++call->local_cseq, method);
  osip_message_set_cseq (req, cseq);
  g_free (cseq);
  osip_message_set_header (req, "Max-Forwards", "70");
  sip_agent_add_user_agent (agent, req, "User-Agent");

  /* Where to: the first route, else the remote target.  A caller behind
   * NAT (its Via got received=) gets it where the INVITE came from, as
   * its Contact is likely a private address. */
  if (next_hop == NULL && call->behind_nat) {
    sip_transaction_client_new (agent->layer, req, call->source, bye_result,
        g_strdup (call->call_id), g_free);
  } else {
    const osip_uri_t *uri = next_hop ? next_hop : req->req_uri;
    gchar *h = g_strdup (uri->host ? uri->host : "");
    guint64 port = 5060;
    GInetAddress *address;

    if (h[0] == '[') {
      memmove (h, h + 1, strlen (h));
      if (strchr (h, ']'))
        *strchr (h, ']') = '\0';
    }
    if (uri->port)
      g_ascii_string_to_unsigned (uri->port, 10, 1, 65535, &port, NULL);
    address = g_inet_address_new_from_string (h);
    if (address) {
      send_request_to (call, agent, req, address, port);
      g_object_unref (address);
    } else {
      /* RFC 3263 without NAPTR/SRV: A/AAAA records of the host */
      PendingRequest *pending = g_new0 (PendingRequest, 1);
      GResolver *resolver = g_resolver_get_default ();

      pending->call = g_object_ref (call);
      pending->request = req;
      pending->port = port;
      g_resolver_lookup_by_name_async (resolver, h, NULL, resolved, pending);
      g_object_unref (resolver);
    }
    g_free (h);
  }
  osip_uri_free (next_hop);
}

static void
send_bye (SipCall * call)
{
  SipAgent *agent = g_weak_ref_get (&call->agent);

  if (agent && agent->alive)
    send_in_dialog (call, agent, "BYE");
  g_clear_object (&agent);
}

/* ---- Actions, in the agent's thread ------------------------------------- */

static void
do_ring (SipCall * call)
{
  SipAgent *agent;
  const osip_message_t *req;

  if (call->invite == NULL
      || sip_call_get_state (call) != SIP_CALL_STATE_INCOMING)
    return;
  agent = g_weak_ref_get (&call->agent);
  if (agent == NULL)
    return;
  req = sip_transaction_get_request (call->invite);
  sip_transaction_respond (call->invite, new_response (call, agent, req, 180,
          NULL));
  g_object_unref (agent);
  set_state (call, SIP_CALL_STATE_RINGING);
}

/* ---- max-duration ------------------------------------------------------- */

static void hang_up (SipCall * call, const gchar * reason);

static gboolean
duration_timer_fired (gpointer data)
{
  SipCall *call = data;

  g_source_unref (call->duration_timer);
  call->duration_timer = NULL;
  g_debug ("call %s: max-duration reached", call->call_id);
  hang_up (call, "max-duration");
  return G_SOURCE_REMOVE;
}

/* (re)arms the max-duration timer, counted from the 200 OK; agent thread */
static void
arm_duration_timer (SipCall * call)
{
  SipAgent *agent;
  gint64 answered, deadline, now;
  guint seconds;

  clear_source (&call->duration_timer);
  g_mutex_lock (&call->lock);
  answered = call->answered_time;
  seconds = call->max_duration;
  g_mutex_unlock (&call->lock);
  if (seconds == 0 || answered == 0
      || sip_call_get_state (call) == SIP_CALL_STATE_ENDED)
    return;
  agent = g_weak_ref_get (&call->agent);
  if (agent == NULL)
    return;
  deadline = answered + (gint64) seconds * G_USEC_PER_SEC;
  now = g_get_monotonic_time ();
  call->duration_timer =
      g_timeout_source_new (deadline > now ? (deadline - now + 999) / 1000 : 0);
  g_source_set_callback (call->duration_timer, duration_timer_fired, call,
      NULL);
  g_source_attach (call->duration_timer, agent->context);
  g_object_unref (agent);
}

static void
do_answer (SipCall * call)
{
  SipAgent *agent;
  SipCallState state = sip_call_get_state (call);
  const osip_message_t *req;
  osip_message_t *ok;
  guint32 cseq = 0;
  gchar *sdp;

  if (call->invite == NULL || (state != SIP_CALL_STATE_INCOMING
          && state != SIP_CALL_STATE_RINGING))
    return;
  agent = g_weak_ref_get (&call->agent);
  if (agent == NULL)
    return;
  req = sip_transaction_get_request (call->invite);
  if (call->remote_sdp) {
    sdp = sip_sdp_build_answer (&call->sdp, call->remote_sdp);
  } else {
    /* no offer in the INVITE: ours goes in the 2xx, the answer comes in
     * the ACK (RFC 3261 13.2.1) */
    sdp = sip_sdp_build_offer (&call->sdp, 101);
    call->offer_in_ok = TRUE;
  }
  ok = new_response (call, agent, req, 200, NULL);
  osip_message_set_header (ok, "Allow", SIP_ALLOWED_METHODS);
  set_sdp_body (ok, sdp);
  g_free (sdp);
  sip_message_get_cseq_number (req, &cseq);
  g_mutex_lock (&call->lock);
  call->answered_time = g_get_monotonic_time ();
  g_mutex_unlock (&call->lock);
  start_ok_retransmission (call, agent, ok, cseq);
  sip_transaction_respond (call->invite, ok);
  release_invite (call);
  g_object_unref (agent);
  arm_duration_timer (call);
  set_state (call, SIP_CALL_STATE_ANSWERED);
}

/**
 * sip_call_do_reject: (skip)
 * @call: a call not answered yet
 * @status_code: 300..699
 * @reason_text: (nullable): reason phrase
 * @end_reason: the #SipCall:end-reason
 */
void
sip_call_do_reject (SipCall * call, guint status_code,
    const gchar * reason_text, const gchar * end_reason)
{
  SipAgent *agent;
  const osip_message_t *req;

  if (call->invite == NULL || sip_call_get_state (call) == SIP_CALL_STATE_ENDED)
    return;
  agent = g_weak_ref_get (&call->agent);
  if (agent) {
    req = sip_transaction_get_request (call->invite);
    sip_transaction_respond (call->invite, new_response (call, agent, req,
            status_code, reason_text));
    g_object_unref (agent);
  }
  release_invite (call);
  end_call (call, end_reason);
}

/* our side ends the call; @reason is the end-reason once answered */
static void
hang_up (SipCall * call, const gchar * reason)
{
  switch (sip_call_get_state (call)) {
    case SIP_CALL_STATE_INCOMING:
    case SIP_CALL_STATE_RINGING:
      sip_call_do_reject (call, 480, NULL, "rejected");
      break;
    case SIP_CALL_STATE_ANSWERED:
      /* RFC 3261 15: no BYE before the ACK (or the 2xx timing out) */
      call->bye_after_ack = TRUE;
      end_call (call, reason);
      break;
    case SIP_CALL_STATE_ACTIVE:
      stop_ok_retransmission (call);
      send_bye (call);
      end_call (call, reason);
      break;
    default:
      break;
  }
}

/**
 * sip_call_do_shutdown: (skip)
 * @call: a call
 *
 * The agent stops: BYE for calls answered, 503 for the others.
 */
void
sip_call_do_shutdown (SipCall * call)
{
  g_object_ref (call);
  switch (sip_call_get_state (call)) {
    case SIP_CALL_STATE_INCOMING:
    case SIP_CALL_STATE_RINGING:
      sip_call_do_reject (call, 503, NULL, "shutdown");
      break;
    case SIP_CALL_STATE_ANSWERED:
    case SIP_CALL_STATE_ACTIVE:
      stop_ok_retransmission (call);
      send_bye (call);
      end_call (call, "shutdown");
      break;
    default:
      if (call->bye_after_ack) {
        SipAgent *agent = g_weak_ref_get (&call->agent);
        stop_ok_retransmission (call);
        call->bye_after_ack = FALSE;
        send_bye (call);
        if (agent) {
          sip_agent_forget_call (agent, call);
          g_object_unref (agent);
        }
      }
      break;
  }
  g_object_unref (call);
}

/* ---- Requests within the dialog ----------------------------------------- */

/**
 * sip_call_handle_ack: (skip)
 * @call: the call
 * @ack: an ACK within the dialog (for a 2xx)
 */
void
sip_call_handle_ack (SipCall * call, const osip_message_t * ack)
{
  guint32 cseq = 0;
  gboolean media_changed = FALSE;

  if (call->ok_text == NULL || !sip_message_get_cseq_number (ack, &cseq)
      || cseq != call->ok_cseq) {
    g_debug ("call %s: ACK ignored (retransmission or stale)", call->call_id);
    return;
  }
  g_object_ref (call);
  stop_ok_retransmission (call);

  if (call->offer_in_ok) {
    const osip_body_t *body = sip_message_get_sdp_body (ack);
    SipSdpRemote *answer = NULL;
    GError *error = NULL;

    call->offer_in_ok = FALSE;
    if (body)
      answer = sip_sdp_remote_parse (body->body, body->length, &error);
    if (answer) {
      media_changed = apply_remote_sdp (call, answer);
    } else if (call->remote_sdp == NULL) {
      /* RFC 3264 5/13.3.1.4: an unusable answer ends the session */
      g_debug ("call %s: no usable SDP answer in the ACK: %s",
          call->call_id, error ? error->message : "no SDP");
      g_clear_error (&error);
      send_bye (call);
      call->bye_after_ack = FALSE;
      end_call (call, "bad-answer");
      g_object_unref (call);
      return;
    }
    g_clear_error (&error);
  }

  if (call->bye_after_ack) {
    SipAgent *agent = g_weak_ref_get (&call->agent);
    call->bye_after_ack = FALSE;
    send_bye (call);
    if (agent) {
      sip_agent_forget_call (agent, call);
      g_object_unref (agent);
    }
  } else if (sip_call_get_state (call) == SIP_CALL_STATE_ANSWERED) {
    set_state (call, SIP_CALL_STATE_ACTIVE);
  }
  if (media_changed && sip_call_get_state (call) != SIP_CALL_STATE_ENDED)
    g_signal_emit (call, signals[SIGNAL_MEDIA_CHANGED], 0);
  g_object_unref (call);
}

static void
handle_bye (SipCall * call, SipAgent * agent, SipTransaction * tr)
{
  const osip_message_t *req = sip_transaction_get_request (tr);

  sip_transaction_respond (tr, new_response (call, agent, req, 200, NULL));
  stop_ok_retransmission (call);
  if (call->bye_after_ack) {
    call->bye_after_ack = FALSE;
    sip_agent_forget_call (agent, call);
    return;
  }
  if (call->invite) {
    /* a BYE on an early dialog: the INVITE gets 487 (15.1.2) */
    const osip_message_t *invite = sip_transaction_get_request (call->invite);
    sip_transaction_respond (call->invite, new_response (call, agent, invite,
            487, NULL));
    release_invite (call);
  }
  end_call (call, "remote-bye");
}

static void
handle_reinvite (SipCall * call, SipAgent * agent, SipTransaction * tr)
{
  const osip_message_t *req = sip_transaction_get_request (tr);
  const osip_body_t *body = sip_message_get_sdp_body (req);
  SipSdpRemote *offer = NULL;
  gboolean media_changed = FALSE;
  osip_message_t *ok;
  gchar *sdp, *target;
  guint32 cseq = 0;

  if (sip_call_get_state (call) == SIP_CALL_STATE_ENDED) {
    sip_agent_respond (agent, tr, 481, NULL, NULL);
    return;
  }
  if (call->invite) {
    /* RFC 3261 14.2: an INVITE still pending on this dialog */
    osip_message_t *resp = new_response (call, agent, req, 500,
        "Server Internal Error - INVITE pending");
    gchar *retry = g_strdup_printf ("%d", g_random_int_range (0, 11));
    osip_message_set_header (resp, "Retry-After", retry);
    g_free (retry);
    sip_transaction_respond (tr, resp);
    return;
  }
  if (call->ok_text) {
    /* offer/answer of the last INVITE not complete (no ACK yet) */
    sip_agent_respond (agent, tr, 491, NULL, NULL);
    return;
  }

  if (body) {
    GError *error = NULL;
    offer = sip_sdp_remote_parse (body->body, body->length, &error);
    if (offer == NULL) {
      gboolean malformed = g_error_matches (error, SIP_SDP_ERROR,
          SIP_SDP_ERROR_MALFORMED);
      g_debug ("call %s: re-INVITE refused: %s", call->call_id, error->message);
      g_error_free (error);
      /* the session goes on unchanged (RFC 3261 14.2) */
      sip_agent_respond (agent, tr, malformed ? 400 : 488,
          malformed ? "Bad Request - malformed SDP" : NULL, NULL);
      return;
    }
  }

  /* target refresh (12.2.2) */
  target = contact_target (req);
  if (target) {
    g_free (call->remote_target);
    call->remote_target = target;
  }

  if (offer) {
    sdp = sip_sdp_build_answer (&call->sdp, offer);
    media_changed = apply_remote_sdp (call, offer);
    call->offer_in_ok = FALSE;
  } else {
    /* no offer: ours, answer in the ACK */
    sdp = sip_sdp_build_offer (&call->sdp,
        call->telephone_event_pt >= 0 ? call->telephone_event_pt : 101);
    call->offer_in_ok = TRUE;
  }
  ok = new_response (call, agent, req, 200, NULL);
  osip_message_set_header (ok, "Allow", SIP_ALLOWED_METHODS);
  set_sdp_body (ok, sdp);
  g_free (sdp);
  sip_message_get_cseq_number (req, &cseq);
  g_clear_object (&call->source);
  call->source = g_object_ref (sip_transaction_get_peer (tr));
  start_ok_retransmission (call, agent, ok, cseq);
  sip_transaction_respond (tr, ok);
  if (media_changed)
    g_signal_emit (call, signals[SIGNAL_MEDIA_CHANGED], 0);
}

/**
 * sip_call_handle_request: (skip)
 * @call: the call
 * @transaction: a server transaction for a request within the dialog
 *
 * RFC 3261 12.2.2.
 */
void
sip_call_handle_request (SipCall * call, SipTransaction * tr)
{
  const osip_message_t *req = sip_transaction_get_request (tr);
  SipAgent *agent = g_weak_ref_get (&call->agent);
  guint32 cseq = 0;

  if (agent == NULL)
    return;
  g_object_ref (call);

  /* 12.2.2: a lower CSeq than the last one is out of order */
  sip_message_get_cseq_number (req, &cseq);
  if (strcmp (req->sip_method, "CANCEL") != 0) {
    if (cseq < call->remote_cseq) {
      sip_agent_respond (agent, tr, 500,
          "Server Internal Error - CSeq out of order", NULL);
      goto out;
    }
    call->remote_cseq = cseq;
  }

  if (strcmp (req->sip_method, "BYE") == 0)
    handle_bye (call, agent, tr);
  else if (strcmp (req->sip_method, "INVITE") == 0)
    handle_reinvite (call, agent, tr);
  else if (strcmp (req->sip_method, "OPTIONS") == 0)
    sip_agent_respond_options (agent, tr, NULL);
  else
    sip_agent_respond (agent, tr, 405, NULL, NULL);

out:
  g_object_unref (call);
  g_object_unref (agent);
}

/**
 * sip_call_handle_cancel: (skip)
 * @call: the call
 * @invite: the INVITE server transaction the CANCEL matched
 *
 * RFC 3261 9.2: a CANCEL of an INVITE not answered yet: 487.
 */
void
sip_call_handle_cancel (SipCall * call, SipTransaction * invite)
{
  SipCallState state = sip_call_get_state (call);

  if (call->invite == invite && (state == SIP_CALL_STATE_INCOMING
          || state == SIP_CALL_STATE_RINGING))
    sip_call_do_reject (call, 487, NULL, "cancelled");
}

/* ---- Public API --------------------------------------------------------- */

/**
 * sip_call_get_call_id:
 * @call: a #SipCall
 *
 * Returns: (transfer none): the Call-ID of the dialog
 */
const gchar *
sip_call_get_call_id (SipCall * call)
{
  g_return_val_if_fail (SIP_IS_CALL (call), NULL);
  return call->call_id;
}

/**
 * sip_call_get_from:
 * @call: a #SipCall
 *
 * Returns: (transfer none): the From header field of the INVITE
 */
const gchar *
sip_call_get_from (SipCall * call)
{
  g_return_val_if_fail (SIP_IS_CALL (call), NULL);
  return call->from;
}

/**
 * sip_call_get_to:
 * @call: a #SipCall
 *
 * Returns: (transfer none): the To header field of the INVITE, with our tag
 */
const gchar *
sip_call_get_to (SipCall * call)
{
  g_return_val_if_fail (SIP_IS_CALL (call), NULL);
  return call->to;
}

/**
 * sip_call_get_header:
 * @call: a #SipCall
 * @name: a header field name, any case; compact forms ("f", "t", "v", ...)
 *   are understood
 *
 * Returns: (transfer full) (nullable): the value of the first @name header
 * field of the INVITE, or %NULL
 */
gchar *
sip_call_get_header (SipCall * call, const gchar * name)
{
  gchar *canonical, *value;

  g_return_val_if_fail (SIP_IS_CALL (call), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  if (call->headers == NULL)
    return NULL;
  canonical = sip_message_header_canonical_name (name);
  value = g_strdup (g_hash_table_lookup (call->headers, canonical));
  g_free (canonical);
  return value;
}

/**
 * sip_call_get_headers:
 * @call: a #SipCall
 *
 * Returns: (transfer full) (element-type utf8 utf8): the header fields of
 * the INVITE: lowercase full name -> value of the first occurrence
 */
GHashTable *
sip_call_get_headers (SipCall * call)
{
  GHashTable *copy = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
  GHashTableIter iter;
  gpointer key, value;

  g_return_val_if_fail (SIP_IS_CALL (call), copy);
  if (call->headers) {
    g_hash_table_iter_init (&iter, call->headers);
    while (g_hash_table_iter_next (&iter, &key, &value))
      g_hash_table_insert (copy, g_strdup (key), g_strdup (value));
  }
  return copy;
}

/**
 * sip_call_get_state:
 * @call: a #SipCall
 *
 * Returns: the state of the call
 */
SipCallState
sip_call_get_state (SipCall * call)
{
  SipCallState state;

  g_return_val_if_fail (SIP_IS_CALL (call), SIP_CALL_STATE_ENDED);
  g_mutex_lock (&call->lock);
  state = call->state;
  g_mutex_unlock (&call->lock);
  return state;
}

/**
 * sip_call_get_end_reason:
 * @call: a #SipCall
 *
 * Returns: (transfer none) (nullable): why the call ended, %NULL while it
 * lasts; see #SipCall:end-reason
 */
const gchar *
sip_call_get_end_reason (SipCall * call)
{
  const gchar *reason;

  g_return_val_if_fail (SIP_IS_CALL (call), NULL);
  /* set once, when the call ends, and kept until finalization */
  g_mutex_lock (&call->lock);
  reason = call->end_reason;
  g_mutex_unlock (&call->lock);
  return reason;
}

/**
 * sip_call_get_remote_rtp_address:
 * @call: a #SipCall
 *
 * Returns: (transfer full) (nullable): the IP the caller receives RTP on
 */
gchar *
sip_call_get_remote_rtp_address (SipCall * call)
{
  gchar *address;

  g_return_val_if_fail (SIP_IS_CALL (call), NULL);
  g_mutex_lock (&call->lock);
  address = g_strdup (call->remote_rtp_address);
  g_mutex_unlock (&call->lock);
  return address;
}

/**
 * sip_call_get_remote_rtp_port:
 * @call: a #SipCall
 *
 * Returns: the port the caller receives RTP on, 0 if not known yet
 */
guint
sip_call_get_remote_rtp_port (SipCall * call)
{
  guint port;

  g_return_val_if_fail (SIP_IS_CALL (call), 0);
  g_mutex_lock (&call->lock);
  port = call->remote_rtp_port;
  g_mutex_unlock (&call->lock);
  return port;
}

/**
 * sip_call_get_local_rtp_port:
 * @call: a #SipCall
 *
 * Returns: our RTP port; RTCP is the next one
 */
guint
sip_call_get_local_rtp_port (SipCall * call)
{
  g_return_val_if_fail (SIP_IS_CALL (call), 0);
  return call->ports ? call->ports->rtp_port : 0;
}

/**
 * sip_call_get_telephone_event_pt:
 * @call: a #SipCall
 *
 * Returns: the payload type of telephone-event, -1 if not negotiated
 */
gint
sip_call_get_telephone_event_pt (SipCall * call)
{
  gint pt;

  g_return_val_if_fail (SIP_IS_CALL (call), -1);
  g_mutex_lock (&call->lock);
  pt = call->telephone_event_pt;
  g_mutex_unlock (&call->lock);
  return pt;
}

/**
 * sip_call_get_pcmu_pt:
 * @call: a #SipCall
 *
 * Returns: the payload type of PCMU (0 unless the caller mapped it to a
 * dynamic one)
 */
gint
sip_call_get_pcmu_pt (SipCall * call)
{
  gint pt;

  g_return_val_if_fail (SIP_IS_CALL (call), 0);
  g_mutex_lock (&call->lock);
  pt = call->pcmu_pt;
  g_mutex_unlock (&call->lock);
  return pt;
}

/**
 * sip_call_get_answered_time:
 * @call: a #SipCall
 *
 * When the call was answered: the g_get_monotonic_time() at which its
 * 200 OK was sent.  A call's duration counts from it, also when its media
 * pipeline takes the call later.
 *
 * Returns: microseconds of the monotonic clock, 0 before the answer
 */
gint64
sip_call_get_answered_time (SipCall * call)
{
  gint64 t;

  g_return_val_if_fail (SIP_IS_CALL (call), 0);
  g_mutex_lock (&call->lock);
  t = call->answered_time;
  g_mutex_unlock (&call->lock);
  return t;
}

/**
 * sip_call_get_on_hold:
 * @call: a #SipCall
 *
 * Returns: whether the caller holds the call
 */
gboolean
sip_call_get_on_hold (SipCall * call)
{
  gboolean hold;

  g_return_val_if_fail (SIP_IS_CALL (call), FALSE);
  g_mutex_lock (&call->lock);
  hold = call->on_hold;
  g_mutex_unlock (&call->lock);
  return hold;
}

/**
 * sip_call_get_rtp_socket:
 * @call: a #SipCall
 *
 * The bound UDP socket of our RTP port, owned by the call and open until
 * the call is finalized.  Use it for receiving and sending (symmetric RTP).
 *
 * Returns: (transfer none) (nullable): the RTP socket
 */
GSocket *
sip_call_get_rtp_socket (SipCall * call)
{
  g_return_val_if_fail (SIP_IS_CALL (call), NULL);
  return call->ports ? call->ports->rtp : NULL;
}

/**
 * sip_call_get_rtcp_socket:
 * @call: a #SipCall
 *
 * Returns: (transfer none) (nullable): the RTCP socket (RTP port + 1)
 */
GSocket *
sip_call_get_rtcp_socket (SipCall * call)
{
  g_return_val_if_fail (SIP_IS_CALL (call), NULL);
  return call->ports ? call->ports->rtcp : NULL;
}

static GSocketAddress *
remote_address (SipCall * call, guint offset)
{
  GSocketAddress *result = NULL;
  GInetAddress *ip = NULL;

  g_mutex_lock (&call->lock);
  if (call->remote_rtp_address && call->remote_rtp_port)
    ip = g_inet_address_new_from_string (call->remote_rtp_address);
  if (ip)
    result = g_inet_socket_address_new (ip, call->remote_rtp_port + offset);
  g_mutex_unlock (&call->lock);
  g_clear_object (&ip);
  return result;
}

/**
 * sip_call_get_remote_rtp_socket_address:
 * @call: a #SipCall
 *
 * Returns: (transfer full) (nullable): where to send RTP (from SDP)
 */
GSocketAddress *
sip_call_get_remote_rtp_socket_address (SipCall * call)
{
  g_return_val_if_fail (SIP_IS_CALL (call), NULL);
  return remote_address (call, 0);
}

/**
 * sip_call_get_remote_rtcp_socket_address:
 * @call: a #SipCall
 *
 * Returns: (transfer full) (nullable): where to send RTCP: the RTP port + 1
 */
GSocketAddress *
sip_call_get_remote_rtcp_socket_address (SipCall * call)
{
  g_return_val_if_fail (SIP_IS_CALL (call), NULL);
  return remote_address (call, 1);
}

typedef enum
{
  ACTION_RING,
  ACTION_ANSWER,
  ACTION_REJECT,
  ACTION_HANGUP,
  ACTION_ARM_DURATION,
} ActionType;

typedef struct
{
  SipCall *call;
  ActionType type;
  guint code;
} CallAction;

static void
call_action_free (gpointer data)
{
  CallAction *action = data;

  g_object_unref (action->call);
  g_free (action);
}

static gboolean
call_action_dispatch (gpointer data)
{
  CallAction *action = data;
  SipCall *call = action->call;
  SipAgent *agent = g_weak_ref_get (&call->agent);

  if (agent && agent->alive) {
    switch (action->type) {
      case ACTION_RING:
        do_ring (call);
        break;
      case ACTION_ANSWER:
        do_answer (call);
        break;
      case ACTION_REJECT:
        sip_call_do_reject (call, action->code, NULL, "rejected");
        break;
      case ACTION_HANGUP:
        hang_up (call, "local-bye");
        break;
      case ACTION_ARM_DURATION:
        arm_duration_timer (call);
        /* in the agent thread, as every signal of the call */
        g_object_notify_by_pspec (G_OBJECT (call),
            properties[PROP_MAX_DURATION]);
        break;
    }
  }
  g_clear_object (&agent);
  return G_SOURCE_REMOVE;
}

static void
call_invoke (SipCall * call, ActionType type, guint code)
{
  SipAgent *agent = g_weak_ref_get (&call->agent);
  CallAction *action;

  if (agent == NULL)
    return;
  action = g_new0 (CallAction, 1);
  action->call = g_object_ref (call);
  action->type = type;
  action->code = code;
  sip_agent_invoke (agent, call_action_dispatch, action, call_action_free);
  g_object_unref (agent);
}

/**
 * sip_call_ring:
 * @call: a #SipCall
 *
 * Sends 180 Ringing.  Thread-safe; a no-op unless the call is INCOMING.
 */
void
sip_call_ring (SipCall * call)
{
  g_return_if_fail (SIP_IS_CALL (call));
  call_invoke (call, ACTION_RING, 0);
}

/**
 * sip_call_answer:
 * @call: a #SipCall
 *
 * Answers with 200 OK and the SDP answer.  The 200 is retransmitted until
 * the ACK comes (state ACTIVE); without an ACK after 64*T1 the call is
 * hung up with BYE (end-reason "ack-timeout").  Thread-safe; a no-op
 * unless the call is INCOMING or RINGING.
 */
void
sip_call_answer (SipCall * call)
{
  g_return_if_fail (SIP_IS_CALL (call));
  call_invoke (call, ACTION_ANSWER, 0);
}

/**
 * sip_call_reject:
 * @call: a #SipCall
 * @status_code: a final status code, 300..699 (e.g. 486 Busy Here, 603
 *   Decline); other values become 480
 *
 * Rejects a call not answered yet.  Thread-safe; a no-op once answered.
 */
void
sip_call_reject (SipCall * call, guint status_code)
{
  g_return_if_fail (SIP_IS_CALL (call));
  if (status_code < 300 || status_code > 699) {
    g_warning ("sip_call_reject: %u is not a final error status, using 480",
        status_code);
    status_code = 480;
  }
  call_invoke (call, ACTION_REJECT, status_code);
}

/**
 * sip_call_hangup:
 * @call: a #SipCall
 *
 * Ends the call: BYE once answered (after the ACK), 480 Temporarily
 * Unavailable before.  Thread-safe; a no-op on an ENDED call.
 */
void
sip_call_hangup (SipCall * call)
{
  g_return_if_fail (SIP_IS_CALL (call));
  call_invoke (call, ACTION_HANGUP, 0);
}

/**
 * sip_call_get_max_duration:
 * @call: a #SipCall
 *
 * Returns: #SipCall:max-duration, seconds (0: no limit)
 */
guint
sip_call_get_max_duration (SipCall * call)
{
  guint seconds;

  g_return_val_if_fail (SIP_IS_CALL (call), 0);
  g_mutex_lock (&call->lock);
  seconds = call->max_duration;
  g_mutex_unlock (&call->lock);
  return seconds;
}

/**
 * sip_call_set_max_duration:
 * @call: a #SipCall
 * @seconds: the longest the call may last after its 200 OK; 0: no limit
 *
 * Sets #SipCall:max-duration.  Thread-safe; notify::max-duration is
 * emitted in the agent's thread.
 */
void
sip_call_set_max_duration (SipCall * call, guint seconds)
{
  gboolean changed;

  g_return_if_fail (SIP_IS_CALL (call));
  seconds = MIN (seconds, G_MAXUINT / 1000);
  g_mutex_lock (&call->lock);
  changed = call->max_duration != seconds;
  call->max_duration = seconds;
  g_mutex_unlock (&call->lock);
  if (changed)
    call_invoke (call, ACTION_ARM_DURATION, 0);
}
