# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""A NIC's iSCSI boot settings through a server's BMC, independent of the BMC's protocol.

request -> plan -> result, in plain Python (no Ansible imports), so unit tests drive it directly:

- build_request(params): the module's parameters validated into an IscsiBootRequest. IQNs, MACs,
  portals, LUNs and CHAP go through the naming core; a bad value raises BmcError naming the option
  and the rule, before anything is sent.
- plan_change(request, function): what to write, compared with what *will be* in force (the
  pending settings merged over the active ones), so a staged change is not sent again. Values use
  the DMTF NetworkDeviceFunction property names (BootMode, iSCSIBoot.*), which every backend maps to.
- run_iscsi_boot(params, backends, ...): the module's whole run through one backend.

A backend (bmc/backends/redfish) reads a function into a FunctionView (active and pending values,
where it is written, which apply times it offers, any pending job), writes a plan, clears a pending
job, resets the system and waits for the job. CHAP secrets read back as null on every BMC, so they
are never compared: update_secrets says when they are written (on_create: when the function's CHAP
identity is new; always: every run).
"""

from __future__ import annotations

import copy
import ipaddress

from ansible_collections.sanboot.iscsi.plugins.module_utils.naming import (
    ISCSI_TCP_PORT,
    NamingError,
    normalize_iqn,
    normalize_iscsi_name,
    normalize_mac,
    validate_chap_pair,
    validate_lun,
    validate_port,
)

HIDDEN = "(hidden)"
HIDDEN_CHANGED = "(hidden, changed)"
SECRET_FIELDS = ("CHAPSecret", "MutualCHAPSecret")
VLAN_MIN, VLAN_MAX = 1, 4094
APPLY_TIMES = ("immediate", "on_reset", "maintenance_window")
UPDATE_SECRETS = ("on_create", "always")
# Values a BMC shows for an unset address or name.
_UNSET = (None, "", "0.0.0.0", "::")


class BmcError(Exception):
    """A failure whose message is safe to show: it names the option or the BMC's reason, never a secret."""


# --- the request ------------------------------------------------------------------------------------

class Target:
    def __init__(self, name, address, port, lun):
        self.name = name
        self.address = address
        self.port = port
        self.lun = lun


class IscsiBootRequest:
    """What the user asked for, validated."""

    def __init__(self):
        self.state = "present"
        self.mac_address = None
        self.function_id = None
        self.initiator_iqn = None
        self.ip_dhcp = True
        self.ip_address = self.netmask = self.gateway = None
        self.target = None
        self.secondary_target = None
        self.vlan_id = None
        self.chap = None
        self.mutual_chap = None
        self.update_secrets = "on_create"
        self.apply_time = None
        self.clear_pending = False
        self.reset = False
        self.boot_order = False

    @property
    def secrets(self) -> list:
        """Every secret of the request, so that messages can be scrubbed of them."""
        return [credential["secret"] for credential in (self.chap, self.mutual_chap) if credential]


def _ip(value, what: str, version: int | None = None) -> str:
    try:
        address = ipaddress.ip_address(str(value).strip())
    except ValueError:
        raise BmcError("%s '%s' is not an IP address: the NIC's boot firmware takes addresses, not names"
                       % (what, value)) from None
    if version and address.version != version:
        raise BmcError("%s %s is IPv%d but the other addresses are IPv%d: a function boots over one IP version"
                       % (what, address, address.version, version))
    return str(address)


def _netmask(value, what: str) -> str:
    text = str(value).strip()
    if text.isdigit():
        if not 0 <= int(text) <= 32:
            raise BmcError("%s /%s is not a prefix length: 0 to 32" % (what, text))
        return str(ipaddress.IPv4Network("0.0.0.0/%s" % text).netmask)
    try:
        ipaddress.IPv4Network("0.0.0.0/%s" % text)
    except ValueError:
        raise BmcError("%s '%s' is not a netmask: expected for example 255.255.255.0 or 24" % (what, value)) from None
    return text


def _target(value, what: str) -> Target:
    if not isinstance(value, dict):
        raise BmcError("%s must be a dictionary with name, address, port and lun" % what)
    unknown = set(value) - {"name", "address", "port", "lun"}
    if unknown:
        raise BmcError("%s: unknown key(s) %s; expected name, address, port, lun" % (what, ", ".join(sorted(unknown))))
    if not value.get("name"):
        raise BmcError("%s.name is required: the target's full iSCSI name (IQN)" % what)
    if not value.get("address"):
        raise BmcError("%s.address is required: the IP address of the target's portal" % what)
    try:
        name = normalize_iscsi_name(value["name"])
    except NamingError as exc:
        raise BmcError("%s.name: %s" % (what, exc)) from None
    address = _ip(value["address"], "%s.address" % what)
    try:
        port = ISCSI_TCP_PORT if value.get("port") in (None, "") else validate_port(value["port"], "%s.port" % what)
        lun = 1 if value.get("lun") in (None, "") else validate_lun(value["lun"])
    except NamingError as exc:
        message = str(exc)
        raise BmcError(message if message.startswith(what) else "%s.lun: %s" % (what, message)) from None
    return Target(name, address, port, lun)


def build_request(params: dict) -> IscsiBootRequest:
    """Validate the module's parameters; raises BmcError naming the option and the rule."""
    request = IscsiBootRequest()
    request.state = params.get("state") or "present"
    if request.state not in ("present", "absent"):
        raise BmcError("state must be present or absent, not %r" % request.state)
    mac, function_id = params.get("mac_address"), params.get("function_id")
    if bool(mac) == bool(function_id):
        raise BmcError("give exactly one of mac_address (the boot NIC's MAC) and function_id (the function's @odata.id)")
    if mac:
        try:
            request.mac_address = normalize_mac(mac)
        except NamingError as exc:
            raise BmcError("mac_address: %s" % exc) from None
    else:
        if not str(function_id).startswith("/redfish/v1/"):
            raise BmcError("function_id '%s' is not a NetworkDeviceFunction @odata.id: it starts with /redfish/v1/"
                           % function_id)
        request.function_id = str(function_id).rstrip("/")
    request.update_secrets = params.get("update_secrets") or "on_create"
    if request.update_secrets not in UPDATE_SECRETS:
        raise BmcError("update_secrets must be on_create or always, not %r" % request.update_secrets)
    request.apply_time = params.get("apply_time") or None
    if request.apply_time is not None and request.apply_time not in APPLY_TIMES:
        raise BmcError("apply_time must be one of %s, not %r" % (", ".join(APPLY_TIMES), request.apply_time))
    request.clear_pending = bool(params.get("clear_pending"))
    request.reset = bool(params.get("reset"))
    request.boot_order = bool(params.get("boot_order"))
    if request.state == "absent":
        return request

    if not params.get("initiator_iqn"):
        raise BmcError("initiator_iqn is required with state=present: the IQN the NIC logs in with")
    try:
        request.initiator_iqn = normalize_iqn(params["initiator_iqn"])
    except NamingError as exc:
        raise BmcError("initiator_iqn: %s" % exc) from None
    if not params.get("target"):
        raise BmcError("target is required with state=present: the boot target's name, address, port and lun")
    request.target = _target(params["target"], "target")
    if params.get("secondary_target"):
        request.secondary_target = _target(params["secondary_target"], "secondary_target")
    version = ipaddress.ip_address(request.target.address).version
    if request.secondary_target and ipaddress.ip_address(request.secondary_target.address).version != version:
        raise BmcError("secondary_target.address %s is not of the same IP version as target.address %s"
                       % (request.secondary_target.address, request.target.address))

    ip = params.get("ip") or {"dhcp": True}
    if not isinstance(ip, dict):
        raise BmcError("ip must be a dictionary: {dhcp: true} or {address, netmask, gateway}")
    static = any(ip.get(key) not in (None, "") for key in ("address", "netmask", "gateway"))
    if ip.get("dhcp") and static:
        raise BmcError("ip: give either dhcp: true or address/netmask/gateway, not both")
    if static:
        if ip.get("address") in (None, "") or ip.get("netmask") in (None, ""):
            raise BmcError("ip: a static address needs ip.address and ip.netmask (ip.gateway is optional)")
        request.ip_dhcp = False
        request.ip_address = _ip(ip["address"], "ip.address", version)
        if version == 4:
            request.netmask = _netmask(ip["netmask"], "ip.netmask")
        else:
            request.netmask = str(ip["netmask"]).strip()
        if ip.get("gateway") not in (None, ""):
            request.gateway = _ip(ip["gateway"], "ip.gateway", version)
    else:
        request.ip_dhcp = True

    vlan = params.get("vlan_id")
    if vlan not in (None, ""):
        if isinstance(vlan, bool) or not str(vlan).strip().isdigit():
            raise BmcError("vlan_id %r is not a whole number: the boot VLAN, %d to %d" % (vlan, VLAN_MIN, VLAN_MAX))
        if not VLAN_MIN <= int(vlan) <= VLAN_MAX:
            raise BmcError("vlan_id %s is out of range: an 802.1Q VLAN id is %d to %d (0 and 4095 are reserved)"
                           % (vlan, VLAN_MIN, VLAN_MAX))
        request.vlan_id = int(vlan)

    chap, mutual = params.get("chap") or None, params.get("mutual_chap") or None
    try:
        validate_chap_pair(chap, mutual)
    except NamingError as exc:
        raise BmcError(str(exc)) from None
    request.chap = dict(chap) if chap else None
    request.mutual_chap = dict(mutual) if mutual else None
    return request


# --- what a function holds ---------------------------------------------------------------------------

class FunctionView:
    """One network device function as a backend read it.

    active: the function's properties in force (BootMode, NetDevFuncType, NetDevFuncCapabilities, iSCSIBoot).
    pending: the staged change not yet in force ({} when none), in the same shape.
    write_kind: "function" (written in place), "settings" (@Redfish.Settings SettingsObject) or "pending".
    apply_times: the Redfish apply times the write target offers (["Immediate"] for a function written in place).
    job: the pending job/task of a staged change, {"uri", "state", ...}, or None.
    """

    def __init__(self, uri, mac, active, pending=None, write_uri=None, write_kind="function", apply_times=None,
                 job=None):
        self.uri = uri
        self.mac = mac
        self.active = active
        self.pending = pending or {}
        self.write_uri = write_uri or uri
        self.write_kind = write_kind
        self.apply_times = list(apply_times or (["Immediate"] if write_kind == "function" else ["OnReset"]))
        self.job = job

    @property
    def effective(self) -> dict:
        """What will be in force: the pending settings merged over the active ones."""
        return deep_merge(self.active, self.pending)


def deep_merge(base: dict, overlay: dict) -> dict:
    merged = copy.deepcopy(base or {})
    for key, value in (overlay or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def without_secrets(values: dict) -> dict:
    """A function's values without any secret (never returned, whatever the BMC sent)."""
    cleaned = copy.deepcopy(values or {})
    boot = cleaned.get("iSCSIBoot")
    if isinstance(boot, dict):
        for name in SECRET_FIELDS:
            boot.pop(name, None)
    return cleaned


# --- the plan ---------------------------------------------------------------------------------------

def _function_type(request: IscsiBootRequest, effective: dict) -> str | None:
    """The NetDevFuncType iSCSI boot needs: BootMode iSCSI is valid on an Ethernet or iSCSI function
    (DMTF NetworkDeviceFunction schema); change it only when the function is neither."""
    current = effective.get("NetDevFuncType")
    if current in ("Ethernet", "iSCSI"):
        return current
    capabilities = effective.get("NetDevFuncCapabilities") or []
    for wanted in ("Ethernet", "iSCSI"):
        if wanted in capabilities:
            return wanted
    raise BmcError("the function cannot boot over iSCSI: its NetDevFuncCapabilities are %s (none of Ethernet, iSCSI)"
                   % (", ".join(capabilities) or "empty"))


def desired_values(request: IscsiBootRequest, effective: dict) -> dict:
    """The DMTF properties the request sets (secrets excluded: see plan_change)."""
    if request.state == "absent":
        if effective.get("BootMode") == "iSCSI":
            return {"BootMode": "Disabled"}
        return {}
    target, secondary = request.target, request.secondary_target
    boot = {
        "IPAddressType": "IPv%d" % ipaddress.ip_address(target.address).version,
        "InitiatorName": request.initiator_iqn,
        "IPMaskDNSViaDHCP": request.ip_dhcp,
        "TargetInfoViaDHCP": False,
        "PrimaryTargetName": target.name,
        "PrimaryTargetIPAddress": target.address,
        "PrimaryTargetTCPPort": target.port,
        "PrimaryLUN": target.lun,
        "PrimaryVLANEnable": request.vlan_id is not None,
        "AuthenticationMethod": "MutualCHAP" if request.mutual_chap else ("CHAP" if request.chap else "None"),
        "CHAPUsername": request.chap["username"] if request.chap else None,
        "MutualCHAPUsername": request.mutual_chap["username"] if request.mutual_chap else None,
    }
    if not request.ip_dhcp:
        boot.update(InitiatorIPAddress=request.ip_address, InitiatorNetmask=request.netmask,
                    InitiatorDefaultGateway=request.gateway)
    if request.vlan_id is not None:
        boot["PrimaryVLANId"] = request.vlan_id
    if secondary:
        boot.update(SecondaryTargetName=secondary.name, SecondaryTargetIPAddress=secondary.address,
                    SecondaryTargetTCPPort=secondary.port, SecondaryLUN=secondary.lun,
                    SecondaryVLANEnable=request.vlan_id is not None)
        if request.vlan_id is not None:
            boot["SecondaryVLANId"] = request.vlan_id
    else:
        # No second target: a stale one left from earlier would be tried when the first fails.
        boot.update(SecondaryTargetName=None, SecondaryTargetIPAddress=None)
    values = {"BootMode": "iSCSI", "iSCSIBoot": boot}
    function_type = _function_type(request, effective)
    if function_type != effective.get("NetDevFuncType"):
        values["NetDevFuncType"] = function_type
    return values


def _same(field: str, wanted, held) -> bool:
    if wanted in _UNSET and held in _UNSET:
        return True
    if field in ("InitiatorName", "PrimaryTargetName", "SecondaryTargetName") and wanted and held:
        try:
            return normalize_iscsi_name(wanted) == normalize_iscsi_name(str(held))
        except NamingError:
            return False
    if isinstance(wanted, str) and isinstance(held, str) and field.endswith(("IPAddress", "Gateway", "Netmask")):
        try:
            return ipaddress.ip_address(wanted) == ipaddress.ip_address(held)
        except ValueError:
            return wanted == held
    return wanted == held


def _differences(wanted: dict, held: dict, prefix: str = "") -> dict:
    """{field: (held, wanted)} for each wanted value the held ones differ from."""
    found = {}
    for key, value in wanted.items():
        current = held.get(key) if isinstance(held, dict) else None
        if isinstance(value, dict):
            found.update(_differences(value, current or {}, prefix + key + "."))
        elif not _same(key, value, current):
            found[prefix + key] = (current, value)
    return found


class Plan:
    """What to write: body (DMTF properties, no secret), secrets (name -> value), the diff, the changed fields."""

    def __init__(self, body, secrets, changes, before, after):
        self.body = body
        self.secrets = secrets
        self.changes = changes
        self.before = before
        self.after = after

    @property
    def changed(self) -> bool:
        return bool(self.body) or bool(self.secrets)


def _chap_identity_new(request: IscsiBootRequest, effective: dict) -> bool:
    """on_create: the secret is written when the function is not yet set up with this CHAP identity."""
    boot = effective.get("iSCSIBoot") or {}
    return (effective.get("BootMode") != "iSCSI"
            or boot.get("AuthenticationMethod") != ("MutualCHAP" if request.mutual_chap else "CHAP")
            or boot.get("CHAPUsername") != request.chap["username"]
            or (request.mutual_chap and boot.get("MutualCHAPUsername") != request.mutual_chap["username"]))


def _nest(flat: dict) -> dict:
    nested = {}
    for field, value in flat.items():
        node = nested
        parts = field.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return nested


def plan_change(request: IscsiBootRequest, function: FunctionView) -> Plan:
    """Compare the request with what will be in force, and say what to write."""
    effective = function.effective
    wanted = desired_values(request, effective)
    differences = _differences(wanted, effective)
    secrets = {}
    if request.state == "present" and request.chap:
        if request.update_secrets == "always" or _chap_identity_new(request, effective):
            secrets["CHAPSecret"] = request.chap["secret"]
            if request.mutual_chap:
                secrets["MutualCHAPSecret"] = request.mutual_chap["secret"]
    body = _nest({field: wanted_value for field, (_held, wanted_value) in differences.items()})
    before = {field: held for field, (held, _wanted) in differences.items()}
    after = {field: wanted_value for field, (_held, wanted_value) in differences.items()}
    if request.state == "present" and request.chap:
        for name in ("CHAPSecret",) + (("MutualCHAPSecret",) if request.mutual_chap else ()):
            before["iSCSIBoot." + name] = HIDDEN
            after["iSCSIBoot." + name] = HIDDEN_CHANGED if name in secrets else HIDDEN
    return Plan(body, secrets, sorted(differences) + sorted("iSCSIBoot." + name for name in secrets),
                _nest(before), _nest(after))


def apply_time_for(request: IscsiBootRequest, function: FunctionView) -> str:
    """The Redfish apply time to use: the one asked for, if the write target offers it; else the service's own."""
    offered = function.apply_times
    mapping = {"immediate": ["Immediate"], "on_reset": ["OnReset"],
               "maintenance_window": ["AtMaintenanceWindowStart", "InMaintenanceWindowOnReset"]}
    if request.apply_time is None:
        for preferred in ("Immediate", "OnReset"):
            if preferred in offered:
                return preferred
        return offered[0]
    for candidate in mapping[request.apply_time]:
        if candidate in offered:
            return candidate
    names = sorted({name for name, values in mapping.items() if set(values) & set(offered)})
    raise BmcError("apply_time %s is not offered for %s (where this BMC takes its changes: %s); it offers %s"
                   % (request.apply_time, function.uri, function.write_kind, ", ".join(names) or "none"))


# --- the run ----------------------------------------------------------------------------------------

def scrub(text: str, secrets) -> str:
    for secret in secrets or ():
        if secret:
            text = text.replace(secret, "********")
    return text


def run_iscsi_boot(params: dict, backends: dict, check_mode: bool = False, warn=None) -> dict:
    """The module's run: validate, read, plan, write (unless check mode), reset and wait if asked."""
    request = build_request(params)
    backend_name = params.get("backend") or "redfish"
    if backend_name not in backends:
        raise BmcError("backend %r is unknown: expected one of %s" % (backend_name, ", ".join(sorted(backends))))
    warn = warn or (lambda _text: None)
    try:
        with backends[backend_name](params) as backend:
            return _converge(backend, request, check_mode, warn)
    except BmcError as exc:
        raise BmcError(scrub(str(exc), request.secrets)) from None


def _converge(backend, request: IscsiBootRequest, check_mode: bool, warn) -> dict:
    function = backend.find_function(mac_address=request.mac_address, function_id=request.function_id)
    plan = plan_change(request, function)
    apply_time = apply_time_for(request, function)
    foreign_job = function.job is not None and plan.changed
    if foreign_job and not request.clear_pending:
        raise BmcError("a configuration job is pending on %s (%s, %s) for another change: the BMC takes no second "
                       "change until it is applied (at the next reset) or deleted. Set clear_pending=true to delete it "
                       "and its staged values, or reset the server first. Nothing was changed."
                       % (function.uri, function.job.get("uri"), function.job.get("state")))
    job = function.job
    if plan.changed and not check_mode:
        if foreign_job:
            backend.clear_pending(function)
            function = backend.find_function(mac_address=request.mac_address, function_id=request.function_id)
            plan = plan_change(request, function)
        job = backend.write(function, plan, apply_time) or None
    elif plan.changed and foreign_job:
        job = None
    in_force_now = apply_time == "Immediate" and function.write_kind == "function"
    pending = bool(function.pending) or (plan.changed and not in_force_now)
    reset_done = False
    if request.reset and pending and not check_mode:
        job = backend.reset_and_wait(function, job)
        reset_done = True
        function = backend.find_function(mac_address=request.mac_address, function_id=request.function_id)
        pending = bool(function.pending)
        if job and job.get("state") not in ("Completed", None):
            raise BmcError("the server was reset but the configuration job %s ended %s: %s"
                           % (job.get("uri"), job.get("state"), job.get("message") or "no message"))
    boot_order = None
    if request.boot_order and request.state == "present":
        boot_order = backend.boot_first(function, check_mode)
        if boot_order.get("warning"):
            warn(boot_order["warning"])
    effective = function.effective if not plan.changed or check_mode else deep_merge(function.effective, plan.body)
    if reset_done:
        effective = function.effective
    result = {
        "changed": plan.changed or reset_done or bool(boot_order and boot_order.get("changed")),
        "function_uri": function.uri,
        "pending": pending,
        "apply_time": apply_time,
        "job": job,
        "iscsi_boot": without_secrets({key: effective.get(key) for key in ("BootMode", "NetDevFuncType", "iSCSIBoot")}),
        "changes": plan.changes,
        "diff": {"before": plan.before, "after": plan.after},
    }
    if boot_order is not None:
        result["boot_order"] = {key: value for key, value in boot_order.items() if key != "warning"}
    return result


def run_info(params: dict, backends: dict) -> dict:
    backend_name = params.get("backend") or "redfish"
    if backend_name not in backends:
        raise BmcError("backend %r is unknown: expected one of %s" % (backend_name, ", ".join(sorted(backends))))
    with backends[backend_name](params) as backend:
        functions = []
        for function in backend.list_functions():
            functions.append({
                "function_uri": function.uri,
                "mac_address": function.mac,
                "boot_mode": function.active.get("BootMode"),
                "net_dev_func_type": function.active.get("NetDevFuncType"),
                "capabilities": function.active.get("NetDevFuncCapabilities") or [],
                "iscsi_boot": without_secrets({"iSCSIBoot": function.active.get("iSCSIBoot")}).get("iSCSIBoot"),
                "pending": without_secrets(function.pending) or None,
                "settings_kind": function.write_kind,
                "supported_apply_times": function.apply_times,
                "job": function.job,
            })
        return {"changed": False, "functions": functions}
