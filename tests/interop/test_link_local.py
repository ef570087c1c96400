"""An IPv6 link-local caller (fe80::...%veth0) reaches an agent listening on "::".

The 200 OK's Contact and its SDP must name the agent's own link-local address, the
one the caller can reach, not ::1: the agent finds its address by asking the kernel
for the route to the caller, and a link-local route exists only with the caller's
scope (interface). Two network namespaces joined by a veth pair; needs root.
"""

import time

import pytest

from conftest import HERE, sip_lib_env

PYTHON = "/usr/bin/python3"
SIP_PORT = 5060
CALLER_IP, AGENT_IP = "fe80::a", "fe80::b"

# Sends one INVITE from [local%ifname] to [remote%ifname]:port (again every 0.5 s
# until a response, as Timer A) and prints the first final response.
INVITE_SCRIPT = r"""
import socket, sys, time, uuid
local, remote, ifname, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
scope = socket.if_nametoindex(ifname)
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind((local, 0, 0, scope))
lport = s.getsockname()[1]
sdp = (f"v=0\r\no=- 1 1 IN IP6 {local}\r\ns=-\r\nc=IN IP6 {local}\r\nt=0 0\r\n"
       "m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
invite = (f"INVITE sip:bot@[{remote}]:{port} SIP/2.0\r\n"
          f"Via: SIP/2.0/UDP [{local}]:{lport};branch=z9hG4bK{uuid.uuid4().hex}\r\n"
          "Max-Forwards: 70\r\n"
          f"From: <sip:caller@[{local}]>;tag={uuid.uuid4().hex[:8]}\r\n"
          f"To: <sip:bot@[{remote}]>\r\n"
          f"Call-ID: {uuid.uuid4().hex}\r\n"
          "CSeq: 1 INVITE\r\n"
          f"Contact: <sip:caller@[{local}]:{lport}>\r\n"
          "Content-Type: application/sdp\r\n"
          f"Content-Length: {len(sdp)}\r\n\r\n{sdp}")
s.settimeout(0.5)
deadline = time.monotonic() + 8
while time.monotonic() < deadline:
    s.sendto(invite.encode(), (remote, port, 0, scope))
    try:
        while True:
            data = s.recv(65535).decode()
            if not data.startswith("SIP/2.0 1"):
                print(data)
                sys.exit(0)
    except socket.timeout:
        pass
sys.exit("no final response")
"""


def test_link_local_caller_gets_a_reachable_contact_and_sdp(netpair, procs):
    a, b = netpair.a, netpair.b
    for host, ip in ((a, CALLER_IP), (b, AGENT_IP)):
        r = host.run("ip", "-6", "addr", "add", f"{ip}/64", "dev", host.ifname, "nodad",
                     check=False)
        if r.returncode != 0:
            pytest.skip(f"no IPv6 in the namespaces: {r.stderr.strip()}")
    agent = procs.start("agent", b.cmd(PYTHON, str(HERE / "sipua.py"), "--host", "::",
                                       "--port", str(SIP_PORT), "--mode", "answer",
                                       "--rtp-port-range", "20000-20009"),
                        env=sip_lib_env())
    deadline = time.monotonic() + 15
    while "listening" not in agent.output():
        assert agent.poll() is None and time.monotonic() < deadline, agent.output()
        time.sleep(0.05)

    r = a.run(PYTHON, "-c", INVITE_SCRIPT, CALLER_IP, AGENT_IP, a.ifname, str(SIP_PORT),
              check=False)
    assert r.returncode == 0, r.stderr
    response = r.stdout.replace("\r\n", "\n")
    assert response.startswith("SIP/2.0 200"), response
    headers, _, body = response.partition("\n\n")
    contact = next(line for line in headers.split("\n") if line.lower().startswith("contact:"))
    assert f"[{AGENT_IP}]" in contact, response
    assert f"c=IN IP6 {AGENT_IP}" in body, response
