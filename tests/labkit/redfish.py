# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A Redfish BMC **test double**: a stateful emulator of a server's BMC for the NIC's iSCSI boot settings.

No BMC runs here, so this stands in for one. It is built from public data, not from our own idea of
Redfish: it serves the DMTF `public-tower` mockup (shared/reference/redfish, loaded as data, never
copied), validates every PATCH body against the DMTF JSON schemas held there, and answers errors with
the Base message registry of that mockup. It behaves as real BMCs do where they differ:

    profile  where a NetworkDeviceFunction is written               when it applies
    dmtf     PATCH on the function itself                           at once
    dell     only its @Redfish.Settings SettingsObject (.../Settings) as a task (job) at the next
             (iDRAC style); the function itself refuses PATCH (405) ComputerSystem.Reset; a second
                                                                    change is refused while one is pending
    lenovo   .../Pending (XCC style); the function refuses PATCH;   at the next ComputerSystem.Reset
             CHAP fields only with AuthenticationMethod CHAP/MutualCHAP

Common to all: authentication required (basic, or a session from SessionService, deleted with
DELETE), the service root and $metadata open; ETags on every resource and 412 on an If-Match that does
not match; unknown or read-only property -> 400 with @Message.ExtendedInfo, wrong type/range/enum ->
400; CHAP secrets read back as null (as on every real BMC). HTTPS with a throw-away lab CA (as the Kea
TLS test does), listening on loopback or inside a test's own namespace only.

One emulator is one BMC of one machine: the mockup's system, with NetworkDeviceFunction 1 carrying
the machine's MAC. What the NIC holds once applied (secrets included, as the NIC's own NVRAM does)
is written to a root-only file, `nvram_path`, which the lab's boot shim reads (labkit/bmcboot.py).

    bmc = RedfishBmc.start(cleanup, workdir, profile="dell", mac="52:54:00:5b:00:01")
    bmc.url, bmc.username, bmc.password, bmc.ca_path
    bmc.requests          # every request (method, path) the emulator served, for "nothing was sent" checks
    bmc.applied(mac)      # the function's applied iSCSIBoot, secrets included (the NIC's view)
"""

from __future__ import annotations

import base64
import copy
import hashlib
import http.server
import ipaddress
import itertools
import json
import os
import re
import secrets
import ssl
import stat
import threading
import time
from pathlib import Path

import labkit

PROFILES = ("dmtf", "dell", "lenovo")
SECRET_PROPERTIES = ("CHAPSecret", "MutualCHAPSecret")
MOCKUP_SYSTEM = "/redfish/v1/Systems/437XR1238R2"
MOCKUP_FUNCTIONS = "/redfish/v1/Chassis/Tower/NetworkAdapters/NIC1/NetworkDeviceFunctions"
FUNCTION_SCHEMA = "NetworkDeviceFunction.v1_11_1.json"
DELL_APPLY_TIMES = ["OnReset", "AtMaintenanceWindowStart", "InMaintenanceWindowOnReset"]
_ANNOTATION = re.compile(r"^([a-zA-Z_][a-zA-Z0-9_]*)?@(odata|Redfish|Message)\.[a-zA-Z_][a-zA-Z0-9_]*$")
_IP_FIELDS = ("InitiatorIPAddress", "InitiatorNetmask", "InitiatorDefaultGateway", "PrimaryTargetIPAddress",
              "SecondaryTargetIPAddress", "PrimaryDNS", "SecondaryDNS")
_emulators = itertools.count(1)


class RedfishFault(Exception):
    """An error answer: HTTP status and Base registry messages (id, args, related property)."""

    def __init__(self, status: int, messages: list, headers: dict | None = None):
        super().__init__("HTTP %d %s" % (status, messages))
        self.status = status
        self.messages = messages
        self.headers = headers or {}


# --- the reference data ---------------------------------------------------------------------------

def _strip_copyright(node):
    if isinstance(node, dict):
        return {key: _strip_copyright(value) for key, value in node.items() if key != "@Redfish.Copyright"}
    if isinstance(node, list):
        return [_strip_copyright(item) for item in node]
    return node


def load_mockup() -> dict:
    """URI -> resource of the DMTF public-tower mockup (without the mockup-only copyright annotation)."""
    base = labkit.reference_file("redfish", "public-tower")
    resources = {}
    for index in base.rglob("index.json"):
        relative = index.parent.relative_to(base).as_posix()
        uri = "/redfish/v1" + ("/" + relative if relative != "." else "/")
        resource = json.loads(index.read_text())
        resources[resource.get("@odata.id", uri).rstrip("/") or "/redfish/v1"] = _strip_copyright(resource)
    root = resources.pop("/redfish/v1/", None) or resources.get("/redfish/v1")
    resources["/redfish/v1"] = root
    return resources


class Registry:
    """The Base message registry the mockup carries: @Message.ExtendedInfo entries as a real service writes them."""

    def __init__(self):
        data = json.loads(labkit.reference_file("redfish", "public-tower", "Registries", "Base.1.5.0.json").read_text())
        self.prefix = "%s.%s" % (data["RegistryPrefix"], data["RegistryVersion"])
        self.messages = data["Messages"]

    def info(self, message_id: str, args=(), related=None, text=None, resolution=None) -> dict:
        if message_id not in self.messages:  # an OEM message (Dell's SYS011): given in full
            entry = {"MessageId": message_id, "Message": text, "Severity": "Warning", "MessageSeverity": "Warning",
                     "Resolution": resolution or "None.", "MessageArgs": list(args)}
        else:
            template = self.messages[message_id]
            message = template["Message"]
            for position, arg in enumerate(args, 1):
                message = message.replace("%%%d" % position, str(arg))
            entry = {"MessageId": "%s.%s" % (self.prefix, message_id), "Message": message,
                     "MessageArgs": [str(arg) for arg in args], "Severity": template["Severity"],
                     "MessageSeverity": template["Severity"],
                     "Resolution": resolution or template["Resolution"]}
        entry["@odata.type"] = "#Message.v1_1_1.Message"
        if related:
            entry["RelatedProperties"] = [related]
        return entry


class SchemaValidator:
    """PATCH bodies checked against the DMTF JSON schema of NetworkDeviceFunction (and Resource.json for the
    shared definitions): unknown property, read-only property, type, enum, minimum/maximum, pattern."""

    def __init__(self):
        directory = labkit.reference_file("redfish", "schemas")
        self.documents = {path.name: json.loads(path.read_text()) for path in directory.glob("*.json")}
        self.root_document = FUNCTION_SCHEMA

    def _resolve(self, node: dict, document: str):
        """Follow a $ref to (schema, document); refs to documents we do not hold return (None, name)."""
        ref = node.get("$ref")
        if not ref:
            return node, document
        target, _hash, pointer = ref.partition("#")
        name = target.rsplit("/", 1)[-1] if target else document
        held = self.documents.get(name)
        if held is None:
            return None, name
        for part in pointer.strip("/").split("/"):
            held = held[part]
        return held, name

    def validate(self, body, path: str = "", schema: dict | None = None, document: str | None = None) -> list:
        """Every violation as (message_id, args, related_property_pointer)."""
        if schema is None:
            document = self.root_document
            schema = self.documents[document]["definitions"]["NetworkDeviceFunction"]
        errors = []
        if not isinstance(body, dict):
            return [("PropertyValueTypeError", (json.dumps(body), path or "body"), path or "/")]
        properties = schema.get("properties", {})
        for key, value in body.items():
            pointer = "%s/%s" % (path, key)
            if key not in properties:
                if _ANNOTATION.match(key):
                    errors.append(("PropertyNotWritable", (key,), pointer))
                else:
                    errors.append(("PropertyUnknown", (key,), pointer))
                continue
            errors.extend(self._check(value, properties[key], document, pointer, key))
        return errors

    def _check(self, value, prop: dict, document: str, pointer: str, name: str) -> list:
        if prop.get("readonly") is True:
            return [("PropertyNotWritable", (name,), pointer)]
        alternatives = prop.get("anyOf")
        if alternatives:
            if value is None and any(alt.get("type") == "null" for alt in alternatives):
                return []
            for alternative in alternatives:
                if alternative.get("type") == "null":
                    continue
                resolved, where = self._resolve(alternative, document)
                if resolved is None:
                    return [("PropertyNotWritable", (name,), pointer)]
                return self._check_value(value, resolved, where, pointer, name)
            return [("PropertyValueTypeError", (json.dumps(value), name), pointer)]
        resolved, where = self._resolve(prop, document)
        if resolved is None:
            # Shared definitions we do not hold (odata-v4.json): annotations, never writable.
            return [("PropertyNotWritable", (name,), pointer)]
        if resolved.get("readonly") is True:
            return [("PropertyNotWritable", (name,), pointer)]
        return self._check_value(value, resolved, where, pointer, name)

    def _check_value(self, value, schema: dict, document: str, pointer: str, name: str) -> list:
        shown = json.dumps(value)
        if "properties" in schema:
            if not isinstance(value, dict):
                return [("PropertyValueTypeError", (shown, name), pointer)]
            return self.validate(value, pointer, schema, document)
        types = schema.get("type")
        types = [types] if isinstance(types, str) else list(types or [])
        if "enum" in schema:
            types = types or ["string"]
        if value is None:
            return [] if "null" in types else [("PropertyValueTypeError", ("null", name), pointer)]
        if types and not any(_is_type(value, kind) for kind in types if kind != "null"):
            return [("PropertyValueTypeError", (shown, name), pointer)]
        if "enum" in schema and value not in schema["enum"]:
            return [("PropertyValueNotInList", (value, name), pointer)]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if "minimum" in schema and value < schema["minimum"] or "maximum" in schema and value > schema["maximum"]:
                return [("PropertyValueNotInList", (shown, name), pointer)]
        if isinstance(value, str) and schema.get("pattern") and not re.search(schema["pattern"], value):
            return [("PropertyValueFormatError", (value, name), pointer)]
        if isinstance(value, list) and "items" in schema:
            errors = []
            for index, item in enumerate(value):
                errors.extend(self._check(item, schema["items"], document, "%s/%d" % (pointer, index), name))
            return errors
        return []


def _is_type(value, kind: str) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    expected = {"string": str, "boolean": bool, "object": dict, "array": list}.get(kind)
    return expected is not None and isinstance(value, expected)


def deep_merge(base: dict, overlay: dict) -> dict:
    merged = copy.deepcopy(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def etag_of(resource: dict) -> str:
    return 'W/"%s"' % hashlib.sha256(json.dumps(resource, sort_keys=True).encode()).hexdigest()[:16]


def second_mac(mac: str) -> str:
    """The second function's MAC: the machine's with the fourth octet's top bit flipped (unique per machine)."""
    octets = mac.split(":")
    octets[3] = "%02x" % (int(octets[3], 16) ^ 0x80)
    return ":".join(octets)


# --- the BMC's state ------------------------------------------------------------------------------

class BmcState:
    """One BMC: the mockup's resources, its functions' applied and staged values, tasks, sessions."""

    def __init__(self, profile: str, mac: str, username: str, password: str, nvram_path: Path | None = None):
        if profile not in PROFILES:
            raise labkit.LabError("unknown Redfish profile %r: expected one of %s" % (profile, ", ".join(PROFILES)))
        self.profile = profile
        self.username = username
        self.password = password
        self.nvram_path = nvram_path
        self.lock = threading.RLock()
        self.registry = Registry()
        self.validator = SchemaValidator()
        self.resources = load_mockup()
        self.sessions = {}
        self.session_numbers = itertools.count(1)
        self.task_numbers = itertools.count(1000)
        self.requests = []
        self.resets = []
        self.secrets = {}   # function uri -> {CHAPSecret, MutualCHAPSecret} as applied (the NIC's NVRAM)
        self.staged = {}    # function uri -> the staged change (dell: Settings body; lenovo: Pending body)
        self.staged_secrets = {}
        self.fail_next = {}  # (method, path) -> RedfishFault, for fault injection
        self.functions = ["%s/1" % MOCKUP_FUNCTIONS, "%s/2" % MOCKUP_FUNCTIONS]
        self._prepare(mac)

    def _prepare(self, mac: str):
        for uri, function_mac in zip(self.functions, (mac, second_mac(mac))):
            function = self.resources[uri]
            function["Ethernet"]["MACAddress"] = function["Ethernet"]["PermanentMACAddress"] = function_mac.upper()
            # The mockup's sample secrets are what this NIC's NVRAM holds; they are never read back.
            self.secrets[uri] = {name: function["iSCSIBoot"].pop(name, None) for name in SECRET_PROPERTIES}
            function["iSCSIBoot"].update({name: None for name in SECRET_PROPERTIES})
            if self.profile == "dell":
                function["@Redfish.Settings"] = {
                    "@odata.type": "#Settings.v1_4_0.Settings",
                    "SettingsObject": {"@odata.id": uri + "/Settings"},
                    "SupportedApplyTimes": list(DELL_APPLY_TIMES)}
        system = self.resources[MOCKUP_SYSTEM]
        system["PowerState"] = "On"
        self._write_nvram()

    # -- helpers

    def fault(self, status: int, message_id: str, args=(), related=None, text=None, resolution=None, headers=None):
        return RedfishFault(status, [self.registry.info(message_id, args, related, text, resolution)], headers)

    def function_for(self, path: str):
        """(function uri, kind) for a function, its Settings or its Pending resource; else (None, None)."""
        for uri in self.functions:
            if path == uri:
                return uri, "function"
            if path == uri + "/Settings" and self.profile == "dell":
                return uri, "settings"
            if path == uri + "/Pending" and self.profile == "lenovo":
                return uri, "pending"
        return None, None

    def pending_task(self, function_uri: str):
        for uri, resource in self.resources.items():
            if uri.startswith("/redfish/v1/TaskService/Tasks/") and resource.get("TaskState") == "Pending" and \
                    resource.get("Payload", {}).get("TargetUri") == function_uri + "/Settings":
                return uri
        return None

    def allow(self, path: str) -> str:
        uri, kind = self.function_for(path)
        if kind == "function":
            return "GET, HEAD, PATCH" if self.profile == "dmtf" else "GET, HEAD"
        if kind in ("settings", "pending"):
            return "GET, HEAD, PATCH" + (", DELETE" if kind == "pending" else "")
        if path.startswith("/redfish/v1/TaskService/Tasks/"):
            return "GET, HEAD, DELETE"
        if path == "/redfish/v1/SessionService/Sessions":
            return "GET, HEAD, POST"
        if path.startswith("/redfish/v1/SessionService/Sessions/"):
            return "GET, HEAD, DELETE"
        if path.endswith("/Actions/ComputerSystem.Reset"):
            return "POST"
        return "GET, HEAD"

    def view(self, path: str):
        """The resource as a GET shows it, or None."""
        uri, kind = self.function_for(path)
        if kind == "settings":
            staged = self.staged.get(uri, {})
            view = {"@odata.id": path, "@odata.type": self.resources[uri]["@odata.type"], "Id": "Settings",
                    "Name": "Network Device Function pending settings"}
            view.update(copy.deepcopy(staged))
            return view
        if kind == "pending":
            view = deep_merge(self.resources[uri], self.staged.get(uri, {}))
            view["@odata.id"] = path
            view["Name"] = "Network Device Function pending settings"
            if "iSCSIBoot" in view:
                view["iSCSIBoot"].update({name: None for name in SECRET_PROPERTIES})
            return view
        if path == "/redfish/v1/TaskService/Tasks":
            collection = copy.deepcopy(self.resources[path])
            collection["Members"] = [{"@odata.id": uri} for uri in self.resources
                                     if uri.startswith(path + "/")]
            collection["Members@odata.count"] = len(collection["Members"])
            return collection
        if path == "/redfish/v1/SessionService/Sessions":
            collection = copy.deepcopy(self.resources[path])
            collection["Members"] = [{"@odata.id": session["@odata.id"]} for session in self.sessions.values()]
            collection["Members@odata.count"] = len(collection["Members"])
            return collection
        for session in self.sessions.values():
            if session["@odata.id"] == path:
                return copy.deepcopy(session)
        resource = self.resources.get(path)
        return copy.deepcopy(resource) if resource is not None else None

    # -- authentication

    def authenticate(self, headers) -> str | None:
        token = headers.get("X-Auth-Token")
        if token:
            return token if token in self.sessions else None
        auth = headers.get("Authorization") or ""
        if auth.startswith("Basic "):
            try:
                user, _colon, password = base64.b64decode(auth[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return None
            if secrets.compare_digest(user, self.username) and secrets.compare_digest(password, self.password):
                return "basic"
        return None

    def create_session(self, body):
        if not isinstance(body, dict) or "UserName" not in body or "Password" not in body:
            raise self.fault(400, "PropertyMissing", ("UserName" if "UserName" not in (body or {}) else "Password",))
        if not (secrets.compare_digest(str(body["UserName"]), self.username)
                and secrets.compare_digest(str(body["Password"]), self.password)):
            raise self.fault(401, "NoValidSession")
        number = next(self.session_numbers)
        token = secrets.token_hex(16)
        uri = "/redfish/v1/SessionService/Sessions/%d" % number
        self.sessions[token] = {"@odata.id": uri, "@odata.type": "#Session.v1_7_0.Session", "Id": str(number),
                                "Name": "User Session", "UserName": self.username}
        return token, self.sessions[token]

    def delete_session(self, path: str):
        for token, session in list(self.sessions.items()):
            if session["@odata.id"] == path:
                del self.sessions[token]
                return
        raise self.fault(404, "ResourceMissingAtURI", (path,))

    # -- PATCH

    def patch(self, path: str, body, if_match: str | None):
        uri, kind = self.function_for(path)
        if uri is None:
            if self.view(path) is None:
                raise self.fault(404, "ResourceMissingAtURI", (path,))
            raise self.fault(405, "ActionNotSupported", ("PATCH",), text=None)
        if kind == "function" and self.profile != "dmtf":
            raise self.fault(405, "ActionNotSupported", ("PATCH on %s" % path,),
                             resolution="Change the settings through the resource's settings object.")
        current = self.view(path)
        if if_match and if_match != "*" and if_match != etag_of(current):
            raise RedfishFault(412, [self.registry.info("GeneralError", (), None, resolution=(
                "The ETag given in If-Match (%s) is not the resource's current ETag: read it again." % if_match))])
        if not isinstance(body, dict) or not body:
            raise self.fault(400, "EmptyJSON" if body == {} else "MalformedJSON")
        body = dict(body)
        apply_time = None
        if kind == "settings" and "@Redfish.SettingsApplyTime" in body:
            requested = body.pop("@Redfish.SettingsApplyTime")
            apply_time = (requested or {}).get("ApplyTime") if isinstance(requested, dict) else None
            if apply_time not in DELL_APPLY_TIMES:
                raise self.fault(400, "PropertyValueNotInList", (apply_time, "ApplyTime"),
                                 "/@Redfish.SettingsApplyTime/ApplyTime")
        errors = self.validator.validate(body)
        errors += self._device_rules(uri, body, kind)
        if errors:
            raise RedfishFault(400, [self.registry.info(message_id, args, related) for message_id, args, related in errors])
        if kind == "settings" and self.pending_task(uri):
            # iDRAC: one pending configuration job per device.
            raise self.fault(400, "IDRAC.2.8.SYS011", text=(
                "Pending configuration values are already committed, unable to perform another set operation."),
                resolution="Wait for the pending job to complete, or delete it, and retry the operation.")
        secret_values = {name: body.get("iSCSIBoot", {}).get(name) for name in SECRET_PROPERTIES
                         if name in body.get("iSCSIBoot", {})}
        stored = copy.deepcopy(body)
        for name in SECRET_PROPERTIES:
            stored.get("iSCSIBoot", {}).pop(name, None)
        if kind == "function":
            self.resources[uri] = deep_merge(self.resources[uri], stored)
            self.resources[uri]["iSCSIBoot"].update({name: None for name in SECRET_PROPERTIES})
            self.secrets[uri].update(secret_values)
            self._write_nvram()
            return 200, self.view(path), {}
        self.staged[uri] = deep_merge(self.staged.get(uri, {}), stored)
        self.staged_secrets.setdefault(uri, {}).update(secret_values)
        if kind == "settings":
            task = self._new_task(uri, path, apply_time or "OnReset")
            return 202, None, {"Location": task}
        return 200, self.view(path), {}

    def _device_rules(self, uri: str, body: dict, kind: str) -> list:
        """What the NIC itself refuses beyond the schema's types: malformed addresses; on XCC, CHAP fields
        without the authentication method that uses them."""
        errors = []
        boot = body.get("iSCSIBoot") if isinstance(body.get("iSCSIBoot"), dict) else {}
        for name in _IP_FIELDS:
            value = boot.get(name)
            if isinstance(value, str):
                try:
                    ipaddress.ip_address(value)
                except ValueError:
                    errors.append(("PropertyValueFormatError", (value, name), "/iSCSIBoot/" + name))
        if self.profile == "lenovo" and kind == "pending":
            merged = deep_merge(deep_merge(self.resources[uri], self.staged.get(uri, {})), body)
            method = merged.get("iSCSIBoot", {}).get("AuthenticationMethod")
            for name, needs in (("CHAPUsername", ("CHAP", "MutualCHAP")), ("CHAPSecret", ("CHAP", "MutualCHAP")),
                                ("MutualCHAPUsername", ("MutualCHAP",)), ("MutualCHAPSecret", ("MutualCHAP",))):
                if boot.get(name) not in (None, "") and method not in needs:
                    errors.append(("PropertyValueFormatError", ("(hidden)" if "Secret" in name else boot[name], name),
                                   "/iSCSIBoot/" + name))
        return errors

    def _new_task(self, function_uri: str, settings_uri: str, apply_time: str) -> str:
        number = next(self.task_numbers)
        uri = "/redfish/v1/TaskService/Tasks/%d" % number
        staged = copy.deepcopy(self.staged[function_uri])
        self.resources[uri] = {
            "@odata.id": uri, "@odata.type": "#Task.v1_7_0.Task", "Id": str(number),
            "Name": "Configure: NIC %s" % function_uri.rsplit("/", 1)[-1], "TaskState": "Pending", "TaskStatus": "OK",
            "StartTime": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()), "PercentComplete": 0,
            "Messages": [{"MessageId": "Base.1.5.0.Success", "Message": "Scheduled: applied at the next %s."
                          % ("reset" if apply_time == "OnReset" else "maintenance window")}],
            "Payload": {"TargetUri": settings_uri, "HttpOperation": "PATCH", "JsonBody": json.dumps(staged),
                        "HttpHeaders": []},
        }
        return uri

    # -- actions, deletes

    def reset(self, body):
        actions = self.resources[MOCKUP_SYSTEM]["Actions"]["#ComputerSystem.Reset"]
        reset_type = (body or {}).get("ResetType") if isinstance(body, dict) else None
        if reset_type not in actions["ResetType@Redfish.AllowableValues"]:
            raise self.fault(400, "ActionParameterValueFormatError" if reset_type else "ActionParameterMissing",
                             (reset_type, "ResetType", "ComputerSystem.Reset") if reset_type
                             else ("ComputerSystem.Reset", "ResetType"))
        self.resets.append(reset_type)
        if reset_type in ("ForceOff", "GracefulShutdown"):
            self.resources[MOCKUP_SYSTEM]["PowerState"] = "Off"
            return
        self.resources[MOCKUP_SYSTEM]["PowerState"] = "On"
        for uri in self.functions:
            if uri not in self.staged:
                continue
            self.resources[uri] = deep_merge(self.resources[uri], self.staged.pop(uri))
            self.secrets[uri].update(self.staged_secrets.pop(uri, {}))
            task = self.pending_task(uri)
            if task:
                self.resources[task].update(TaskState="Completed", PercentComplete=100,
                                            EndTime=time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()))
                self.resources[task]["Messages"].append({"MessageId": "Base.1.5.0.Success",
                                                         "Message": "Successfully Completed Request"})
        self._write_nvram()

    def delete(self, path: str):
        if path.startswith("/redfish/v1/SessionService/Sessions/"):
            return self.delete_session(path)
        resource = self.resources.get(path)
        if path.startswith("/redfish/v1/TaskService/Tasks/") and resource:
            if resource.get("TaskState") != "Pending":
                raise self.fault(400, "ResourceCannotBeDeleted")
            # Deleting a scheduled configuration job discards its staged values (iDRAC).
            target = resource["Payload"]["TargetUri"].rsplit("/Settings", 1)[0]
            self.staged.pop(target, None)
            self.staged_secrets.pop(target, None)
            resource.update(TaskState="Cancelled", TaskStatus="Warning")
            return None
        uri, kind = self.function_for(path)
        if kind == "pending":
            self.staged.pop(uri, None)
            self.staged_secrets.pop(uri, None)
            return None
        raise self.fault(405 if resource is not None else 404,
                         "ResourceCannotBeDeleted" if resource is not None else "ResourceMissingAtURI",
                         () if resource is not None else (path,))

    # -- what the NIC holds

    def applied(self, uri: str | None = None, mac: str | None = None) -> dict:
        """The function's applied boot settings as its firmware sees them: BootMode and iSCSIBoot with secrets."""
        with self.lock:
            for candidate in self.functions:
                function = self.resources[candidate]
                if (uri and candidate == uri) or (mac and function["Ethernet"]["MACAddress"].lower() == mac.lower()):
                    boot = dict(function["iSCSIBoot"], **self.secrets[candidate])
                    return {"uri": candidate, "mac": function["Ethernet"]["MACAddress"].lower(),
                            "BootMode": function.get("BootMode"), "NetDevFuncType": function.get("NetDevFuncType"),
                            "iSCSIBoot": boot}
        raise labkit.LabError("no network device function with %s" % (uri or mac))

    def _write_nvram(self):
        if not self.nvram_path:
            return
        content = json.dumps([self.applied(uri=uri) for uri in self.functions], indent=1)
        temporary = self.nvram_path.with_suffix(".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, stat.S_IRUSR | stat.S_IWUSR)
        with os.fdopen(descriptor, "w") as stream:
            stream.write(content)
        os.replace(temporary, self.nvram_path)


# --- HTTP -----------------------------------------------------------------------------------------

def metadata_document() -> str:
    """$metadata: the CSDL the reference data holds, served by the emulator (validators read it)."""
    return """<?xml version="1.0" encoding="UTF-8"?>
<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx" Version="4.0">
  <edmx:Reference Uri="/redfish/v1/Schemas/NetworkDeviceFunction_v1.xml">
    <edmx:Include Namespace="NetworkDeviceFunction"/>
    <edmx:Include Namespace="NetworkDeviceFunction.v1_11_1"/>
  </edmx:Reference>
  <edmx:DataServices>
    <Schema xmlns="http://docs.oasis-open.org/odata/ns/edm" Namespace="Service">
      <EntityContainer Name="Service" Extends="ServiceRoot.v1_0_0.ServiceContainer"/>
    </Schema>
  </edmx:DataServices>
</edmx:Edmx>
"""


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without TCP_NODELAY each answer waits for the
    # client's delayed ACK (about 40 ms).
    disable_nagle_algorithm = True
    server_version = "sanboot-redfish-test-double"
    state: BmcState = None  # set per server class

    def log_message(self, *_args):  # quiet: tests read bmc.requests
        pass

    def _send(self, status: int, body=None, headers: dict | None = None, content_type="application/json"):
        payload = b""
        if body is not None:
            payload = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("OData-Version", "4.0")
        if body is not None:
            self.send_header("Content-Type", "%s; charset=utf-8" % content_type)
        self.send_header("Content-Length", str(len(payload)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _error(self, fault: RedfishFault):
        body = {"error": {"code": fault.messages[0]["MessageId"], "message": fault.messages[0]["Message"],
                          "@Message.ExtendedInfo": fault.messages}}
        headers = dict(fault.headers)
        if fault.status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="sanboot-bmc"'
        self._send(fault.status, body, headers)

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise self.state.fault(400, "MalformedJSON") from None

    def _handle(self):
        state = self.state
        path = self.path.split("?", 1)[0]
        path = path.rstrip("/") if path not in ("/", "/redfish/v1/") else path
        if path == "/redfish/v1/":
            path = "/redfish/v1"
        with state.lock:
            state.requests.append((self.command, path))
            fault = state.fail_next.pop((self.command, path), None)
        try:
            body = self._body() if self.command in ("POST", "PATCH") else None
            if fault:
                raise fault
            # Open without authentication (Redfish specification): the version, service root, $metadata, odata.
            if self.command in ("GET", "HEAD") and path == "/redfish":
                return self._send(200, {"v1": "/redfish/v1/"})
            if self.command in ("GET", "HEAD") and path == "/redfish/v1/$metadata":
                return self._send(200, metadata_document(), content_type="application/xml")
            if self.command in ("GET", "HEAD") and path.startswith("/redfish/v1/Schemas/"):
                name = path.rsplit("/", 1)[-1]
                schema = labkit.reference_file("redfish", "schemas") / name
                if name.endswith(".xml") and schema.is_file():
                    return self._send(200, schema.read_text(), content_type="application/xml")
                raise state.fault(404, "ResourceMissingAtURI", (path,))
            if self.command in ("GET", "HEAD") and path == "/redfish/v1/odata":
                return self._send(200, {"@odata.context": "/redfish/v1/$metadata", "value": [
                    {"name": "Service", "kind": "Singleton", "url": "/redfish/v1/"}]})
            if self.command == "POST" and path == "/redfish/v1/SessionService/Sessions":
                with state.lock:
                    token, session = state.create_session(body)
                return self._send(201, session, {"X-Auth-Token": token, "Location": session["@odata.id"]})
            with state.lock:
                who = state.authenticate(self.headers)
            if path != "/redfish/v1" and who is None:
                raise state.fault(401, "NoValidSession")
            with state.lock:
                return self._dispatch(state, path, body)
        except RedfishFault as exc:
            return self._error(exc)

    def _dispatch(self, state: BmcState, path: str, body):
        if self.command in ("GET", "HEAD"):
            resource = state.view(path)
            if resource is None:
                raise state.fault(404, "ResourceMissingAtURI", (path,))
            return self._send(200, resource, {"ETag": etag_of(resource), "Allow": state.allow(path)})
        if self.command == "PATCH":
            status, resource, headers = state.patch(path, body, self.headers.get("If-Match"))
            if resource is not None:
                headers = dict(headers, ETag=etag_of(resource))
            return self._send(status, resource if resource is not None else
                              {"@Message.ExtendedInfo": [state.registry.info("Success")]}, headers)
        if self.command == "POST" and path == MOCKUP_SYSTEM + "/Actions/ComputerSystem.Reset":
            state.reset(body)
            return self._send(204)
        if self.command == "DELETE":
            state.delete(path)
            return self._send(204)
        raise state.fault(405, "ActionNotSupported", ("%s %s" % (self.command, path),))

    do_GET = do_HEAD = do_PATCH = do_POST = do_DELETE = do_PUT = _handle


class RedfishBmc:
    """One emulated BMC served over HTTPS on a free port (127.0.0.1, or an address in a test namespace)."""

    def __init__(self, state: BmcState, server, thread, url: str, ca_path: Path | None):
        self.state = state
        self.server = server
        self.thread = thread
        self.url = url
        self.ca_path = ca_path
        self.username = state.username
        self.password = state.password
        self.profile = state.profile
        self.nvram_path = state.nvram_path

    @classmethod
    def start(cls, cleanup: labkit.Cleanup, workdir: Path, profile: str = "dmtf", mac: str = "52:54:00:5b:00:01",
              host: str = "127.0.0.1", tls: bool = True, ca: tuple | None = None, username: str = "root",
              password: str | None = None, name: str | None = None) -> "RedfishBmc":
        """ca: (ca.pem, ca.key) of a lab CA to sign the certificate with; by default a new one in workdir."""
        if not ipaddress.ip_address(host).is_loopback:
            raise labkit.LabError("the Redfish test double listens on loopback only (asked for %s)" % host)
        index = next(_emulators)
        name = name or "bmc%d" % index
        password = password or "bmc-%s-%s" % (labkit.RUN_MARKER, secrets.token_hex(4))
        state = BmcState(profile, mac, username, password, nvram_path=Path(workdir) / ("%s-nvram.json" % name))
        handler = type("Handler_%s" % name, (_Handler,), {"state": state})
        server = http.server.ThreadingHTTPServer((host, 0), handler)
        server.daemon_threads = True
        ca_path = None
        if tls:
            ca_path, ca_key = ca or make_ca(workdir)
            certificate, key = make_certificate(workdir, name, host, ca_path, ca_key)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(certificate, key)
            server.socket = context.wrap_socket(server.socket, server_side=True)
        thread = threading.Thread(target=server.serve_forever, name="redfish-%s" % name, daemon=True)
        thread.start()
        port = server.server_address[1]
        url = "%s://%s:%d" % ("https" if tls else "http", host, port)
        bmc = cls(state, server, thread, url, ca_path)
        cleanup.push("stop the Redfish test double %s" % url, bmc.stop)
        return bmc

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)

    # -- what tests look at

    @property
    def requests(self) -> list:
        with self.state.lock:
            return list(self.state.requests)

    def writes(self) -> list:
        """The requests that could change something (anything but GET/HEAD and session handling)."""
        return [(method, path) for method, path in self.requests
                if method not in ("GET", "HEAD") and not path.startswith("/redfish/v1/SessionService/Sessions")]

    def applied(self, mac: str | None = None, uri: str | None = None) -> dict:
        return self.state.applied(uri=uri, mac=mac)

    def staged(self) -> dict:
        with self.state.lock:
            return copy.deepcopy(self.state.staged)

    def snapshot(self) -> dict:
        """Everything a client could have changed: resources, staged values and secrets (compare, never print)."""
        with self.state.lock:
            return copy.deepcopy({"resources": self.state.resources, "staged": self.state.staged,
                                  "staged_secrets": self.state.staged_secrets, "secrets": self.state.secrets})

    def sessions(self) -> int:
        with self.state.lock:
            return len(self.state.sessions)

    def reset(self, reset_type: str = "ForceRestart"):
        with self.state.lock:
            self.state.reset({"ResetType": reset_type})

    def inject(self, method: str, path: str, status: int, message_id: str = "InternalError"):
        """The next `method path` fails with this status (fault injection)."""
        with self.state.lock:
            self.state.fail_next[(method, path)] = self.state.fault(status, message_id)

    def function_uri(self, number: int = 1) -> str:
        return self.state.functions[number - 1]

    def connection(self) -> dict:
        """The connection options of the collection's redfish modules for this BMC."""
        options = {"baseuri": self.url.split("://", 1)[1], "username": self.username, "password": self.password}
        if self.ca_path:
            options["ca_path"] = str(self.ca_path)
        else:
            options["validate_certs"] = False
        return options


def make_ca(workdir: Path) -> tuple:
    """A throw-away lab CA (EC key: fast), root-only files."""
    ca_key, ca_pem = Path(workdir) / "bmc-ca.key", Path(workdir) / "bmc-ca.pem"
    if not ca_pem.exists():
        labkit.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", ca_key, "-out", ca_pem, "-days", "2", "-subj",
                    "/CN=sanboot BMC lab CA %s" % labkit.RUN_MARKER])
        for path in (ca_key, ca_pem):
            os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    return ca_pem, ca_key


def make_certificate(workdir: Path, name: str, host: str, ca_pem: Path, ca_key: Path) -> tuple:
    workdir = Path(workdir)
    key, csr, pem, ext = (workdir / ("%s.%s" % (name, suffix)) for suffix in ("key", "csr", "pem", "ext"))
    labkit.run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", key, "-out", csr, "-subj", "/CN=%s" % host])
    ext.write_text("subjectAltName=IP:%s\nbasicConstraints=CA:FALSE\n" % host)
    labkit.run(["openssl", "x509", "-req", "-in", csr, "-CA", ca_pem, "-CAkey", ca_key, "-CAcreateserial",
                "-out", pem, "-days", "2", "-extfile", ext])
    for path in (key, pem):
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    return pem, key


# --- the collection's bmc modules in real plays ---------------------------------------------------------

_plays = itertools.count(1)


class PlayRun:
    def __init__(self, completed, results: list):
        self.returncode = completed.returncode
        self.output = completed.stdout + completed.stderr
        self.results = results

    def __getitem__(self, index):
        return self.results[index]


def run_play(bmc: RedfishBmc, workdir: Path, tasks: list, *arguments, connection: dict | None = None,
             env: dict | None = None, timeout: int = 300) -> PlayRun:
    """One play on localhost with module_defaults for group/sanboot.iscsi.bmc pointing at `bmc`; every task is
    registered (ignore_errors) and the results come back through a root-only JSON file."""
    import subprocess

    import yaml

    number = next(_plays)
    results_path = Path(workdir) / ("bmc-play-%d-results.json" % number)
    body = [dict(task, register="step%d" % index, ignore_errors=True) for index, task in enumerate(tasks)]
    content = "{{ [%s] | to_json }}" % ", ".join("step%d | default(None)" % index for index in range(len(tasks)))
    play = {"name": "bmc play %d" % number, "hosts": "localhost", "gather_facts": False, "connection": "local",
            "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
            "module_defaults": {"group/sanboot.iscsi.bmc": connection if connection is not None else bmc.connection()},
            "tasks": [{"block": body, "always": [{
                "name": "Keep the registered results for the test",
                "ansible.builtin.copy": {"content": content, "dest": str(results_path), "mode": "0600"},
                "check_mode": False, "diff": False}]}]}
    playbook = Path(workdir) / ("bmc-play-%d.yml" % number)
    descriptor = os.open(playbook, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as stream:
        yaml.safe_dump([play], stream, sort_keys=False)
    argv = [str(labkit.VENV_BIN / "ansible-playbook"), "-i", "localhost,", str(playbook)] + list(arguments)
    environment = labkit.ansible_env(dict({"ANSIBLE_LOCALHOST_WARNING": "false"}, **(env or {})))
    completed = subprocess.run(argv, cwd=str(labkit.REPO), env=environment, capture_output=True, text=True,
                               timeout=timeout, check=False)
    if not results_path.exists():
        output = completed.stdout[-4000:] + completed.stderr[-2000:]
        raise AssertionError("the play wrote no results (exit %d):\n%s" % (completed.returncode, output))
    results = json.loads(results_path.read_text())
    results_path.unlink()
    return PlayRun(completed, results)


# --- one emulated BMC as a process of its own (molecule scenarios start and stop it) --------------------------------
#
#   cd tests && python -m labkit.redfish start --dir DIR [--profile dell] [--mac 52:54:00:5b:00:01]
#   cd tests && python -m labkit.redfish stop --dir DIR
#
# `start` returns once the BMC answers; DIR/bmc.json (root-only) then holds url, baseuri, username, password,
# ca_path, nvram_path and the pid that `stop` signals (SIGTERM, then SIGKILL after 10 s).

def _state_file(directory: Path) -> Path:
    return Path(directory) / "bmc.json"


def _serve(directory: Path, profile: str, mac: str):
    import signal

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with labkit.Cleanup() as cleanup:
        bmc = RedfishBmc.start(cleanup, directory, profile=profile, mac=mac)
        state = {"pid": os.getpid(), "url": bmc.url, "baseuri": bmc.url.split("://", 1)[1], "username": bmc.username,
                 "password": bmc.password, "ca_path": str(bmc.ca_path), "nvram_path": str(bmc.nvram_path),
                 "profile": profile, "mac": mac}
        temporary = _state_file(directory).with_suffix(".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, stat.S_IRUSR | stat.S_IWUSR)
        with os.fdopen(descriptor, "w") as stream:
            stream.write(json.dumps(state, indent=1))
        os.replace(temporary, _state_file(directory))
        while not stop.wait(1):
            pass


def main(argv=None) -> int:
    import argparse
    import signal
    import subprocess
    import sys

    parser = argparse.ArgumentParser(prog="python -m labkit.redfish", description="one Redfish BMC test double")
    parser.add_argument("command", choices=["start", "stop", "_serve"])
    parser.add_argument("--dir", type=Path, required=True, help="directory for its certificates, NVRAM and bmc.json")
    parser.add_argument("--profile", choices=PROFILES, default="dell")
    parser.add_argument("--mac", default="52:54:00:5b:00:01", help="MAC of network device function 1")
    arguments = parser.parse_args(argv)
    directory = arguments.dir.resolve()
    if arguments.command == "_serve":
        _serve(directory, arguments.profile, arguments.mac)
        return 0
    if arguments.command == "start":
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        _state_file(directory).unlink(missing_ok=True)
        log = open(directory / "bmc.log", "w")
        process = subprocess.Popen([sys.executable, "-m", "labkit.redfish", "_serve", "--dir", str(directory),
                                    "--profile", arguments.profile, "--mac", arguments.mac],
                                   cwd=str(Path(__file__).resolve().parents[1]), stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            labkit.wait_for(lambda: process.poll() is not None or _state_file(directory).exists(), 30,
                            "the Redfish test double to start")
        except labkit.LabError:
            process.kill()
            raise
        if process.poll() is not None:
            print("the Redfish test double exited: %s" % (directory / "bmc.log").read_text()[-2000:])
            return 1
        print("Redfish test double (%s profile) at %s, pid %d" % (arguments.profile, json.loads(
            _state_file(directory).read_text())["url"], process.pid))
        return 0
    try:
        pid = json.loads(_state_file(directory).read_text())["pid"]
    except (OSError, ValueError, KeyError):
        print("no Redfish test double in %s" % directory)
        return 0
    if labkit.pid_alive(pid):
        os.kill(pid, signal.SIGTERM)
        try:
            labkit.wait_for(lambda: not labkit.pid_alive(pid), 10, "the Redfish test double (pid %d) to stop" % pid)
        except labkit.LabError:
            os.kill(pid, signal.SIGKILL)
    _state_file(directory).unlink(missing_ok=True)
    print("Redfish test double (pid %d) stopped" % pid)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
