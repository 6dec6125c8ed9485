#!/usr/bin/env python3
"""Uploads a clip to reel and times it: from the start of the upload to the
video being ready, and from the end of the upload (its 201) to the first
playable answer: the HLS master playlist, the first rendition's playlist and
its first segment all answering 200 (what a player needs to show the first
frame). Polls every 20 ms over one keep-alive connection.

Usage: process_probe.py BASE_URL TOKEN FILE; prints "ready_s playable_s status"."""
import http.client
import json
import sys
import time
import urllib.parse

base, token, path = sys.argv[1], sys.argv[2], sys.argv[3]
url = urllib.parse.urlparse(base)
conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
auth = {"Authorization": "Bearer " + token}


def get(p):
    conn.request("GET", p, headers=auth)
    r = conn.getresponse()
    return r.status, r.read()


with open(path, "rb") as f:
    body = f.read()
t0 = time.monotonic()
conn.request("POST", "/api/videos?title=bench", body=body, headers={**auth, "Content-Type": "video/mp4"})
r = conn.getresponse()
created = r.read()
if r.status != 201:
    sys.exit(f"process_probe: upload answered {r.status}: {created[:200]!r}")
uploaded = time.monotonic()
vid = json.loads(created)["video"]["id"]
stream = f"/api/stream/{vid}/hls/"


def playable():
    status, master = get(stream + "master.m3u8")
    if status != 200:
        return False
    variant = next(l for l in master.decode().splitlines() if l and not l.startswith("#"))
    status, media = get(stream + variant)
    if status != 200:
        return False
    segment = next((l for l in media.decode().splitlines() if l and not l.startswith("#")), None)
    if segment is None:
        return False
    rendition = variant.rsplit("/", 1)[0]
    status, _ = get(stream + rendition + "/" + segment.split("?")[0])
    return status == 200


playable_at = None
status = ""
deadline = t0 + 300
while time.monotonic() < deadline:
    if playable_at is None and playable():
        playable_at = time.monotonic()
    code, answer = get(f"/api/videos/{vid}")
    status = json.loads(answer)["video"]["status"] if code == 200 else f"http {code}"
    if status in ("ready", "failed"):
        break
    time.sleep(0.02)
ready_at = time.monotonic()
if playable_at is None and status == "ready" and playable():
    playable_at = time.monotonic()
playable_s = (playable_at - uploaded) if playable_at else float("nan")
print(f"{ready_at - t0:.2f} {playable_s:.2f} {status}")
