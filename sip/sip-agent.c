/* gst-sip: SIP user-agent server
 * Copyright (C) 2026 The gst-sip authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:sip-agent
 * @title: SipAgent
 * @short_description: a SIP user-agent server answering calls over UDP
 *
 * A #SipAgent listens on one UDP port (RFC 3261 over UDP), answers
 * OPTIONS, and turns each acceptable INVITE into a #SipCall, announced by
 * the #SipAgent::incoming-call signal.  It runs its own #GMainContext in
 * its own thread ("sip-agent"): all protocol state lives there, and all
 * signals of the agent and its calls are emitted there.
 *
 * Policy is applied before any media resource is taken: requests from
 * outside #SipAgent:allowed-sources get 403 Forbidden, an INVITE over
 * #SipAgent:max-calls gets 486 Busy Here, an offer without PCMU gets 488.
 * New INVITEs from one source address beyond #SipAgent:invite-rate-limit
 * per second get 503 Service Unavailable with Retry-After, or are dropped
 * silently when the source keeps flooding (see the property).
 *
 * Responses go back to the address and port the request came from
 * (symmetric response routing, as RFC 3581 asks when rport is present and
 * as most SBCs do by default): the peer may be behind a NAT.  The Via gets
 * received= and rport= filled in per RFC 3261 18.2.1 and RFC 3581.
 *
 * Every datagram received and every message sent is logged with g_debug()
 * in the log domain "sip" (G_MESSAGES_DEBUG=sip shows them).
 *
 * Timers: T1, T2 and T4 are 500 ms, 4 s and 5 s (RFC 3261 Table 4); the
 * environment variables SIP_TIMER_T1_MS, SIP_TIMER_T2_MS and
 * SIP_TIMER_T4_MS, read by sip_agent_start(), override them (for tests).
 *
 * At most 16384 transactions live at once (each for up to 64*T1 = 32 s
 * after its final response; SIP_MAX_TRANSACTIONS overrides it); new
 * requests beyond that are dropped.  Requests refused by policy (403 for
 * allowed-sources, 503 for invite-rate-limit) are answered statelessly,
 * keeping no state at all.
 */

#include "sip-private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

enum
{
  PROP_0,
  PROP_HOST,
  PROP_PORT,
  PROP_BOUND_PORT,
  PROP_RTP_PORT_RANGE,
  PROP_PUBLIC_ADDRESS,
  PROP_MAX_CALLS,
  PROP_ALLOWED_SOURCES,
  PROP_USER_AGENT,
  PROP_ACTIVE_CALLS,
  PROP_INVITE_RATE_LIMIT,
  PROP_DRAINING,
  PROP_SOCKET_FD,
  PROP_RELAY_FD,
  PROP_MAX_CALL_DURATION,
  N_PROPS
};

enum
{
  SIGNAL_INCOMING_CALL,
  N_SIGNALS
};

#define DEFAULT_HOST "0.0.0.0"
#define DEFAULT_USER_AGENT "gst-sip/0.1"
#define DEFAULT_INVITE_RATE_LIMIT 10
/* Retry-After (s) of a 503 for a rate-limited INVITE */
#define RATE_LIMIT_RETRY_AFTER "5"
/* Retry-After (s) of a 503 while draining: time for another instance */
#define DRAINING_RETRY_AFTER "30"

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_QUARK (sip-agent-error-quark, sip_agent_error);

G_DEFINE_ENUM_TYPE (SipAgentError, sip_agent_error,
    G_DEFINE_ENUM_VALUE (SIP_AGENT_ERROR_BIND, "bind"),
    G_DEFINE_ENUM_VALUE (SIP_AGENT_ERROR_CONFIG, "config"),
    G_DEFINE_ENUM_VALUE (SIP_AGENT_ERROR_STATE, "state"));

G_DEFINE_FINAL_TYPE (SipAgent, sip_agent, G_TYPE_OBJECT);

/* one datagram at a time, agent thread only */
#define RECEIVE_BUFFER_SIZE (SIP_MAX_DATAGRAM_SIZE + 1)

static void
sip_agent_init (SipAgent * agent)
{
  g_mutex_init (&agent->lock);
  agent->host = g_strdup (DEFAULT_HOST);
  agent->port = SIP_AGENT_DEFAULT_PORT;
  agent->rtp_port_range = g_strdup (SIP_AGENT_DEFAULT_RTP_PORT_RANGE);
  agent->user_agent = g_strdup (DEFAULT_USER_AGENT);
  agent->invite_rate_limit = DEFAULT_INVITE_RATE_LIMIT;
  agent->socket_fd = -1;
  agent->relay_fd = -1;
  sip_timers_init (&agent->timers);
}

static void
sip_agent_finalize (GObject * object)
{
  SipAgent *agent = SIP_AGENT (object);

  sip_agent_stop (agent);
  g_free (agent->host);
  g_free (agent->rtp_port_range);
  g_free (agent->public_address);
  g_free (agent->allowed_sources);
  g_free (agent->user_agent);
  g_mutex_clear (&agent->lock);

  G_OBJECT_CLASS (sip_agent_parent_class)->finalize (object);
}

static void
set_string (SipAgent * agent, gchar ** field, const GValue * value)
{
  g_mutex_lock (&agent->lock);
  g_free (*field);
  *field = g_value_dup_string (value);
  g_mutex_unlock (&agent->lock);
}

static void
sip_agent_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  SipAgent *agent = SIP_AGENT (object);

  switch (prop_id) {
    case PROP_HOST:
      set_string (agent, &agent->host, value);
      if (agent->host == NULL)
        agent->host = g_strdup (DEFAULT_HOST);
      break;
    case PROP_PORT:
      g_mutex_lock (&agent->lock);
      agent->port = g_value_get_uint (value);
      g_mutex_unlock (&agent->lock);
      break;
    case PROP_RTP_PORT_RANGE:
      set_string (agent, &agent->rtp_port_range, value);
      break;
    case PROP_PUBLIC_ADDRESS:
      set_string (agent, &agent->public_address, value);
      break;
    case PROP_MAX_CALLS:
      g_mutex_lock (&agent->lock);
      agent->max_calls = g_value_get_uint (value);
      g_mutex_unlock (&agent->lock);
      break;
    case PROP_ALLOWED_SOURCES:
      set_string (agent, &agent->allowed_sources, value);
      break;
    case PROP_INVITE_RATE_LIMIT:
      g_mutex_lock (&agent->lock);
      agent->invite_rate_limit = g_value_get_uint (value);
      g_mutex_unlock (&agent->lock);
      break;
    case PROP_MAX_CALL_DURATION:
      g_mutex_lock (&agent->lock);
      agent->max_call_duration = g_value_get_uint (value);
      g_mutex_unlock (&agent->lock);
      break;
    case PROP_DRAINING:{
      gboolean draining = g_value_get_boolean (value), changed;
      g_mutex_lock (&agent->lock);
      changed = draining != agent->draining;
      agent->draining = draining;
      g_mutex_unlock (&agent->lock);
      if (changed && draining)
        g_message ("SIP agent draining: new INVITEs get 503, %u call(s) "
            "go on", g_atomic_int_get (&agent->active_calls));
      if (changed)
        g_object_notify_by_pspec (object, pspec);
      break;
    }
    case PROP_USER_AGENT:
      set_string (agent, &agent->user_agent, value);
      break;
    case PROP_SOCKET_FD:
      g_mutex_lock (&agent->lock);
      agent->socket_fd = g_value_get_int (value);
      g_mutex_unlock (&agent->lock);
      break;
    case PROP_RELAY_FD:
      g_mutex_lock (&agent->lock);
      agent->relay_fd = g_value_get_int (value);
      g_mutex_unlock (&agent->lock);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
sip_agent_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  SipAgent *agent = SIP_AGENT (object);

  g_mutex_lock (&agent->lock);
  switch (prop_id) {
    case PROP_HOST:
      g_value_set_string (value, agent->host);
      break;
    case PROP_PORT:
      g_value_set_uint (value, agent->port);
      break;
    case PROP_BOUND_PORT:
      g_value_set_uint (value, g_atomic_int_get (&agent->bound_port));
      break;
    case PROP_RTP_PORT_RANGE:
      g_value_set_string (value, agent->rtp_port_range);
      break;
    case PROP_PUBLIC_ADDRESS:
      g_value_set_string (value, agent->public_address);
      break;
    case PROP_MAX_CALLS:
      g_value_set_uint (value, agent->max_calls);
      break;
    case PROP_ALLOWED_SOURCES:
      g_value_set_string (value, agent->allowed_sources);
      break;
    case PROP_USER_AGENT:
      g_value_set_string (value, agent->user_agent);
      break;
    case PROP_INVITE_RATE_LIMIT:
      g_value_set_uint (value, agent->invite_rate_limit);
      break;
    case PROP_MAX_CALL_DURATION:
      g_value_set_uint (value, agent->max_call_duration);
      break;
    case PROP_DRAINING:
      g_value_set_boolean (value, agent->draining);
      break;
    case PROP_ACTIVE_CALLS:
      g_value_set_uint (value, g_atomic_int_get (&agent->active_calls));
      break;
    case PROP_SOCKET_FD:
      g_value_set_int (value, agent->socket_fd);
      break;
    case PROP_RELAY_FD:
      g_value_set_int (value, agent->relay_fd);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  g_mutex_unlock (&agent->lock);
}

static void
sip_agent_class_init (SipAgentClass * klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->finalize = sip_agent_finalize;
  object_class->set_property = sip_agent_set_property;
  object_class->get_property = sip_agent_get_property;

  /**
   * SipAgent:host:
   *
   * The IP address to listen on, for SIP and RTP: "0.0.0.0" for all IPv4
   * addresses, "::" for all addresses (dual stack).  Takes effect at
   * sip_agent_start().  Default: "0.0.0.0".
   */
  properties[PROP_HOST] = g_param_spec_string ("host", "Host",
      "IP address to listen on for SIP and RTP (\"::\" for dual stack)",
      DEFAULT_HOST, rw);
  /**
   * SipAgent:port:
   *
   * The UDP port for SIP; 0 picks a free one (see #SipAgent:bound-port).
   * Takes effect at sip_agent_start().  Default: 6060.
   */
  properties[PROP_PORT] = g_param_spec_uint ("port", "Port",
      "UDP port for SIP (0 = any free port)", 0, 65535,
      SIP_AGENT_DEFAULT_PORT, rw);
  /**
   * SipAgent:bound-port:
   *
   * The UDP port actually bound by sip_agent_start(); 0 when stopped.
   */
  properties[PROP_BOUND_PORT] = g_param_spec_uint ("bound-port",
      "Bound port", "The UDP port actually bound (0 when stopped)", 0, 65535,
      0, ro);
  /**
   * SipAgent:rtp-port-range:
   *
   * "LOW-HIGH": each call takes an even RTP port and the next one for RTCP
   * from this range; ports in use by others are skipped.  Takes effect at
   * sip_agent_start().  Default: "10000-15000".
   */
  properties[PROP_RTP_PORT_RANGE] = g_param_spec_string ("rtp-port-range",
      "RTP port range", "LOW-HIGH range of RTP/RTCP ports",
      SIP_AGENT_DEFAULT_RTP_PORT_RANGE, rw);
  /**
   * SipAgent:public-address:
   *
   * The address put into Contact, Via and the SDP (o=, c=), for a host
   * behind NAT or in a cloud.  %NULL: the local address that routes to the
   * caller (or #SipAgent:host when it is not a wildcard).  Default: %NULL.
   */
  properties[PROP_PUBLIC_ADDRESS] = g_param_spec_string ("public-address",
      "Public address",
      "Address advertised in Contact and SDP (NULL: the local address "
      "routing to the caller)", NULL, rw);
  /**
   * SipAgent:max-calls:
   *
   * Most calls at once; an INVITE over the limit gets 486 Busy Here before
   * any media is allocated.  0 means no limit.  Default: 0.
   */
  properties[PROP_MAX_CALLS] = g_param_spec_uint ("max-calls", "Max calls",
      "Most concurrent calls, more get 486 Busy Here (0 = unlimited)", 0,
      G_MAXUINT, 0, rw);
  /**
   * SipAgent:allowed-sources:
   *
   * Comma-separated CIDR networks (IPv4 or IPv6) requests are accepted
   * from, e.g. "10.0.0.0/8, 192.0.2.10, 2001:db8::/32"; others get 403
   * Forbidden.  %NULL or "" lets everyone in.  Checked at
   * sip_agent_start() (a bad entry fails it) and applied at once when
   * changed later.  Default: %NULL.
   */
  properties[PROP_ALLOWED_SOURCES] = g_param_spec_string ("allowed-sources",
      "Allowed sources",
      "Comma-separated CIDR networks allowed to call (empty = everyone)",
      NULL, rw);
  /**
   * SipAgent:user-agent:
   *
   * The value of the Server header field of our responses and of the
   * User-Agent header field of our requests.  Default: "gst-sip/0.1".
   */
  properties[PROP_USER_AGENT] = g_param_spec_string ("user-agent",
      "User agent", "Server / User-Agent header field value",
      DEFAULT_USER_AGENT, rw);
  /**
   * SipAgent:active-calls:
   *
   * The number of calls not ENDED yet.
   */
  properties[PROP_ACTIVE_CALLS] = g_param_spec_uint ("active-calls",
      "Active calls", "Number of calls not ended yet", 0, G_MAXUINT, 0, ro);

  /**
   * SipAgent:invite-rate-limit:
   *
   * New INVITEs (not re-INVITEs, not retransmissions) accepted per second
   * from one source address, checked before anything else is done with
   * them (before allowed-sources, max-calls or any media allocation).  A
   * token bucket per source holds a burst of one second's worth.  Past
   * the limit an INVITE gets 503 Service Unavailable with Retry-After: 5;
   * a source that keeps sending at twice the limit or more is dropped
   * silently (as Kamailio's pike module does) until it slows down.  At
   * most 4096 sources are tracked; beyond that new sources share one
   * bucket, so spoofed sources cannot grow memory.  0 means no limit.
   * Applied at once when changed.  Default: 10.
   */
  properties[PROP_INVITE_RATE_LIMIT] = g_param_spec_uint ("invite-rate-limit",
      "INVITE rate limit",
      "New INVITEs per second per source address, more get 503 or are "
      "dropped (0 = no limit)", 0, G_MAXUINT, DEFAULT_INVITE_RATE_LIMIT, rw);

  /**
   * SipAgent:max-call-duration:
   *
   * The #SipCall:max-duration each new call starts with: the agent hangs
   * an answered call up (BYE, end-reason "max-duration") this many
   * seconds after its 200 OK.  A change applies to the calls that come in
   * after it; each call's own property changes one call.  0 means no
   * limit.  Default: 0.
   */
  properties[PROP_MAX_CALL_DURATION] = g_param_spec_uint ("max-call-duration",
      "Maximum call duration", "Seconds after the answer at which a new "
      "call is hung up (0 = no limit)", 0, G_MAXUINT / 1000, 0, rw);

  /**
   * SipAgent:draining:
   *
   * Graceful shutdown: while %TRUE new INVITEs get 503 Service Unavailable
   * with Retry-After: 30 (before any media is allocated) and the calls
   * already there go on; wait for #SipAgent:active-calls to reach 0 (or a
   * deadline), then sip_agent_stop() sends BYE to what is left.
   * sip_agent_drain() sets it; sip_agent_stop() clears it.  Default:
   * %FALSE.
   */
  properties[PROP_DRAINING] = g_param_spec_boolean ("draining", "Draining",
      "Refuse new calls with 503 while the current ones finish", FALSE,
      rw | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * SipAgent:socket-fd:
   *
   * A UDP socket (IPv4 or IPv6), already bound, to use as the SIP socket
   * instead of binding #SipAgent:host and #SipAgent:port: several agents
   * (worker processes) can then answer on one public port, each reading
   * what a dispatcher relays to it on #SipAgent:relay-fd.  Responses and
   * requests are sent from it, and #SipAgent:bound-port is its port.  The
   * agent takes the descriptor over (setting close-on-exec) and closes it
   * at sip_agent_stop(); another kind of socket fails sip_agent_start().
   * #SipAgent:host still says where RTP ports are bound.  Takes effect at
   * sip_agent_start().  Default: -1 (bind host:port).
   */
  properties[PROP_SOCKET_FD] = g_param_spec_int ("socket-fd", "Socket fd",
      "Bound UDP socket to use as the SIP socket (-1: bind host:port)",
      -1, G_MAXINT, -1, rw);
  /**
   * SipAgent:relay-fd:
   *
   * A datagram socket (e.g. one end of an AF_UNIX socketpair) the agent
   * reads SIP datagrams from instead of reading its SIP socket: each is
   * the datagram a dispatcher received on the shared SIP socket, prefixed
   * by where it came from: one byte 4 or 6 (IPv4, IPv6), the source port
   * (2 bytes, network order), the address (4 or 16 bytes), for IPv6 its
   * scope id (4 bytes, network order; 0 but for link-local addresses), then
   * the SIP message.  Policy, rport and responses use that source address.
   * Relayed datagrams that are too short are dropped.  The agent takes the
   * descriptor over (setting close-on-exec) and closes it at
   * sip_agent_stop().  Takes effect at sip_agent_start().  Default: -1
   * (read the SIP socket).
   */
  properties[PROP_RELAY_FD] = g_param_spec_int ("relay-fd", "Relay fd",
      "Datagram socket to read relayed SIP datagrams from (-1: read the SIP "
      "socket)", -1, G_MAXINT, -1, rw);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * SipAgent::incoming-call:
   * @agent: the agent
   * @call: the new call
   *
   * Emitted in the agent's thread for an INVITE that was accepted: policy
   * passed, the SDP offer has PCMU, RTP ports are allocated and 100 Trying
   * was sent.  A handler that takes the call keeps a reference, returns
   * %TRUE and later calls sip_call_answer() (or sip_call_ring(),
   * sip_call_reject()) from any thread.  If no handler returns %TRUE the
   * call is rejected with 480 Temporarily Unavailable.
   *
   * For an INVITE without SDP (delayed offer) our offer goes into the 200
   * OK and the remote media address is known only when the ACK brings the
   * answer: #SipCall::media-changed tells.
   *
   * Returns: %TRUE if the call was taken
   */
  signals[SIGNAL_INCOMING_CALL] = g_signal_new ("incoming-call",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
      g_signal_accumulator_true_handled, NULL, NULL, G_TYPE_BOOLEAN, 1,
      SIP_TYPE_CALL);
}

/**
 * sip_agent_new:
 *
 * Returns: (transfer full): a new agent with default settings
 */
SipAgent *
sip_agent_new (void)
{
  return g_object_new (SIP_TYPE_AGENT, NULL);
}

/**
 * sip_agent_get_bound_port:
 * @agent: a #SipAgent
 *
 * Returns: the UDP port bound for SIP, 0 when not started
 */
guint
sip_agent_get_bound_port (SipAgent * agent)
{
  g_return_val_if_fail (SIP_IS_AGENT (agent), 0);
  return g_atomic_int_get (&agent->bound_port);
}

/**
 * sip_agent_get_active_calls:
 * @agent: a #SipAgent
 *
 * Returns: the number of calls not ENDED yet
 */
guint
sip_agent_get_active_calls (SipAgent * agent)
{
  g_return_val_if_fail (SIP_IS_AGENT (agent), 0);
  return g_atomic_int_get (&agent->active_calls);
}

/* ---- Helpers for SipCall ------------------------------------------------ */

/**
 * sip_agent_invoke: (skip)
 *
 * Runs @func in the agent's thread, later (never synchronously, not even
 * from the agent's thread).  Returns %FALSE (and frees @data) when the
 * agent is not running.
 */
gboolean
sip_agent_invoke (SipAgent * agent, GSourceFunc func, gpointer data,
    GDestroyNotify notify)
{
  GSource *source;

  g_mutex_lock (&agent->lock);
  if (!agent->running || agent->context == NULL) {
    g_mutex_unlock (&agent->lock);
    if (notify)
      notify (data);
    return FALSE;
  }
  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, func, data, notify);
  g_source_attach (source, agent->context);
  g_source_unref (source);
  g_mutex_unlock (&agent->lock);
  return TRUE;
}

void
sip_agent_add_user_agent (SipAgent * agent, osip_message_t * msg,
    const gchar * header)
{
  g_mutex_lock (&agent->lock);
  if (agent->user_agent && *agent->user_agent)
    osip_message_set_header (msg, header, agent->user_agent);
  g_mutex_unlock (&agent->lock);
}

/**
 * sip_agent_new_response: (skip)
 *
 * A response to @request (sip_message_new_response()) with our Server
 * header; a random To tag unless @to_tag is given.
 */
osip_message_t *
sip_agent_new_response (SipAgent * agent, const osip_message_t * request,
    guint status_code, const gchar * reason, const gchar * to_tag)
{
  gchar *tag = to_tag ? NULL : sip_message_new_tag ();
  osip_message_t *response = sip_message_new_response (request, status_code,
      reason, to_tag ? to_tag : tag, NULL);

  sip_agent_add_user_agent (agent, response, "Server");
  g_free (tag);
  return response;
}

/* RFC 3261 8.2.7 without a transaction (like Kamailio's sl_send_reply):
 * for requests refused before any state is kept, so that a flood of them
 * costs no memory; a retransmission gets the same answer again */
static void
respond_stateless (SipAgent * agent, const osip_message_t * request,
    GSocketAddress * dest, guint status_code, const gchar * reason,
    const gchar * retry_after)
{
  osip_message_t *response = sip_agent_new_response (agent, request,
      status_code, reason, NULL);
  gsize len = 0;
  gchar *text;

  if (retry_after)
    osip_message_set_header (response, "Retry-After", retry_after);
  text = sip_message_to_string (response, &len);
  if (text)
    sip_transport_send (agent->transport, dest, text, len);
  g_free (text);
  osip_message_free (response);
}

/* logs "what happened @count times" at most every 10 s, so that a flood
 * does not flood the log; TRUE when it logged and the count restarts */
static gboolean
log_summary_due (gint64 * logged, gint64 now)
{
  if (*logged != 0 && now - *logged < 10 * G_USEC_PER_SEC)
    return FALSE;
  *logged = now;
  return TRUE;
}

/**
 * sip_agent_respond: (skip)
 *
 * Answers @transaction's request with @status_code, adding what that
 * status code asks for (Allow for 405, Accept for 415, ...).
 */
void
sip_agent_respond (SipAgent * agent, SipTransaction * transaction,
    guint status_code, const gchar * reason, const gchar * to_tag)
{
  const osip_message_t *request = sip_transaction_get_request (transaction);
  osip_message_t *response = sip_agent_new_response (agent, request,
      status_code, reason, to_tag);

  switch (status_code) {
    case 405:
    case 501:
      /* RFC 3261 21.4.6: 405 MUST carry Allow */
      osip_message_set_header (response, "Allow", SIP_ALLOWED_METHODS);
      break;
    case 415:
    case 406:
      /* 21.4.13 */
      osip_message_set_header (response, "Accept", "application/sdp");
      osip_message_set_header (response, "Accept-Encoding", "identity");
      break;
    default:
      break;
  }
  sip_transaction_respond (transaction, response);
}

/**
 * sip_agent_respond_options: (skip)
 *
 * RFC 3261 11.2: 200 OK to OPTIONS, with what we support.
 */
void
sip_agent_respond_options (SipAgent * agent, SipTransaction * transaction,
    const gchar * to_tag)
{
  const osip_message_t *request = sip_transaction_get_request (transaction);
  osip_message_t *response = sip_agent_new_response (agent, request, 200,
      NULL, to_tag);

  osip_message_set_header (response, "Allow", SIP_ALLOWED_METHODS);
  osip_message_set_header (response, "Accept", "application/sdp");
  osip_message_set_header (response, "Accept-Encoding", "identity");
  osip_message_set_header (response, "Accept-Language", "en");
  sip_transaction_respond (transaction, response);
}

/**
 * sip_agent_call_ended: (skip)
 *
 * @call reached ENDED: it no longer counts against max-calls.
 */
void
sip_agent_call_ended (SipAgent * agent, SipCall * call)
{
  if (!call->counted)
    return;
  call->counted = FALSE;
  g_atomic_int_add (&agent->active_calls, -1);
  g_object_notify_by_pspec (G_OBJECT (agent), properties[PROP_ACTIVE_CALLS]);
}

/**
 * sip_agent_forget_call: (skip)
 *
 * The dialog of @call is over: requests for it now get 481.
 */
void
sip_agent_forget_call (SipAgent * agent, SipCall * call)
{
  if (!call->in_table || agent->calls == NULL)
    return;
  call->in_table = FALSE;
  /* drops the agent's reference */
  g_hash_table_remove (agent->calls, call->dialog_id);
}

/* ---- Receiving ---------------------------------------------------------- */

/* The address a peer sees us at: public-address, else host when it is not
 * a wildcard, else the local address the kernel would use to reach it */
static gchar *
local_address_for (SipAgent * agent, GSocketAddress * peer)
{
  gchar *address = NULL;
  GInetAddress *peer_ip;
  GSocket *probe;
  GSocketAddress *peer_address, *local;

  g_mutex_lock (&agent->lock);
  if (agent->public_address && *agent->public_address)
    address = g_strdup (agent->public_address);
  g_mutex_unlock (&agent->lock);
  if (address)
    return address;
  if (!g_inet_address_get_is_any (agent->host_address))
    return g_inet_address_to_string (agent->host_address);

  peer_ip = sip_inet_address_unmap (g_inet_socket_address_get_address
      (G_INET_SOCKET_ADDRESS (peer)));
  probe = g_socket_new (g_inet_address_get_family (peer_ip),
      G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, NULL);
  /* a link-local peer is reached through its interface: keep its scope id
   * (always 0 for IPv4, where it is not used) */
  peer_address = g_object_new (G_TYPE_INET_SOCKET_ADDRESS, "address", peer_ip,
      "port", sip_socket_address_get_port (peer), "scope-id",
      g_inet_socket_address_get_scope_id (G_INET_SOCKET_ADDRESS (peer)), NULL);
  if (probe && g_socket_connect (probe, peer_address, NULL, NULL)
      && (local = g_socket_get_local_address (probe, NULL)) != NULL) {
    address = sip_socket_address_get_ip (local);
    g_object_unref (local);
  }
  g_object_unref (peer_address);
  g_clear_object (&probe);
  if (address == NULL)
    address = g_strdup (g_inet_address_get_family (peer_ip) ==
        G_SOCKET_FAMILY_IPV6 ? "::1" : "127.0.0.1");
  g_object_unref (peer_ip);
  return address;
}

static void
send_raw (SipAgent * agent, GSocketAddress * dest, const gchar * data,
    gsize len)
{
  if (agent->transport)
    sip_transport_send (agent->transport, dest, data, len);
}

typedef struct
{
  const gchar *data;            /* the datagram */
  gsize len;
  GSocketAddress *source;
  GInetAddress *source_ip;      /* unmapped */
} Datagram;

static gboolean
accepts_sdp (const osip_message_t * request)
{
  gchar *accept = sip_message_get_header_value (request, "accept");
  gboolean ok = TRUE;

  /* RFC 3261 21.4.7: an INVITE whose Accept excludes application/sdp
   * cannot take our answer */
  if (accept != NULL) {
    gchar **types = g_strsplit (accept, ",", -1);
    ok = FALSE;
    for (gchar ** t = types; *t && !ok; t++) {
      gchar *type = g_strstrip (*t);
      gchar *semicolon = strchr (type, ';');
      if (semicolon)
        *semicolon = '\0';
      g_strstrip (type);
      ok = g_ascii_strcasecmp (type, "application/sdp") == 0
          || g_ascii_strcasecmp (type, "application/*") == 0
          || g_ascii_strcasecmp (type, "*/*") == 0 || *type == '\0';
    }
    g_strfreev (types);
  }
  g_free (accept);
  return ok;
}

/* RFC 3261 8.2.2.2: same From tag, Call-ID and CSeq as a call we have,
 * but not a retransmission: the request reached us twice via forking */
static gboolean
is_merged_request (SipAgent * agent, const osip_message_t * request)
{
  GHashTableIter iter;
  gpointer value;
  gchar *call_id_free;
  const gchar *call_id = sip_message_get_call_id_string (request,
      &call_id_free);
  const gchar *from_tag = sip_message_get_from_tag (request);
  guint32 cseq = 0;
  gboolean merged = FALSE;

  sip_message_get_cseq_number (request, &cseq);
  g_hash_table_iter_init (&iter, agent->calls);
  while (!merged && g_hash_table_iter_next (&iter, NULL, &value)) {
    SipCall *call = value;
    merged = from_tag != NULL && g_strcmp0 (call->call_id, call_id) == 0
        && g_strcmp0 (call->remote_tag, from_tag) == 0
        && call->invite_cseq == cseq;
  }
  g_free (call_id_free);
  return merged;
}

static void
handle_new_invite (SipAgent * agent, SipTransaction * tr, Datagram * dgram)
{
  const osip_message_t *req = sip_transaction_get_request (tr);
  const osip_body_t *body;
  SipSdpRemote *offer = NULL;
  SipPortPair *ports;
  SipCall *call;
  GError *error = NULL;
  gchar *local_address, *from = sip_message_from_to_string (req->from);
  gboolean handled = FALSE, draining;
  guint max_calls;

  if (is_merged_request (agent, req)) {
    sip_agent_respond (agent, tr, 482, NULL, NULL);
    goto out;
  }

  /* Policy, before any media is taken */
  g_mutex_lock (&agent->lock);
  max_calls = agent->max_calls;
  draining = agent->draining;
  g_mutex_unlock (&agent->lock);
  if (draining) {
    osip_message_t *resp = sip_agent_new_response (agent, req, 503,
        "Service Unavailable - shutting down", NULL);
    g_message ("INVITE from %s refused with 503: draining", from);
    osip_message_set_header (resp, "Retry-After", DRAINING_RETRY_AFTER);
    sip_transaction_respond (tr, resp);
    goto out;
  }
  if (max_calls > 0
      && (guint) g_atomic_int_get (&agent->active_calls) >= max_calls) {
    g_message ("INVITE from %s refused with 486 Busy Here: %u call(s), "
        "max-calls is %u", from, g_atomic_int_get (&agent->active_calls),
        max_calls);
    sip_agent_respond (agent, tr, 486, NULL, NULL);
    goto out;
  }

  if (!accepts_sdp (req)) {
    sip_agent_respond (agent, tr, 406, NULL, NULL);
    goto out;
  }

  /* RFC 3264: the offer */
  body = sip_message_get_sdp_body (req);
  if (body) {
    offer = sip_sdp_remote_parse (body->body, body->length, &error);
    if (offer == NULL) {
      g_debug ("INVITE from %s refused: %s", from, error->message);
      if (g_error_matches (error, SIP_SDP_ERROR, SIP_SDP_ERROR_MALFORMED)) {
        sip_agent_respond (agent, tr, 400, "Bad Request - malformed SDP", NULL);
      } else {
        osip_message_t *resp = sip_agent_new_response (agent, req, 488, NULL,
            NULL);
        /* RFC 3261 20.43: 305 Incompatible media format */
        osip_message_set_header (resp, "Warning",
            "305 gst-sip \"Incompatible media format: PCMU/8000 required\"");
        sip_transaction_respond (tr, resp);
      }
      g_clear_error (&error);
      goto out;
    }
  }

  ports = sip_port_pool_allocate (agent->pool, &error);
  if (ports == NULL) {
    osip_message_t *resp = sip_agent_new_response (agent, req, 503,
        "Service Unavailable - no RTP ports", NULL);
    g_warning ("INVITE from %s refused with 503: %s", from, error->message);
    osip_message_set_header (resp, "Retry-After", "5");
    sip_transaction_respond (tr, resp);
    g_clear_error (&error);
    sip_sdp_remote_free (offer);
    goto out;
  }

  local_address = local_address_for (agent, dgram->source);
  call = sip_call_new_incoming (agent, tr, offer, ports,
      sip_message_parse_headers (dgram->data, dgram->len), local_address);
  g_free (local_address);
  call->counted = TRUE;
  g_atomic_int_inc (&agent->active_calls);
  call->in_table = TRUE;
  g_hash_table_insert (agent->calls, call->dialog_id, g_object_ref (call));
  g_object_notify_by_pspec (G_OBJECT (agent), properties[PROP_ACTIVE_CALLS]);

  sip_call_send_trying (call);
  g_debug ("incoming call %s from %s", call->call_id, call->from);
  g_signal_emit (agent, signals[SIGNAL_INCOMING_CALL], 0, call, &handled);
  if (!handled && agent->alive) {
    g_debug ("call %s: no incoming-call handler took it, 480", call->call_id);
    sip_call_do_reject (call, 480, NULL, "rejected");
  }
  g_object_unref (call);

out:
  g_free (from);
}

static void
handle_cancel (SipAgent * agent, SipTransaction * tr)
{
  const osip_message_t *cancel = sip_transaction_get_request (tr);
  SipTransaction *invite = sip_transaction_layer_find_invite (agent->layer,
      cancel);
  SipCall *call;

  if (invite == NULL) {
    sip_agent_respond (agent, tr, 481, NULL, NULL);
    return;
  }
  /* RFC 3261 9.2: 200 for the CANCEL (with the INVITE's To tag), then 487
   * for the INVITE if it had no final response yet */
  sip_transaction_ref (invite);
  call = sip_transaction_get_owner (invite);
  if (call) {
    g_object_ref (call);
    sip_agent_respond (agent, tr, 200, NULL, call->local_tag);
    sip_call_handle_cancel (call, invite);
    g_object_unref (call);
  } else {
    sip_agent_respond (agent, tr, 200, NULL, NULL);
  }
  sip_transaction_unref (invite);
}

static void
handle_ack (SipAgent * agent, const osip_message_t * ack)
{
  gchar *call_id_free, *dialog_id;
  const gchar *call_id = sip_message_get_call_id_string (ack, &call_id_free);
  SipCall *call;

  /* an ACK for a 2xx: part of the dialog, not of a transaction */
  dialog_id = sip_call_make_dialog_id (call_id,
      sip_message_get_to_tag (ack), sip_message_get_from_tag (ack));
  call = g_hash_table_lookup (agent->calls, dialog_id);
  if (call)
    sip_call_handle_ack (call, ack);
  else
    g_debug ("ACK outside any dialog dropped");
  g_free (dialog_id);
  g_free (call_id_free);
}

static gboolean
unsupported_extensions (const osip_message_t * request, gchar ** unsupported)
{
  gchar *require = sip_message_get_header_value (request, "require");
  GString *list;
  gchar **options;

  *unsupported = NULL;
  if (require == NULL)
    return FALSE;
  /* we support no extension (RFC 3261 8.2.2.3) */
  list = g_string_new (NULL);
  options = g_strsplit (require, ",", -1);
  for (gchar ** o = options; *o; o++) {
    gchar *option = g_strstrip (*o);
    if (*option == '\0')
      continue;
    if (list->len)
      g_string_append (list, ", ");
    g_string_append (list, option);
  }
  g_strfreev (options);
  g_free (require);
  if (list->len == 0) {
    g_string_free (list, TRUE);
    return FALSE;
  }
  *unsupported = g_string_free (list, FALSE);
  return TRUE;
}

/* RFC 3261 8.2: the UAS core, for a request with its server transaction */
static void
handle_request (SipAgent * agent, SipTransaction * tr, Datagram * dgram)
{
  const osip_message_t *req = sip_transaction_get_request (tr);
  const gchar *method = req->sip_method;
  const gchar *to_tag = sip_message_get_to_tag (req);
  gchar *unsupported = NULL;

  /* 8.2.1 Method Inspection */
  if (!sip_message_method_is_allowed (method)) {
    sip_agent_respond (agent, tr, sip_message_method_is_known (method) ? 405 :
        501, NULL, NULL);
    return;
  }

  /* 8.2.2.1 To and Request-URI */
  if (req->req_uri->scheme == NULL
      || (g_ascii_strcasecmp (req->req_uri->scheme, "sip") != 0
          && g_ascii_strcasecmp (req->req_uri->scheme, "sips") != 0)) {
    sip_agent_respond (agent, tr, 416, NULL, NULL);
    return;
  }

  /* 8.2.2.3 Require (never for CANCEL; ACK does not come here) */
  if (strcmp (method, "CANCEL") != 0
      && unsupported_extensions (req, &unsupported)) {
    osip_message_t *resp = sip_agent_new_response (agent, req, 420, NULL,
        NULL);
    osip_message_set_header (resp, "Unsupported", unsupported);
    sip_transaction_respond (tr, resp);
    g_free (unsupported);
    return;
  }

  /* 8.2.3 Content Processing: we understand application/sdp only */
  if (sip_message_has_body (req) && strcmp (method, "INVITE") == 0) {
    gchar *encoding = sip_message_get_header_value (req, "content-encoding");
    gboolean bad_encoding = encoding != NULL
        && g_ascii_strcasecmp (encoding, "identity") != 0;

    g_free (encoding);
    if (bad_encoding || sip_message_get_sdp_body (req) == NULL) {
      sip_agent_respond (agent, tr, 415, NULL, NULL);
      return;
    }
  }

  if (strcmp (method, "CANCEL") == 0) {
    handle_cancel (agent, tr);
  } else if (to_tag != NULL) {
    /* 12.2.2: a request within a dialog */
    gchar *call_id_free, *dialog_id;
    const gchar *call_id = sip_message_get_call_id_string (req,
        &call_id_free);
    SipCall *call;

    dialog_id = sip_call_make_dialog_id (call_id, to_tag,
        sip_message_get_from_tag (req));
    call = g_hash_table_lookup (agent->calls, dialog_id);
    g_free (dialog_id);
    g_free (call_id_free);
    if (call)
      sip_call_handle_request (call, tr);
    else
      sip_agent_respond (agent, tr, 481, NULL, NULL);
  } else if (strcmp (method, "INVITE") == 0) {
    handle_new_invite (agent, tr, dgram);
  } else if (strcmp (method, "OPTIONS") == 0) {
    sip_agent_respond_options (agent, tr, NULL);
  } else {
    /* BYE outside a dialog */
    sip_agent_respond (agent, tr, 481, NULL, NULL);
  }
}

/* allowed-sources may change while running: parse it again when it did */
static void
update_sources (SipAgent * agent)
{
  GPtrArray *sources;
  GError *error = NULL;
  gchar *text;

  g_mutex_lock (&agent->lock);
  if (g_strcmp0 (agent->allowed_sources, agent->sources_text) == 0) {
    g_mutex_unlock (&agent->lock);
    return;
  }
  text = g_strdup (agent->allowed_sources);
  g_mutex_unlock (&agent->lock);

  sources = sip_policy_parse_sources (text, &error);
  if (sources == NULL) {
    g_warning ("%s; keeping the previous allowed-sources", error->message);
    g_error_free (error);
  } else {
    g_ptr_array_unref (agent->sources);
    agent->sources = sources;
  }
  g_free (agent->sources_text);
  agent->sources_text = text;
}

/* counts a new INVITE for invite-rate-limit; logs a summary of what was
 * refused at most every 10 s (a flood must not flood the log) */
static SipRateVerdict
check_invite_rate (SipAgent * agent, Datagram * dgram)
{
  gint64 now = g_get_monotonic_time ();
  SipRateVerdict verdict;
  guint rate;

  g_mutex_lock (&agent->lock);
  rate = agent->invite_rate_limit;
  g_mutex_unlock (&agent->lock);

  verdict = sip_rate_limiter_check (agent->limiter, dgram->source_ip, rate,
      now);
  if (verdict == SIP_RATE_ALLOW)
    return verdict;

  if (verdict == SIP_RATE_REFUSE)
    agent->rate_refused++;
  else
    agent->rate_dropped++;
  if (log_summary_due (&agent->rate_logged, now)) {
    gchar *ip = g_inet_address_to_string (dgram->source_ip);
    g_message ("invite-rate-limit (%u/s per source): %u INVITE(s) refused "
        "with 503 and %u dropped; the latest from %s", rate,
        agent->rate_refused, agent->rate_dropped, ip);
    g_free (ip);
    agent->rate_refused = agent->rate_dropped = 0;
  } else {
    gchar *ip = g_inet_address_to_string (dgram->source_ip);
    g_debug ("INVITE from %s %s: over invite-rate-limit", ip,
        verdict == SIP_RATE_REFUSE ? "refused with 503" : "dropped");
    g_free (ip);
  }
  return verdict;
}

static void
receive_request (SipAgent * agent, osip_message_t * req, Datagram * dgram)
{
  const gchar *reason = NULL;
  gboolean ack = strcmp (req->sip_method, "ACK") == 0;
  gchar *source_ip = g_inet_address_to_string (dgram->source_ip);
  osip_via_t *via = osip_list_get (&req->vias, 0);
  SipTransaction *tr;
  guint status;

  if (via == NULL || via->host == NULL) {
    g_debug ("request without Via dropped");
    goto drop;
  }
  status = sip_message_check_request (req, &reason);
  if (status != 0 && ack) {
    g_debug ("malformed ACK dropped: %s", reason);
    goto drop;
  }

  /* 18.2.1: received / rport */
  sip_message_fix_top_via (req, source_ip,
      sip_socket_address_get_port (dgram->source));

  if (sip_transaction_layer_absorb_request (agent->layer, req, dgram->source))
    goto drop;

  /* a new transaction would be over SIP_MAX_TRANSACTIONS: drop the request
   * (the peer retransmits; a flood costs nothing more) */
  if (!ack && sip_transaction_layer_get_size (agent->layer)
      >= agent->max_transactions) {
    agent->overload_dropped++;
    if (log_summary_due (&agent->overload_logged, g_get_monotonic_time ())) {
      g_message ("%u live transactions (the most, SIP_MAX_TRANSACTIONS): "
          "%u request(s) dropped; the latest: %s from %s",
          sip_transaction_layer_get_size (agent->layer),
          agent->overload_dropped, req->sip_method, source_ip);
      agent->overload_dropped = 0;
    }
    goto drop;
  }

  /* invite-rate-limit: a new INVITE, before any other work is done */
  if (!ack && strcmp (req->sip_method, "INVITE") == 0
      && sip_message_get_to_tag (req) == NULL) {
    switch (check_invite_rate (agent, dgram)) {
      case SIP_RATE_ALLOW:
        break;
      case SIP_RATE_REFUSE:
        respond_stateless (agent, req, dgram->source, 503,
            "Service Unavailable - rate limit", RATE_LIMIT_RETRY_AFTER);
        goto drop;
      case SIP_RATE_DROP:
        goto drop;
    }
  }

  update_sources (agent);
  if (!sip_policy_source_allowed (agent->sources, dgram->source_ip)) {
    if (!ack) {
      agent->forbidden++;
      if (log_summary_due (&agent->forbidden_logged, g_get_monotonic_time ())) {
        g_message ("%u request(s) refused with 403: not in allowed-sources; "
            "the latest: %s from %s", agent->forbidden, req->sip_method,
            source_ip);
        agent->forbidden = 0;
      }
      respond_stateless (agent, req, dgram->source, 403, NULL, NULL);
    }
    goto drop;
  }

  if (ack) {
    handle_ack (agent, req);
    goto drop;
  }

  tr = sip_transaction_server_new (agent->layer, req, dgram->source);
  sip_transaction_ref (tr);
  if (status != 0) {
    g_debug ("request refused with %u: %s", status, reason);
    sip_agent_respond (agent, tr, status, reason, NULL);
  } else {
    handle_request (agent, tr, dgram);
  }
  sip_transaction_unref (tr);
  g_free (source_ip);
  return;

drop:
  if (req)
    osip_message_free (req);
  g_free (source_ip);
}

static void
receive_datagram (SipAgent * agent, GSocketAddress * source,
    const gchar * data, gsize len)
{
  gchar *from = sip_socket_address_to_string (source);
  gchar *why = NULL;
  osip_message_t *msg;
  Datagram dgram = { data, len, source, NULL };

  {
    /* control characters and NULs would garble the log; always formatted:
     * a log handler (the GStreamer plugin's) may want it whatever
     * G_MESSAGES_DEBUG says */
    gchar *raw = g_strndup (data, len), *text;
    for (gsize i = 0; i < len; i++)
      if (((guchar) raw[i] < 0x20 && raw[i] != '\r' && raw[i] != '\n'
              && raw[i] != '\t') || raw[i] == 0x7f)
        raw[i] = '.';
    /* ... and so would bytes that are not UTF-8 (RFC 3261 text is) */
    text = g_utf8_make_valid (raw, -1);
    g_debug ("received %" G_GSIZE_FORMAT " bytes from %s:\n%s", len, from,
        text);
    g_free (text);
    g_free (raw);
  }

  msg = sip_message_parse (data, len, &why);
  if (msg == NULL) {
    guint status = 0;
    GString *error = NULL;

    if (len <= SIP_MAX_DATAGRAM_SIZE && !g_str_has_prefix (why, "keep-alive"))
      error = sip_message_new_raw_error (data, len, &status);
    if (error) {
      g_debug ("unparseable request from %s (%s): answering %u", from, why,
          status);
      send_raw (agent, source, error->str, error->len);
      g_string_free (error, TRUE);
    } else {
      g_debug ("datagram from %s dropped: %s", from, why);
    }
    g_free (why);
    g_free (from);
    return;
  }

  if (!sip_message_is_request (msg)) {
    /* responses: only those to our own requests (BYE) */
    if (!sip_transaction_layer_receive_response (agent->layer, msg))
      g_debug ("stray %d response from %s dropped",
          osip_message_get_status_code (msg), from);
    osip_message_free (msg);
    g_free (from);
    return;
  }

  dgram.source_ip = sip_inet_address_unmap (g_inet_socket_address_get_address
      (G_INET_SOCKET_ADDRESS (source)));
  receive_request (agent, msg, &dgram);
  g_object_unref (dgram.source_ip);
  g_free (from);
}

typedef struct
{
  SipAgent *agent;
  GSocketAddress *source;
  const gchar *data;
  gsize len;
  GMutex lock;
  GCond cond;
  gboolean done;
} Injection;

static gboolean
inject_in_thread (gpointer data)
{
  Injection *injection = data;

  if (injection->agent->alive)
    receive_datagram (injection->agent, injection->source, injection->data,
        injection->len);
  g_mutex_lock (&injection->lock);
  injection->done = TRUE;
  g_cond_signal (&injection->cond);
  g_mutex_unlock (&injection->lock);
  return G_SOURCE_REMOVE;
}

/**
 * sip_agent_inject_datagram: (skip)
 *
 * Handles @data as if it had come from @source on the SIP socket, in the
 * agent's thread, and returns when it was handled: the entry point of
 * the fuzz targets (tests/fuzz/).  The agent must be started.
 */
void
sip_agent_inject_datagram (SipAgent * agent, GSocketAddress * source,
    const gchar * data, gsize len)
{
  Injection injection = { agent, source, data, len };
  GMainContext *context;

  if (len > SIP_MAX_DATAGRAM_SIZE)
    return;
  g_mutex_lock (&agent->lock);
  context = agent->running ? g_main_context_ref (agent->context) : NULL;
  g_mutex_unlock (&agent->lock);
  if (context == NULL)
    return;
  g_mutex_init (&injection.lock);
  g_cond_init (&injection.cond);
  g_main_context_invoke (context, inject_in_thread, &injection);
  g_mutex_lock (&injection.lock);
  while (!injection.done)
    g_cond_wait (&injection.cond, &injection.lock);
  g_mutex_unlock (&injection.lock);
  g_mutex_clear (&injection.lock);
  g_cond_clear (&injection.cond);
  g_main_context_unref (context);
}

/* The longest source prefix of a relayed datagram: version, port, IPv6
 * address, scope id */
#define RELAY_PREFIX_MAX_SIZE (1 + 2 + 16 + 4)

/* A datagram read from relay-fd: where it came from, then the SIP message
 * (see #SipAgent:relay-fd).  Returns the source, or NULL if malformed. */
static GSocketAddress *
unwrap_relayed (const gchar ** data, gssize * len)
{
  const guint8 *bytes = (const guint8 *) *data;
  gboolean ipv6;
  gsize prefix_len;
  guint32 scope_id = 0;
  GInetAddress *ip;
  GSocketAddress *source;

  if (*len < 1 || (bytes[0] != 4 && bytes[0] != 6))
    return NULL;
  ipv6 = bytes[0] == 6;
  prefix_len = ipv6 ? RELAY_PREFIX_MAX_SIZE : 1 + 2 + 4;
  if ((gsize) * len < prefix_len)
    return NULL;
  if (ipv6)
    scope_id = (guint32) bytes[19] << 24 | (guint32) bytes[20] << 16 |
        (guint32) bytes[21] << 8 | bytes[22];
  ip = g_inet_address_new_from_bytes (bytes + 3, ipv6 ?
      G_SOCKET_FAMILY_IPV6 : G_SOCKET_FAMILY_IPV4);
  /* a link-local caller is answered on the interface it called from */
  source = g_object_new (G_TYPE_INET_SOCKET_ADDRESS, "address", ip,
      "port", (guint) (bytes[1] << 8 | bytes[2]), "scope-id", scope_id, NULL);
  g_object_unref (ip);
  *data += prefix_len;
  *len -= prefix_len;
  return source;
}

static gboolean
socket_readable (GSocket * socket, GIOCondition condition, gpointer data)
{
  SipAgent *agent = g_object_ref (data);
  gboolean relayed = socket == agent->relay;
  gsize size = RECEIVE_BUFFER_SIZE + (relayed ? RELAY_PREFIX_MAX_SIZE : 0);
  gchar *buffer = g_malloc (size);

  for (guint i = 0; i < 64 && agent->alive; i++) {
    GSocketAddress *source = NULL;
    GError *error = NULL;
    const gchar *message = buffer;
    gssize len = relayed ?
        g_socket_receive (socket, buffer, size, NULL, &error) :
        g_socket_receive_from (socket, &source, buffer, size, NULL, &error);

    if (len < 0) {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        g_debug ("receive: %s", error->message);
      g_clear_error (&error);
      break;
    }
    if (relayed)
      source = unwrap_relayed (&message, &len);
    if (source == NULL || !G_IS_INET_SOCKET_ADDRESS (source)) {
      if (relayed)
        g_debug ("malformed relayed datagram dropped");
      g_clear_object (&source);
      continue;
    }
    if (len > SIP_MAX_DATAGRAM_SIZE)
      g_debug ("datagram larger than %u bytes dropped", SIP_MAX_DATAGRAM_SIZE);
    else
      receive_datagram (agent, source, message, len);
    g_object_unref (source);
  }
  g_free (buffer);
  g_object_unref (agent);
  return G_SOURCE_CONTINUE;
}

/* ---- Start / stop ------------------------------------------------------- */

typedef struct
{
  GMainContext *context;
  GMainLoop *loop;
} AgentThread;

static gpointer
agent_thread (gpointer data)
{
  AgentThread *thread = data;

  g_main_context_push_thread_default (thread->context);
  g_main_loop_run (thread->loop);
  /* actions queued before the stop: they find the agent stopped */
  while (g_main_context_iteration (thread->context, FALSE));
  g_main_context_pop_thread_default (thread->context);
  g_main_loop_unref (thread->loop);
  g_main_context_unref (thread->context);
  g_free (thread);
  return NULL;
}

static guint
uint_from_env (const gchar * name, guint fallback)
{
  const gchar *value = g_getenv (name);
  guint64 ms;

  if (value && g_ascii_string_to_unsigned (value, 10, 1, 600000, &ms, NULL))
    return ms;
  return fallback;
}

/* Takes over @fd, the value of the property @name: a datagram socket, an
 * IPv4 or IPv6 UDP one when @udp */
static GSocket *
adopt_datagram_socket (gint fd, const gchar * name, gboolean udp,
    GError ** error)
{
  GError *local_error = NULL;
  GSocket *socket = g_socket_new_from_fd (fd, &local_error);
  GSocketFamily family;

  if (socket == NULL) {
    g_set_error (error, SIP_AGENT_ERROR, SIP_AGENT_ERROR_CONFIG,
        "%s %d is not a socket: %s", name, fd, local_error->message);
    g_error_free (local_error);
    return NULL;
  }
  if (g_socket_get_socket_type (socket) != G_SOCKET_TYPE_DATAGRAM) {
    g_set_error (error, SIP_AGENT_ERROR, SIP_AGENT_ERROR_CONFIG,
        "%s %d is not a datagram socket", name, fd);
    g_object_unref (socket);
    return NULL;
  }
  family = g_socket_get_family (socket);
  if (udp && ((family != G_SOCKET_FAMILY_IPV4
              && family != G_SOCKET_FAMILY_IPV6)
          || g_socket_get_protocol (socket) != G_SOCKET_PROTOCOL_UDP)) {
    g_set_error (error, SIP_AGENT_ERROR, SIP_AGENT_ERROR_CONFIG,
        "%s %d is not a UDP socket (IPv4 or IPv6)", name, fd);
    g_object_unref (socket);
    return NULL;
  }
  g_socket_set_blocking (socket, FALSE);
  /* ours now: programs the application starts later must not hold it */
  if (fcntl (fd, F_SETFD, FD_CLOEXEC) < 0)
    g_warning ("%s %d: cannot set close-on-exec: %s", name, fd,
        g_strerror (errno));
  return socket;
}

/**
 * sip_agent_start:
 * @agent: a #SipAgent
 * @error: %SIP_AGENT_ERROR_BIND when the port cannot be bound,
 *   %SIP_AGENT_ERROR_CONFIG for a bad setting, %SIP_AGENT_ERROR_STATE
 *   when already started
 *
 * Binds the SIP UDP socket (or takes over #SipAgent:socket-fd and
 * #SipAgent:relay-fd, whose properties read -1 again) and starts the
 * agent's thread.
 *
 * Returns: %TRUE on success
 */
gboolean
sip_agent_start (SipAgent * agent, GError ** error)
{
  GInetAddress *host_address = NULL;
  GSocketAddress *bind_address = NULL, *local = NULL;
  GSocket *socket = NULL, *relay = NULL;
  SipPortPool *pool = NULL;
  GPtrArray *sources = NULL;
  GError *local_error = NULL;
  AgentThread *thread;
  gchar *host = NULL;
  guint port, bound;

  g_return_val_if_fail (SIP_IS_AGENT (agent), FALSE);
  sip_message_init_library ();

  g_mutex_lock (&agent->lock);
  if (agent->running) {
    g_mutex_unlock (&agent->lock);
    g_set_error (error, SIP_AGENT_ERROR, SIP_AGENT_ERROR_STATE,
        "the SIP agent is already started");
    return FALSE;
  }
  host = g_strdup (agent->host);
  port = agent->port;

  host_address = g_inet_address_new_from_string (host);
  if (host_address == NULL) {
    g_set_error (error, SIP_AGENT_ERROR, SIP_AGENT_ERROR_CONFIG,
        "host \"%s\" is not an IP address", host);
    goto fail;
  }
  pool = sip_port_pool_new (agent->rtp_port_range, host_address, &local_error);
  if (pool == NULL) {
    g_set_error (error, SIP_AGENT_ERROR, SIP_AGENT_ERROR_CONFIG,
        "rtp-port-range: %s", local_error->message);
    goto fail;
  }
  sources = sip_policy_parse_sources (agent->allowed_sources, &local_error);
  if (sources == NULL) {
    g_set_error (error, SIP_AGENT_ERROR, SIP_AGENT_ERROR_CONFIG, "%s",
        local_error->message);
    goto fail;
  }

  /* the descriptors are consumed (closed on failure) either way */
  if (agent->relay_fd >= 0) {
    gint fd = agent->relay_fd;
    agent->relay_fd = -1;
    relay = adopt_datagram_socket (fd, "relay-fd", FALSE, error);
    if (relay == NULL)
      goto fail;
  }
  if (agent->socket_fd >= 0) {
    gint fd = agent->socket_fd;
    agent->socket_fd = -1;
    socket = adopt_datagram_socket (fd, "socket-fd", TRUE, error);
    if (socket == NULL)
      goto fail;
  } else {
    socket = g_socket_new (g_inet_address_get_family (host_address),
        G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &local_error);
    if (socket == NULL) {
      g_set_error (error, SIP_AGENT_ERROR, SIP_AGENT_ERROR_BIND,
          "cannot create a UDP socket for %s: %s", host, local_error->message);
      goto fail;
    }
    g_socket_set_blocking (socket, FALSE);
    bind_address = g_inet_socket_address_new (host_address, port);
    if (!g_socket_bind (socket, bind_address, FALSE, &local_error)) {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE))
        g_set_error (error, SIP_AGENT_ERROR, SIP_AGENT_ERROR_BIND,
            "SIP port %u on %s is in use (%s)", port, host,
            local_error->message);
      else if (g_error_matches (local_error, G_IO_ERROR,
              G_IO_ERROR_PERMISSION_DENIED))
        g_set_error (error, SIP_AGENT_ERROR, SIP_AGENT_ERROR_BIND,
            "no permission to bind SIP port %u on %s (%s)", port, host,
            local_error->message);
      else
        g_set_error (error, SIP_AGENT_ERROR, SIP_AGENT_ERROR_BIND,
            "cannot bind SIP port %u on %s (%s)", port, host,
            local_error->message);
      goto fail;
    }
  }
  local = g_socket_get_local_address (socket, NULL);
  bound = local ? sip_socket_address_get_port (local) : port;
  g_clear_object (&local);

  agent->timers.t1 = uint_from_env ("SIP_TIMER_T1_MS", SIP_TIMER_T1_DEFAULT);
  agent->timers.t2 = uint_from_env ("SIP_TIMER_T2_MS",
      MAX (SIP_TIMER_T2_DEFAULT, agent->timers.t1));
  agent->timers.t4 = uint_from_env ("SIP_TIMER_T4_MS", SIP_TIMER_T4_DEFAULT);
  agent->max_transactions = uint_from_env ("SIP_MAX_TRANSACTIONS",
      SIP_MAX_TRANSACTIONS_DEFAULT);
  agent->overload_dropped = agent->forbidden = 0;
  agent->overload_logged = agent->forbidden_logged = 0;

  agent->host_address = host_address;
  agent->pool = pool;
  agent->sources = sources;
  g_free (agent->sources_text);
  agent->sources_text = g_strdup (agent->allowed_sources);
  agent->socket = socket;
  agent->context = g_main_context_new ();
  agent->loop = g_main_loop_new (agent->context, FALSE);
  agent->transport = sip_transport_new (socket);
  agent->layer = sip_transaction_layer_new (agent->transport, agent->context,
      &agent->timers);
  agent->calls = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      g_object_unref);
  agent->limiter = sip_rate_limiter_new (SIP_RATE_LIMIT_TABLE_SIZE);
  agent->rate_refused = agent->rate_dropped = 0;
  agent->rate_logged = 0;
  agent->alive = TRUE;
  agent->relay = relay;
  agent->socket_source = g_socket_create_source (relay ? relay : socket,
      G_IO_IN, NULL);
  g_source_set_callback (agent->socket_source, G_SOURCE_FUNC (socket_readable),
      agent, NULL);
  g_source_attach (agent->socket_source, agent->context);
  g_atomic_int_set (&agent->bound_port, bound);

  thread = g_new0 (AgentThread, 1);
  thread->context = g_main_context_ref (agent->context);
  thread->loop = g_main_loop_ref (agent->loop);
  agent->thread = g_thread_new ("sip-agent", agent_thread, thread);
  agent->running = TRUE;
  g_mutex_unlock (&agent->lock);

  g_debug ("SIP agent listening on UDP %s port %u (T1 %u ms)", host, bound,
      agent->timers.t1);
  g_object_notify_by_pspec (G_OBJECT (agent), properties[PROP_BOUND_PORT]);
  g_free (host);
  g_clear_object (&bind_address);
  return TRUE;

fail:
  g_mutex_unlock (&agent->lock);
  g_clear_error (&local_error);
  g_clear_object (&bind_address);
  g_clear_object (&socket);
  g_clear_object (&relay);
  g_clear_pointer (&sources, g_ptr_array_unref);
  g_clear_pointer (&pool, sip_port_pool_unref);
  g_clear_object (&host_address);
  g_free (host);
  return FALSE;
}

/* In the agent's thread: end every call, stop listening, quit */
static gboolean
agent_shutdown (gpointer data)
{
  SipAgent *agent = data;
  GList *calls;

  calls = g_hash_table_get_values (agent->calls);
  for (GList * l = calls; l; l = l->next)
    g_object_ref (l->data);
  for (GList * l = calls; l; l = l->next)
    sip_call_do_shutdown (l->data);
  g_list_free_full (calls, g_object_unref);

  agent->alive = FALSE;
  calls = g_hash_table_get_values (agent->calls);
  for (GList * l = calls; l; l = l->next)
    SIP_CALL (l->data)->in_table = FALSE;
  g_list_free (calls);
  g_hash_table_remove_all (agent->calls);

  if (agent->socket_source) {
    g_source_destroy (agent->socket_source);
    g_clear_pointer (&agent->socket_source, g_source_unref);
  }
  g_clear_pointer (&agent->layer, sip_transaction_layer_free);
  g_clear_pointer (&agent->transport, sip_transport_free);
  g_main_loop_quit (agent->loop);
  return G_SOURCE_REMOVE;
}

/**
 * sip_agent_drain:
 * @agent: a #SipAgent
 *
 * Starts a graceful shutdown: sets #SipAgent:draining, so new INVITEs get
 * 503 Service Unavailable with Retry-After while the calls already there
 * go on (re-INVITEs, BYE, OPTIONS are still answered).  Call
 * sip_agent_stop() when #SipAgent:active-calls reached 0 or a deadline
 * passed: it sends BYE to the calls left.  Thread-safe.
 */
void
sip_agent_drain (SipAgent * agent)
{
  g_return_if_fail (SIP_IS_AGENT (agent));
  g_object_set (agent, "draining", TRUE, NULL);
}

/**
 * sip_agent_stop:
 * @agent: a #SipAgent
 *
 * Ends every call (BYE for those answered, end-reason "shutdown"; 503 for
 * those not answered yet), stops the thread and closes the SIP socket.
 * Idempotent; finalizing the agent stops it too.
 */
void
sip_agent_stop (SipAgent * agent)
{
  GThread *thread;
  gboolean draining;

  g_return_if_fail (SIP_IS_AGENT (agent));

  g_mutex_lock (&agent->lock);
  if (!agent->running) {
    g_mutex_unlock (&agent->lock);
    return;
  }
  agent->running = FALSE;
  thread = agent->thread;
  agent->thread = NULL;
  g_mutex_unlock (&agent->lock);

  if (thread == g_thread_self ()) {
    /* from a handler in the agent's thread: the loop ends after the
     * current dispatch */
    agent_shutdown (agent);
    g_thread_unref (thread);
  } else {
    GSource *source = g_idle_source_new ();
    g_source_set_priority (source, G_PRIORITY_HIGH);
    g_source_set_callback (source, agent_shutdown, agent, NULL);
    g_source_attach (source, agent->context);
    g_source_unref (source);
    g_thread_join (thread);
  }

  g_mutex_lock (&agent->lock);
  g_clear_pointer (&agent->calls, g_hash_table_unref);
  g_clear_pointer (&agent->limiter, sip_rate_limiter_free);
  draining = agent->draining;
  agent->draining = FALSE;
  if (agent->socket)
    g_socket_close (agent->socket, NULL);
  g_clear_object (&agent->socket);
  if (agent->relay)
    g_socket_close (agent->relay, NULL);
  g_clear_object (&agent->relay);
  g_clear_pointer (&agent->loop, g_main_loop_unref);
  g_clear_pointer (&agent->context, g_main_context_unref);
  g_clear_pointer (&agent->pool, sip_port_pool_unref);
  g_clear_pointer (&agent->sources, g_ptr_array_unref);
  g_clear_pointer (&agent->sources_text, g_free);
  g_clear_object (&agent->host_address);
  g_mutex_unlock (&agent->lock);
  g_atomic_int_set (&agent->bound_port, 0);
  g_object_notify_by_pspec (G_OBJECT (agent), properties[PROP_BOUND_PORT]);
  if (draining)
    g_object_notify_by_pspec (G_OBJECT (agent), properties[PROP_DRAINING]);
  g_debug ("SIP agent stopped");
}
