/* gst-sip: SIP transactions over UDP, RFC 3261 17 and RFC 6026 (private)
 * Copyright (C) 2026 The gst-sip authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>
#include <osipparser2/osip_parser.h>
#include "sip-transport.h"

G_BEGIN_DECLS

typedef struct _SipTransactionLayer SipTransactionLayer;
typedef struct _SipTransaction SipTransaction;

typedef enum
{
  SIP_TRANSACTION_INVITE_SERVER,
  SIP_TRANSACTION_NON_INVITE_SERVER,
  SIP_TRANSACTION_NON_INVITE_CLIENT,
} SipTransactionKind;

typedef enum
{
  SIP_TRANSACTION_STATE_TRYING,
  SIP_TRANSACTION_STATE_PROCEEDING,
  SIP_TRANSACTION_STATE_COMPLETED,
  SIP_TRANSACTION_STATE_CONFIRMED,
  SIP_TRANSACTION_STATE_ACCEPTED,
  SIP_TRANSACTION_STATE_TERMINATED,
} SipTransactionState;

/* RFC 3261 Table 4, in milliseconds */
typedef struct
{
  guint t1;
  guint t2;
  guint t4;
} SipTimers;

#define SIP_TIMER_T1_DEFAULT 500
#define SIP_TIMER_T2_DEFAULT 4000
#define SIP_TIMER_T4_DEFAULT 5000

/* most live transactions at once (each lives up to 64*T1 = 32 s): new
 * requests beyond it are dropped, so a flood cannot grow memory */
#define SIP_MAX_TRANSACTIONS_DEFAULT 16384

void sip_timers_init (SipTimers * timers);

/* A client transaction's outcome: the final response, or NULL on timeout
 * (Timer F) */
typedef void (*SipClientResultFunc) (SipTransaction * transaction,
    const osip_message_t * response, gpointer user_data);

SipTransactionLayer *sip_transaction_layer_new (SipTransport * transport,
    GMainContext * context, const SipTimers * timers);
void sip_transaction_layer_free (SipTransactionLayer * layer);
const SipTimers *sip_transaction_layer_get_timers (SipTransactionLayer *
    layer);
guint sip_transaction_layer_get_size (SipTransactionLayer * layer);

gboolean sip_transaction_layer_absorb_request (SipTransactionLayer * layer,
    const osip_message_t * request, GSocketAddress * source);
gboolean sip_transaction_layer_receive_response (SipTransactionLayer * layer,
    const osip_message_t * response);
SipTransaction *sip_transaction_layer_find_invite (SipTransactionLayer *
    layer, const osip_message_t * cancel);

SipTransaction *sip_transaction_server_new (SipTransactionLayer * layer,
    osip_message_t * request, GSocketAddress * source);
SipTransaction *sip_transaction_client_new (SipTransactionLayer * layer,
    osip_message_t * request, GSocketAddress * dest,
    SipClientResultFunc func, gpointer user_data, GDestroyNotify notify);

SipTransaction *sip_transaction_ref (SipTransaction * transaction);
void sip_transaction_unref (SipTransaction * transaction);

void sip_transaction_respond (SipTransaction * transaction,
    osip_message_t * response);

SipTransactionKind sip_transaction_get_kind (SipTransaction * transaction);
SipTransactionState sip_transaction_get_state (SipTransaction * transaction);
const osip_message_t *sip_transaction_get_request (SipTransaction *
    transaction);
GSocketAddress *sip_transaction_get_peer (SipTransaction * transaction);
guint sip_transaction_get_status (SipTransaction * transaction);
void sip_transaction_set_owner (SipTransaction * transaction, gpointer owner,
    GDestroyNotify notify);
gpointer sip_transaction_get_owner (SipTransaction * transaction);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SipTransaction, sip_transaction_unref)

G_END_DECLS
