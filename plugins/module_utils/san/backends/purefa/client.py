# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""A Pure Storage FlashArray's REST 2.x API, through requests.

One session per module run: GET /api/api_version picks the newest 2.x version the array offers
up to the one this collection was validated against (2.56), POST /api/<v>/login with the API
token in the `api-token` header returns the session token (`x-auth-token`), every request carries
that, and close() logs out.

Secrets: the API token goes into one header of one request and nowhere else. It is never part of
an exception, a message or repr() (PureClient's repr shows the URL only); the session token
neither. The array's own error messages never echo a password (it never returns one).

TLS: `verify=` is passed on every request, because requests lets REQUESTS_CA_BUNDLE or
CURL_CA_BUNDLE from the environment override a Session's verify, which would silently ignore
ca_path on controllers that set them; trust_env is off for the same reason (and for .netrc and
proxies).
"""

from __future__ import annotations

import json
import re
import traceback

try:
    import requests
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

from ansible_collections.sanboot.iscsi.plugins.module_utils.rest import display_url, short_reason
from ansible_collections.sanboot.iscsi.plugins.module_utils.san.core import SanError

# The REST version whose published description (FA2.56.spec.yaml) the tests validate against.
VALIDATED_VERSION = (2, 56)


class PureError(SanError):
    """The array refused a request, or could not be reached. `status` is the HTTP status (None: no answer);
    `messages` the array's own error messages, `contexts` the names they refer to."""

    def __init__(self, message, status=None, messages=(), contexts=()):
        super().__init__(message)
        self.status = status
        self.messages = list(messages)
        self.contexts = list(contexts)

    def mentions(self, text) -> bool:
        return any(text.lower() in message.lower() for message in self.messages)


def _version(text):
    match = re.match(r"^(\d+)\.(\d+)$", str(text))
    return (int(match.group(1)), int(match.group(2))) if match else None


class PureClient:
    """One logged-in session with a FlashArray. request() raises PureError, never with a secret in it."""

    def __init__(self, api_url, api_token, validate_certs=True, ca_path=None, timeout=30):
        if not HAS_REQUESTS:
            raise SanError("the Python library requests is required on the host that runs the module (purefa backend)")
        self.url = str(api_url).rstrip("/")
        self.where = display_url(self.url)
        self._api_token = api_token
        self._session_token = None
        self.timeout = timeout
        self.verify = ca_path if (ca_path and validate_certs) else bool(validate_certs)
        self.version = None
        self.http = requests.Session()
        self.http.trust_env = False

    def __repr__(self):
        return "PureClient(%s, version=%s, logged_in=%s)" % (self.where, self.version, self._session_token is not None)

    # -- plumbing

    def _send(self, method, path, params=None, body=None, headers=None, what=None):
        what = what or "%s %s" % (method, path)
        try:
            response = self.http.request(method, self.url + path, params=params,
                                         data=json.dumps(body) if body is not None else None,
                                         headers=dict(headers or {}, **({"Content-Type": "application/json"}
                                                                        if body is not None else {})),
                                         verify=self.verify, timeout=self.timeout, allow_redirects=False)
        except requests.exceptions.SSLError as exc:
            raise PureError("TLS verification of the FlashArray at %s failed (%s): give ca_path, or validate_certs=false "
                            "for a test array" % (self.where, short_reason(exc))) from None
        except requests.exceptions.Timeout:
            raise PureError("the FlashArray at %s did not answer %s within %s s (timeout)"
                            % (self.where, what, self.timeout)) from None
        except requests.exceptions.ConnectionError as exc:
            raise PureError("cannot reach the FlashArray at %s: %s" % (self.where, short_reason(exc))) from None
        except requests.exceptions.RequestException as exc:
            raise PureError("request to the FlashArray at %s failed: %s" % (self.where, short_reason(exc))) from None
        return response

    @staticmethod
    def _errors(response):
        try:
            answer = response.json()
        except ValueError:
            return [], []
        errors = answer.get("errors") if isinstance(answer, dict) else None
        if not isinstance(errors, list):
            return [], []
        messages = [str(error.get("message")) for error in errors if isinstance(error, dict) and error.get("message")]
        contexts = [str(error.get("context")) for error in errors if isinstance(error, dict) and error.get("context")]
        return messages, contexts

    def _refused(self, response, what):
        messages, contexts = self._errors(response)
        detail = "; ".join("%s%s" % ("%s: " % context if context else "", message)
                           for message, context in zip(messages, contexts + [None] * len(messages))) \
            or "HTTP %d" % response.status_code
        raise PureError("the FlashArray at %s refused %s: %s" % (self.where, what, detail), response.status_code,
                        messages, contexts)

    # -- session

    def login(self):
        """Choose the REST version and open a session with the API token."""
        response = self._send("GET", "/api/api_version", what="the API version list")
        if response.status_code != 200:
            self._refused(response, "the API version list")
        try:
            offered = [_version(text) for text in response.json().get("version", [])]
        except (ValueError, AttributeError):
            offered = []
        usable = sorted(version for version in offered if version and version[0] == 2 and version <= VALIDATED_VERSION)
        if not usable:
            raise PureError("the FlashArray at %s offers no REST 2.x version up to %d.%d (it offers %s): the purefa backend "
                            "speaks REST 2.x" % ((self.where,) + VALIDATED_VERSION + (
                                ", ".join("%d.%d" % version for version in offered if version) or "none",)))
        self.version = "%d.%d" % usable[-1]
        response = self._send("POST", "/api/%s/login" % self.version, headers={"api-token": self._api_token},
                              what="the login")
        if response.status_code in (401, 403):
            raise PureError("the FlashArray at %s refused the login (HTTP %d): check api_token"
                            % (self.where, response.status_code), response.status_code)
        if response.status_code != 200 or not response.headers.get("x-auth-token"):
            self._refused(response, "the login")
        self._session_token = response.headers["x-auth-token"]

    def logout(self):
        if self._session_token is None:
            return
        try:
            self._send("POST", "/api/%s/logout" % self.version, headers={"x-auth-token": self._session_token},
                       what="the logout")
        except PureError:
            pass  # the session times out on the array anyway; a failed logout must not hide the real result
        finally:
            self._session_token = None
            self.http.close()

    def request(self, method, resource, params=None, body=None, missing_ok=False):
        """One REST call on /api/<version><resource>. Returns the answer's JSON (None for an empty body).

        params: values that are lists are sent comma-separated, as the array expects.
        missing_ok: a 400 saying that a named object does not exist returns None instead of raising.
        """
        if self._session_token is None:
            self.login()
        query = None
        if params:
            query = {key: ",".join(value) if isinstance(value, (list, tuple)) else value
                     for key, value in params.items() if value is not None}
        what = "%s %s" % (method, resource)
        response = self._send(method, "/api/%s%s" % (self.version, resource), params=query, body=body,
                              headers={"x-auth-token": self._session_token}, what=what)
        if response.status_code not in (200, 207):
            if missing_ok and response.status_code == 400:
                messages, _contexts = self._errors(response)
                if messages and all("does not exist" in message for message in messages):
                    return None
            self._refused(response, what)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise PureError("the FlashArray at %s answered %s with something that is not JSON" % (self.where, what))

    def items(self, resource, params=None, missing_ok=False) -> list:
        """GET a collection and return its items (every page: continuation_token)."""
        items = []
        params = dict(params or {})
        while True:
            answer = self.request("GET", resource, params=params, missing_ok=missing_ok)
            if answer is None:
                return items
            items.extend(answer.get("items") or [])
            token = answer.get("continuation_token")
            if not token:
                return items
            params["continuation_token"] = token
