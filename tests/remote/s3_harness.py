#!/usr/bin/python3
"""Test harness for lmdata's S3 backend: a real S3 server plus a verifying,
fault-injecting proxy, all on loopback.

It starts s3rver (npm, installed under tests/remote/node_modules by
scripts/install-test-deps.sh) on a free port with a temporary directory, and
in front of it a small HTTP proxy that

  * recomputes every request's AWS SigV4 signature with botocore (Debian's
    python3-botocore, an independent signer) and answers 403
    SignatureDoesNotMatch to any request botocore does not reproduce, since
    s3rver itself checks no signature; it also refuses a wrong
    x-amz-content-sha256 and any aws-chunked body;
  * injects faults on request: a fraction of requests answered 500
    InternalError or 503 SlowDown, a connection reset in the middle of a
    response body, a delay past the client's timeout, one flipped byte in a
    GET body, or a persistent failure for paths matching a pattern.  Faults
    are bounded by a budget (max_faults) and seeded, so runs repeat.

Faults come from --faults / LMD_S3_FAULTS ("fail500=0.2,slowdown503=0.1,
reset=0.1,delay=0.1,delay_s=3,corrupt=0,max_faults=50,seed=1,
always_fail=REGEX,always_status=500") and can be replaced at run time with
GET /__harness/faults?k=v&... (resets the counters); GET /__harness/stats
returns counters as JSON; GET /__harness/mkbucket?name=B creates a bucket.

Uses:
  s3_harness.py serve           print PROXY_URL=... and S3RVER_URL=..., run until
                                killed (or --lifetime seconds): for shell tests
  s3_harness.py run -- CMD ...  run CMD with LMD_TEST_S3_ENDPOINT (the proxy),
                                LMD_TEST_S3RVER_ENDPOINT and AWS_* set; exit with
                                its status: what meson test calls
  s3_harness.py check-deps      fail loudly if a dependency is missing
  with S3Harness(faults="...") as h: h.endpoint ...   from Python

Everything listens on 127.0.0.1 only, and everything stops by itself after
--lifetime seconds (default 900) even if nobody stops it.
"""

import argparse
import hashlib
import http.client
import http.server
import json
import os
import random
import re
import shutil
import signal
import socket
import socketserver
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
S3RVER_JS = os.path.join(HERE, "node_modules", "s3rver", "bin", "s3rver.js")
ACCESS_KEY = "S3RVER"
SECRET_KEY = "S3RVER"
INSTALL_HINT = "run scripts/install-test-deps.sh to install the remote test dependencies"
MAX_BODY = 256 << 20  # bodies are buffered: keep test objects below this

try:
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
except ImportError:  # reported by check_deps()
    botocore = None


def check_deps():
    """Return a list of what is missing (empty when all is there)."""
    missing = []
    if shutil.which("node") is None:
        missing.append("node (Debian package nodejs)")
    if not os.path.exists(S3RVER_JS):
        missing.append("s3rver (npm, under tests/remote/node_modules)")
    if botocore is None:
        missing.append("python3-botocore")
    if not os.access("/usr/bin/aws", os.X_OK):
        missing.append("awscli (/usr/bin/aws)")
    return missing


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=20.0, proc=None):
    end = time.time() + timeout
    while time.time() < end:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("s3rver exited early with status %d" % proc.returncode)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nothing listens on port %d after %.0fs" % (port, timeout))


def error_xml(code, message):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code>'
            '<Message>%s</Message><RequestId>harness</RequestId></Error>' % (code, message)).encode()


class Faults:
    """Fault settings and counters, shared by the proxy's threads."""

    KEYS = {"fail500": float, "slowdown503": float, "reset": float, "delay": float,
            "delay_s": float, "corrupt": float, "max_faults": int, "seed": int,
            "always_fail": str, "always_status": int}

    def __init__(self, spec=""):
        self.lock = threading.Lock()
        self.configure(spec)

    def configure(self, spec):
        cfg = {"fail500": 0.0, "slowdown503": 0.0, "reset": 0.0, "delay": 0.0, "delay_s": 3.0,
               "corrupt": 0.0, "max_faults": 50, "seed": 1, "always_fail": "", "always_status": 500}
        items = spec.items() if isinstance(spec, dict) else \
            (kv.split("=", 1) for kv in spec.split(",") if "=" in kv)
        for k, v in items:
            k = k.strip()
            if k not in self.KEYS:
                raise ValueError("unknown fault setting %r" % k)
            cfg[k] = self.KEYS[k](v)
        cfg["delay_s"] = min(cfg["delay_s"], 30.0)
        with self.lock:
            self.cfg = cfg
            self.rng = random.Random(cfg["seed"])
            self.always = re.compile(cfg["always_fail"]) if cfg["always_fail"] else None
            self.stats = {"requests": 0, "verified": 0, "rejected": 0, "injected": 0,
                          "fail500": 0, "slowdown503": 0, "reset": 0, "delay": 0,
                          "corrupt": 0, "always": 0}

    def pick(self, method, path):
        """The fault for this request: None or one of the names above."""
        with self.lock:
            self.stats["requests"] += 1
            if self.always and self.always.search(path):
                self.stats["always"] += 1
                return "always"
            if self.stats["injected"] >= self.cfg["max_faults"]:
                return None
            x = self.rng.random()
            for name in ("fail500", "slowdown503", "reset", "delay", "corrupt"):
                p = self.cfg[name]
                if name == "corrupt" and method != "GET":
                    continue
                if x < p:
                    self.stats[name] += 1
                    self.stats["injected"] += 1
                    return name
                x -= p
            return None

    def count(self, key):
        with self.lock:
            self.stats[key] += 1


def verify_sigv4(method, raw_path, headers, body):
    """None if botocore reproduces the request's signature, else (status, code, message)."""
    auth = headers.get("Authorization")
    if auth is None:
        return (403, "AccessDenied", "unsigned request (the harness requires SigV4)")
    m = re.match(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/s3/aws4_request,\s*"
                 r"SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$", auth)
    if not m:
        return (400, "AuthorizationHeaderMalformed", "cannot parse the Authorization header")
    akid, date, region, signed, signature = m.groups()
    if akid != ACCESS_KEY:
        return (403, "InvalidAccessKeyId", "unknown access key id")
    amz_date = headers.get("x-amz-date", "")
    if not amz_date.startswith(date):
        return (403, "SignatureDoesNotMatch", "x-amz-date does not match the credential scope")
    try:
        t = time.mktime(time.strptime(amz_date, "%Y%m%dT%H%M%SZ")) - time.timezone
    except ValueError:
        return (403, "AccessDenied", "bad x-amz-date")
    if abs(t - time.time()) > 15 * 60:
        return (403, "RequestTimeTooSkewed", "the request time is too far from the server's")
    content_sha = headers.get("x-amz-content-sha256")
    if content_sha is None:
        return (400, "InvalidRequest", "missing x-amz-content-sha256")
    if content_sha.startswith("STREAMING-"):
        return (400, "NotImplemented", "aws-chunked bodies are refused (s3rver stores them verbatim)")
    if content_sha != "UNSIGNED-PAYLOAD" and content_sha != hashlib.sha256(body).hexdigest():
        return (400, "XAmzContentSHA256Mismatch", "x-amz-content-sha256 does not match the body")
    names = signed.split(";")
    sub = {}
    for n in names:
        v = headers.get_all(n) if hasattr(headers, "get_all") else [headers.get(n)]
        if not v or v[0] is None:
            return (403, "SignatureDoesNotMatch", "signed header %s is missing" % n)
        sub[n] = ",".join(v)
    req = botocore.awsrequest.AWSRequest(method=method, url="http://" + sub.get("host", "") + raw_path,
                                         headers=sub, data=b"")
    req.context["timestamp"] = amz_date
    creds = botocore.credentials.Credentials(ACCESS_KEY, SECRET_KEY,
                                             headers.get("x-amz-security-token"))
    signer = botocore.auth.S3SigV4Auth(creds, "s3", region)
    if sorted(signer.headers_to_sign(req).keys()) != sorted(names):
        return (403, "SignatureDoesNotMatch", "signed header list differs from botocore's")
    creq = signer.canonical_request(req)
    sts = signer.string_to_sign(req, creq)
    want = signer.signature(sts, req)
    if want != signature:
        return (403, "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided")
    return None


class ProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "lmd-s3-harness"

    def log_message(self, fmt, *args):  # quiet
        if os.environ.get("LMD_HARNESS_VERBOSE"):
            sys.stderr.write("harness: " + fmt % args + "\n")

    def send_simple(self, status, body, ctype="application/xml"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", ""):
            return None
        n = int(self.headers.get("Content-Length", "0") or 0)
        if n < 0 or n > MAX_BODY:
            return None
        data = b""
        while len(data) < n:
            chunk = self.rfile.read(min(1 << 20, n - len(data)))
            if not chunk:
                break
            data += chunk
        return data

    def reset_connection(self):
        try:
            self.wfile.flush()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.close_connection = True

    def control(self):
        h = self.server.harness
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        if url.path == "/__harness/faults":
            try:
                h.faults.configure(q)
            except ValueError as e:
                return self.send_simple(400, str(e).encode(), "text/plain")
            return self.send_simple(200, b"ok\n", "text/plain")
        if url.path == "/__harness/stats":
            with h.faults.lock:
                body = json.dumps(h.faults.stats).encode()
            return self.send_simple(200, body, "application/json")
        if url.path == "/__harness/mkbucket":
            st = h.mkbucket(q.get("name", ""))
            return self.send_simple(200 if st < 300 else 500, b"%d\n" % st, "text/plain")
        return self.send_simple(404, b"no such control\n", "text/plain")

    def handle_any(self):
        h = self.server.harness
        if self.path.startswith("/__harness/"):
            return self.control()
        body = self.read_body()
        if body is None:
            self.close_connection = True
            return self.send_simple(400, error_xml("InvalidRequest", "chunked or oversized body"))
        bad = verify_sigv4(self.command, self.path, self.headers, body)
        if bad:
            h.faults.count("rejected")
            return self.send_simple(bad[0], error_xml(bad[1], bad[2]))
        h.faults.count("verified")
        fault = h.faults.pick(self.command, urllib.parse.urlsplit(self.path).path)
        if fault == "always":
            st = h.faults.cfg["always_status"]
            return self.send_simple(st, error_xml("InternalError" if st >= 500 else "AccessDenied",
                                                  "persistent fault injected by the harness"))
        if fault == "fail500":
            return self.send_simple(500, error_xml("InternalError", "We encountered an internal error. Please try again."))
        if fault == "slowdown503":
            return self.send_simple(503, error_xml("SlowDown", "Please reduce your request rate."))
        if fault == "delay":
            time.sleep(h.faults.cfg["delay_s"])
        # forward to s3rver
        up = http.client.HTTPConnection("127.0.0.1", h.s3rver_port, timeout=60)
        fwd = {k: v for k, v in self.headers.items()
               if k.lower() not in ("connection", "keep-alive", "transfer-encoding")}
        try:
            up.request(self.command, self.path, body=body if body else None, headers=fwd)
            resp = up.getresponse()
            data = resp.read() if self.command != "HEAD" else b""
        except OSError as e:
            return self.send_simple(502, error_xml("BadGateway", "s3rver: %s" % e))
        finally:
            up.close()
        if fault == "corrupt" and data and 200 <= resp.status < 300:
            i = h.faults.rng.randrange(len(data))
            data = data[:i] + bytes([data[i] ^ 0x5A]) + data[i + 1:]
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() in ("connection", "keep-alive", "transfer-encoding", "content-length", "date", "server"):
                continue
            self.send_header(k, v)
        if self.command == "HEAD":
            self.send_header("Content-Length", resp.getheader("Content-Length", "0"))
        else:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if fault == "reset":
            if data:
                self.wfile.write(data[: len(data) // 2])
            self.reset_connection()
            return
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any

    def handle(self):
        try:
            super().handle()
        except (ConnectionError, BrokenPipeError, socket.timeout):
            pass


class ProxyServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class S3Harness:
    """s3rver + verifying proxy; a context manager."""

    def __init__(self, faults="", lifetime=900):
        self.faults = Faults(faults)
        self.lifetime = lifetime
        self.tmp = None
        self.proc = None
        self.server = None
        self.timer = None

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d" % self.proxy_port

    @property
    def s3rver_endpoint(self):
        return "http://127.0.0.1:%d" % self.s3rver_port

    def start(self):
        missing = check_deps()
        if missing:
            raise RuntimeError("missing: %s; %s" % (", ".join(missing), INSTALL_HINT))
        self.tmp = tempfile.mkdtemp(prefix="lmd-s3rver-")
        self.s3rver_port = free_port()
        env = dict(os.environ, NODE_OPTIONS="--openssl-legacy-provider")
        self.proc = subprocess.Popen(
            ["node", S3RVER_JS, "-d", self.tmp, "-a", "127.0.0.1", "-p", str(self.s3rver_port), "-s"],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            start_new_session=True)
        wait_port(self.s3rver_port, proc=self.proc)
        self.server = ProxyServer(("127.0.0.1", 0), ProxyHandler)
        self.server.harness = self
        self.proxy_port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.timer = threading.Timer(self.lifetime, self._expire)
        self.timer.daemon = True
        self.timer.start()
        return self

    def _expire(self):
        sys.stderr.write("s3_harness: lifetime of %ds is over, stopping\n" % self.lifetime)
        self.stop()
        os._exit(124)

    def mkbucket(self, name):
        if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", name or ""):
            return 400
        c = http.client.HTTPConnection("127.0.0.1", self.s3rver_port, timeout=10)
        try:
            c.request("PUT", "/" + name, headers={"Content-Length": "0"})
            r = c.getresponse()
            r.read()
            return r.status
        finally:
            c.close()

    def stop(self):
        if self.timer:
            self.timer.cancel()
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    def env(self):
        return dict(os.environ,
                    LMD_TEST_S3_ENDPOINT=self.endpoint,
                    LMD_TEST_S3RVER_ENDPOINT=self.s3rver_endpoint,
                    AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY,
                    AWS_DEFAULT_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true")

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--faults", default=os.environ.get("LMD_S3_FAULTS", ""))
    ap.add_argument("--lifetime", type=int, default=900, help="stop after this many seconds")
    ap.add_argument("mode", choices=["serve", "run", "check-deps"])
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()

    missing = check_deps()
    if missing:
        print("s3_harness: missing %s; %s" % (", ".join(missing), INSTALL_HINT), file=sys.stderr)
        return 1
    if a.mode == "check-deps":
        return 0
    h = S3Harness(a.faults, a.lifetime).start()

    def on_signal(signum, frame):
        h.stop()
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        if a.mode == "serve":
            print("PROXY_URL=%s" % h.endpoint)
            print("S3RVER_URL=%s" % h.s3rver_endpoint, flush=True)
            while True:
                time.sleep(3600)
        cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
        if not cmd:
            print("s3_harness: run needs a command", file=sys.stderr)
            return 2
        return subprocess.call(cmd, env=h.env())
    finally:
        h.stop()


if __name__ == "__main__":
    sys.exit(main())
