#!/usr/bin/env python3
"""Paced latency probe: GETs a URL at a fixed rate over one keep-alive
connection and prints "p50_ms p99_ms max_ms count". Unlike wrk, it does not
saturate the server, so it measures responsiveness, not throughput.

The probe asks the kernel for the shortest time slice (0.1 ms, as reel's
loop thread does), so that on a busy machine its own wake-ups, to send and to
read each answer, wait as little as they can for the CPU: what it measures is
then more the server's, whichever server it is."""
import ctypes
import http.client
import os
import platform
import struct
import signal
import sys
import time
import urllib.parse



def request_short_slice():
    """sched_setattr(2) with sched_runtime 0.1 ms (SCHED_OTHER, nice 0):
    Linux 6.12+ takes it as the slice of a fair task. False when refused."""
    number = {"x86_64": 314, "aarch64": 274}.get(platform.machine())
    if number is None:
        return False
    # struct sched_attr: size, policy, flags, nice, priority, runtime,
    # deadline, period, util_min, util_max.
    attr = struct.pack("=IIQiIQQQII", 56, 0, 0, 0, 0, 100_000, 0, 0, 0, 0)
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.syscall(number, 0, ctypes.c_char_p(attr), 0) == 0


url, rate, seconds = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
if not request_short_slice() and os.environ.get("BENCH_VERBOSE"):
    print("latency_probe: the kernel refused a short slice", file=sys.stderr)
u = urllib.parse.urlsplit(url)
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
path = u.path or "/"
lat = []
stop = False


def on_signal(*_):
    global stop
    stop = True


signal.signal(signal.SIGINT, on_signal)
interval = 1.0 / rate
start = time.perf_counter()
next_at = start
while not stop and time.perf_counter() - start < seconds:
    now = time.perf_counter()
    if now < next_at:
        time.sleep(next_at - now)
    next_at += interval
    t0 = time.perf_counter()
    conn.request("GET", path)
    r = conn.getresponse()
    r.read()
    lat.append((time.perf_counter() - t0) * 1000)
lat.sort()
pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
print(f"{pick(0.5):.3f} {pick(0.99):.3f} {lat[-1]:.3f} {len(lat)}")
