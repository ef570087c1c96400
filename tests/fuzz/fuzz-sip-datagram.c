/* gst-sip: libFuzzer target: a UDP datagram into a running SipAgent
 * Copyright (C) 2026 The gst-sip authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Each input is one datagram "from" 127.0.0.1:9 (discard), handled the
 * way the SIP socket's handler does it: parsing, checks, policy,
 * transactions, dialogs, SDP negotiation and the responses (sent to the
 * discard port).  Calls are answered, so 200 OK, ACK and BYE handling are
 * reached too.  Short timers keep the transactions from piling up.
 * Criticals are fatal: a g_return_if_fail() hit is a bug. */

#include "sip-private.h"

#include <stdint.h>
#include <stdlib.h>

static SipAgent *agent;
static GSocketAddress *source;

static gboolean
on_incoming_call (SipAgent * a, SipCall * call, gpointer user_data)
{
  sip_call_answer (call);
  return TRUE;
}

static void
drop_log (const gchar * domain, GLogLevelFlags level, const gchar * message,
    gpointer user_data)
{
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
    abort ();
}

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  GInetAddress *loopback;
  GError *error = NULL;

  g_log_set_default_handler (drop_log, NULL);
  g_setenv ("SIP_TIMER_T1_MS", "1", TRUE);
  g_setenv ("SIP_TIMER_T2_MS", "4", TRUE);
  g_setenv ("SIP_TIMER_T4_MS", "5", TRUE);
  agent = sip_agent_new ();
  g_object_set (agent, "host", "127.0.0.1", "port", 0,
      "rtp-port-range", "30000-30999", "invite-rate-limit", 0, NULL);
  g_signal_connect (agent, "incoming-call", G_CALLBACK (on_incoming_call),
      NULL);
  if (!sip_agent_start (agent, &error)) {
    fprintf (stderr, "cannot start the agent: %s\n", error->message);
    abort ();
  }
  loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  source = g_inet_socket_address_new (loopback, 9);
  g_object_unref (loopback);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  sip_agent_inject_datagram (agent, source, (const gchar *) data, size);
  return 0;
}
