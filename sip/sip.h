/* gst-sip: SIP user-agent server library
 * Copyright (C) 2026 The gst-sip authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "sip-agent.h"
#include "sip-call.h"
