#!/usr/bin/env python3
"""Writes the hand-written seeds of fuzz/corpus/<target>/ (seed-*), in the
byte layout each target reads (see the target's LLVMFuzzerTestOneInput).
Run it again after changing a target's layout; inputs that fuzzing found
(the other files) are kept."""
import base64, hashlib, os, pathlib

root = pathlib.Path(__file__).resolve().parent / "corpus"
b64 = lambda s: base64.b64encode(s.encode()).decode()

def u16(n): return bytes([n >> 8, n & 0xFF])
def box(kind, content): return (8 + len(content)).to_bytes(4, "big") + kind + content
def mvhd(version, timescale, duration):
  if version == 1:
    fields = b"\x01\x00\x00\x00" + bytes(16) + timescale.to_bytes(4, "big") + duration.to_bytes(8, "big")
  else:
    fields = bytes(4) + bytes(8) + timescale.to_bytes(4, "big") + duration.to_bytes(4, "big")
  return box(b"mvhd", fields + bytes(80))

seeds = {
  "argon2_string": [
      b"$argon2id$v=19$m=65536,t=3,p=1$z+ts8HOp8VxopgA0QUOxNQ$HiCVhi77QX7WyiFSeqtOQJucpEAKLzkPMwwfw5+4vZ8",
      b"$argon2id$v=19$m=1024,t=2,p=1$y7egUUh4qGls5h8VyENcQw$b3fh4VBL5gyCK/OF9luVdzETAUiAbWxihamMMXuh+Mc",
      b"$argon2id$v=19$m=16,t=1,p=2$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA",
      b"$argon2id$v=19$m=065536,t=3,p=1$z+ts8HOp8VxopgA0QUOxNR$HiCV=",
      b"$argon2i$v=19$m=4194304,t=1024,p=16$$",
  ],
  "playback_token": [
      (1_800_000_000 << 2).to_bytes(8, "big") + b"vid123\x00" + (1_800_003_600).to_bytes(8, "big") +
      b"p.1800003600.oEUl7Uk8-QRdUYhU9WacZZ9mxbNuEzaNPRdlfjulMv4",
      b"\x00" * 8 + b"\x00" + b"\x00" * 8 + b"p..",
      b"\xff" * 8 + b"-EeHWucHS1ePsyLs\x00" + b"\xff" * 8 + b"p.99999999999999999999." + b"A" * 43,
      b"\x01" * 8 + b"v\x00" + b"\x02" * 8 + b"p.1e10." + b"_" * 43,
      b"\x01" * 8 + b"v\x00" + b"\x02" * 8 + b"x" * 200,
  ],
  "hls_playlist": [
      b"\x01#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-STREAM-INF:BANDWIDTH=1,RESOLUTION=640x360,CODECS=\"avc1.4d402a\"\n"
      b"360p/index.m3u8\n",
      b"\x00#EXTM3U\r\n#EXT-X-MAP:URI=\"init.mp4\"\r\n#EXTINF:4.0,\r\nseg_000.ts\r\n\r\nseg_001.ts?x=1#f\r\n",
      b"\x02#EXT-X-MEDIA:TYPE=SUBTITLES,URI=\"subs/en.m3u8\",XURI=\"a\",URI=\"\n#EXT-X-BAR:URI=\"open\n  \t\n",
      b"\x00\n\n\r\r\n#\nURI=\"x\"",
  ],
  "storyboard": [
      u16(1920) + u16(1080) + (7000).to_bytes(4, "big") + b"sprite-001.jpg\x00\x01"
      b"WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nstoryboard/sprite-001.jpg#xywh=0,0,160,90\n",
      u16(272) + u16(480) + (250000).to_bytes(4, "big") + b"sprite-0001.jpg\x00\x00"
      b"WEBVTT\r\n\r\nNOTE a --> b\r\nnot a cue\r\n\r\n1\r\n00:00:02.000 --> 00:00:04.000 align:start\r\n"
      b"a?x=1#f\r\nb?\r\n",
      u16(2) + u16(8000) + (0).to_bytes(4, "big") + b"../sprite-001.jpg\x00\x02\n-->\n\n-->\nx#y#z\n-->",
      u16(0) + u16(0) + b"\xff\xff\xff\xff" + b"sprite-1000.jpg",
  ],
  "range": [b"\x00" + u16(1000) + b"\x0f" + h for h in (
      b"bytes=0-99", b"bytes=-500", b"bytes=900-", b"bytes=0-0,-1", b"bytes=0-99, 200-299 ,400-",
      b"Bytes = 5-10", b"bytes=1000-", b"bytes=abc", b"items=0-1", b"bytes=500-100", b"bytes=,,,0-1,")]
    + [b"\x01" + (2**64 - 1).to_bytes(8, "big") + b"\x0f" + b"bytes=0-,0-,0-"],
  "multipart": [
      b"multipart/form-data; boundary=XyZ\x00\x02\x05\x0b\x03" +
      b"--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nMy clip\r\n"
      b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.mp4\"\r\nContent-Type: video/mp4\r\n\r\n"
      b"\x00\x00\x00\x18ftypmp42\r\n--XyZ--\r\n",
      b"multipart/form-data; boundary=\"q;b\"\x00\x00\x07" +
      b"preamble\r\n--q;b\r\nContent-Disposition: form-data; name=\"f\"; filename*=UTF-8''%C3%A9t%C3%A9.mov\r\n\r\n"
      b"data\r\n--q;b--",
      b"multipart/form-data; boundary=XyZ\x00\x00\x01--XyZ\r\n\r\nno headers\r\n--XyZ--",
      b"text/plain\x00\x00\x01--XyZ--",
  ],
  "tus": [
      b"1048576\x00sha1 " + base64.b64encode(hashlib.sha1(b"x").digest()) + b"\x00" +
      f"filename {b64('clip.mp4')},filetype {b64('video/mp4')},title {b64('Holiday')},description {b64('A day out')}".encode(),
      b"0\x00md5 abc\x00is_confidential,filename " + b64("../../etc/passwd").encode(),
      b"1234567890123456\x00sha1\x00key a,key b",
      b"12a\x00SHA1 AAAA\x00 filename  " + b64("\u202egpj.exe").encode(),
  ],
  "engineio": [b"40", b"40{\"token\":\"abc\"}\x1e3\x1e6", b"2probe", b"5", b"1", b"42[\"ping\",1]\x1e",
               b"\x1e\x1e", b"4"],
  "socketio": [b"0", b"0{\"token\":\"t\",\"organizationId\":\"o1\"}", b"0/admin,{}", b"2[\"hello\",{\"a\":1}]",
               b"212[\"ack\"]", b"2/chat,7[\"x\"]", b"1", b"3", b"0/,{\"token\":null}", b"2[1]", b"2999999999[\"a\"]",
               b"0{\"token\":\"\\u00e9\"}"],
  "cookie": [b"\x01reel_session=abc; theme=dark\x00\x02a\x00b\x00c\x00\"q\"\x00EIO=4&transport=polling&sid=x%20y\x00reel_session",
             b"\x02=novalue; ;a=1\x00a=2; a=3\x00\x00limit=%zz&limit=5\x00a",
             b"\x00\x01k\x00\"\"\x00q=+%2B\x00k"],
  "json_input": [b"\x00" + j for j in (
      b'{"name":" Ada ","email":"Ada@Example.COM","role":"admin","password":"correct horse battery"}',
      b'{"title":"\\u202eclip","description":null,"filename":"../a.mp4"}',
      b'{"name":"\\u0000","email":"a@b@c","role":"Owner","password":"short"}',
      b'[1,2,3]', b'{"a":' * 40 + b'1' + b'}' * 40, b'{"name":"x"} trailing', b'')]
    + [b"\xff{\"name\":\"x\"}"],
  "router": [
      b"GET /api/videos?limit=10 HTTP/1.1\r\nHost: x\r\nCookie: reel_session=abc\r\n\r\n",
      b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 31\r\n\r\n"
      b"{\"email\":\"a@b.c\",\"password\":1}",
      b"HEAD /api/stream/v1/video HTTP/1.1\r\nRange: bytes=0-99\r\n\r\n",
      b"OPTIONS /api/uploads HTTP/1.1\r\nOrigin: https://app.example\r\nAccess-Control-Request-Method: POST\r\n\r\n",
      b"POST /api/uploads HTTP/1.1\r\nTus-Resumable: 1.0.0\r\nUpload-Length: 10\r\nUpload-Metadata: filename "
      + b64("a.mp4").encode() + b"\r\nContent-Length: 0\r\n\r\n",
      b"PATCH /api/uploads/u1 HTTP/1.1\r\nUpload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\n"
      b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
      b"POST /api/videos HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 60\r\n\r\n"
      b"--b\r\nContent-Disposition: form-data; name=\"t\"\r\n\r\nx\r\n--b--\r\n",
      b"DELETE /api/orgs/%41/members/%zz HTTP/1.1\r\n\r\n",
      b"PUT /api/videos/1 HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
      b"GET /static/../../etc/passwd HTTP/1.0\r\n\r\n",
      b"GET / HTTP/1.1\r\nX-Request-Id: abc\r\n\r\n",
      b"BREW /coffee HTTP/1.1\r\n\r\n",
  ],
  "resp": [b"\x00\x05" + r for r in (
      b"+OK\r\n", b"-ERR wrong type\r\n", b":-42\r\n", b"$5\r\nhello\r\n", b"$-1\r\n", b"*-1\r\n", b"*0\r\n",
      b"*3\r\n$9\r\nsubscribe\r\n$4\r\nchan\r\n:1\r\n*2\r\n*1\r\n+a\r\n$0\r\n\r\n",
      b"*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", b"$99999999999\r\n", b"?\r\n", b"+a\rb\r\n")],
  "share_url": [b"\x00" + u for u in (
      b"https://videos.example.com/v/abcDEF123456", b"http://localhost:8080/embed/abc_-9?token=1.2.3&autoplay=1",
      b"/v/abc?token=a%2Bb%3D&token=second", b"/embed/x/#t=10", b"HTTPS://Host/V/abc", b"https://u@h/v/abc",
      b"ftp://h/v/abc", b"//h/v/abc", b"/v/", b"/v/abc/def", b"/v/" + b"a" * 65, b"/v/abc?token=%zz",
      b"/v/abc?token=", b"/v/abc?token=a+b", b"/o/slug", b"https://h?x=/v/abc", b"/v/abc?%=1")]
    + [b"\x01/v/abc?token=" + b"t" * 201, b"\x01/embed/abc?a&b=&token=x.y"],
  # First byte: bit 0 set = SRT, else WebVTT; the rest is the file.
  "content_disposition": [
      "Say \"Crème brûlée\"".encode(), "Party \U0001F389".encode(), "日本語のビデオ".encode(), b"",
      b"a/b\\c\r\nX-Injected: 1\t\x7f", b"../../etc/passwd", b"  ..  ", b"100% <done>: a|b?*",
      b"a\xffb\xc0\xafc\xed\xa0\x80\xf5\x80", ("x" * 149 + "日本").encode(), b"\xc2\x85\xc2\x9f",
  ],
  "captions": [
      b"\x01" + b"1\n00:00:01,000 --> 00:00:04,500\nHello, <i>world</i>!\n\n2\n00:00:05,250 --> 00:01:02,003 X1:1\nBye\n",
      b"\x01" + b"\xef\xbb\xbf1\r\n0:00:01,000 --> 0:00:02,000\r\n\xc3\x89t\xc3\xa9\r\n\r\n",
      b"\x01" + b"1\n00:00:01,000 --> 00:00:02,000\nOne\n\n2\n00:01:xx,000 --> 00:01:05,000\nTwo\n",
      b"\x01" + b"1\n00:00:01,000 --> 00:00:02,000\nOne\n2\n00:00:03,000 --> 00:00:04,000\n",
      b"\x00" + b"WEBVTT - title\nKind: captions\n\nSTYLE\n::cue { color: red }\n\nNOTE hi\n\n"
      b"intro\n00:01.000 --> 00:02.000 align:start line:0%\nHi\n\n01:00:00.000 --> 01:00:01.000\nLater\n",
      b"\x00" + b"WEBVTT\r\r00:05.000 --> 00:02.000\rA\r",
      b"\x00" + b"WEBVTT\n\nid\nno timing\n",
      b"\x00" + b"WEBVTT\n\n00:01.000 --> 00:02.000\nCaf\xe9\n\xed\xa0\x80\x00\n",
      b"\x00" + b"WEBVT\n",
      b"\x00" + b" \r\n",
  ],
  "smtp": [
      b"smtp://user:p%40ss@mail.example:587?starttls=required\x00Subject: hi\r\n\r\n.hidden\nline\r.\x00"
      b"220 mail.example ESMTP\r\n250-mail.example\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n",
      b"smtps://[::1]:465\x00\x00354 go ahead\r\n250 2.0.0 queued\n221 bye\r\n",
      b"smtp://host?starttls=maybe\x00.\x00250-a\r\n251 b\r\n",
      b"ftp://x\x00..\r\n\x00500\r\n25\r\n",
  ],
  # The whole input is the URL.
  "webhook_url": [
      b"https://hooks.example.com/reel?x=1", b"HTTP://127.0.0.1:8080", b"http://[::1]:9/h", b"http://example.com?a",
      b"https://user:pw@example.com/", b"http://example.com:0/", b"http://example.com:65536/", b"http://e.com:/",
      b"http://exa mple.com/", b"http://example.com/#frag", b"http://[::1/", b"http://[nope]/", b"ftp://x/",
      b"http://169.254.169.254/latest/meta-data", b"http://[::ffff:10.0.0.1]:80/", b"http://[64:ff9b::7f00:1]/",
      b"http://0x7f.1/", b"http://example.com:0080/", b"https://" + b"a" * 300 + b"/",
  ],
  # First byte: the limit in units of 8 bytes; the rest is the body.
  "webhook_body": [
      b"\x80ok", b"\x01h\xc3\xa9llo", b"\x00anything", b"\xffa\x00b\xff\xfe\xed\xa0\x80\xf4\x90\x80\x80",
      b"\x02\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xf0\x9f\x8e\x89", b"\x10" + b"x" * 200, b"\x04\xc2",
  ],
  # The whole input is the file: ftyp, then moov with mvhd (version 0 or 1),
  # after an mdat with a 64-bit size or with one running to the end.
  "mp4_duration": [
      box(b"ftyp", b"isom\x00\x00\x02\x00isomavc1") + box(b"moov", mvhd(0, 1000, 30040)),
      box(b"ftyp", b"isom") + b"\x00\x00\x00\x01mdat" + (32).to_bytes(8, "big") + b"\x00" * 16 +
      box(b"moov", box(b"trak", b"x" * 40) + mvhd(1, 90000, 648000000)),
      box(b"ftyp", b"isom") + b"\x00\x00\x00\x00moov" + mvhd(0, 0, 5),
      box(b"moov", box(b"mvhd", b"\x00" * 12)),
      b"\x00\x00\x00\x04ftyp" + box(b"moov", mvhd(0, 600, 0xFFFFFFFF)),
  ],
}

for target, inputs in seeds.items():
  d = root / target
  d.mkdir(parents=True, exist_ok=True)
  for old in d.glob("seed-*"):
    old.unlink()
  for i, data in enumerate(inputs):
    (d / f"seed-{i:02d}").write_bytes(data)
  print(f"{target}: {len(inputs)} seeds")
