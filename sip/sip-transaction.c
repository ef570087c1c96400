/* gst-sip: SIP transactions over UDP, RFC 3261 17 and RFC 6026
 * Copyright (C) 2026 The gst-sip authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Our own small transaction layer, for the three kinds of transaction a
 * user-agent server over UDP needs:
 *
 * INVITE server transaction (RFC 3261 17.2.1, as updated by RFC 6026 7.1):
 *
 *   Proceeding --1xx--> Proceeding (INVITE retransmission: resend the 1xx)
 *   Proceeding --2xx--> Accepted   (Timer L = 64*T1; INVITE absorbed; ACK
 *                                   passed up: 2xx retransmissions are the
 *                                   TU's job, RFC 13.3.1.4)
 *   Proceeding --300-699--> Completed (Timer G from T1 doubling up to T2
 *                                   resends it, Timer H = 64*T1 gives up;
 *                                   INVITE retransmission: resend)
 *   Completed --ACK--> Confirmed   (Timer I = T4 absorbs further ACKs)
 *
 * non-INVITE server transaction (17.2.2): Trying --final--> Completed,
 * Timer J = 64*T1; a retransmitted request gets the same response.
 *
 * non-INVITE client transaction (17.1.2), for the BYE we send: Timer E
 * from T1 doubling up to T2 (T2 once a 1xx came), Timer F = 64*T1 gives
 * up, Timer K = T4 absorbs retransmitted responses.
 *
 * Matching (17.2.3): the top Via branch with the magic cookie, the sent-by
 * and the method (ACK matches INVITE; CANCEL has its own transaction).
 * Requests without the cookie (RFC 2543) match on Call-ID, From tag, CSeq
 * number, top Via and method.  Responses match a client transaction on the
 * branch and the CSeq method (17.1.3).
 *
 * Everything here runs in the agent's thread; timers are GSources attached
 * to its GMainContext.
 */

#include "sip-transaction.h"
#include "sip-message.h"

#include <string.h>

struct _SipTransactionLayer
{
  SipTransport *transport;
  GMainContext *context;
  SipTimers timers;
  GHashTable *transactions;     /* key -> SipTransaction (a ref) */
};

struct _SipTransaction
{
  gint ref_count;
  SipTransactionLayer *layer;
  SipTransactionKind kind;
  SipTransactionState state;
  gchar *key;

  osip_message_t *request;
  GSocketAddress *peer;

  /* server: the last response; client: the request */
  gchar *message;
  gsize message_len;
  guint status;

  guint interval;               /* current Timer G / Timer E interval */
  GSource *retransmit_timer;    /* G or E */
  GSource *timeout_timer;       /* H, J, L, F */
  GSource *wait_timer;          /* I, K */

  SipClientResultFunc result_func;
  gpointer result_data;
  GDestroyNotify result_notify;

  gpointer owner;
  GDestroyNotify owner_notify;
};

void
sip_timers_init (SipTimers * timers)
{
  timers->t1 = SIP_TIMER_T1_DEFAULT;
  timers->t2 = SIP_TIMER_T2_DEFAULT;
  timers->t4 = SIP_TIMER_T4_DEFAULT;
}

SipTransactionLayer *
sip_transaction_layer_new (SipTransport * transport, GMainContext * context,
    const SipTimers * timers)
{
  SipTransactionLayer *layer = g_new0 (SipTransactionLayer, 1);

  layer->transport = transport;
  layer->context = g_main_context_ref (context);
  layer->timers = *timers;
  layer->transactions = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      (GDestroyNotify) sip_transaction_unref);
  return layer;
}

static void
clear_timer (GSource ** timer)
{
  if (*timer) {
    g_source_destroy (*timer);
    g_source_unref (*timer);
    *timer = NULL;
  }
}

static void
stop_timers (SipTransaction * tr)
{
  clear_timer (&tr->retransmit_timer);
  clear_timer (&tr->timeout_timer);
  clear_timer (&tr->wait_timer);
}

void
sip_transaction_layer_free (SipTransactionLayer * layer)
{
  GHashTableIter iter;
  gpointer value;

  if (layer == NULL)
    return;
  g_hash_table_iter_init (&iter, layer->transactions);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    SipTransaction *tr = value;
    stop_timers (tr);
    tr->state = SIP_TRANSACTION_STATE_TERMINATED;
    tr->layer = NULL;
  }
  g_hash_table_unref (layer->transactions);
  g_main_context_unref (layer->context);
  g_free (layer);
}

const SipTimers *
sip_transaction_layer_get_timers (SipTransactionLayer * layer)
{
  return &layer->timers;
}

guint
sip_transaction_layer_get_size (SipTransactionLayer * layer)
{
  return g_hash_table_size (layer->transactions);
}

/* ---- Keys (RFC 3261 17.2.3 / 17.1.3) ---------------------------------- */

static gchar *
server_key (const osip_message_t * request, const gchar * method)
{
  const gchar *branch = sip_message_get_top_branch (request);
  gchar *sent_by = sip_message_get_top_sent_by (request);
  gchar *key;

  if (sent_by == NULL)
    return NULL;
  if (branch && g_str_has_prefix (branch, SIP_BRANCH_MAGIC_COOKIE)) {
    /* RFC 3261 17.2.3; Call-ID and CSeq number too, which a genuine
     * retransmission (and the ACK or CANCEL of an INVITE) shares: a peer
     * that reuses branches across requests is not mistaken for one */
    gchar *call_id_free;
    const gchar *call_id = sip_message_get_call_id_string (request,
        &call_id_free);

    key = g_strdup_printf ("s|%s|%s|%s|%s|%s", branch, sent_by, method,
        call_id ? call_id : "",
        request->cseq && request->cseq->number ? request->cseq->number : "");
    g_free (call_id_free);
  } else {
    /* RFC 2543 peer: no usable branch */
    gchar *call_id_free;
    const gchar *call_id = sip_message_get_call_id_string (request,
        &call_id_free);
    const gchar *from_tag = sip_message_get_from_tag (request);

    key = g_strdup_printf ("s2543|%s|%s|%s|%s|%s|%s",
        call_id ? call_id : "", from_tag ? from_tag : "",
        request->cseq && request->cseq->number ? request->cseq->number : "",
        branch ? branch : "", sent_by, method);
    g_free (call_id_free);
  }
  g_free (sent_by);
  return key;
}

static gchar *
client_key (const gchar * branch, const gchar * method)
{
  return g_strdup_printf ("c|%s|%s", branch, method);
}

/* ---- Lifecycle ---------------------------------------------------------- */

SipTransaction *
sip_transaction_ref (SipTransaction * tr)
{
  g_atomic_int_inc (&tr->ref_count);
  return tr;
}

void
sip_transaction_unref (SipTransaction * tr)
{
  if (!g_atomic_int_dec_and_test (&tr->ref_count))
    return;
  stop_timers (tr);
  if (tr->result_notify)
    tr->result_notify (tr->result_data);
  if (tr->owner_notify)
    tr->owner_notify (tr->owner);
  if (tr->request)
    osip_message_free (tr->request);
  g_clear_object (&tr->peer);
  g_free (tr->message);
  g_free (tr->key);
  g_free (tr);
}

static void
terminate (SipTransaction * tr)
{
  tr->state = SIP_TRANSACTION_STATE_TERMINATED;
  stop_timers (tr);
  if (tr->layer) {
    SipTransactionLayer *layer = tr->layer;
    tr->layer = NULL;
    /* drops the table's reference: tr may be gone after this */
    g_hash_table_remove (layer->transactions, tr->key);
  }
}

static GSource *
start_timer (SipTransaction * tr, guint ms, GSourceFunc func)
{
  GSource *source = g_timeout_source_new (ms);

  g_source_set_callback (source, func, tr, NULL);
  g_source_attach (source, tr->layer->context);
  return source;
}

static void
send_message (SipTransaction * tr)
{
  if (tr->layer && tr->message && tr->peer)
    sip_transport_send (tr->layer->transport, tr->peer, tr->message,
        tr->message_len);
}

static SipTransaction *
transaction_new (SipTransactionLayer * layer, SipTransactionKind kind,
    gchar * key, osip_message_t * request, GSocketAddress * peer)
{
  SipTransaction *tr = g_new0 (SipTransaction, 1);

  tr->ref_count = 1;
  tr->layer = layer;
  tr->kind = kind;
  tr->key = key;
  tr->request = request;
  tr->peer = g_object_ref (peer);
  g_hash_table_replace (layer->transactions, tr->key, tr);
  return tr;
}

/**
 * sip_transaction_server_new:
 * @layer: the layer
 * @request: (transfer full): a new request (not ACK)
 * @source: where it came from: responses go there
 *
 * Returns: (transfer none): the new server transaction, owned by @layer
 * until it terminates (take a reference to keep it)
 */
SipTransaction *
sip_transaction_server_new (SipTransactionLayer * layer,
    osip_message_t * request, GSocketAddress * source)
{
  gchar *key = server_key (request, request->sip_method);
  gboolean invite = strcmp (request->sip_method, "INVITE") == 0;
  SipTransaction *tr;

  if (key == NULL)
    key = g_strdup_printf ("s|no-via|%p", (gpointer) request);
  tr = transaction_new (layer, invite ? SIP_TRANSACTION_INVITE_SERVER :
      SIP_TRANSACTION_NON_INVITE_SERVER, key, request, source);
  tr->state = invite ? SIP_TRANSACTION_STATE_PROCEEDING :
      SIP_TRANSACTION_STATE_TRYING;
  return tr;
}

/* ---- Server transactions ------------------------------------------------ */

static gboolean
timer_g_fired (gpointer data)
{
  SipTransaction *tr = data;

  /* RFC 3261 17.2.1: resend, and double the interval up to T2 */
  send_message (tr);
  tr->interval = MIN (tr->interval * 2, tr->layer->timers.t2);
  clear_timer (&tr->retransmit_timer);
  tr->retransmit_timer = start_timer (tr, tr->interval, timer_g_fired);
  return G_SOURCE_REMOVE;
}

static gboolean
timer_terminate_fired (gpointer data)
{
  SipTransaction *tr = data;

  if (tr->kind == SIP_TRANSACTION_INVITE_SERVER
      && tr->state == SIP_TRANSACTION_STATE_COMPLETED)
    g_debug ("Timer H: no ACK for the %u response to INVITE, giving up",
        tr->status);
  terminate (tr);
  return G_SOURCE_REMOVE;
}

/**
 * sip_transaction_respond:
 * @transaction: a server transaction
 * @response: (transfer full): the response to send
 *
 * Sends @response and moves the state machine on.
 */
void
sip_transaction_respond (SipTransaction * tr, osip_message_t * response)
{
  guint status = osip_message_get_status_code (response);
  const SipTimers *timers;

  g_return_if_fail (tr->kind != SIP_TRANSACTION_NON_INVITE_CLIENT);

  if (tr->layer == NULL || tr->state == SIP_TRANSACTION_STATE_TERMINATED
      || tr->state == SIP_TRANSACTION_STATE_COMPLETED
      || tr->state == SIP_TRANSACTION_STATE_CONFIRMED) {
    g_debug ("transaction %s: no response %u after a final response",
        tr->key, status);
    osip_message_free (response);
    return;
  }
  timers = &tr->layer->timers;

  g_free (tr->message);
  tr->message = sip_message_to_string (response, &tr->message_len);
  osip_message_free (response);
  if (tr->message == NULL) {
    g_warning ("could not serialize a %u response", status);
    return;
  }
  tr->status = status;
  send_message (tr);

  if (status < 200) {
    tr->state = SIP_TRANSACTION_STATE_PROCEEDING;
  } else if (tr->kind == SIP_TRANSACTION_INVITE_SERVER) {
    if (status < 300) {
      /* RFC 6026 7.1: Accepted, Timer L */
      tr->state = SIP_TRANSACTION_STATE_ACCEPTED;
      tr->timeout_timer = start_timer (tr, 64 * timers->t1,
          timer_terminate_fired);
    } else {
      tr->state = SIP_TRANSACTION_STATE_COMPLETED;
      tr->interval = timers->t1;
      tr->retransmit_timer = start_timer (tr, tr->interval, timer_g_fired);
      tr->timeout_timer = start_timer (tr, 64 * timers->t1,
          timer_terminate_fired);
    }
  } else {
    /* Timer J */
    tr->state = SIP_TRANSACTION_STATE_COMPLETED;
    tr->timeout_timer = start_timer (tr, 64 * timers->t1,
        timer_terminate_fired);
  }
}

static gboolean
timer_i_fired (gpointer data)
{
  terminate (data);
  return G_SOURCE_REMOVE;
}

/**
 * sip_transaction_layer_absorb_request:
 * @layer: the layer
 * @request: a received request
 * @source: where it came from
 *
 * Lets a server transaction handle a retransmitted request, or the ACK
 * for a non-2xx final response.
 *
 * Returns: %TRUE when a transaction absorbed @request; %FALSE when it is
 * for the TU: a new request, or an ACK for a 2xx.
 */
gboolean
sip_transaction_layer_absorb_request (SipTransactionLayer * layer,
    const osip_message_t * request, GSocketAddress * source)
{
  gboolean ack = strcmp (request->sip_method, "ACK") == 0;
  gchar *key = server_key (request, ack ? "INVITE" : request->sip_method);
  SipTransaction *tr;

  if (key == NULL)
    return FALSE;
  tr = g_hash_table_lookup (layer->transactions, key);
  g_free (key);
  if (tr == NULL)
    return FALSE;

  if (ack) {
    switch (tr->state) {
      case SIP_TRANSACTION_STATE_COMPLETED:
        /* 17.2.1: Confirmed, Timer I */
        tr->state = SIP_TRANSACTION_STATE_CONFIRMED;
        clear_timer (&tr->retransmit_timer);
        clear_timer (&tr->timeout_timer);
        tr->wait_timer = start_timer (tr, layer->timers.t4, timer_i_fired);
        return TRUE;
      case SIP_TRANSACTION_STATE_ACCEPTED:
        /* RFC 6026 7.1: an ACK for the 2xx goes to the TU (a peer that
         * reused the INVITE branch) */
        return FALSE;
      default:
        return TRUE;
    }
  }

  g_debug ("retransmitted %s absorbed by transaction %s (state %d)",
      request->sip_method, tr->key, tr->state);
  /* the answer goes where the retransmission came from (a NAT may have
   * rebound the caller's port) */
  if (source && !sip_socket_address_equal (source, tr->peer)) {
    g_object_unref (tr->peer);
    tr->peer = g_object_ref (source);
  }
  switch (tr->state) {
    case SIP_TRANSACTION_STATE_PROCEEDING:
    case SIP_TRANSACTION_STATE_COMPLETED:
      /* the last provisional or final response again */
      send_message (tr);
      break;
    default:
      /* Trying: no response yet; Accepted/Confirmed: absorbed (RFC 6026) */
      break;
  }
  return TRUE;
}

/**
 * sip_transaction_layer_find_invite:
 * @layer: the layer
 * @cancel: a CANCEL request
 *
 * RFC 3261 9.2: the INVITE server transaction a CANCEL refers to.
 *
 * Returns: (transfer none) (nullable): the transaction
 */
SipTransaction *
sip_transaction_layer_find_invite (SipTransactionLayer * layer,
    const osip_message_t * cancel)
{
  gchar *key = server_key (cancel, "INVITE");
  SipTransaction *tr = NULL;

  if (key) {
    tr = g_hash_table_lookup (layer->transactions, key);
    g_free (key);
  }
  return tr;
}

/* ---- Client transactions (non-INVITE) ----------------------------------- */

static gboolean
timer_e_fired (gpointer data)
{
  SipTransaction *tr = data;

  send_message (tr);
  if (tr->state == SIP_TRANSACTION_STATE_PROCEEDING)
    tr->interval = tr->layer->timers.t2;
  else
    tr->interval = MIN (tr->interval * 2, tr->layer->timers.t2);
  clear_timer (&tr->retransmit_timer);
  tr->retransmit_timer = start_timer (tr, tr->interval, timer_e_fired);
  return G_SOURCE_REMOVE;
}

static void
report_result (SipTransaction * tr, const osip_message_t * response)
{
  SipClientResultFunc func = tr->result_func;

  tr->result_func = NULL;
  if (func)
    func (tr, response, tr->result_data);
}

static gboolean
timer_f_fired (gpointer data)
{
  SipTransaction *tr = sip_transaction_ref (data);

  g_debug ("Timer F: no final response to %s", tr->request->sip_method);
  terminate (tr);
  report_result (tr, NULL);
  sip_transaction_unref (tr);
  return G_SOURCE_REMOVE;
}

/**
 * sip_transaction_client_new:
 * @layer: the layer
 * @request: (transfer full): a non-INVITE request with a Via branch
 * @dest: where to send it
 * @func: (scope notified): called once with the final response, or
 *   %NULL on timeout
 * @user_data: for @func
 * @notify: frees @user_data
 *
 * Sends @request and retransmits it until a final response or Timer F.
 *
 * Returns: (transfer none): the transaction, owned by @layer
 */
SipTransaction *
sip_transaction_client_new (SipTransactionLayer * layer,
    osip_message_t * request, GSocketAddress * dest,
    SipClientResultFunc func, gpointer user_data, GDestroyNotify notify)
{
  const gchar *branch = sip_message_get_top_branch (request);
  SipTransaction *tr;

  tr = transaction_new (layer, SIP_TRANSACTION_NON_INVITE_CLIENT,
      client_key (branch ? branch : "", request->sip_method), request, dest);
  tr->state = SIP_TRANSACTION_STATE_TRYING;
  tr->result_func = func;
  tr->result_data = user_data;
  tr->result_notify = notify;
  tr->message = sip_message_to_string (request, &tr->message_len);
  send_message (tr);
  tr->interval = layer->timers.t1;
  tr->retransmit_timer = start_timer (tr, tr->interval, timer_e_fired);
  tr->timeout_timer = start_timer (tr, 64 * layer->timers.t1, timer_f_fired);
  return tr;
}

static gboolean
timer_k_fired (gpointer data)
{
  terminate (data);
  return G_SOURCE_REMOVE;
}

/**
 * sip_transaction_layer_receive_response:
 * @layer: the layer
 * @response: a received response
 *
 * Returns: %TRUE if it belonged to a client transaction; other responses
 * are stray and dropped by the caller
 */
gboolean
sip_transaction_layer_receive_response (SipTransactionLayer * layer,
    const osip_message_t * response)
{
  const gchar *branch = sip_message_get_top_branch (response);
  const gchar *method = sip_message_get_cseq_method (response);
  guint status = osip_message_get_status_code (response);
  SipTransaction *tr;
  gchar *key;

  if (branch == NULL || method == NULL || status < 100 || status > 699)
    return FALSE;
  key = client_key (branch, method);
  tr = g_hash_table_lookup (layer->transactions, key);
  g_free (key);
  if (tr == NULL)
    return FALSE;

  switch (tr->state) {
    case SIP_TRANSACTION_STATE_TRYING:
    case SIP_TRANSACTION_STATE_PROCEEDING:
      if (status < 200) {
        tr->state = SIP_TRANSACTION_STATE_PROCEEDING;
        break;
      }
      /* Completed, Timer K absorbs response retransmissions */
      sip_transaction_ref (tr);
      tr->state = SIP_TRANSACTION_STATE_COMPLETED;
      tr->status = status;
      clear_timer (&tr->retransmit_timer);
      clear_timer (&tr->timeout_timer);
      tr->wait_timer = start_timer (tr, layer->timers.t4, timer_k_fired);
      report_result (tr, response);
      sip_transaction_unref (tr);
      break;
    default:
      break;
  }
  return TRUE;
}

/* ---- Accessors ---------------------------------------------------------- */

SipTransactionKind
sip_transaction_get_kind (SipTransaction * tr)
{
  return tr->kind;
}

SipTransactionState
sip_transaction_get_state (SipTransaction * tr)
{
  return tr->state;
}

const osip_message_t *
sip_transaction_get_request (SipTransaction * tr)
{
  return tr->request;
}

GSocketAddress *
sip_transaction_get_peer (SipTransaction * tr)
{
  return tr->peer;
}

/* the status code of the last response sent (server) or received
 * (client), 0 if none */
guint
sip_transaction_get_status (SipTransaction * tr)
{
  return tr->status;
}

void
sip_transaction_set_owner (SipTransaction * tr, gpointer owner,
    GDestroyNotify notify)
{
  if (tr->owner_notify)
    tr->owner_notify (tr->owner);
  tr->owner = owner;
  tr->owner_notify = notify;
}

gpointer
sip_transaction_get_owner (SipTransaction * tr)
{
  return tr->owner;
}
