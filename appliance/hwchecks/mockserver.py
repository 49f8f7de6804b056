"""A small HTTPS server that plays back recorded management-controller answers.

It serves a recorded Redfish tree (`<dir>/redfish/v1/.../index.json`, as written by
`appliance.hwchecks.record`) with HTTP basic authentication like an iLO, and a recorded MSA 2040
XML API (`<dir>/<command>.xml`, e.g. disks.xml for `show disks`) behind the MSA's login. Several
directories may be layered: the first that has a resource answers, so a degraded variant only holds
the files that differ. Used by the tests and to rehearse `osonctl prechecks` without the rack.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import secrets
import ssl
import tempfile
import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

MSA_LOGIN_FAILED = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<RESPONSE VERSION="L100" REQUEST="login">
  <OBJECT basetype="status" name="status" oid="1">
    <PROPERTY name="response-type" type="string">Error</PROPERTY>
    <PROPERTY name="response" type="string">Authentication Unsuccessful</PROPERTY>
    <PROPERTY name="return-code" type="sint32">2</PROPERTY>
  </OBJECT>
</RESPONSE>
"""


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "recorded-bmc")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


class RecordedController:
    """`with RecordedController([dir, ...]) as bmc:` serves on https://127.0.0.1:<bmc.port>."""

    def __init__(self, redfish_dirs: Sequence[Path] = (), msa_dirs: Sequence[Path] = (),
                 username: str = "precheck", password: str = "recorded") -> None:
        self.redfish_dirs = [Path(d) for d in redfish_dirs]
        self.msa_dirs = [Path(d) for d in msa_dirs]
        self.username, self.password = username, password
        self.requests: list[str] = []
        self._session = secrets.token_hex(16)
        self._tmp = tempfile.TemporaryDirectory(prefix="recorded-bmc-")
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def baseuri(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _find(self, dirs: list[Path], relative: str) -> Path | None:
        for d in dirs:
            candidate = (d / relative).resolve()
            if d.resolve() in candidate.parents and candidate.is_file():
                return candidate
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        outer = self
        expected = "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        login_hash = hashlib.md5(f"{self.username}_{self.password}".encode()).hexdigest()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def _send(self, code: int, body: bytes, ctype: str) -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                outer.requests.append(path)
                if path.startswith("/redfish/"):
                    self._redfish(path)
                elif path.startswith("/api/"):
                    self._msa(path)
                else:
                    self._send(404, b"not found", "text/plain")

            def _redfish(self, path: str) -> None:
                relative = path.strip("/") + "/index.json"
                if path.rstrip("/") != "/redfish/v1" and self.headers.get("Authorization") != expected:
                    body = {"error": {"code": "iLO.0.10.ExtendedInfo", "message": "See @Message.ExtendedInfo",
                                      "@Message.ExtendedInfo": [{"MessageId": "Base.1.4.NoValidSession",
                                                                 "Message": "No valid session"}]}}
                    self._send(401, json.dumps(body).encode(), "application/json")
                    return
                found = outer._find(outer.redfish_dirs, relative)
                if found is None:
                    body = {"error": {"code": "iLO.0.10.ExtendedInfo", "@Message.ExtendedInfo": [
                        {"MessageId": "Base.1.4.ResourceMissingAtURI", "Message": f"{path} not found"}]}}
                    self._send(404, json.dumps(body).encode(), "application/json")
                    return
                self._send(200, found.read_bytes(), "application/json; charset=utf-8")

            def _msa(self, path: str) -> None:
                parts = path.strip("/").split("/")
                if parts[:2] == ["api", "login"]:
                    if len(parts) == 3 and parts[2] == login_hash:
                        body = MSA_LOGIN_FAILED.replace("Error", "Success").replace(
                            "Authentication Unsuccessful", outer._session).replace(">2<", ">1<")
                    else:
                        body = MSA_LOGIN_FAILED
                    self._send(200, body.encode(), "text/xml")
                    return
                if self.headers.get("sessionKey") != outer._session:
                    self._send(200, MSA_LOGIN_FAILED.replace("Authentication Unsuccessful",
                                                             "Invalid sessionkey").encode(), "text/xml")
                    return
                found = outer._find(outer.msa_dirs, "-".join(parts[2:]) + ".xml") if parts[:2] == ["api", "show"] \
                    else None
                if found is None:
                    self._send(404, b"unknown command", "text/plain")
                    return
                self._send(200, found.read_bytes(), "text/xml")

        return Handler

    def __enter__(self) -> RecordedController:
        cert, key = _self_signed(Path(self._tmp.name))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._tmp.cleanup()
