/* gst-sip: SIP user-agent server
 * Copyright (C) 2026 The gst-sip authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>
#include "sip-call.h"

G_BEGIN_DECLS

#define SIP_TYPE_AGENT (sip_agent_get_type ())
G_DECLARE_FINAL_TYPE (SipAgent, sip_agent, SIP, AGENT, GObject)

/**
 * SIP_AGENT_DEFAULT_PORT:
 *
 * The SIP UDP port an agent listens on unless told otherwise.
 */
#define SIP_AGENT_DEFAULT_PORT 6060

/**
 * SIP_AGENT_DEFAULT_RTP_PORT_RANGE:
 *
 * The range RTP/RTCP port pairs are taken from unless told otherwise.
 */
#define SIP_AGENT_DEFAULT_RTP_PORT_RANGE "10000-15000"

/**
 * SipAgentError:
 * @SIP_AGENT_ERROR_BIND: the SIP port could not be bound (in use, no permission)
 * @SIP_AGENT_ERROR_CONFIG: a setting is malformed (port range, CIDR, address)
 * @SIP_AGENT_ERROR_STATE: the agent is already started, or not started
 */
typedef enum
{
  SIP_AGENT_ERROR_BIND,
  SIP_AGENT_ERROR_CONFIG,
  SIP_AGENT_ERROR_STATE,
} SipAgentError;

#define SIP_AGENT_ERROR (sip_agent_error_quark ())
GQuark sip_agent_error_quark (void);

GType sip_agent_error_get_type (void);
#define SIP_TYPE_AGENT_ERROR (sip_agent_error_get_type ())

SipAgent *sip_agent_new (void);

gboolean sip_agent_start (SipAgent * agent, GError ** error);
void sip_agent_stop (SipAgent * agent);
void sip_agent_drain (SipAgent * agent);

guint sip_agent_get_bound_port (SipAgent * agent);
guint sip_agent_get_active_calls (SipAgent * agent);

G_END_DECLS
