#
# Copyright (c) 2026, The gst-sip authors
#
# SPDX-License-Identifier: BSD-2-Clause
#

"""Loading GStreamer, the ``sip`` plugin and the ``Sip`` typelib through PyGObject.

The C parts of gst-sip (``libsipua-1.0.so`` with its ``Sip-1.0.typelib``, and the
GStreamer plugin ``libgstsip.so``) are usually used straight from the project's
meson build tree. They are found, in this order:

1. wherever ``GI_TYPELIB_PATH`` / ``GST_PLUGIN_PATH`` / ``LD_LIBRARY_PATH`` already
   point (and the system's default locations, for an installed build);
2. ``$GST_SIP_BUILDDIR/sip`` and ``$GST_SIP_BUILDDIR/gst`` when that variable is set;
3. ``<repository>/build/sip`` and ``<repository>/build/gst`` (the build directory
   of the checkout this package is installed from in editable mode).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import ModuleType

import gi

gi.require_version("GLib", "2.0")
gi.require_version("GObject", "2.0")
gi.require_version("Gio", "2.0")
gi.require_version("Gst", "1.0")
gi.require_version("GstApp", "1.0")
gi.require_version("GIRepository", "2.0")

from gi.repository import GIRepository, GLib, GObject, Gst, GstApp  # noqa: E402

from loguru import logger  # noqa: E402

__all__ = [
    "GLib",
    "GObject",
    "Gst",
    "GstApp",
    "SipLibraryError",
    "build_dirs",
    "ensure_gst",
    "load_sip",
]

_lock = threading.Lock()
_gst_ready = False
_sip_module: ModuleType | None = None


class SipLibraryError(RuntimeError):
    """The gst-sip C library (typelib) or GStreamer plugin could not be loaded."""


def _repo_root() -> Path:
    # python/src/pipecat_sip/_gi.py -> the repository root.
    return Path(__file__).resolve().parents[3]


def build_dirs() -> list[Path]:
    """Return the candidate meson build directories, most specific first.

    Returns:
        ``$GST_SIP_BUILDDIR`` (when set) and ``<repository>/build``, those that exist.
    """
    candidates: list[Path] = []
    env = os.environ.get("GST_SIP_BUILDDIR")
    if env:
        candidates.append(Path(env))
    candidates.append(_repo_root() / "build")
    seen: set[Path] = set()
    out: list[Path] = []
    for c in candidates:
        try:
            c = c.resolve()
        except OSError:
            continue
        if c not in seen and c.is_dir():
            seen.add(c)
            out.append(c)
    return out


def ensure_gst() -> None:
    """Initialise GStreamer once and make sure the ``sipsrc``/``sipsink`` elements exist.

    Raises:
        SipLibraryError: if the ``sip`` GStreamer plugin cannot be found.
    """
    global _gst_ready
    with _lock:
        if _gst_ready:
            return
        if not Gst.is_initialized():
            Gst.init(None)
        if Gst.ElementFactory.find("sipsrc") is None:
            registry = Gst.Registry.get()
            for d in build_dirs():
                gst_dir = d / "gst"
                if gst_dir.is_dir():
                    logger.debug(f"pipecat-sip: scanning {gst_dir} for the sip plugin")
                    registry.scan_path(str(gst_dir))
                    if Gst.ElementFactory.find("sipsrc") is not None:
                        break
        missing = [n for n in ("sipsrc", "sipsink") if Gst.ElementFactory.find(n) is None]
        if missing:
            raise SipLibraryError(
                f"GStreamer element(s) {', '.join(missing)} not found: build gst-sip "
                "(meson setup build && meson compile -C build) and/or set GST_PLUGIN_PATH "
                "to the directory holding libgstsip.so"
            )
        for needed in ("appsrc", "fdsink", "audioconvert", "audioresample", "capsfilter"):
            if Gst.ElementFactory.find(needed) is None:
                raise SipLibraryError(
                    f"GStreamer element {needed} not found (install gstreamer1.0-plugins-base)"
                )
        _gst_ready = True


def load_sip() -> ModuleType:
    """Import the ``Sip`` 1.0 namespace (SipAgent, SipCall) through GObject introspection.

    Returns:
        The ``gi.repository.Sip`` module.

    Raises:
        SipLibraryError: if ``Sip-1.0.typelib`` or ``libsipua-1.0.so`` cannot be found.
    """
    global _sip_module
    with _lock:
        if _sip_module is not None:
            return _sip_module
        repo = GIRepository.Repository
        for d in reversed(build_dirs()):
            sip_dir = d / "sip"
            if (sip_dir / "Sip-1.0.typelib").exists():
                repo.prepend_search_path(str(sip_dir))
                repo.prepend_library_path(str(sip_dir))
        try:
            gi.require_version("Sip", "1.0")
            from gi.repository import Sip  # type: ignore[attr-defined]
        except (ValueError, ImportError) as e:
            raise SipLibraryError(
                f"cannot load the Sip 1.0 typelib ({e}): build gst-sip "
                "(meson setup build && meson compile -C build) and/or set GI_TYPELIB_PATH "
                "and LD_LIBRARY_PATH to the directory holding Sip-1.0.typelib and libsipua-1.0.so"
            ) from e
        _sip_module = Sip
        return Sip
