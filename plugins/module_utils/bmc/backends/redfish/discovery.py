# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Finding network device functions and where each is written, from the resources themselves.

Never per vendor: a function is written
- in place, when its Allow header offers PATCH (or says nothing) and it has no @Redfish.Settings;
- at its @Redfish.Settings SettingsObject (Dell iDRAC), with the annotation's SupportedApplyTimes;
- at <function>/Pending (Lenovo XCC), when the function refuses PATCH (Allow) and that resource exists.
Pending values are those of the settings object that differ from the function's own; a pending job is
a TaskService task whose Payload.TargetUri is the settings object and whose state is not final.
"""

from __future__ import annotations

from ansible_collections.sanboot.iscsi.plugins.module_utils.bmc.core import BmcError, FunctionView
from ansible_collections.sanboot.iscsi.plugins.module_utils.naming import NamingError, normalize_mac

RELEVANT = ("BootMode", "NetDevFuncType", "NetDevFuncCapabilities", "iSCSIBoot")
OPEN_TASK_STATES = ("New", "Pending", "Starting", "Running", "Stopping", "Service", "Suspended", "Interrupted")
HPE_MESSAGE = ("this BMC is an HPE iLO, which keeps a NIC's iSCSI boot settings in its OEM BIOS resource "
               "(Bios iSCSI settings, iSCSISources), not in NetworkDeviceFunction.iSCSIBoot; this module does not "
               "support that resource and changed nothing. Configure iSCSI boot through the iLO BIOS settings instead")


def _members(client, path: str) -> list:
    body = client.get(path).body or {}
    return [member["@odata.id"] for member in body.get("Members") or [] if isinstance(member, dict) and
            member.get("@odata.id")]


def _link(body: dict, name: str):
    value = (body or {}).get(name)
    return value.get("@odata.id") if isinstance(value, dict) else None


def is_hpe(service_root: dict) -> bool:
    oem = service_root.get("Oem") or {}
    return str(service_root.get("Vendor", "")).upper() in ("HPE", "HP") or "Hpe" in oem or "Hp" in oem


def function_uris(client, service_root: dict) -> list:
    """Every NetworkDeviceFunction of the service: Chassis/*/NetworkAdapters/*, then Systems/*/NetworkInterfaces/*."""
    found = []
    chassis = _link(service_root, "Chassis")
    for chassis_uri in _members(client, chassis) if chassis else []:
        adapters = _link(client.get(chassis_uri).body, "NetworkAdapters")
        for adapter in _members(client, adapters) if adapters else []:
            functions = _link(client.get(adapter).body, "NetworkDeviceFunctions")
            found += _members(client, functions) if functions else []
    if not found:
        systems = _link(service_root, "Systems")
        for system in _members(client, systems) if systems else []:
            interfaces = _link(client.get(system).body, "NetworkInterfaces")
            for interface in _members(client, interfaces) if interfaces else []:
                functions = _link(client.get(interface).body, "NetworkDeviceFunctions")
                found += _members(client, functions) if functions else []
    unique = []
    for uri in found:
        if uri.rstrip("/") not in unique:
            unique.append(uri.rstrip("/"))
    return unique


def function_mac(body: dict):
    ethernet = (body or {}).get("Ethernet") or {}
    for key in ("MACAddress", "PermanentMACAddress"):
        if ethernet.get(key):
            try:
                return normalize_mac(ethernet[key])
            except NamingError:
                continue
    return None


def _relevant(body: dict) -> dict:
    return {key: body[key] for key in RELEVANT if key in (body or {})}


def _pending_part(staged: dict, active: dict) -> dict:
    """The staged values that differ from the active ones (a settings object may repeat every property)."""
    pending = {}
    for key, value in staged.items():
        if key not in RELEVANT or key == "NetDevFuncCapabilities":
            continue
        if isinstance(value, dict):
            inner = {name: item for name, item in value.items()
                     if not name.startswith("@") and item != (active.get(key) or {}).get(name)
                     and not (item is None and name in ("CHAPSecret", "MutualCHAPSecret"))}
            if inner:
                pending[key] = inner
        elif value != active.get(key):
            pending[key] = value
    return pending


def pending_job(client, service_root: dict, settings_uri: str):
    tasks_service = _link(service_root, "Tasks")
    if not tasks_service:
        return None
    tasks = _link(client.get(tasks_service).body, "Tasks")
    for task_uri in _members(client, tasks) if tasks else []:
        task = client.get(task_uri).body or {}
        target = ((task.get("Payload") or {}).get("TargetUri") or "").rstrip("/")
        if target == settings_uri.rstrip("/") and task.get("TaskState") in OPEN_TASK_STATES:
            return job_summary(task_uri, task)
    return None


def job_summary(uri: str, task: dict) -> dict:
    messages = [message.get("Message") for message in (task or {}).get("Messages") or []
                if isinstance(message, dict) and message.get("Message")]
    return {"uri": uri, "state": (task or {}).get("TaskState"), "status": (task or {}).get("TaskStatus"),
            "message": messages[-1] if messages else None}


def read_function(client, service_root: dict, uri: str) -> FunctionView:
    response = client.get(uri)
    body = response.body or {}
    allow = response.header("Allow")
    active = _relevant(body)
    if "iSCSIBoot" not in body and "iSCSI" not in (body.get("NetDevFuncCapabilities") or []):
        raise BmcError("the network device function %s has no iSCSIBoot settings (capabilities: %s): it cannot boot "
                       "over iSCSI" % (uri, ", ".join(body.get("NetDevFuncCapabilities") or []) or "none given"))
    settings = body.get("@Redfish.Settings") or {}
    settings_uri = _link(settings, "SettingsObject")
    if settings_uri:
        staged = client.get(settings_uri, "read the pending settings at %s" % settings_uri)
        view = FunctionView(uri, function_mac(body), active, _pending_part(staged.body or {}, active), settings_uri,
                            "settings", settings.get("SupportedApplyTimes") or ["OnReset"],
                            pending_job(client, service_root, settings_uri))
        view.write_etag = staged.header("ETag")
        return view
    if allow and "PATCH" not in [method.strip().upper() for method in allow.split(",")]:
        pending_uri = uri + "/Pending"
        staged = client.request("GET", pending_uri)
        if staged.status != 200:
            raise BmcError("the network device function %s cannot be changed here: it refuses PATCH (Allow: %s) and "
                           "offers neither a @Redfish.Settings object nor %s" % (uri, allow, pending_uri))
        view = FunctionView(uri, function_mac(body), active, _pending_part(staged.body or {}, active), pending_uri,
                            "pending", ["OnReset"], None)
        view.write_etag = staged.header("ETag")
        return view
    view = FunctionView(uri, function_mac(body), active, {}, uri, "function", ["Immediate"], None)
    view.write_etag = response.header("ETag")
    return view


def find_function(client, service_root: dict, mac_address=None, function_id=None) -> FunctionView:
    uris = function_uris(client, service_root)
    if function_id:
        if function_id not in uris:
            response = client.request("GET", function_id)
            if response.status != 200:
                raise BmcError("function_id %s does not exist on the BMC (HTTP %d); its network device functions are: %s"
                               % (function_id, response.status, ", ".join(uris) or "none"))
        return read_function(client, service_root, function_id)
    if not uris:
        if is_hpe(service_root):
            raise BmcError(HPE_MESSAGE)
        raise BmcError("the BMC at %s lists no network device functions (no Chassis NetworkAdapters or System "
                       "NetworkInterfaces; some BMCs do not expose them): set the boot parameters another way, for "
                       "example by DHCP" % client.root)
    bodies = {uri: client.get(uri).body or {} for uri in uris}
    matches = [uri for uri, body in bodies.items() if function_mac(body) == mac_address]
    listing = ", ".join("%s (%s)" % (uri, function_mac(body) or "no MAC") for uri, body in bodies.items())
    if not matches:
        raise BmcError("mac_address %s matches none of the BMC's network device functions: %s" % (mac_address, listing))
    if len(matches) > 1:
        raise BmcError("mac_address %s matches several network device functions (%s): give function_id instead"
                       % (mac_address, ", ".join(matches)))
    if is_hpe(service_root) and "iSCSIBoot" not in bodies[matches[0]]:
        raise BmcError(HPE_MESSAGE)
    return read_function(client, service_root, matches[0])


def list_functions(client, service_root: dict) -> list:
    uris = function_uris(client, service_root)
    if not uris and is_hpe(service_root):
        raise BmcError(HPE_MESSAGE)
    views = []
    for uri in uris:
        try:
            views.append(read_function(client, service_root, uri))
        except BmcError as exc:
            if "has no iSCSIBoot settings" not in str(exc):
                raise
            body = client.get(uri).body or {}
            views.append(FunctionView(uri, function_mac(body), _relevant(body), {}, uri, "none", [], None))
    return views
