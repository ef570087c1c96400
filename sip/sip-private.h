/* gst-sip: what SipAgent and SipCall share inside the library (private)
 * Copyright (C) 2026 The gst-sip authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "sip-agent.h"
#include "sip-call.h"
#include "sip-message.h"
#include "sip-policy.h"
#include "sip-port-pool.h"
#include "sip-sdp.h"
#include "sip-transaction.h"
#include "sip-transport.h"

G_BEGIN_DECLS

struct _SipAgent
{
  GObject parent;

  GMutex lock;                  /* the settings and "running" */
  gchar *host;
  guint port;
  gchar *rtp_port_range;
  gchar *public_address;
  guint max_calls;
  gchar *allowed_sources;
  gchar *user_agent;
  guint invite_rate_limit;
  guint max_call_duration;      /* seconds, 0: none */
  gint socket_fd;               /* -1: bind host:port */
  gint relay_fd;                /* -1: read the SIP socket */
  gboolean draining;
  gboolean running;

  guint bound_port;             /* atomic */
  gint active_calls;            /* atomic: calls not ENDED */

  /* set up by start(), torn down by stop() */
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  GSocket *socket;
  GSource *socket_source;
  GSocket *relay;               /* relay-fd, or NULL */
  SipTransport *transport;
  SipTransactionLayer *layer;
  SipPortPool *pool;
  GInetAddress *host_address;
  SipTimers timers;

  /* agent thread only */
  gboolean alive;               /* between start and the shutdown */
  GPtrArray *sources;           /* allowed-sources, parsed */
  gchar *sources_text;          /* ... from this text */
  GHashTable *calls;            /* dialog id -> SipCall (a reference) */
  SipRateLimiter *limiter;      /* invite-rate-limit */
  guint rate_refused;           /* since rate_logged */
  guint rate_dropped;
  gint64 rate_logged;
  guint max_transactions;       /* SIP_MAX_TRANSACTIONS */
  guint overload_dropped;       /* since overload_logged */
  gint64 overload_logged;
  guint forbidden;              /* 403s since forbidden_logged */
  gint64 forbidden_logged;
};

struct _SipCall
{
  GObject parent;

  GWeakRef agent;

  /* identity: set when created, never changed */
  gchar *call_id;
  gchar *from;
  gchar *to;
  GHashTable *headers;
  SipPortPair *ports;

  /* read from any thread under the lock, written in the agent thread */
  GMutex lock;
  SipCallState state;
  gchar *end_reason;
  gchar *remote_rtp_address;
  guint remote_rtp_port;
  gint telephone_event_pt;
  gint pcmu_pt;
  gboolean on_hold;
  gint64 answered_time;         /* monotonic time of the 200 OK, 0 before */
  guint max_duration;           /* seconds after the 200 OK, 0: none */

  /* the dialog (RFC 3261 12): agent thread only */
  gchar *dialog_id;
  gchar *local_tag;
  gchar *remote_tag;
  guint32 remote_cseq;
  guint32 invite_cseq;
  guint32 local_cseq;
  gchar *remote_target;
  GPtrArray *route_set;         /* Record-Route values, in order */
  GSocketAddress *source;       /* where the INVITE came from */
  gboolean behind_nat;          /* its top Via got received/rport */
  gchar *local_address;         /* ours, for Contact, Via and SDP */
  gchar *contact;
  gboolean counted;             /* in agent->active_calls */
  gboolean in_table;            /* in agent->calls */

  SipTransaction *invite;       /* INVITE not answered with a final yet */
  SipSdpLocal sdp;
  SipSdpRemote *remote_sdp;
  gboolean offer_in_ok;         /* our 2xx carried an offer: answer in ACK */

  /* 2xx retransmission until the ACK (RFC 3261 13.3.1.4, RFC 6026) */
  gchar *ok_text;
  gsize ok_len;
  GSocketAddress *ok_dest;
  guint32 ok_cseq;
  guint ok_interval;
  GSource *ok_timer;
  GSource *ok_giveup;
  gboolean bye_after_ack;

  /* max-duration: BYE this long after the 200 OK (agent thread) */
  GSource *duration_timer;
};

/* sip-agent.c */
gboolean sip_agent_invoke (SipAgent * agent, GSourceFunc func,
    gpointer data, GDestroyNotify notify);
osip_message_t *sip_agent_new_response (SipAgent * agent,
    const osip_message_t * request, guint status_code, const gchar * reason,
    const gchar * to_tag);
void sip_agent_respond (SipAgent * agent, SipTransaction * transaction,
    guint status_code, const gchar * reason, const gchar * to_tag);
void sip_agent_respond_options (SipAgent * agent,
    SipTransaction * transaction, const gchar * to_tag);
void sip_agent_forget_call (SipAgent * agent, SipCall * call);
void sip_agent_call_ended (SipAgent * agent, SipCall * call);
void sip_agent_add_user_agent (SipAgent * agent, osip_message_t * msg,
    const gchar * header);
void sip_agent_inject_datagram (SipAgent * agent, GSocketAddress * source,
    const gchar * data, gsize len);

/* sip-call.c */
SipCall *sip_call_new_incoming (SipAgent * agent, SipTransaction * invite,
    SipSdpRemote * offer, SipPortPair * ports, GHashTable * headers,
    const gchar * local_address);
gchar *sip_call_make_dialog_id (const gchar * call_id, const gchar *
    local_tag, const gchar * remote_tag);
void sip_call_send_trying (SipCall * call);
void sip_call_handle_request (SipCall * call, SipTransaction * transaction);
void sip_call_handle_ack (SipCall * call, const osip_message_t * ack);
void sip_call_handle_cancel (SipCall * call, SipTransaction * invite);
void sip_call_do_reject (SipCall * call, guint status_code,
    const gchar * reason_text, const gchar * end_reason);
void sip_call_do_shutdown (SipCall * call);

G_END_DECLS
