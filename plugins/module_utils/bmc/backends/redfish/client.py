# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""HTTP to a Redfish service: HTTPS by default, a session where the service offers one (deleted at the
end), basic auth otherwise, an existing token when given; ETags; errors turned into BmcError with the
service's @Message.ExtendedInfo text.

Ansible's Request (ansible.module_utils.urls) carries ca_path and validate_certs on every request, so a
REQUESTS_CA_BUNDLE in the environment cannot override ca_path.
"""

from __future__ import annotations

import base64
import json
import socket
import ssl

from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.urls import Request

from ansible_collections.sanboot.iscsi.plugins.module_utils.bmc.core import BmcError


class Response:
    def __init__(self, status: int, body, headers: dict):
        self.status = status
        self.body = body
        self.headers = {key.lower(): value for key, value in (headers or {}).items()}

    def header(self, name: str):
        return self.headers.get(name.lower())


def extended_info(body) -> str:
    """The service's own words from an error body: every @Message.ExtendedInfo message, with the property."""
    if not isinstance(body, dict):
        return ""
    error = body.get("error") if isinstance(body.get("error"), dict) else body
    messages = []
    for info in error.get("@Message.ExtendedInfo") or []:
        if not isinstance(info, dict):
            continue
        text = info.get("Message") or info.get("MessageId") or ""
        related = ", ".join(info.get("RelatedProperties") or [])
        messages.append("%s%s%s" % (text, " [%s]" % related if related else "",
                                    " (%s)" % info["MessageId"] if info.get("MessageId") and info.get("Message") else ""))
    if not messages and error.get("message"):
        messages.append(str(error["message"]))
    return "; ".join(messages)


class RedfishClient:
    def __init__(self, baseuri: str, username=None, password=None, auth_token=None, validate_certs=True,
                 ca_path=None, timeout=30):
        if not baseuri:
            raise BmcError("baseuri is required: the BMC's address, for example bmc01.example.com or 10.0.0.5:443")
        text = str(baseuri).strip().rstrip("/")
        self.root = text if "://" in text else "https://" + text
        if not self.root.startswith(("https://", "http://")):
            raise BmcError("baseuri '%s' must be a host[:port], or a URL starting with https://" % baseuri)
        if not auth_token and not (username and password):
            raise BmcError("give username and password, or auth_token, to log in to the BMC at %s" % self.root)
        self.username = username
        self.password = password
        self.timeout = timeout
        self.token = auth_token
        self.own_session = None
        self.basic = False
        self.http = Request(validate_certs=validate_certs, ca_path=ca_path, timeout=timeout, use_netrc=False,
                            follow_redirects="safe")
        self.validate_certs = validate_certs
        self.ca_path = ca_path

    # -- plumbing

    def _headers(self, extra=None) -> dict:
        headers = {"Accept": "application/json", "OData-Version": "4.0"}
        if self.token:
            headers["X-Auth-Token"] = self.token
        elif self.basic:
            credentials = "%s:%s" % (self.username, self.password)
            headers["Authorization"] = "Basic " + base64.b64encode(credentials.encode()).decode()
        headers.update(extra or {})
        return headers

    def request(self, method: str, path: str, body=None, headers=None, authenticated=True) -> Response:
        url = path if path.startswith("http") else self.root + path
        data = json.dumps(body) if body is not None else None
        all_headers = self._headers(headers) if authenticated else {"Accept": "application/json"}
        if data is not None:
            all_headers["Content-Type"] = "application/json"
        try:
            response = self.http.open(method, url, data=data, headers=all_headers)
            return Response(response.status, _json(response.read()), dict(response.headers))
        except HTTPError as exc:
            payload = b""
            try:
                payload = exc.read()
            except Exception:  # the body of an error is optional
                pass
            return Response(exc.code, _json(payload), dict(exc.headers or {}))
        except URLError as exc:
            raise BmcError(self._unreachable(exc.reason)) from None
        except (socket.timeout, TimeoutError):
            raise BmcError("the BMC at %s did not answer %s %s within %s seconds (timeout)"
                           % (self.root, method, path, self.timeout)) from None
        except (ssl.SSLError, ConnectionError, OSError) as exc:
            raise BmcError(self._unreachable(exc)) from None

    def _unreachable(self, reason) -> str:
        text = str(getattr(reason, "strerror", None) or reason)
        if isinstance(reason, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in text or \
                "certificate verify failed" in text:
            return ("TLS verification of the BMC at %s failed (%s): give ca_path with the BMC's CA, or "
                    "validate_certs=false for a test BMC" % (self.root, getattr(reason, "verify_message", None) or text))
        return "cannot reach the BMC at %s: %s" % (self.root, text)

    def check(self, response: Response, what: str, expected=(200, 201, 202, 204)) -> Response:
        if response.status in expected:
            return response
        if response.status == 401:
            raise BmcError("the BMC at %s refused %s (HTTP 401 Unauthorized) while trying to %s: check username and "
                           "password (or auth_token)" % (self.root, "user '%s'" % self.username if self.username
                                                         else "the token", what))
        detail = extended_info(response.body)
        raise BmcError("the BMC at %s refused to %s: HTTP %d%s" % (self.root, what, response.status,
                                                                   ": " + detail if detail else ""))

    def get(self, path: str, what: str | None = None) -> Response:
        return self.check(self.request("GET", path), what or "read %s" % path, expected=(200,))

    # -- sessions

    def login(self, service_root: dict):
        """A session where the service offers one (SessionService), else basic auth; a given token is used as is."""
        if self.token:
            return
        sessions = ((service_root.get("Links") or {}).get("Sessions") or {}).get("@odata.id")
        if sessions:
            response = self.request("POST", sessions, {"UserName": self.username, "Password": self.password},
                                    authenticated=False)
            if response.status in (200, 201) and response.header("X-Auth-Token"):
                self.token = response.header("X-Auth-Token")
                location = response.header("Location") or (response.body or {}).get("@odata.id")
                if location and "://" in location:
                    location = "/" + location.split("://", 1)[1].split("/", 1)[1]
                self.own_session = location
                return
            if response.status in (400, 401, 403):
                self.check(response, "open a session", expected=(200, 201))
        # No session service (or it refused to create one for another reason): basic auth on every request.
        self.basic = True
        self.check(self.request("GET", "/redfish/v1/Systems"), "log in with basic authentication", expected=(200,))

    def logout(self):
        if self.own_session:
            try:
                self.request("DELETE", self.own_session)
            except BmcError:
                pass
            self.own_session = None
            self.token = None


def _json(payload: bytes):
    if not payload:
        return None
    try:
        return json.loads(payload.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
