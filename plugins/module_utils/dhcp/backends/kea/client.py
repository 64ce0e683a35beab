# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The Kea control agent's REST API, through requests: one command per POST, with basic auth, TLS
verification and Kea's own reasons in every error (never a password)."""

from __future__ import annotations

import json
import re
import traceback

from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp.core import (
    DhcpError,
)
from ansible_collections.sanboot.iscsi.plugins.module_utils.rest import display_url, short_reason

try:
    import requests
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

RESULT_SUCCESS = 0
RESULT_ERROR = 1
RESULT_UNSUPPORTED = 2
RESULT_EMPTY = 3


class KeaError(DhcpError):
    """The control agent or the server refused, or could not be reached. `text` is Kea's own reason."""

    def __init__(self, message, text=None, result=None):
        super().__init__(message)
        self.text = text
        self.result = result


class KeaClient:
    """A Kea control agent: POST {command, service, arguments} as JSON, with basic auth."""

    def __init__(self, url, username=None, password=None, validate_certs=True, ca_path=None, timeout=30, service="dhcp4"):
        if not HAS_REQUESTS:
            raise DhcpError("the Python library requests is required on the host that runs the module")
        if not re.match(r"^https?://[^/]+", str(url or "")):
            raise DhcpError("api_url '%s' is not an http:// or https:// URL of a Kea control agent" % display_url(url))
        self.url = url
        self.where = display_url(url)
        self.username = username
        self.service = service
        self.timeout = timeout
        self.session = requests.Session()
        self.session.trust_env = False  # no proxy or .netrc credentials from the environment
        if username is not None:
            self.session.auth = (username, password or "")
        self.session.verify = ca_path if (ca_path and validate_certs) else bool(validate_certs)
        self.session.headers["Content-Type"] = "application/json"

    def command(self, name, arguments=None, empty_ok=False) -> dict:
        """Send one command; return the service's answer {result, text, arguments}. Raises KeaError."""
        body = {"command": name, "service": [self.service]}
        if arguments is not None:
            body["arguments"] = arguments
        try:
            response = self.session.post(self.url, data=json.dumps(body), timeout=self.timeout)
        except requests.exceptions.SSLError as exc:
            raise KeaError("TLS verification of the Kea control agent at %s failed (%s): give ca_path, or "
                           "validate_certs=false for a test server" % (self.where, short_reason(exc))) from None
        except requests.exceptions.Timeout:
            raise KeaError("the Kea control agent at %s did not answer %s within %s s (timeout)"
                           % (self.where, name, self.timeout)) from None
        except requests.exceptions.ConnectionError as exc:
            raise KeaError("cannot reach the Kea control agent at %s: %s" % (self.where, short_reason(exc))) from None
        except requests.exceptions.RequestException as exc:
            raise KeaError("request to the Kea control agent at %s failed: %s" % (self.where, short_reason(exc))) from None
        if response.status_code == 401:
            if self.username is None:
                raise KeaError("the Kea control agent at %s requires authentication (HTTP 401 Unauthorized): set "
                               "api_username and api_password" % self.where)
            raise KeaError("the Kea control agent at %s refused user '%s' (HTTP 401 Unauthorized): check api_username "
                           "and api_password" % (self.where, self.username))
        if response.status_code == 403:
            raise KeaError("the Kea control agent at %s does not allow user '%s' to run %s (HTTP 403 Forbidden)"
                           % (self.where, self.username, name))
        try:
            answer = response.json()
        except ValueError:
            raise KeaError("the server at %s did not answer %s like a Kea control agent (HTTP %d, not JSON)"
                           % (self.where, name, response.status_code)) from None
        if isinstance(answer, list):
            answer = answer[0] if answer else {}
        if not isinstance(answer, dict) or "result" not in answer:
            raise KeaError("the server at %s did not answer %s like a Kea control agent (no result)" % (self.where, name))
        if response.status_code >= 400 and answer.get("result") in (None, RESULT_SUCCESS):
            raise KeaError("the Kea control agent at %s answered %s with HTTP %d: %s"
                           % (self.where, name, response.status_code, answer.get("text", "")))
        result = answer.get("result")
        if result == RESULT_SUCCESS or (result == RESULT_EMPTY and empty_ok):
            return answer
        text = answer.get("text", "")
        if result == RESULT_UNSUPPORTED:
            raise KeaError("the Kea %s server behind %s does not support %s: %s" % (self.service, self.where, name, text),
                           text, result)
        raise KeaError("Kea (%s at %s) refused %s: %s" % (self.service, self.where, name, text), text, result)

    def commands(self) -> set:
        return set(self.command("list-commands").get("arguments") or [])

    def config_get(self) -> dict:
        arguments = self.command("config-get").get("arguments")
        if not isinstance(arguments, dict) or "Dhcp4" not in arguments:
            raise KeaError("config-get from %s returned no Dhcp4 configuration: is service '%s' a DHCPv4 server?"
                           % (self.where, self.service))
        return arguments

    def config_test(self, config):
        self.command("config-test", _settable(config))

    def config_set(self, config):
        self.command("config-set", _settable(config))

    def config_write(self) -> dict:
        return self.command("config-write").get("arguments") or {}


def _settable(config) -> dict:
    """config-get's answer minus what config-set does not take (the hash of newer Kea versions)."""
    return {key: value for key, value in config.items() if key != "hash"}


def same_config(first, second) -> bool:
    if first.get("hash") and second.get("hash"):
        return first["hash"] == second["hash"]
    return _settable(first) == _settable(second)
