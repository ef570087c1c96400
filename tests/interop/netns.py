"""Two network namespaces joined by a veth pair, with nftables loss rules, for the
fault tests (see /work/shared/TESTING.md "Loss, jitter, reordering").

The kernel here has no netem; loss is made by nftables rules on the *input* hook of
each namespace (dropping on output would make sendto() fail with EPERM instead of
losing the packet). Everything is created with unique names and removed by
NetPair.delete(), which the fixture calls even when the test fails. Needs root.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
from dataclasses import dataclass


def _run(*args: str, input_text: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), input=input_text, text=True, capture_output=True, check=check)


def have_root_netns() -> str | None:
    """None if namespaces, veth and nftables can be used here, else why not."""
    if os.geteuid() != 0:
        return "needs root (ip netns, nft)"
    for tool in ("ip", "nft"):
        if _run("sh", "-c", f"command -v {tool}", check=False).returncode != 0:
            return f"{tool} not installed"
    return None


@dataclass
class Host:
    """One side of the pair: its namespace, interface and address."""

    ns: str
    ifname: str
    ip: str

    def cmd(self, *args: str) -> list[str]:
        """A command line that runs `args` inside this namespace."""
        return ["ip", "netns", "exec", self.ns, *args]

    def run(self, *args: str, input_text: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        return _run(*self.cmd(*args), input_text=input_text, check=check)

    def nft(self, ruleset: str) -> None:
        """Load an nftables ruleset (text for `nft -f -`) into this namespace."""
        self.run("nft", "-f", "-", input_text=ruleset)

    def nft_counters(self) -> dict[str, int]:
        """Packets counted so far: named counters by name, anonymous rule counters as
        "<chain>#<rule handle>" (the rule's comment if it has one)."""
        out = json.loads(self.run("nft", "-j", "list", "ruleset").stdout)
        counts: dict[str, int] = {}
        for item in out.get("nftables", []):
            if "counter" in item:
                c = item["counter"]
                counts[c["name"]] = int(c.get("packets", 0))
            elif "rule" in item:
                r = item["rule"]
                for e in r.get("expr", []):
                    if isinstance(e, dict) and isinstance(e.get("counter"), dict):
                        key = r.get("comment") or f"{r['chain']}#{r['handle']}"
                        counts[key] = int(e["counter"].get("packets", 0))
        return counts

    def udp_bound(self, port: int) -> bool:
        """Whether a UDP socket in this namespace is bound to `port`."""
        hexport = ":%04X" % port
        text = self.run("cat", "/proc/net/udp", "/proc/net/udp6", check=False).stdout
        return any(len(line.split()) > 1 and line.split()[1].endswith(hexport)
                   for line in text.splitlines()[1:])


class NetPair:
    """Namespaces `a` (caller) and `b` (server) joined by veth, 10.R.S.1 <-> 10.R.S.2."""

    def __init__(self, tag: str | None = None):
        tag = tag or f"{os.getpid() % 100000}{random.randrange(1000):03d}"
        self.tag = tag
        net = f"10.{random.randrange(100, 250)}.{random.randrange(1, 250)}"
        self.a = Host(f"gsf-a-{tag}", "veth0", f"{net}.1")
        self.b = Host(f"gsf-b-{tag}", "veth0", f"{net}.2")
        self.netem = False
        self._created: list[str] = []

    def create(self) -> NetPair:
        for h in (self.a, self.b):
            _run("ip", "netns", "add", h.ns)
            self._created.append(h.ns)
            h.run("ip", "link", "set", "lo", "up")
        # both ends are made inside the namespaces: no name is used in the host's
        _run("ip", "link", "add", self.a.ifname, "netns", self.a.ns, "type", "veth",
             "peer", "name", self.b.ifname, "netns", self.b.ns)
        for h in (self.a, self.b):
            h.run("ip", "addr", "add", f"{h.ip}/24", "dev", h.ifname)
            h.run("ip", "link", "set", h.ifname, "up")
        return self

    def try_netem(self, delay_ms: int, jitter_ms: int) -> bool:
        """Add netem delay/jitter on both ends if this kernel has netem (the tests do
        not depend on it: their RTP sender jitters by itself)."""
        ok = True
        for h in (self.a, self.b):
            r = h.run("tc", "qdisc", "add", "dev", h.ifname, "root", "netem", "delay",
                      f"{delay_ms}ms", f"{jitter_ms}ms", check=False)
            ok = ok and r.returncode == 0
        self.netem = ok
        return ok

    def delete(self) -> list[str]:
        """Delete the namespaces (with them the veth pair and the nft rules). Returns
        the ones that could not be deleted (empty when all went)."""
        left = []
        for ns in reversed(self._created):
            if _run("ip", "netns", "del", ns, check=False).returncode != 0:
                left.append(ns)
        self._created = left
        return left


def loss_ruleset(percent: int, forced: list[tuple[str, str]] = ()) -> str:
    """An nftables table for a namespace's input hook: first drop the packets named
    in `forced` (name, nft match), each only the first time a source sends
    one (a dynamic set remembers the source), counted in a named counter `name`; then
    drop `percent` % of all UDP at random (counter "random_loss"); count the UDP
    accepted (counter "udp_in")."""
    sets = []
    rules = []
    counters = []
    for name, match in forced:
        sets.append(f"  set seen_{name} {{ type ipv4_addr; flags dynamic; }}")
        counters.append(f"  counter {name} {{ }}")
        rules.append(f"    {match} ip saddr != @seen_{name} add @seen_{name} {{ ip saddr }} "
                     f"counter name {name} drop")
    counters += ["  counter random_loss { }", "  counter udp_in { }"]
    rules.append(f"    meta l4proto udp numgen random mod 100 < {int(percent)} counter name random_loss drop")
    rules.append("    meta l4proto udp counter name udp_in")
    return ("table inet faults {\n" + "\n".join(counters + sets) + "\n"
            "  chain input {\n    type filter hook input priority 0; policy accept;\n"
            + "\n".join(rules) + "\n  }\n}\n")


def payload_starts(port_match: str, text: str) -> str:
    """An nft match for UDP packets `port_match` (e.g. "udp dport 5060") whose payload
    starts with `text` (raw payload at the transport header + 8 bytes)."""
    data = text.encode()
    return f"{port_match} @th,64,{8 * len(data)} 0x{data.hex()}"
