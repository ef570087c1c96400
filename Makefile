# gst-sip: set up, build, run and test on Debian 12.
#
#   make run     install what is missing, build, run the demo bot on UDP port $(PORT)
#   make test    install what is missing, build, run every test suite
#
# Every target is safe to run again: packages are installed only when missing
# (no network needed on a second run) and meson only rebuilds what changed.

SHELL := /bin/sh
.DEFAULT_GOAL := help

PORT ?= 6060
BUILD_DIR ?= build
PYTHON ?= /usr/bin/python3
PYTEST_ARGS ?=
# seconds per fuzz target in `make test` (a manual `make fuzz` runs
# FUZZ_SECONDS, 30)
TEST_FUZZ_SECONDS ?= 20
# a stalled input fails a manual `make fuzz` (10 s); make test does not wait
# on stalls (0: no per-input limit, the run is killed at its time + 60 s)
# and fails on crashes only
FUZZ_UNIT_TIMEOUT ?= 10

# Debian packages needed to build, run and test everything.
APT_PACKAGES = \
	build-essential pkg-config meson ninja-build \
	libglib2.0-dev libosip2-dev \
	libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev \
	gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good \
	gstreamer1.0-plugins-bad \
	gobject-introspection libgirepository1.0-dev gir1.2-gstreamer-1.0 \
	python3 python3-gi python3-gst-1.0 python3-venv \
	python3-pytest python3-numpy \
	sip-tester baresip sox espeak-ng iproute2 nftables wireshark-common \
	clang libclang-rt-14-dev valgrind

# root runs apt-get directly; anyone else goes through sudo when it exists.
SUDO := $(shell [ "$$(id -u)" = 0 ] || { command -v sudo >/dev/null 2>&1 && echo sudo; })

# The elements are loaded from the build tree; the SIP library's typelib too.
RUN_ENV = GST_PLUGIN_PATH="$(CURDIR)/$(BUILD_DIR)/gst$${GST_PLUGIN_PATH:+:$$GST_PLUGIN_PATH}" \
	GI_TYPELIB_PATH="$(CURDIR)/$(BUILD_DIR)/sip$${GI_TYPELIB_PATH:+:$$GI_TYPELIB_PATH}" \
	LD_LIBRARY_PATH="$(CURDIR)/$(BUILD_DIR)/sip$${LD_LIBRARY_PATH:+:$$LD_LIBRARY_PATH}" \
	GST_SIP_BUILDDIR="$(CURDIR)/$(BUILD_DIR)"

.PHONY: help deps build run run-echo test test-c test-interop test-python venv clean distclean

help:
	@echo "make run        install dependencies, build, run the Pipecat demo bot on UDP port $(PORT)"
	@echo "make run-echo   same, always the echo pipeline (plays each caller's voice back)"
	@echo "make test       install dependencies, build, run all tests (C, interop, Python, fuzz, ASan)"
	@echo "make deps       install missing Debian packages (apt-get, as root or with sudo)"
	@echo "make build      meson setup + compile into $(BUILD_DIR)/"
	@echo "make venv       create .venv/ (pipecat-ai from PyPI, pipecat_sip editable)"
	@echo "make test-c     the meson tests (gst-check, the SIP library)"
	@echo "make test-interop  calls from sipp and baresip over loopback"
	@echo "make test-python   the Pipecat transport's tests, in .venv/"
	@echo "make fuzz       the libFuzzer targets (SIP, SDP, RTP; clang), FUZZ_SECONDS each"
	@echo "make test-asan  the meson tests under AddressSanitizer; test-asan-interop: the interop tests"
	@echo "make bench      build, run the benchmark (<= 10 min; BENCH_QUICK=1: < 2 min), write tests/bench/RESULTS.md"
	@echo "make clean      remove $(BUILD_DIR)/ and test output; distclean also removes .venv/"

deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${db:Status-Status}\n' "$$p" 2>/dev/null | grep -qx installed \
	    || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then \
	  echo "deps: all Debian packages present"; \
	else \
	  echo "deps: installing:$$missing"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi

build:
	@if [ -f "$(BUILD_DIR)/build.ninja" ]; then :; \
	elif [ -f "$(BUILD_DIR)/meson-private/coredata.dat" ] && meson setup --reconfigure "$(BUILD_DIR)"; then :; \
	else rm -rf "$(BUILD_DIR)" && meson setup "$(BUILD_DIR)"; fi
	meson compile -C "$(BUILD_DIR)"

# The main job: the Pipecat demo bot (no API keys, no network), one pipeline per call.
run: deps build venv
	@$(RUN_ENV) SIP_SERVER_PORT=$(PORT) .venv/bin/python -m pipecat_sip.demo

run-echo: deps build
	@$(MAKE) --no-print-directory run-echo-only

.PHONY: run-echo-only
run-echo-only:
	@host=$$(hostname -I 2>/dev/null | awk '{print $$1}'); [ -n "$$host" ] || host=127.0.0.1; \
	echo; \
	echo "================================================================"; \
	echo " gst-sip echo: call  sip:echo@$$host:$(PORT)"; \
	echo "   baresip:  baresip -e \"/dial sip:echo@$$host:$(PORT)\""; \
	echo "   Linphone: call sip:echo@$$host:$(PORT) (G.711 u-law/PCMU enabled)"; \
	echo " You hear yourself back. Hang up to end the call; Ctrl-C stops."; \
	echo "================================================================"; \
	while $(RUN_ENV) pipelines/echo.sh $(PORT); do \
	  echo "call ended; waiting for the next call on port $(PORT)"; \
	done

test: deps build
	@status=0; \
	$(MAKE) --no-print-directory test-c || status=1; \
	$(MAKE) --no-print-directory test-interop || status=1; \
	$(MAKE) --no-print-directory test-python || status=1; \
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(TEST_FUZZ_SECONDS) FUZZ_UNIT_TIMEOUT=0 || status=1; \
	$(MAKE) --no-print-directory test-asan || status=1; \
	if [ $$status -ne 0 ]; then echo "make test: FAILED (see above)"; fi; \
	exit $$status

# C unit tests of the SIP library and the elements (suites sip and gst).
test-c: build
	meson test -C "$(BUILD_DIR)" --print-errorlogs

# Calls from real peers (sipp, baresip) over loopback.
test-interop: build
	$(RUN_ENV) $(PYTHON) -m pytest -v -p no:cacheprovider $(PYTEST_ARGS) tests/interop

# The Pipecat package (python/), in the project's .venv.
venv:
	@if [ -x python/setup-venv.sh ] || [ -f python/setup-venv.sh ]; then \
	  sh python/setup-venv.sh; \
	else echo "venv: python/setup-venv.sh not there yet, skipped"; fi

test-python: build venv
	@if ls python/tests/test_*.py >/dev/null 2>&1; then \
	  echo ".venv/bin/python -m pytest -v -p no:cacheprovider $(PYTEST_ARGS) python/tests"; \
	  $(RUN_ENV) .venv/bin/python -m pytest -v -p no:cacheprovider $(PYTEST_ARGS) python/tests; \
	else echo "test-python: no python/tests/test_*.py yet, skipped"; fi

clean:
	rm -rf "$(BUILD_DIR)" "$(FUZZ_BUILD_DIR)" "$(ASAN_BUILD_DIR)" tests/out

distclean: clean
	rm -rf .venv

# ---- Hardening (`make test` runs them last; each has its own time budget) ----

FUZZ_BUILD_DIR ?= build-fuzz
FUZZ_SECONDS ?= 30
FUZZ_TARGETS = fuzz-sip-datagram fuzz-sdp fuzz-rtp fuzz-rtp-shared
FUZZ_CORPUS_fuzz-sip-datagram = tests/fuzz/corpus/sip tests/sip/rfc4475
FUZZ_CORPUS_fuzz-sdp = tests/fuzz/corpus/sdp
FUZZ_CORPUS_fuzz-rtp = tests/fuzz/corpus/rtp
FUZZ_CORPUS_fuzz-rtp-shared = tests/fuzz/corpus/rtp
# leaks are left to test-asan: the agent's thread (and the RTP target's
# pipeline: its jitter buffer's thread) keeps state across inputs
FUZZ_ASAN_fuzz-sip-datagram = detect_leaks=0
FUZZ_ASAN_fuzz-sdp = detect_leaks=1
FUZZ_ASAN_fuzz-rtp = detect_leaks=0
FUZZ_ASAN_fuzz-rtp-shared = detect_leaks=0

.PHONY: fuzz test-asan test-asan-interop

# libFuzzer targets (clang, ASan+UBSan), each for FUZZ_SECONDS (default
# 30 s: 2 min in all); fails on a crash, leaving the crash-* file in
# $(FUZZ_BUILD_DIR)/. New corpus entries go to $(FUZZ_BUILD_DIR)/corpus/.
fuzz:
	@command -v clang >/dev/null 2>&1 || { echo "fuzz: needs clang and libclang-rt-14-dev (apt-get install clang libclang-rt-14-dev)"; exit 1; }
	@if [ ! -f "$(FUZZ_BUILD_DIR)/build.ninja" ]; then \
	  rm -rf "$(FUZZ_BUILD_DIR)" && CC=clang meson setup "$(FUZZ_BUILD_DIR)" -Dfuzzing=true; fi
	meson compile -C "$(FUZZ_BUILD_DIR)" $(addprefix tests/fuzz/,$(FUZZ_TARGETS))
	@status=0; \
	for t in $(FUZZ_TARGETS); do \
	  case $$t in \
	    fuzz-sip-datagram) corpus="$(FUZZ_CORPUS_fuzz-sip-datagram)"; asan="$(FUZZ_ASAN_fuzz-sip-datagram)";; \
	    fuzz-sdp) corpus="$(FUZZ_CORPUS_fuzz-sdp)"; asan="$(FUZZ_ASAN_fuzz-sdp)";; \
	    fuzz-rtp) corpus="$(FUZZ_CORPUS_fuzz-rtp)"; asan="$(FUZZ_ASAN_fuzz-rtp)";; \
	    fuzz-rtp-shared) corpus="$(FUZZ_CORPUS_fuzz-rtp-shared)"; asan="$(FUZZ_ASAN_fuzz-rtp-shared)";; \
	  esac; \
	  mkdir -p "$(FUZZ_BUILD_DIR)/corpus/$$t"; \
	  echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
	  rc=0; \
	  ASAN_OPTIONS="$$asan" UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    timeout -s KILL $$(($(FUZZ_SECONDS) + 60)) \
	    "$(FUZZ_BUILD_DIR)/tests/fuzz/$$t" -max_total_time=$(FUZZ_SECONDS) \
	    -timeout=$(FUZZ_UNIT_TIMEOUT) -print_final_stats=1 -artifact_prefix="$(FUZZ_BUILD_DIR)/" \
	    "$(FUZZ_BUILD_DIR)/corpus/$$t" $$corpus > "$(FUZZ_BUILD_DIR)/$$t.log" 2>&1 || rc=$$?; \
	  if [ $$rc = 137 ] && [ "$(FUZZ_UNIT_TIMEOUT)" = 0 ]; then \
	    echo "fuzz: $$t: one input stalled (no crash); see the known rtpbin stall in README, Tests"; \
	  elif [ $$rc != 0 ]; then \
	    status=1; echo "fuzz: $$t FAILED, see $(FUZZ_BUILD_DIR)/$$t.log"; tail -40 "$(FUZZ_BUILD_DIR)/$$t.log"; \
	  fi; \
	  grep -E '^(Done|stat::number_of_executed_units)' "$(FUZZ_BUILD_DIR)/$$t.log" || true; \
	done; \
	exit $$status

ASAN_BUILD_DIR ?= build-asan

# The sip and gst suites built with gcc's AddressSanitizer and
# UndefinedBehaviorSanitizer, leak checking on (tests/lsan.supp holds the
# one-time allocations of system libraries loaded by GStreamer's plugin
# scan, which runs in process: gst-plugin-scanner has no ASan).
test-asan:
	@if [ ! -f "$(ASAN_BUILD_DIR)/build.ninja" ]; then \
	  rm -rf "$(ASAN_BUILD_DIR)" && meson setup "$(ASAN_BUILD_DIR)" \
	    -Db_sanitize=address,undefined -Db_lundef=false; fi
	meson compile -C "$(ASAN_BUILD_DIR)"
	rm -f "$(ASAN_BUILD_DIR)/tests/gst/registry.bin"
	GST_REGISTRY_FORK=no \
	ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0 \
	LSAN_OPTIONS=suppressions="$(CURDIR)/tests/lsan.supp":print_suppressions=0 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  meson test -C "$(ASAN_BUILD_DIR)" --suite sip --suite gst --print-errorlogs
	@$(MAKE) --no-print-directory test-asan-interop

# The interop tests against the ASan build: gst-launch-1.0 and
# gst-inspect-1.0 run through wrappers that preload gcc's libasan (the
# plugin and libsipua from $(ASAN_BUILD_DIR) need it first); the peers and
# python do not get it (espeak-ng hangs under it). Leak checking is off for
# these foreign processes (gst-launch frees little at exit; leaks are for
# the unit tests and the valgrind test); any ASan or UBSan error aborts
# gst-launch and fails its test. Left out: the tests that do not run our
# code (the audio comparison tool), the ones running libsipua inside
# /usr/bin/python3 (sipua.py, echo_agent.py), and the valgrind test.
ASAN_INTEROP_DESELECT = test_audio_tool or cancel_before_answer or vanished_caller or link_local or valgrind
test-asan-interop:
	@libasan=$$(gcc -print-file-name=libasan.so); \
	bin="$(CURDIR)/$(ASAN_BUILD_DIR)/asan-bin"; mkdir -p "$$bin"; \
	for tool in gst-launch-1.0 gst-inspect-1.0; do \
	  printf '#!/bin/sh\nLD_PRELOAD="%s$${LD_PRELOAD:+:$$LD_PRELOAD}" exec %s "$$@"\n' \
	    "$$libasan" "$$(command -v $$tool)" > "$$bin/$$tool"; \
	  chmod +x "$$bin/$$tool"; \
	done
	$(MAKE) --no-print-directory test-interop BUILD_DIR="$(ASAN_BUILD_DIR)" \
	  PYTEST_ARGS='-k "not ($(ASAN_INTEROP_DESELECT))" $(PYTEST_ARGS)' \
	  PATH="$(CURDIR)/$(ASAN_BUILD_DIR)/asan-bin:$$PATH" \
	  GST_REGISTRY="$(CURDIR)/$(ASAN_BUILD_DIR)/registry-interop.bin" \
	  ASAN_OPTIONS=detect_leaks=0 \
	  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

# ---- Benchmark (not part of `make test`): tests/bench/run.py ----

.PHONY: bench

# The C systems come from the build, the Python ones run in .venv (when
# python/setup-venv.sh is there); a system whose program is missing is skipped.
bench: deps build venv
	$(RUN_ENV) $(PYTHON) tests/bench/run.py
