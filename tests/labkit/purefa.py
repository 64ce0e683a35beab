# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""labkit.purefa: a TEST DOUBLE of a Pure Storage FlashArray's REST 2.x API, for the purefa backend.

A FlashArray cannot run here, so this stands in for one. It is built from Pure's published API
description, FA2.56.spec.yaml (OpenAPI 3.0.1, Apache-2.0; labkit.reference_file("pure-flasharray",
"FA2.56.spec.yaml"), never copied into the repository), and held to it:

- every request it receives and every response it sends is validated against the spec with
  openapi-core (PyPI), plus what openapi-core lets through: query parameters the operation does not
  declare and body properties its schema does not name. Error bodies (the spec declares only the
  2xx answers of these operations) are validated against the spec's own `_errorContextResponse`.
  Each violation is recorded in `violations`, the request is answered 400, and the test fixture
  asserts that there were none: a request the spec does not allow fails the test;
- it refuses what the spec says the array refuses: CHAP passwords outside 12-255 characters or a
  target password equal to the host password, a LUN outside 1-4095, names outside "1 to 63
  letters, digits and '-', beginning and ending with a letter or digit", sizes that are not a
  multiple of 512 bytes or above 4 PiB, an IQN that another host has ("already registered"),
  a request without a valid session (`api-token` header at login, `x-auth-token` afterwards);
- it never returns a CHAP password (hosts show `host_user`/`target_user` only), as the array;
- it keeps state across requests (volumes, snapshots, hosts, tags, connections), serves HTTPS on
  127.0.0.1 with a certificate from a throw-away test CA (`ca_path`), and runs in a thread of the
  test process, so that a test can look at the state and inject live iSCSI sessions
  (`add_session`, shown by GET /ports/initiators) or faults (`fail_next`).

Where the spec is silent, the double takes the stricter reading and says so here: clearing CHAP
takes empty strings for both user and password; a CHAP password needs its user (and the reverse);
a host with connections cannot be deleted; a volume must be destroyed (PATCH destroyed=true)
before it is eradicated (DELETE), and a destroyed volume keeps its name until then.

    array = purefa.start_array(cleanup, workdir)     # PureArrayDouble, serving https://127.0.0.1:<port>
    array.url, array.api_token, array.ca_path, array.target_iqn, array.portal
    array.volumes, array.hosts, array.connections    # state, for assertions
    array.add_session("iqn....")                     # an initiator logged in to a port
    array.violations                                 # spec violations seen (must stay empty)
"""

from __future__ import annotations

import copy
import functools
import itertools
import json
import os
import re
import ssl
import stat
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import labkit

API_VERSION = "2.56"
PREFIX = "/api/%s" % API_VERSION
# The versions GET /api/api_version announces (a FlashArray lists every 2.x it speaks).
VERSIONS = ["2.%d" % minor for minor in range(0, 57)]
SPEC_PARTS = ("pure-flasharray", "FA2.56.spec.yaml")
SECTOR = 512
MAX_PROVISIONED = 4503599627370496
LUN_RANGE = (1, 4095)
PASSWORD_LENGTH = (12, 255)
NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
NAME_RULE = "1 to 63 letters, digits and '-', beginning and ending with a letter or digit"


# --- the spec --------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def spec() -> dict:
    """The parsed spec, once per process (1.7 MB of YAML: about half a second with the C loader)."""
    import yaml
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(labkit.reference_file(*SPEC_PARTS), "rb") as stream:
        return yaml.load(stream, Loader=loader)


@functools.lru_cache(maxsize=1)
def openapi():
    """openapi-core's validator for the spec, once per process (the spec itself is not re-validated)."""
    from openapi_core import Config, OpenAPI
    return OpenAPI.from_dict(spec(), config=Config(spec_validator_cls=None))


def _schema(ref_or_schema):
    if "$ref" in ref_or_schema:
        return spec()["components"]["schemas"][ref_or_schema["$ref"].rsplit("/", 1)[1]]
    return ref_or_schema


def _operation(method, path):
    item = spec()["paths"].get(path)
    return item.get(method.lower()) if item else None


def _declared_parameters(operation, where):
    names = set()
    for parameter in operation.get("parameters", []):
        if "$ref" in parameter:
            parameter = spec()["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[1]]
        if parameter.get("in") == where:
            names.add(parameter["name"])
    return names


def _unknown_properties(value, schema, where, seen=0):
    """Property names in value that schema (with its allOf/$ref parts) does not name: openapi-core
    lets them through (additionalProperties defaults to true), the double does not."""
    if seen > 20:
        return []
    schema = _schema(schema)
    problems = []
    if isinstance(value, dict):
        properties = {}
        stack = [schema]
        while stack:
            part = _schema(stack.pop())
            properties.update(part.get("properties", {}))
            stack.extend(part.get("allOf", []))
        if not properties:
            return []
        for key, item in value.items():
            if key not in properties:
                problems.append("%s.%s is not a property the spec defines" % (where, key))
            else:
                problems.extend(_unknown_properties(item, properties[key], "%s.%s" % (where, key), seen + 1))
    elif isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            problems.extend(_unknown_properties(item, schema["items"], "%s[%d]" % (where, index), seen + 1))
    return problems


class _Request:
    """openapi-core's request protocol."""

    def __init__(self, method, path, query, headers, body):
        from openapi_core.datatypes import RequestParameters
        from werkzeug.datastructures import Headers, ImmutableMultiDict
        self.host_url = "https://127.0.0.1"
        self.path = path
        self.method = method.lower()
        self.parameters = RequestParameters(query=ImmutableMultiDict(list(query)), header=Headers(list(headers)),
                                            cookie=ImmutableMultiDict(), path={})
        self.content_type = "application/json"
        self.body = body or None

    @property
    def full_url_pattern(self):
        return self.host_url + self.path


class _Response:
    def __init__(self, status, body, headers):
        from werkzeug.datastructures import Headers
        self.status_code = status
        self.data = body
        self.headers = Headers(list(headers))
        self.content_type = self.headers.get("Content-Type", "")


def _explain(exc):
    cause = exc.__cause__ or exc.__context__
    text = str(exc)
    errors = getattr(cause, "schema_errors", None) or getattr(exc, "schema_errors", None)
    if errors:
        text += ": " + "; ".join(error.message for error in errors)
    elif cause is not None and str(cause) not in text:
        text += ": %s" % cause
    return text


def validate_request(method, path, query, headers, body) -> list:
    """Violations of the spec by this request (empty when the spec allows it)."""
    problems = []
    try:
        openapi().validate_request(_Request(method, path, query, headers, body))
    except Exception as exc:  # openapi-core raises one of many classes: all mean "the spec does not allow it"
        problems.append("request %s %s: %s" % (method, path, _explain(exc)))
    operation = _operation(method, path)
    if operation is None:
        return problems or ["request %s %s: no such operation in the spec" % (method, path)]
    declared = _declared_parameters(operation, "query")
    for name, _value in query:
        if name not in declared:
            problems.append("request %s %s: query parameter %r is not one the spec declares" % (method, path, name))
    if body:
        try:
            value = json.loads(body)
        except ValueError:
            return problems + ["request %s %s: the body is not JSON" % (method, path)]
        content = (operation.get("requestBody") or {}).get("content", {}).get("application/json")
        if content is None:
            problems.append("request %s %s: the operation takes no body" % (method, path))
        else:
            problems.extend("request %s %s: %s" % (method, path, problem)
                            for problem in _unknown_properties(value, content["schema"], "body"))
    return problems


@functools.lru_cache(maxsize=1)
def _error_validator():
    from jsonschema import Draft4Validator
    schemas = spec()["components"]["schemas"]
    schema = copy.deepcopy(schemas["_errorContextResponse"])
    schema["properties"]["errors"]["items"] = copy.deepcopy(schemas["_errorcontextresponseErrors"])
    return Draft4Validator(schema)


def validate_response(method, path, query, headers, body, status, response_headers, response_body) -> list:
    """Violations of the spec by this response."""
    if status >= 400:
        try:
            value = json.loads(response_body)
        except ValueError:
            return ["response %d to %s %s: the error body is not JSON" % (status, method, path)]
        return ["response %d to %s %s: %s" % (status, method, path, error.message)
                for error in _error_validator().iter_errors(value)]
    operation = _operation(method, path) or {}
    declared = operation.get("responses", {}).get(str(status))
    if declared is not None and declared.get("content") == {}:
        # "content: {}" declares no body (openapi-core 0.19 would ask for one anyway).
        return [] if not response_body else ["response %d to %s %s: the spec declares no body" % (status, method, path)]
    try:
        openapi().validate_response(_Request(method, path, query, headers, body),
                                    _Response(status, response_body, response_headers))
    except Exception as exc:
        return ["response %d to %s %s: %s" % (status, method, path, _explain(exc))]
    return []


# --- the array -------------------------------------------------------------------------------------

class ArrayError(Exception):
    """A request the array refuses: answered with status and Pure's error shape."""

    def __init__(self, message, context=None, status=400):
        super().__init__(message)
        self.message = message
        self.context = context
        self.status = status


def _check_name(kind, name):
    if not isinstance(name, str) or not NAME.match(name) or name.isdigit():
        raise ArrayError("Invalid %s name: %s must be %s, and not only digits." % (kind, name, NAME_RULE), name)


class PureArrayDouble:
    """The array's state and its REST operations. Thread-safe (one lock around every request)."""

    def __init__(self, workdir: Path, api_token=None, array_name="sbt-flasharray"):
        self.workdir = Path(workdir)
        self.api_token = api_token or str(uuid.uuid4())
        self.array_name = array_name
        self.target_iqn = "iqn.2010-06.com.purestorage:flasharray.%s" % uuid.uuid4().hex[:16]
        # TEST-NET-1 addresses: the double has no iSCSI service; nothing ever connects to them.
        self.ports = [{"name": "CT0.ETH4", "iqn": self.target_iqn, "portal": "192.0.2.10:3260"},
                      {"name": "CT1.ETH4", "iqn": self.target_iqn, "portal": "192.0.2.11:3260"}]
        self.volumes = {}
        self.snapshots = {}
        self.hosts = {}
        self.connections = []  # {"host": name, "volume": name, "lun": int}
        self.sessions = []  # {"iqn": initiator, "port": port name}
        self.tokens = {}
        self.violations = []
        self.requests = []  # (method, path, query) of every request, for assertions
        self.faults = []  # (method, path, message): the next matching request fails
        self.lock = threading.RLock()
        self.server = None
        self.thread = None
        self.ca_path = None
        self._serial = itertools.count(1)

    # -- what tests use

    @property
    def url(self):
        return "https://127.0.0.1:%d" % self.server.server_address[1]

    @property
    def portal(self):
        return self.ports[0]["portal"]

    def add_session(self, iqn, port="CT0.ETH4"):
        """An initiator logged in to a port (GET /ports/initiators shows it)."""
        with self.lock:
            self.sessions.append({"iqn": iqn, "port": port})

    def login(self, initiator, lun, chap=None, mutual_chap=None):
        """What an iSCSI login to the array's target would find: the volume name at lun, or None.

        The array's access model: the initiator's IQN must be registered on a host (any case), the
        host must have a connection at lun; a host with host CHAP admits only an initiator presenting
        that (user, password); an initiator asking for mutual CHAP must be answered with the host's
        target (user, password)."""
        with self.lock:
            host = next((h for h in self.hosts.values() if initiator.lower() in (i.lower() for i in h["iqns"])), None)
            if host is None:
                return None
            chap_set = host["chap"]
            if chap_set.get("host_user") and tuple(chap or ()) != (chap_set["host_user"], chap_set["host_password"]):
                return None
            if mutual_chap and tuple(mutual_chap) != (chap_set.get("target_user"), chap_set.get("target_password")):
                return None
            connection = next((c for c in self.connections if c["host"] == host["name"] and c["lun"] == lun), None)
            return connection["volume"] if connection else None

    def seed_host(self, name, iqns, **chap):
        """A host made on the array by someone else (no tags)."""
        with self.lock:
            self.hosts[name] = {"name": name, "iqns": list(iqns), "chap": dict(chap), "tags": {}}

    def seed_volume(self, name, provisioned, connect_to=None, lun=1):
        """A volume made on the array by someone else, optionally connected to a host."""
        with self.lock:
            self.volumes[name] = {"id": str(uuid.uuid4()), "name": name, "provisioned": provisioned, "destroyed": False,
                                  "serial": "%024X" % next(self._serial), "created": int(time.time() * 1000),
                                  "data": b"", "tags": {}}
            if connect_to:
                self.connections.append({"host": connect_to, "volume": name, "lun": lun})

    def fail_next(self, method, path, message="Injected fault.", skip=0):
        """The next request with this method and path (e.g. "PATCH", "/hosts"), after `skip` of them, is refused
        with 400."""
        with self.lock:
            self.faults.append([method.upper(), path, message, skip])

    def snapshot(self):
        """Everything a run could change, for before/after comparisons."""
        with self.lock:
            return copy.deepcopy({"volumes": self.volumes, "snapshots": self.snapshots, "hosts": self.hosts,
                                  "connections": sorted(self.connections, key=lambda c: (c["host"], c["volume"]))})

    # -- serving

    def start(self, cleanup):
        self.ca_path, certificate, key = _make_certificates(self.workdir)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificate, key)
        array = self

        class Handler(_Handler):
            double = array

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, name="purefa-double", daemon=True)
        self.thread.start()
        cleanup.push("stop the FlashArray double on %s" % self.url, self.stop)
        return self

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(timeout=10)
            self.server = None

    # -- dispatch

    def handle(self, method, path, query, headers, body):
        """One request: (status, response headers, response body bytes). Validates both directions."""
        with self.lock:
            self.requests.append((method, path, query))
            problems = validate_request(method, path, query, headers, body)
            if problems:
                self.violations.extend(problems)
                status, extra, payload = 400, [], {"errors": [{"message": "Request not allowed by the API "
                                                                          "description: %s" % problems[0]}]}
            else:
                try:
                    status, extra, payload = self._dispatch(method, path, query, headers, body)
                except Exception as exc:  # a defect of the double itself: fail the test, answer as an array would
                    self.violations.append("the double failed on %s %s: %r" % (method, path, exc))
                    status, extra, payload = 500, [], {"errors": [{"message": "Internal error."}]}
            # The spec declares no content for what answers nothing (DELETE, logout): none is sent.
            response = json.dumps(payload).encode() if payload is not None else b""
            response_headers = ([("Content-Type", "application/json")] if payload is not None else []) + extra
            self.violations.extend(validate_response(method, path, query, headers, body, status, response_headers,
                                                     response))
            return status, response_headers, response

    def _dispatch(self, method, path, query, headers, body):
        try:
            if path == "/api/api_version" and method == "GET":
                return 200, [], {"version": VERSIONS}
            if not path.startswith(PREFIX + "/"):
                raise ArrayError("Unsupported API version or path.", status=404)
            resource = path[len(PREFIX):]
            for index, fault in enumerate(self.faults):
                if fault[:2] == [method, resource]:
                    if fault[3]:
                        fault[3] -= 1
                        break
                    del self.faults[index]
                    raise ArrayError(fault[2])
            if resource == "/login" and method == "POST":
                return self._login(headers)
            header = {name.lower(): value for name, value in headers}
            session = header.get("x-auth-token")
            if session not in self.tokens:
                raise ArrayError("Session token is missing or not valid: log in first.", status=401)
            if resource == "/logout" and method == "POST":
                del self.tokens[session]
                return 200, [], None
            handler = getattr(self, "_%s_%s" % (method.lower(), resource.strip("/").replace("/", "_").replace("-", "_")),
                              None)
            if handler is None:
                raise ArrayError("The double does not serve %s %s." % (method, resource), status=404)
            params = {}
            for name, value in query:
                params.setdefault(name, []).extend(value.split(","))
            payload = json.loads(body) if body else None
            return 200, [], handler(params, payload)
        except ArrayError as exc:
            error = {"message": exc.message}
            if exc.context is not None:
                error["context"] = exc.context
            return exc.status, [], {"errors": [error]}

    def _login(self, headers):
        header = {name.lower(): value for name, value in headers}
        if header.get("api-token") != self.api_token:
            raise ArrayError("Invalid API token.", status=401)
        session = str(uuid.uuid4())
        self.tokens[session] = "pureuser"
        return 200, [("x-auth-token", session)], {"items": [{"username": "pureuser"}]}

    # -- volumes

    @staticmethod
    def _names(params, key="names", required=True):
        names = params.get(key, [])
        if required and not names:
            raise ArrayError("%s is required." % key)
        return names

    def _volume_item(self, volume):
        item = {key: volume[key] for key in ("id", "name", "provisioned", "serial", "destroyed", "created")}
        item["connection_count"] = sum(1 for c in self.connections if c["volume"] == volume["name"])
        if volume.get("source"):
            item["source"] = dict(volume["source"])
        return item

    def _get_volumes(self, params, _body):
        names = self._names(params, required=False)
        for name in names:
            if name not in self.volumes:
                raise ArrayError("Volume does not exist.", name)
        chosen = [self.volumes[name] for name in (names or sorted(self.volumes))]
        if "destroyed" in params:
            wanted = params["destroyed"][0] == "true"
            chosen = [volume for volume in chosen if volume["destroyed"] == wanted]
        return {"items": [self._volume_item(volume) for volume in chosen]}

    def _post_volumes(self, params, body):
        names = self._names(params)
        body = body or {}
        if len(names) != 1:
            raise ArrayError("Create one volume per request.")
        name = names[0]
        _check_name("volume", name)
        if name in self.volumes:
            pending = " (destroyed, pending eradication)" if self.volumes[name]["destroyed"] else ""
            raise ArrayError("Volume already exists%s." % pending, name)
        source = body.get("source")
        if source is not None:
            source_name = source.get("name")
            origin = self.volumes.get(source_name) or self.snapshots.get(source_name)
            if origin is None or origin.get("destroyed"):
                raise ArrayError("Source volume or snapshot does not exist.", source_name)
            provisioned = origin["provisioned"]
            if "provisioned" in body:
                raise ArrayError("provisioned cannot be given with source: copy first, then resize.", name)
            data = origin.get("data", b"")
        else:
            provisioned = body.get("provisioned")
            if provisioned is None:
                raise ArrayError("provisioned is required to create a volume.", name)
            data = b""
        self._check_size(name, provisioned)
        tags = self._tags_from(name, body.get("tags"))
        volume = {"id": str(uuid.uuid4()), "name": name, "provisioned": provisioned, "destroyed": False,
                  "serial": "%024X" % next(self._serial), "created": int(time.time() * 1000), "data": data,
                  "tags": {}}
        if source is not None:
            volume["source"] = {"id": origin["id"], "name": origin["name"]}
            # A copy takes its source's copyable tags (the spec: copyable "defaults to true").
            volume["tags"].update({key: value for key, value in origin.get("tags", {}).items() if value[1]})
        volume["tags"].update(tags)
        self.volumes[name] = volume
        return {"items": [self._volume_item(volume)]}

    @staticmethod
    def _check_size(name, provisioned):
        if not isinstance(provisioned, int) or provisioned <= 0 or provisioned % SECTOR:
            raise ArrayError("Volume size must be a positive multiple of 512 bytes.", name)
        if provisioned > MAX_PROVISIONED:
            raise ArrayError("Volume size exceeds the maximum of 4 PB.", name)

    def _patch_volumes(self, params, body):
        names = self._names(params)
        body = body or {}
        items = []
        for name in names:
            volume = self.volumes.get(name)
            if volume is None:
                raise ArrayError("Volume does not exist.", name)
            if "provisioned" in body:
                self._check_size(name, body["provisioned"])
                if body["provisioned"] < volume["provisioned"] and params.get("truncate", ["false"])[0] != "true":
                    raise ArrayError("Implicit truncation not permitted.", name)
            if body.get("destroyed") is True and any(c["volume"] == name for c in self.connections):
                raise ArrayError("Volume has host connections: disconnect it first.", name)
        for name in names:
            volume = self.volumes[name]
            for key in ("provisioned", "destroyed"):
                if key in body:
                    volume[key] = body[key]
            items.append(self._volume_item(volume))
        return {"items": items}

    def _delete_volumes(self, params, _body):
        names = self._names(params)
        for name in names:
            volume = self.volumes.get(name)
            if volume is None:
                raise ArrayError("Volume does not exist.", name)
            if not volume["destroyed"]:
                raise ArrayError("Volume must be destroyed before it is eradicated.", name)
        for name in names:
            del self.volumes[name]
        return None

    def _get_volume_snapshots(self, params, _body):
        names = self._names(params, required=False)
        for name in names:
            if name not in self.snapshots:
                raise ArrayError("Snapshot does not exist.", name)
        chosen = [self.snapshots[name] for name in (names or sorted(self.snapshots))]
        return {"items": [{key: snap[key] for key in ("id", "name", "provisioned", "destroyed", "created", "serial")}
                          | {"source": {"id": snap["source"]["id"], "name": snap["source"]["name"]}}
                          for snap in chosen]}

    def _post_volume_snapshots(self, params, body):
        sources = self._names(params, "source_names")
        suffix = (body or {}).get("suffix") or str(next(self._serial))
        items = []
        for source in sources:
            volume = self.volumes.get(source)
            if volume is None or volume["destroyed"]:
                raise ArrayError("Volume does not exist.", source)
            name = "%s.%s" % (source, suffix)
            if name in self.snapshots:
                raise ArrayError("Snapshot already exists.", name)
            self.snapshots[name] = {"id": str(uuid.uuid4()), "name": name, "provisioned": volume["provisioned"],
                                    "destroyed": False, "created": int(time.time() * 1000),
                                    "serial": "%024X" % next(self._serial), "data": volume.get("data", b""),
                                    "tags": {key: value for key, value in volume["tags"].items() if value[1]},
                                    "source": {"id": volume["id"], "name": source}}
            items.append({"name": name, "source": {"name": source}})
        return {"items": items}

    # -- hosts

    def _host_item(self, host):
        item = {"name": host["name"], "iqns": list(host["iqns"]),
                "connection_count": sum(1 for c in self.connections if c["host"] == host["name"])}
        # The array never returns CHAP passwords: only the user names.
        chap = {key: host["chap"][key] for key in ("host_user", "target_user") if host["chap"].get(key)}
        if chap:
            item["chap"] = chap
        return item

    def _get_hosts(self, params, _body):
        names = self._names(params, required=False)
        for name in names:
            if name not in self.hosts:
                raise ArrayError("Host does not exist.", name)
        return {"items": [self._host_item(self.hosts[name]) for name in (names or sorted(self.hosts))]}

    def _check_iqns(self, host_name, iqns):
        for iqn in iqns:
            if not isinstance(iqn, str) or not re.match(r"^(iqn\.\d{4}-\d{2}\.[^\s]+|eui\.[0-9A-Fa-f]{16})$", iqn, re.IGNORECASE):
                raise ArrayError("Invalid IQN.", iqn)
            for other in self.hosts.values():
                if other["name"] != host_name and iqn.lower() in (known.lower() for known in other["iqns"]):
                    raise ArrayError("The IQN %s is already registered to host %s." % (iqn, other["name"]), host_name)
        if len({iqn.lower() for iqn in iqns}) != len(iqns):
            raise ArrayError("Duplicate IQN.", host_name)

    @staticmethod
    def _merged_chap(name, current, wanted):
        chap = dict(current)
        for key, value in (wanted or {}).items():
            if value == "":
                chap.pop(key, None)
            else:
                chap[key] = value
        for user, password in (("host_user", "host_password"), ("target_user", "target_password")):
            if (user in chap) != (password in chap):
                raise ArrayError("CHAP %s and %s must be set (or cleared) together." % (user, password), name)
            if password in chap and not PASSWORD_LENGTH[0] <= len(chap[password]) <= PASSWORD_LENGTH[1]:
                raise ArrayError("The CHAP %s must be between 12 and 255 characters (inclusive)." % password, name)
        if "host_password" in chap and chap.get("host_password") == chap.get("target_password"):
            raise ArrayError("The CHAP host password cannot be the same as the target password.", name)
        if "target_user" in chap and "host_user" not in chap:
            raise ArrayError("Target CHAP needs host CHAP.", name)
        return chap

    def _tags_from(self, name, tags, copyable=True):
        result = {}
        for tag in tags or []:
            key, namespace = tag.get("key"), tag.get("namespace") or "default"
            value = tag.get("value", "")
            if not key or len(key) > 64 or len(value) > 256:
                raise ArrayError("A tag key is 1 to 64 characters and its value at most 256.", name)
            if namespace.startswith("pure"):
                raise ArrayError("The pure* tag namespaces are reserved.", name)
            # Host tags are never copied (NonCopyableTag); volume tags are, unless copyable is false.
            result[(namespace, key)] = (value, copyable and tag.get("copyable", True))
        return result

    def _post_hosts(self, params, body):
        names = self._names(params)
        if len(names) != 1:
            raise ArrayError("Create one host per request.")
        name = names[0]
        _check_name("host", name)
        if name in self.hosts:
            raise ArrayError("Host already exists.", name)
        body = body or {}
        iqns = body.get("iqns", [])
        self._check_iqns(name, iqns)
        chap = self._merged_chap(name, {}, body.get("chap"))
        tags = self._tags_from(name, body.get("tags"), copyable=False)
        self.hosts[name] = {"name": name, "iqns": list(iqns), "chap": chap, "tags": tags}
        return {"items": [self._host_item(self.hosts[name])]}

    def _patch_hosts(self, params, body):
        names = self._names(params)
        body = body or {}
        if len(names) != 1:
            raise ArrayError("Change one host per request.")
        name = names[0]
        host = self.hosts.get(name)
        if host is None:
            raise ArrayError("Host does not exist.", name)
        iqns = list(host["iqns"])
        if "iqns" in body:
            iqns = list(body["iqns"])
        iqns += [iqn for iqn in body.get("add_iqns", []) if iqn not in iqns]
        iqns = [iqn for iqn in iqns if iqn not in body.get("remove_iqns", [])]
        self._check_iqns(name, iqns)
        chap = self._merged_chap(name, host["chap"], body.get("chap")) if "chap" in body else host["chap"]
        new_name = body.get("name")
        if new_name is not None and new_name != name:
            _check_name("host", new_name)
            if new_name in self.hosts:
                raise ArrayError("Host already exists.", new_name)
        host["iqns"], host["chap"] = iqns, chap
        if new_name is not None and new_name != name:
            self.hosts[new_name] = self.hosts.pop(name)
            host["name"] = new_name
            for connection in self.connections:
                if connection["host"] == name:
                    connection["host"] = new_name
        return {"items": [self._host_item(host)]}

    def _delete_hosts(self, params, _body):
        names = self._names(params)
        for name in names:
            if name not in self.hosts:
                raise ArrayError("Host does not exist.", name)
            if any(c["host"] == name for c in self.connections):
                raise ArrayError("Host has volume connections: disconnect them first.", name)
        for name in names:
            del self.hosts[name]
        return None

    def _tags_get(self, objects, params, kind):
        names = params.get("resource_names") or sorted(objects)
        namespaces = params.get("namespaces")
        items = []
        for name in names:
            resource = objects.get(name)
            if resource is None:
                raise ArrayError("%s does not exist." % kind, name)
            for (namespace, key), (value, copyable) in sorted(resource["tags"].items()):
                if namespaces is None or namespace in namespaces:
                    items.append({"namespace": namespace, "key": key, "value": value, "copyable": copyable,
                                  "resource": {"name": name}})
        return {"items": items}

    def _tags_put(self, objects, params, body, kind):
        names = self._names(params, "resource_names")
        items = []
        for name in names:
            resource = objects.get(name)
            if resource is None:
                raise ArrayError("%s does not exist." % kind, name)
            tags = self._tags_from(name, body, copyable=kind == "Volume")
            resource["tags"].update(tags)
            items.extend({"namespace": namespace, "key": key, "value": value, "copyable": copyable,
                          "resource": {"name": name}} for (namespace, key), (value, copyable) in sorted(tags.items()))
        return {"items": items}

    def _tags_delete(self, objects, params, kind):
        names = self._names(params, "resource_names")
        keys = self._names(params, "keys")
        namespaces = params.get("namespaces") or ["default"]
        for name in names:
            resource = objects.get(name)
            if resource is None:
                raise ArrayError("%s does not exist." % kind, name)
            for namespace in namespaces:
                for key in keys:
                    resource["tags"].pop((namespace, key), None)
        return None

    def _get_hosts_tags(self, params, _body):
        return self._tags_get(self.hosts, params, "Host")

    def _put_hosts_tags_batch(self, params, body):
        return self._tags_put(self.hosts, params, body, "Host")

    def _delete_hosts_tags(self, params, _body):
        return self._tags_delete(self.hosts, params, "Host")

    def _get_volumes_tags(self, params, _body):
        return self._tags_get(self.volumes, params, "Volume")

    def _put_volumes_tags_batch(self, params, body):
        return self._tags_put(self.volumes, params, body, "Volume")

    def _delete_volumes_tags(self, params, _body):
        return self._tags_delete(self.volumes, params, "Volume")

    # -- connections and ports

    def _connection_item(self, connection):
        return {"host": {"name": connection["host"]}, "volume": {"name": connection["volume"],
                                                                 "id": self.volumes[connection["volume"]]["id"]},
                "lun": connection["lun"]}

    def _get_connections(self, params, _body):
        hosts, volumes = params.get("host_names"), params.get("volume_names")
        chosen = [c for c in self.connections
                  if (hosts is None or c["host"] in hosts) and (volumes is None or c["volume"] in volumes)]
        return {"items": [self._connection_item(c) for c in sorted(chosen, key=lambda c: (c["host"], c["volume"]))]}

    def _post_connections(self, params, body):
        hosts, volumes = self._names(params, "host_names"), self._names(params, "volume_names")
        if len(hosts) != 1 or len(volumes) != 1:
            raise ArrayError("Connect one host and one volume per request.")
        host, volume = hosts[0], volumes[0]
        if host not in self.hosts:
            raise ArrayError("Host does not exist.", host)
        if volume not in self.volumes or self.volumes[volume]["destroyed"]:
            raise ArrayError("Volume does not exist.", volume)
        lun = (body or {}).get("lun")
        if lun is None:
            used = {c["lun"] for c in self.connections if c["host"] == host}
            lun = min(number for number in range(LUN_RANGE[0], LUN_RANGE[1] + 1) if number not in used)
        if not LUN_RANGE[0] <= lun <= LUN_RANGE[1]:
            raise ArrayError("LUN must be between 1 and 4095.", host)
        for connection in self.connections:
            if connection["host"] == host and connection["volume"] == volume:
                raise ArrayError("Connection already exists.", volume)
            if connection["host"] == host and connection["lun"] == lun:
                raise ArrayError("LUN %d is already in use by host %s." % (lun, host), volume)
        connection = {"host": host, "volume": volume, "lun": lun}
        self.connections.append(connection)
        return {"items": [self._connection_item(connection)]}

    def _delete_connections(self, params, _body):
        hosts, volumes = self._names(params, "host_names"), self._names(params, "volume_names")
        matching = [c for c in self.connections if c["host"] in hosts and c["volume"] in volumes]
        if not matching:
            raise ArrayError("Connection does not exist.", volumes[0])
        for connection in matching:
            self.connections.remove(connection)
        return None

    def _get_ports(self, _params, _body):
        return {"items": [dict(port) for port in self.ports]}

    def _get_ports_initiators(self, _params, _body):
        ports = {port["name"]: port for port in self.ports}
        return {"items": [{"initiator": {"iqn": session["iqn"], "portal": "192.0.2.100:%d" % (50000 + index)},
                           "target": dict(ports[session["port"]])}
                          for index, session in enumerate(self.sessions)]}


class _Handler(BaseHTTPRequestHandler):
    double = None
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without TCP_NODELAY each answer waits for the
    # client's delayed ACK (about 40 ms), which made every test against the double slow.
    disable_nagle_algorithm = True

    def log_message(self, format, *args):  # noqa: A002 (the base class's name): quiet, the test reads state
        pass

    def _serve(self):
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        query = parse_qsl(split.query, keep_blank_values=True)
        status, headers, response = self.double.handle(self.command, split.path, query, list(self.headers.items()), body)
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response)))
        self.end_headers()
        self.wfile.write(response)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve


def _make_certificates(workdir: Path):
    """A throw-away CA and a certificate for 127.0.0.1 signed by it (EC keys: fast)."""
    files = {name: workdir / ("purefa-" + name) for name in ("ca.key", "ca.pem", "array.key", "array.csr", "array.pem")}
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    labkit.run(["openssl", "req", "-x509"] + key + ["-keyout", files["ca.key"], "-out", files["ca.pem"], "-days", "2",
                                                    "-subj", "/CN=sanboot test CA %s" % labkit.RUN_MARKER])
    labkit.run(["openssl", "req"] + key + ["-keyout", files["array.key"], "-out", files["array.csr"],
                                           "-subj", "/CN=127.0.0.1"])
    extensions = workdir / "purefa-array.ext"
    extensions.write_text("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    labkit.run(["openssl", "x509", "-req", "-in", files["array.csr"], "-CA", files["ca.pem"], "-CAkey", files["ca.key"],
                "-CAcreateserial", "-out", files["array.pem"], "-days", "2", "-extfile", extensions])
    for path in files.values():
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    return files["ca.pem"], files["array.pem"], files["array.key"]


def start_array(cleanup, workdir, **kwargs) -> PureArrayDouble:
    """A FlashArray test double serving HTTPS on 127.0.0.1, stopped by cleanup."""
    return PureArrayDouble(workdir, **kwargs).start(cleanup)
