/* gst-sip: helpers for the sip/ unit tests
 * Copyright (C) 2026 The gst-sip authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>
#include "sip.h"

G_BEGIN_DECLS

/* A SIP peer on a real UDP socket (127.0.0.1, any free port) */
typedef struct
{
  GSocket *socket;
  guint port;
} TestPeer;

TestPeer *test_peer_new (void);
TestPeer *test_peer_new_on (const gchar * ip, guint port);
void test_peer_free (TestPeer * peer);
void test_peer_send (TestPeer * peer, guint port, const gchar * text);
void test_peer_send_raw (TestPeer * peer, guint port, const gchar * data,
    gsize len);
gchar *test_peer_recv (TestPeer * peer, guint timeout_ms);
gchar *test_peer_recv_response (TestPeer * peer, guint timeout_ms,
    guint status);
gchar *test_peer_recv_request (TestPeer * peer, guint timeout_ms,
    const gchar * method);
guint test_peer_drain (TestPeer * peer, guint timeout_ms);

/* Reading messages as text */
guint test_msg_status (const gchar * msg);
gchar *test_msg_header (const gchar * msg, const gchar * name);
gchar *test_msg_header_param (const gchar * msg, const gchar * name,
    const gchar * param);
const gchar *test_msg_body (const gchar * msg);
guint test_msg_count_header (const gchar * msg, const gchar * name);

/* One call from the peer's side */
typedef struct
{
  guint agent_port;
  guint peer_port;
  gchar *call_id;
  gchar *from_tag;
  gchar *to_tag;
  guint cseq;
  gchar *invite_branch;
} TestDialog;

TestDialog *test_dialog_new (TestPeer * peer, guint agent_port);
void test_dialog_free (TestDialog * dialog);
gchar *test_dialog_request (TestDialog * dialog, const gchar * method,
    const gchar * branch, guint cseq, const gchar * extra_headers,
    const gchar * body);
gchar *test_sdp_offer (guint port, const gchar * payloads,
    const gchar * extra);

/* An agent on 127.0.0.1, any free port, short timers */
typedef enum
{
  TEST_ANSWER_NONE,             /* no handler: 480 */
  TEST_ANSWER_KEEP,             /* take the call, do nothing */
  TEST_ANSWER_RING,             /* take it and ring */
  TEST_ANSWER_ANSWER,           /* take it, ring and answer */
} TestAnswerMode;

typedef struct
{
  SipAgent *agent;
  guint port;
  TestAnswerMode mode;
  GAsyncQueue *calls;           /* SipCall taken by the handler */
  GAsyncQueue *events;          /* gchar*: "state:<call-id>:<nick>", "media:<call-id>" */
  gint incoming_count;
} TestAgent;

#define TEST_T1_MS 20

void test_set_short_timers (void);
TestAgent *test_agent_new (TestAnswerMode mode, const gchar * first_property,
    ...);
void test_agent_free (TestAgent * agent);
SipCall *test_agent_pop_call (TestAgent * agent, guint timeout_ms);
gboolean test_agent_wait_active_calls (TestAgent * agent, guint n,
    guint timeout_ms);
gchar *test_state_event (SipCall * call, SipCallState state);
gboolean test_agent_wait_event (TestAgent * agent, const gchar * event,
    guint timeout_ms);

G_END_DECLS
