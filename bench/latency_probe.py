#!/usr/bin/env python3
"""Paced latency probe: GETs a URL at a fixed rate over one keep-alive
connection and prints "p50_ms p99_ms max_ms count". Unlike wrk, it does not
saturate the server, so it measures responsiveness, not throughput."""
import http.client
import signal
import sys
import time
import urllib.parse

url, rate, seconds = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
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
