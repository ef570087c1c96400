#
# Copyright (c) 2026, The gst-sip authors
#
# SPDX-License-Identifier: BSD-2-Clause
#

"""Pipecat on SIP phone calls, through GStreamer and the gst-sip user-agent server.

::

    from pipecat_sip import SIPTransport, SIPParams
    from pipecat_sip.runner import main, create_transport

See :mod:`pipecat_sip.transport` (the transport), :mod:`pipecat_sip.runner` (running a
``bot(runner_args)`` per call) and :mod:`pipecat_sip.config` (environment settings).
"""

from pipecat_sip.call import SIPCall
from pipecat_sip.config import SIPConfigError, SIPServerConfig
from pipecat_sip.transport import SIPParams, SIPTransport

__version__ = "0.1.0"

__all__ = [
    "SIPCall",
    "SIPConfigError",
    "SIPParams",
    "SIPServerConfig",
    "SIPTransport",
    "__version__",
]
