# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The sanboot.iscsi Windows state simulator: a TEST DOUBLE, not Windows.

This machine cannot run Windows or PowerShell. To run the collection's Windows roles end to end
anyway, a test-only collection under tests/windows_simulator shadows the ansible.windows and
community.windows modules the roles call with Python stand-ins ("fakes"). They keep the state of
one simulated Windows host (registry, files, services, features, firewall rules, DHCP server,
disks, pagefile, iSCSI initiator, network adapters) in a JSON file named by the environment variable
SANBOOT_WINDOWS_SIMULATOR_STATE, honour check mode, and report changed only when they change it.

The file is rewritten only when its content changes, so a run that changes nothing (or any
check-mode run) leaves it byte-identical.

PowerShell cannot run here, so the stand-in for ansible.windows.win_powershell does not run
scripts: it recognises the roles' own scripts by their marker line
``# sanboot.iscsi simulator model: <name>`` and applies the Python model of that script below.
Each model mirrors its script's logic step by step (same inputs, same checks, same result keys);
any other script is refused. What the simulator proves is the roles' logic against a faithful
model of each module's contract; what it cannot prove is how real Windows behaves. The
`windows` molecule scenarios run the same roles against real Windows hosts for that.

This file must stay self-contained (standard library only): the unit tests load it by path.
"""

from __future__ import annotations

import base64
import fcntl
import ipaddress
import json
import os
import re
import tempfile

STATE_ENV = "SANBOOT_WINDOWS_SIMULATOR_STATE"
MODEL_MARKER = re.compile(r"^#\s*sanboot\.iscsi simulator model:\s*(?P<name>\S+)\s*$", re.MULTILINE)
# ansible.windows.win_powershell's own fallback test for check mode support (win_powershell.ps1).
SHOULD_PROCESS = re.compile(r"\[CmdletBinding\((?:[\w=\$]+,\s*)?SupportsShouldProcess(?:=\$true)?(?:,\s*[\w=\$]+)?\)\]",
                            re.IGNORECASE)
REBOOT_MARKER_KEY = "HKLM\\SOFTWARE\\sanboot.iscsi.RebootPending"
CRASH_CONTROL_KEY = "HKLM\\SYSTEM\\CurrentControlSet\\Control\\CrashControl"
GROUP_POLICY_KEY = "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Group Policy"
SHUTDOWN_ROOTS = {"scripts": GROUP_POLICY_KEY + "\\Scripts\\Shutdown",
                  "state": GROUP_POLICY_KEY + "\\State\\Machine\\Scripts\\Shutdown"}
LGPP_KEY = "HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\System"

_HIVES = {
    "hklm": "HKLM", "hkey_local_machine": "HKLM",
    "hkcu": "HKCU", "hkey_current_user": "HKCU",
    "hkcr": "HKCR", "hkey_classes_root": "HKCR",
    "hku": "HKU", "hkey_users": "HKU",
    "hkcc": "HKCC", "hkey_current_config": "HKCC",
}


class SimulatorError(Exception):
    """The simulator cannot do what was asked (no state file, a script it has no model for...)."""


# What ansible-core's PowerShell bootstrap (executor/powershell/bootstrap_wrapper.ps1) answers, for
# every module, on a host whose PowerShell is older than 5.1: no module runs there at all.
POWERSHELL_REQUIRED = "Ansible requires PowerShell v5.1"
DEFAULT_POWERSHELL_VERSION = "5.1.20348.2849"
# A shut-down host answers nothing; a real WinRM connection to it ends unreachable.
POWERED_OFF = "the simulated host is shut down: it does not answer (a real WinRM connection would be unreachable)"


def powershell_too_old(version) -> bool:
    parts = [int(part) for part in re.findall(r"\d+", str(version or DEFAULT_POWERSHELL_VERSION))[:2]]
    return tuple(parts + [0] * (2 - len(parts))) < (5, 1)


class ScriptFailure(Exception):
    """A modelled script failed the way the real script would (it throws with this message)."""


def dumps(data) -> str:
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def canonical_key(path: str) -> str:
    """HKLM:\\SOFTWARE\\x, HKEY_LOCAL_MACHINE\\SOFTWARE\\x, HKLM\\SOFTWARE\\x\\ -> HKLM\\SOFTWARE\\x."""
    text = str(path).replace("/", "\\").strip()
    match = re.match(r"^(?P<hive>[A-Za-z_]+):?(?:\\+(?P<rest>.*))?$", text)
    if not match or match.group("hive").lower() not in _HIVES:
        raise SimulatorError("'%s' is not a registry path the simulator knows: it must start with a hive such as "
                             "HKLM:\\ or HKEY_LOCAL_MACHINE\\" % path)
    rest = re.sub(r"\\+", r"\\", match.group("rest") or "").strip("\\")
    hive = _HIVES[match.group("hive").lower()]
    return hive + ("\\" + rest if rest else "")


def canonical_path(path: str) -> str:
    text = str(path).replace("/", "\\").strip()
    text = re.sub(r"(?<!^)\\+", r"\\", text)
    if len(text) > 3 and text.endswith("\\"):
        text = text.rstrip("\\")
    if re.match(r"^[A-Za-z]:$", text):
        text += "\\"
    return text


def _under(child: str, parent: str) -> bool:
    parent_folded = parent.rstrip("\\").casefold() + "\\"
    return child.casefold().startswith(parent_folded)


class WindowsState:
    """The simulated host, loaded from and saved to the state file under an exclusive lock.

    Use as a context manager. On leaving without an error (or through module.exit_json), and when
    not in check mode, the file is rewritten if (and only if) the state changed. A failure
    (module.fail_json, an exception) leaves the file as it was: no half-applied state."""

    def __init__(self, check_mode: bool = False, path: str | None = None, powered_off_ok: bool = False):
        self.path = path or os.environ.get(STATE_ENV)
        self.powered_off_ok = powered_off_ok
        if not self.path:
            raise SimulatorError("%s is not set: this is the sanboot.iscsi Windows state simulator (a test double), "
                                 "which keeps the simulated host in the JSON file that variable names" % STATE_ENV)
        self.check_mode = check_mode
        self.data = {}
        self._before = ""
        self._lock = None

    def __enter__(self):
        self._lock = open(self.path + ".lock", "a")
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        try:
            with open(self.path, "r", encoding="utf-8") as handle:
                self._before = handle.read()
        except OSError as exc:
            self._unlock()
            raise SimulatorError("cannot read the simulator state %s: %s" % (self.path, exc)) from None
        self.data = json.loads(self._before)
        if powershell_too_old((self.data.get("os") or {}).get("powershell_version")):
            self._unlock()
            raise SimulatorError(POWERSHELL_REQUIRED)
        if self.data.get("power") == "off" and not self.powered_off_ok:
            self._unlock()
            raise SimulatorError(POWERED_OFF)
        return self

    def __exit__(self, exc_type, exc, traceback):
        # module.exit_json() inside the block ends it with SystemExit(0): that is success too.
        succeeded = exc_type is None or (exc_type is SystemExit and exc.code in (0, None))
        try:
            if succeeded and not self.check_mode:
                after = dumps(self.data)
                if after != dumps(json.loads(self._before)):
                    directory = os.path.dirname(os.path.abspath(self.path))
                    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".state-")
                    with os.fdopen(handle, "w", encoding="utf-8") as output:
                        output.write(after)
                    os.replace(temporary, self.path)
        finally:
            self._unlock()
        return False

    def _unlock(self):
        if self._lock:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None

    # --- sections -------------------------------------------------------------------------

    def section(self, name: str, default):
        """A top-level section of the state, created (in memory) when missing."""
        if name not in self.data:
            self.data[name] = default
        return self.data[name]

    @property
    def os(self) -> dict:
        return self.data.get("os") or {}

    def environment(self) -> dict:
        system_root = self.os.get("system_root", "C:\\Windows")
        environment = {"SystemRoot": system_root, "windir": system_root,
                       "SystemDrive": self.os.get("system_drive", system_root[:2]),
                       "ProgramFiles": system_root[:2] + "\\Program Files"}
        environment.update(self.os.get("environment") or {})
        return environment

    def expand(self, text: str) -> str:
        """[Environment]::ExpandEnvironmentVariables: %NAME% replaced, case-insensitively; unknown ones kept."""
        environment = {key.casefold(): value for key, value in self.environment().items()}
        return re.sub(r"%([^%]+)%", lambda match: environment.get(match.group(1).casefold(), match.group(0)), str(text))

    # --- registry -------------------------------------------------------------------------

    def _registry(self, create: bool = False) -> dict:
        # Reading never adds a section: a run that only reads must leave the file byte-identical.
        return self.section("registry", {}) if create else (self.data.get("registry") or {})

    def reg_find(self, path: str):
        """The stored name of a key (registry names are case-insensitive), or None."""
        wanted = canonical_key(path).casefold()
        for name in self._registry():
            if name.casefold() == wanted:
                return name
        return None

    def reg_exists(self, path: str) -> bool:
        key = canonical_key(path)
        if "\\" not in key:
            return True
        return self.reg_find(key) is not None or any(_under(name, key) for name in self._registry())

    def reg_create(self, path: str, volatile: bool = False) -> bool:
        """Create a key (and, implicitly, its parents). Returns whether it was created."""
        if self.reg_find(path) is not None:
            return False
        existed = self.reg_exists(path)
        self._registry(create=True)[canonical_key(path)] = {"values": {}, "volatile": bool(volatile)}
        return not existed

    def reg_values(self, path: str) -> dict:
        name = self.reg_find(path)
        return dict(self._registry()[name]["values"]) if name else {}

    def reg_get(self, path: str, value_name: str):
        for name, value in self.reg_values(path).items():
            if name.casefold() == str(value_name).casefold():
                return value
        return None

    def reg_set(self, path: str, value_name: str, kind: str, data) -> bool:
        self.reg_create(path)
        values = self._registry()[self.reg_find(path)]["values"]
        for name in list(values):
            if name.casefold() == str(value_name).casefold():
                if values[name] == {"type": kind, "data": data}:
                    return False
                values[name] = {"type": kind, "data": data}
                return True
        values[value_name] = {"type": kind, "data": data}
        return True

    def reg_delete_value(self, path: str, value_name: str) -> bool:
        name = self.reg_find(path)
        if not name:
            return False
        values = self._registry()[name]["values"]
        for existing in list(values):
            if existing.casefold() == str(value_name).casefold():
                del values[existing]
                return True
        return False

    def reg_delete_key(self, path: str) -> bool:
        key = canonical_key(path)
        doomed = [name for name in self._registry() if name.casefold() == key.casefold() or _under(name, key)]
        for name in doomed:
            del self._registry()[name]
        return bool(doomed)

    def reg_subkeys(self, path: str) -> list:
        key = canonical_key(path)
        children = []
        for name in self._registry():
            if _under(name, key):
                child = name[len(key) + 1:].split("\\")[0]
                if child.casefold() not in [existing.casefold() for existing in children]:
                    children.append(child)
        return sorted(children, key=lambda child: (len(child), child.casefold()))

    def drop_volatile_keys(self):
        for name in [name for name, key in self._registry().items() if key.get("volatile")]:
            self._registry().pop(name, None)

    # --- files ----------------------------------------------------------------------------

    def _files(self) -> dict:
        return self.section("files", {})

    def _directories(self) -> list:
        return self.section("directories", [])

    def _file_name(self, path: str):
        wanted = canonical_path(self.expand(path)).casefold()
        for name in self._files():
            if name.casefold() == wanted:
                return name
        return None

    def file_get(self, path: str):
        name = self._file_name(path)
        return base64.b64decode(self._files()[name]) if name else None

    def file_exists(self, path: str) -> bool:
        return self._file_name(path) is not None

    def dir_exists(self, path: str) -> bool:
        target = canonical_path(self.expand(path))
        if re.match(r"^[A-Za-z]:\\$", target):
            return target[0].upper() in self.drive_letters()
        return any(entry.casefold() == target.casefold() or _under(entry, target)
                   for entry in list(self._directories()) + list(self._files()))

    def make_dir(self, path: str) -> bool:
        target = canonical_path(self.expand(path))
        if self.dir_exists(target):
            return False
        self._directories().append(target)
        self._directories().sort(key=str.casefold)
        return True

    def file_put(self, path: str, content: bytes) -> bool:
        target = canonical_path(self.expand(path))
        name = self._file_name(target) or target
        encoded = base64.b64encode(content).decode("ascii")
        if self._files().get(name) == encoded:
            return False
        self._files()[name] = encoded
        return True

    def file_delete(self, path: str) -> bool:
        name = self._file_name(path)
        if name:
            del self._files()[name]
            return True
        return False

    def drive_letters(self) -> set:
        letters = {str(self.os.get("system_drive", "C:"))[0].upper()}
        for disk in self.data.get("disks") or []:
            for partition in disk.get("partitions") or []:
                # Get-Partition reports a partition without a letter as DriveLetter [char]0.
                letter = str(partition.get("drive_letter") or "").upper()
                if re.fullmatch(r"[A-Z]", letter):
                    letters.add(letter)
        return letters


# --- win_powershell output conversion (Convert-OutputObject in win_powershell.ps1) ------------

def convert_output(value, depth: int):
    """What win_powershell returns for a value at a serialisation depth: dictionaries and lists
    deeper than `depth` become their .NET string form, as the real module does."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if depth < 0:
        if isinstance(value, dict):
            return "System.Collections.Hashtable"
        if isinstance(value, (list, tuple)):
            return " ".join("" if item is None else str(item) for item in value)
        return str(value)
    if isinstance(value, (list, tuple)):
        return [convert_output(item, depth - 1) for item in value]
    if isinstance(value, dict):
        return {str(key): convert_output(item, depth - 1) for key, item in value.items()}
    return str(value)


# --- models of the roles' PowerShell scripts --------------------------------------------------

MODELS = {}


def model(name):
    def register(function):
        MODELS[name] = function
        return function
    return register


def script_model(script: str):
    match = MODEL_MARKER.search(script or "")
    if not match:
        raise SimulatorError("the Windows state simulator cannot run this PowerShell script: it runs no PowerShell, it "
                             "only applies Python models of the sanboot.iscsi roles' own scripts, which carry a line "
                             "'# sanboot.iscsi simulator model: <name>'")
    name = match.group("name")
    if name not in MODELS:
        raise SimulatorError("the Windows state simulator has no model named %s (known: %s)" % (name, ", ".join(sorted(MODELS))))
    return name, MODELS[name]


def _param(params: dict, name: str, default=None):
    """PowerShell binds parameters case-insensitively."""
    for key, value in (params or {}).items():
        if key.casefold() == name.casefold():
            return value
    return default


def powershell_string(value) -> str:
    """What [string] makes of a value read from WMI: an embedded object (an ISCSI_IP_Address inside an
    ISCSI_TargetPortal, kept in the state as a dictionary shaped as its MOF class) is a
    System.Management.ManagementBaseObject, whose text is its .NET type name, not its content."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, dict):
        return "System.Management.ManagementBaseObject"
    if isinstance(value, (list, tuple)):
        return " ".join(powershell_string(item) for item in value)
    return str(value)


def portal_address(address) -> str:
    """Get-PortalAddress of the probe: the text of an ISCSI_IP_Address by its Type (0 text, 2 IPv6
    bytes); the binary IPv4 form (1), whose byte order is undocumented, and none (3) give ''."""
    if not isinstance(address, dict):
        return ""
    kind = int(address.get("Type") or 0)
    if kind == 0:
        return powershell_string(address.get("TextAddress"))
    if kind == 2:
        return str(ipaddress.IPv6Address(bytes(address.get("IpV6Address") or [0] * 16)))
    return ""


def _wmi_mac(mac: str) -> str:
    """Win32_NetworkAdapter.MACAddress spelling: 52:54:00:12:34:56 in upper case."""
    digits = re.sub(r"[^0-9A-Fa-f]", "", str(mac or "")).upper()
    return ":".join(digits[index:index + 2] for index in range(0, len(digits), 2))


def _same_mac(first, second) -> bool:
    def bare(mac):
        return re.sub(r"[^0-9a-f]", "", str(mac or "").lower())
    return bool(bare(first)) and bare(first) == bare(second)


def _boot_disk(state: WindowsState):
    for disk in state.data.get("disks") or []:
        if disk.get("bootable"):
            return disk
    return None


CBS_REBOOT_PENDING = "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootPending"
WU_REBOOT_REQUIRED = "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\RebootRequired"
SESSION_MANAGER_KEY = "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager"
COMPUTER_NAME_KEY = "HKLM\\SYSTEM\\CurrentControlSet\\Control\\ComputerName"


def windows_reboot_reasons(state) -> list:
    """Windows' own signs of a pending restart, as reboot_pending.ps1 reads them from the registry."""
    reasons = []
    if state.reg_exists(CBS_REBOOT_PENDING):
        reasons.append("Component Based Servicing: RebootPending")
    if state.reg_exists(WU_REBOOT_REQUIRED):
        reasons.append("Windows Update: RebootRequired")
    renames = state.reg_get(SESSION_MANAGER_KEY, "PendingFileRenameOperations")
    if renames and [item for item in renames.get("data") or [] if item]:
        reasons.append("Session Manager: PendingFileRenameOperations")
    names = [(state.reg_get("%s\\%s" % (COMPUTER_NAME_KEY, key), "ComputerName") or {}).get("data")
             for key in ("ActiveComputerName", "ComputerName")]
    if all(names) and str(names[0]).casefold() != str(names[1]).casefold():
        reasons.append("computer name change: %s -> %s" % tuple(names))
    return reasons


@model("reboot_pending")
def model_reboot_pending(state, params, check_mode):
    """module_utils/windows/reboot_pending.ps1: the role's volatile mark (set with Mark) and Windows'
    own reasons for a restart."""
    name = str(_param(params, "Name") or "")
    marked, changed = False, False
    if name:
        key = "%s\\%s" % (REBOOT_MARKER_KEY, name)
        marked = state.reg_find(key) is not None
        if _param(params, "Mark") and not marked:
            changed = marked = True
            if not check_mode:
                state.reg_create(REBOOT_MARKER_KEY, volatile=True)
                state.reg_create(key, volatile=True)
    version = str(state.os.get("version") or "")
    return {"changed": changed, "result": {
        "marked": marked, "windows_reasons": windows_reboot_reasons(state),
        "os_version": version + ".0" if version.count(".") == 2 else version,
        "powershell_version": state.os.get("powershell_version", DEFAULT_POWERSHELL_VERSION)}}


# How the Windows state simulator answers for the service-backed iSCSI cmdlets and WMI classes
# (Get-IscsiSession, Get-IscsiConnection, MSiSCSIInitiator_*) while MSiSCSI is not running. The
# real error text is not documented; the point is that they fail.
INITIATOR_SERVICE_STOPPED = "the Microsoft iSCSI Initiator Service (MSiSCSI) is not running"
_SERVICE_STATUS = {"started": "Running", "stopped": "Stopped", "paused": "Paused"}
_SERVICE_START_TYPE = {"auto": "Automatic", "delayed": "Automatic", "manual": "Manual", "disabled": "Disabled"}


def find_net_route(state, address) -> list:
    """Find-NetRoute -RemoteIPAddress: the local address (MSFT_NetIPAddress) and the route
    (MSFT_NetRoute) Windows would use, from the adapters' addresses and subnets (the longest matching
    prefix), else from a default gateway. Without a route, or for what is not an address, it fails."""
    try:
        remote = ipaddress.ip_address(str(address))
    except ValueError:
        raise ScriptFailure("Find-NetRoute: '%s' is not an IP address" % address) from None
    best = None
    adapters = state.data.get("network_adapters") or []
    for adapter in adapters:
        for local, mask in zip(adapter.get("ip_addresses") or [], adapter.get("ip_subnets") or []):
            try:
                network = ipaddress.ip_network("%s/%s" % (local, mask), strict=False)
            except ValueError:
                continue
            if remote.version == network.version and remote in network and (best is None or network.prefixlen > best[0]):
                best = (network.prefixlen, adapter, local, str(network))
    if best is None:
        for adapter in adapters:
            if adapter.get("default_ip_gateway") and adapter.get("ip_addresses"):
                best = (0, adapter, adapter["ip_addresses"][0], "0.0.0.0/0")
                break
    if best is None:
        raise ScriptFailure("Find-NetRoute: no route to %s" % address)
    _prefix, adapter, local, destination = best
    index = adapter.get("interface_index")
    return [{"IPAddress": local, "InterfaceIndex": index, "InterfaceAlias": adapter.get("name")},
            {"DestinationPrefix": destination, "InterfaceIndex": index, "InterfaceAlias": adapter.get("name")}]


class _Queries:
    """Invoke-Query of the probes: a query that fails (a ScriptFailure, or a fault injected by the
    state's 'faults' list) goes to a list of errors and reads as None, never as 'none there'."""

    def __init__(self, state, whole_script: str):
        self.faults = set(state.data.get("faults") or [])
        if whole_script in self.faults:
            raise ScriptFailure("the script failed (a fault injected into the simulator)")

    def __call__(self, what, function, sink):
        try:
            if any(what == fault or what.startswith(fault + " ") for fault in self.faults):
                raise ScriptFailure("a fault injected into the simulator")
            return function()
        except ScriptFailure as exc:
            sink.append("%s: %s" % (what, exc))
            return None


@model("iscsi_boot")
def model_iscsi_boot(state, params, check_mode):
    """plugins/module_utils/windows/iscsi_boot.ps1: how the host boots from iSCSI; reads, changes nothing."""
    iscsi = state.data.get("iscsi") or {}
    running = _service_running(state, "MSiSCSI")
    boot_errors = []
    query = _Queries(state, "iscsi_boot")

    def needs_service(value):
        if not running:
            raise ScriptFailure(INITIATOR_SERVICE_STOPPED)
        return value

    def route(address):
        if not address:
            return None
        found = query("Find-NetRoute -RemoteIPAddress %s" % address, lambda: find_net_route(state, address), boot_errors)
        if not found:
            return None
        return {"interface_indexes": sorted({entry["InterfaceIndex"] for entry in found}),
                "local_addresses": [entry["IPAddress"] for entry in found if entry.get("IPAddress")]}

    disks = state.data.get("disks") or []
    boot_disks = query("Get-Disk", lambda: [disk for disk in disks if disk.get("bootable")], boot_errors)
    boot_disk = None
    if boot_disks:
        boot_disk = {"number": boot_disks[0].get("number"), "bus_type": boot_disks[0].get("bus_type"),
                     "bus_types": [disk.get("bus_type") for disk in boot_disks]}
    boot_sessions = []
    for session in query("Get-IscsiSession", lambda: needs_service(iscsi.get("sessions") or []), boot_errors) or []:
        session_id = session.get("session_identifier", "")
        session_disks = query("Get-Disk of iSCSI session %s" % session_id,
                              lambda: [disk for disk in disks if disk.get("number") == session.get("disk_number")], boot_errors)
        if session_disks is None or not any(disk.get("bootable") or disk.get("system_disk") for disk in session_disks):
            continue
        found = query("Get-IscsiConnection of iSCSI session %s" % session_id,
                      lambda: needs_service(session.get("connections") or []), boot_errors) or []
        connections = [{"initiator_address": powershell_string(connection.get("initiator_address")),
                        "target_address": powershell_string(connection.get("target_address")),
                        "target_port": int(connection.get("target_port") or 0),
                        "route": route(powershell_string(connection.get("target_address")))}
                       for connection in found]
        boot_sessions.append({"target_iqn": session.get("target_iqn"), "initiator_iqn": session.get("initiator_iqn"),
                              "is_persistent": bool(session.get("is_persistent")), "connections": connections})
    # MSiSCSI_BootConfiguration instances, shaped as in Config.mof (TargetPortal an embedded ISCSI_TargetPortal).
    firmware_boot = []
    for config in query("MSiSCSI_BootConfiguration", lambda: iscsi.get("boot_configuration") or [], boot_errors) or []:
        portal = config.get("TargetPortal") or {}
        address = portal_address(portal.get("Address"))
        if int((portal.get("Address") or {}).get("Type") or 0) == 1:
            boot_errors.append("MSiSCSI_BootConfiguration: the portal address is a binary IPv4 address (ISCSI_IP_Address "
                               "Type 1), whose byte order Microsoft does not document")
        firmware_boot.append({"target_iqn": powershell_string(config.get("TargetName")),
                              "initiator_iqn": powershell_string(config.get("InitiatorNode")),
                              "target_address": address, "target_port": int(portal.get("Socket") or 0),
                              "route": route(address), "source": "MSiSCSI_BootConfiguration"})
    adapters = [{"name": adapter.get("name"), "mac": _wmi_mac(adapter.get("mac")),
                 "dhcp_enabled": bool(adapter.get("dhcp_enabled")), "ip_addresses": list(adapter.get("ip_addresses") or []),
                 "interface_index": adapter.get("interface_index")}
                for adapter in state.data.get("network_adapters") or [] if adapter.get("mac")]
    service = next((value for name, value in (state.data.get("services") or {}).items() if name.casefold() == "msiscsi"), {})
    return {"changed": False, "result": {
        "service": {"status": _SERVICE_STATUS.get(service.get("state"), "Stopped"),
                    "start_type": _SERVICE_START_TYPE.get(service.get("start_mode"), "Manual")},
        "boot_disk": boot_disk,
        "boot_sessions": boot_sessions,
        "firmware_boot": firmware_boot,
        "boot_errors": boot_errors,
        "adapters": adapters,
    }}


@model("win_iscsi_initiator/probe")
def model_initiator_probe(state, params, check_mode):
    """win_iscsi_initiator/files/probe.ps1: OS, node name, persistent targets, MPIO; changes nothing."""
    iscsi = state.data.get("iscsi") or {}
    running = _service_running(state, "MSiSCSI")
    errors = []
    query = _Queries(state, "win_iscsi_initiator/probe")

    def needs_service(value):
        if not running:
            raise ScriptFailure(INITIATOR_SERVICE_STOPPED)
        return value

    node = query("MSiSCSIInitiator_MethodClass", lambda: needs_service(iscsi.get("node_name") or ""), errors)
    persistent = query("MSiSCSIInitiator_PersistentLoginClass",
                       lambda: needs_service(list(iscsi.get("persistent_targets") or [])), errors)
    # MSDSM calls in try/catch: until the feature's restart they fail, and MPIO reads as not available.
    try:
        claims = msdsm_claim_settings(state)
        policy = msdsm_global_policy(state)
        mpio = {"available": True, "iscsi_claimed": claims["iSCSI"] == "True", "policy": policy or "None", "reason": ""}
    except ScriptFailure as exc:
        mpio = {"available": False, "iscsi_claimed": None, "policy": None, "reason": str(exc)}
    return {"changed": False, "result": {
        "os_version": state.os.get("version"),
        "caption": state.os.get("caption"),
        "product_type": state.os.get("product_type"),
        "system_root": state.os.get("system_root"),
        "node_name": node or "",
        "errors": errors,
        "persistent_targets": persistent or [],
        "mpio": mpio,
    }}


def _service_running(state, name) -> bool:
    for service_name, service in (state.data.get("services") or {}).items():
        if service_name.casefold() == name.casefold():
            return service.get("state") == "started"
    return False


@model("win_iscsi_initiator/node_name")
def model_node_name(state, params, check_mode):
    """set_node_name.ps1: compare (case-insensitively, as -eq does), then iscsicli NodeName."""
    wanted = str(_param(params, "NodeName") or "")
    iscsi = state.section("iscsi", {})
    current = str(iscsi.get("node_name") or "")
    result = {"before": current, "after": wanted}
    if current.casefold() == wanted.casefold():
        result["after"] = current
        return {"changed": False, "result": result}
    if not check_mode:
        if not _service_running(state, "MSiSCSI"):
            raise ScriptFailure("iscsicli NodeName %s failed (exit 1722): the Microsoft iSCSI Initiator Service is not "
                                "running" % wanted)
        iscsi["node_name"] = wanted
    return {"changed": True, "result": result}


@model("win_iscsi_initiator/nic_dhcp")
def model_nic_dhcp(state, params, check_mode):
    """nic_dhcp.ps1: Win32_NetworkAdapterConfiguration.EnableDHCP() on the adapters named by interface
    index (checked against the planned MAC), where DHCP is off."""
    planned = _param(params, "Adapters")
    if not isinstance(planned, dict):
        raise ScriptFailure("Cannot process argument transformation on parameter 'Adapters': not a dictionary")
    changed_adapters = []
    for key in sorted(planned, key=int):
        index = int(key)
        found = [adapter for adapter in state.data.get("network_adapters") or [] if adapter.get("interface_index") == index]
        if len(found) != 1:
            raise ScriptFailure("no network adapter has the interface index %d (planned with MAC %s): the host changed "
                                "since it was read; run the role again" % (index, planned[key]))
        adapter = found[0]
        if not _same_mac(adapter.get("mac"), planned[key]):
            raise ScriptFailure("the network adapter with interface index %d (%s) has the MAC address %s, not %s as "
                                "planned: the host changed since it was read; run the role again"
                                % (index, adapter.get("name"), _wmi_mac(adapter.get("mac")), planned[key]))
        if not adapter.get("dhcp_enabled"):
            changed_adapters.append(adapter.get("name"))
            if not check_mode:
                adapter["dhcp_enabled"] = True
    return {"changed": bool(changed_adapters), "result": {"changed_adapters": changed_adapters, "reboot_required": False}}


# MPIO as Windows has it: the MPIO PowerShell module, and so its cmdlets, are on every Windows Server,
# but the MSDSM calls fail until the Multipath-IO feature is installed and the host has restarted.
# The real error text is not documented; the point is that they fail.
MSDSM_UNAVAILABLE = "MSDSM is not available: the Multipath-IO feature is not installed, or waits for a restart"


def msdsm_available(state) -> bool:
    feature = (state.data.get("features") or {}).get("Multipath-IO") or {}
    return bool(feature.get("installed")) and not feature.get("restart_pending")


def msdsm_claim_settings(state) -> dict:
    """Get-MSDSMAutomaticClaimSettings: bus type => whether MSDSM claims its disks, as the text it
    prints (True/False); a script must not take [bool] of it ([bool]'False' is $true)."""
    if not msdsm_available(state):
        raise ScriptFailure("Get-MSDSMAutomaticClaimSettings: " + MSDSM_UNAVAILABLE)
    mpio = state.data.get("mpio") or {}
    return {"iSCSI": "True" if mpio.get("iscsi_claimed") else "False", "SAS": "True" if mpio.get("sas_claimed") else "False"}


def msdsm_global_policy(state) -> str:
    """Get-MSDSMGlobalDefaultLoadBalancePolicy: None, FOO, RR, LQD or LB."""
    if not msdsm_available(state):
        raise ScriptFailure("Get-MSDSMGlobalDefaultLoadBalancePolicy: " + MSDSM_UNAVAILABLE)
    return str((state.data.get("mpio") or {}).get("policy") or "None")


@model("win_iscsi_initiator/mpio")
def model_mpio(state, params, check_mode):
    """mpio.ps1: MSDSM automatic claim of iSCSI disks (needs a restart) and the default policy."""
    claim = bool(_param(params, "ClaimIscsi"))
    policy = str(_param(params, "Policy") or "None")
    try:
        claims = msdsm_claim_settings(state)
        current = msdsm_global_policy(state)
    except ScriptFailure as exc:
        return {"changed": False, "result": {"available": False, "reason": str(exc), "changes": [], "reboot_reasons": []}}
    changes, reboot_reasons = [], []
    claimed = claims["iSCSI"] == "True"  # compared as text
    mpio = state.section("mpio", {"iscsi_claimed": False, "policy": "None"})
    if claimed != claim:
        changes.append("%s automatic claim of iSCSI disks" % ("enabled" if claim else "disabled"))
        reboot_reasons.append(changes[-1])
        if not check_mode:
            mpio["iscsi_claimed"] = claim
    if current != policy:
        changes.append("default load-balance policy %s -> %s" % (current, policy))
        if not check_mode:
            mpio["policy"] = policy
    return {"changed": bool(changes), "result": {"available": True, "reason": "", "changes": changes,
                                                 "reboot_reasons": reboot_reasons}}


@model("win_pagefile/probe")
def model_pagefile_probe(state, params, check_mode):
    """win_pagefile/files/probe.ps1: pagefiles in use, crash-dump settings; changes nothing."""
    pagefile = state.data.get("pagefile") or {}
    crash = {}
    for name in ("CrashDumpEnabled", "DedicatedDumpFile", "DumpFileSize"):
        value = state.reg_get(CRASH_CONTROL_KEY, name)
        crash[name] = value["data"] if value else None
    return {"changed": False, "result": {
        "os_version": state.os.get("version"),
        "system_root": state.os.get("system_root"),
        "system_drive": state.os.get("system_drive"),
        "memory_mb": state.os.get("memory_mb"),
        "automatic_managed": bool(pagefile.get("automatic_managed")),
        "usage": [{"name": entry.get("name"), "allocated_base_size": entry.get("allocated_base_size", 0)}
                  for entry in pagefile.get("usage") or []],
        "crash_control": crash,
    }}


def _registry_listing(state, root):
    entries = []
    for gpo in state.reg_subkeys(root):
        gpo_key = "%s\\%s" % (root, gpo)
        entries.append({"name": gpo, "values": state.reg_values(gpo_key),
                        "scripts": [{"name": script, "values": state.reg_values("%s\\%s" % (gpo_key, script))}
                                    for script in state.reg_subkeys(gpo_key)]})
    return entries


@model("win_iscsi_boot_script/probe")
def model_boot_script_probe(state, params, check_mode):
    """win_iscsi_boot_script/files/probe.ps1: the policy files and registry as they are; changes nothing."""
    system_root = state.os.get("system_root", "C:\\Windows")
    command_path = state.expand(_param(params, "Command") or "")
    scripts_ini = state.file_get(system_root + "\\System32\\GroupPolicy\\Machine\\Scripts\\scripts.ini")
    gpt_ini = state.file_get(system_root + "\\System32\\GroupPolicy\\gpt.ini")
    lgpp = state.reg_get(LGPP_KEY, "DisableLGPP")
    return {"changed": False, "result": {
        "os_version": state.os.get("version"),
        "system_root": system_root,
        "command_path": command_path,
        "command_present": state.file_exists(command_path),
        "scripts_ini_base64": base64.b64encode(scripts_ini).decode("ascii") if scripts_ini is not None else "",
        "gpt_ini_base64": base64.b64encode(gpt_ini).decode("ascii") if gpt_ini is not None else "",
        "registry": {tree: _registry_listing(state, root) for tree, root in SHUTDOWN_ROOTS.items()},
        "local_gpo_disabled": bool(lgpp and int(lgpp.get("data") or 0) == 1),
    }}


def _dhcp(state):
    dhcp = state.data.get("dhcp")
    if dhcp is None:
        raise ScriptFailure("Import-Module DhcpServer: the specified module 'DhcpServer' was not loaded because no valid "
                            "module file was found (this host is not a Windows DHCP Server)")
    return dhcp


@model("win_dhcp_boot_reservation/probe")
def model_dhcp_probe(state, params, check_mode):
    """win_dhcp_boot_reservation/files/probe.ps1: scopes, the reservations and dynamic leases of the
    given MACs and addresses, and the definition of option 203; changes nothing."""
    dhcp = _dhcp(state)
    macs = _param(params, "MacAddresses") or []
    addresses = [str(address) for address in _param(params, "IPAddresses") or []]
    reservations = [{"scope_id": held.get("scope_id"), "ip": held.get("ip"), "client_id": held.get("client_id"),
                     "name": held.get("name"), "description": held.get("description")}
                    for held in dhcp.get("reservations") or []
                    if any(_same_mac(held.get("client_id"), mac) for mac in macs) or str(held.get("ip")) in addresses]
    leases = [{"scope_id": held.get("scope_id"), "ip": held.get("ip"), "client_id": held.get("client_id"),
               "hostname": held.get("hostname") or "", "address_state": held.get("address_state") or "Active"}
              for held in dhcp.get("leases") or []
              if any(_same_mac(held.get("client_id"), mac) for mac in macs) or str(held.get("ip")) in addresses]
    definitions = {}
    definition = (dhcp.get("option_definitions") or {}).get("203")
    if definition:
        definitions["203"] = {"name": definition.get("name"), "type": definition.get("type")}
    return {"changed": False, "result": {
        "scopes": [scope.get("scope_id") for scope in dhcp.get("scopes") or []],
        "reservations": reservations,
        "leases": leases,
        "option_definitions": definitions,
    }}


@model("win_dhcp_boot_reservation/option_definition")
def model_dhcp_option_definition(state, params, check_mode):
    """option_definition.ps1: Add-DhcpServerv4OptionDefinition once; never redefines someone else's."""
    dhcp = _dhcp(state)
    definitions = dhcp.setdefault("option_definitions", {})
    option_id = str(_param(params, "OptionId"))
    kind = str(_param(params, "Type") or "String")
    held = definitions.get(option_id)
    if held:
        if str(held.get("type")).casefold() != kind.casefold():
            raise ScriptFailure("option %s is already defined as %s (%s), not %s"
                                % (option_id, held.get("type"), held.get("name"), kind))
        return {"changed": False, "result": {"defined": True, "name": held.get("name")}}
    if not check_mode:
        definitions[option_id] = {"name": _param(params, "Name"), "type": kind,
                                  "description": _param(params, "Description") or ""}
    return {"changed": True, "result": {"defined": True, "name": _param(params, "Name")}}


@model("win_dhcp_boot_reservation/option_values")
def model_dhcp_option_values(state, params, check_mode):
    """option_values.ps1: set the managed options of one reservation to exactly the given values."""
    dhcp = _dhcp(state)
    address = str(_param(params, "ReservedIP"))
    values = {str(key): str(value) for key, value in (_param(params, "Values") or {}).items()}
    managed = [str(option) for option in _param(params, "ManagedOptionIds") or []]
    if not any(str(held.get("ip")) == address for held in dhcp.get("reservations") or []):
        if check_mode:
            return {"changed": True, "result": {"set": sorted(values), "removed": [], "reservation": False}}
        raise ScriptFailure("Get-DhcpServerv4Reservation: no reservation for %s" % address)
    current = dhcp.setdefault("reservation_options", {}).setdefault(address, {})
    definitions = dhcp.get("option_definitions") or {}
    changed_set, removed = [], []
    for option in managed:
        if option in values:
            if current.get(option) != values[option]:
                if option not in definitions and not check_mode:
                    raise ScriptFailure("Set-DhcpServerv4OptionValue: option %s is not defined on the server" % option)
                changed_set.append(option)
                if not check_mode:
                    current[option] = values[option]
        elif option in current:
            removed.append(option)
            if not check_mode:
                del current[option]
    return {"changed": bool(changed_set or removed), "result": {"set": changed_set, "removed": removed, "reservation": True}}


# --- Sysprep, as Microsoft documents it -------------------------------------------------------

IMAGE_STATE_KEY = "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Setup\\State"
SYSPREP_STATUS_KEY = "HKLM\\SYSTEM\\Setup\\Status\\SysprepStatus"
UPGRADE_KEY = "HKLM\\SYSTEM\\Setup\\Upgrade"
GENERALIZED_TO_OOBE = "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE"
SYSPREP_PID = 4242
_SYSPREP_SWITCHES = ("/generalize", "/oobe", "/audit", "/shutdown", "/reboot", "/quit", "/quiet", "/mode:vm")


def _build(state) -> int:
    try:
        return int(str(state.os.get("version") or "").split(".")[2])
    except (IndexError, ValueError):
        return 0


def _sysprep_directory(state) -> str:
    return state.os.get("system_root", "C:\\Windows") + "\\System32\\Sysprep"


def _append_log(state, name, lines):
    path = "%s\\Panther\\%s" % (_sysprep_directory(state), name)
    state.make_dir("%s\\Panther" % _sysprep_directory(state))
    state.file_put(path, (state.file_get(path) or b"") + "".join(line + "\r\n" for line in lines).encode("utf-8"))


def _pagefile_bus(state, name) -> str:
    letter = str(name or "")[:1].upper()
    for disk in state.data.get("disks") or []:
        for partition in disk.get("partitions") or []:
            if str(partition.get("drive_letter") or "").upper() == letter and letter:
                return str(disk.get("bus_type") or "")
    return ""


@model("win_sysprep_image/probe")
def model_sysprep_probe(state, params, check_mode):
    """win_sysprep_image/files/probe.ps1: sysprep.exe, image state, SysprepStatus, Upgrade, rearm count, pagefiles."""
    pagefile = state.data.get("pagefile") or {}
    names = sorted({str(entry.get("name")) for entry in (pagefile.get("usage") or []) + (pagefile.get("settings") or [])
                    if entry.get("name")})
    generalization = state.reg_get(SYSPREP_STATUS_KEY, "GeneralizationState")
    licensing = state.data.get("licensing") or {}
    return {"changed": False, "result": {
        "system_root": state.os.get("system_root", "C:\\Windows"),
        "sysprep_present": state.file_exists(_sysprep_directory(state) + "\\sysprep.exe"),
        "image_state": str((state.reg_get(IMAGE_STATE_KEY, "ImageState") or {}).get("data") or ""),
        "generalization_state": int(generalization["data"]) if generalization else None,
        "upgraded": state.reg_exists(UPGRADE_KEY),
        "remaining_rearm_count": licensing.get("remaining_rearm_count"),
        "automatic_managed_pagefile": bool(pagefile.get("automatic_managed")),
        "pagefiles": [{"name": name, "bus_type": _pagefile_bus(state, name)} for name in names],
        # Win32_ComputerSystem: PartOfDomain, and Domain (the workgroup's name when not in a domain).
        "domain_member": bool(state.os.get("domain")),
        "domain": str(state.os.get("domain") or state.os.get("workgroup") or "WORKGROUP"),
    }}


def _skip_rearm(unattend: bytes) -> bool:
    from xml.etree import ElementTree

    namespace = "{urn:schemas-microsoft-com:unattend}"
    root = ElementTree.fromstring(unattend)
    for settings in root.findall(namespace + "settings"):
        if settings.get("pass") != "generalize":
            continue
        for component in settings.findall(namespace + "component"):
            value = component.find(namespace + "SkipRearm")
            if component.get("name") == "Microsoft-Windows-Security-SPP" and value is not None:
                return (value.text or "").strip() == "1"
    return False


def run_sysprep(state, arguments) -> dict:
    """sysprep.exe, with its documented behaviour and refusals. On success: the image state
    IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE, Sysprep_succeeded.tag, the answer file cached in
    %WINDIR%\\Panther\\unattend.xml, one rearm used (unless SkipRearm=1), and with /shutdown the host
    off. On a refusal the host stays up and setuperr.log says why (the simulator's wording where
    Microsoft documents none)."""
    directory = _sysprep_directory(state)
    # Sysprep deletes an earlier run's success mark first (setupact.log: FCreateTagFile).
    state.file_delete(directory + "\\Sysprep_succeeded.tag")
    switches = [argument.lower() for argument in arguments if not argument.lower().startswith("/unattend:")]
    unattend_paths = [argument[len("/unattend:"):] for argument in arguments if argument.lower().startswith("/unattend:")]
    errors = []
    if [switch for switch in switches if switch not in _SYSPREP_SWITCHES] or \
            sum(switch in ("/oobe", "/audit") for switch in switches) != 1 or \
            sum(switch in ("/shutdown", "/reboot", "/quit") for switch in switches) > 1 or len(unattend_paths) > 1:
        errors.append("Error SYSPRP The command line %s is not valid (see Sysprep Command-Line Options)" % " ".join(arguments))
    elif "sysprep" in set(state.data.get("faults") or []):
        errors.append("Error SYSPRP a fault injected into the simulator")
    elif state.reg_exists(UPGRADE_KEY) and _build(state) < 14393:
        # From Windows 10 1607 / Server 2016 on, Sysprep generalizes upgraded installations too.
        errors.append("Error SYSPRP Sysprep will not run on an upgraded OS. You can only run Sysprep on a custom (clean) "
                      "install version of Windows.")
    elif int((state.reg_get(SYSPREP_STATUS_KEY, "GeneralizationState") or {}).get("data") or 0) != 7:
        errors.append("Error SYSPRP A fatal error occurred while trying to sysprep the machine (GeneralizationState is not 7)")
    elif windows_reboot_reasons(state):
        errors.append("Error SYSPRP Sysprep cannot run while Windows waits for a restart (%s): restart the computer and run "
                      "Sysprep again" % "; ".join(windows_reboot_reasons(state)))
    elif "/generalize" in switches and (state.data.get("appx") or {}).get("user_only"):
        # Sysprep (Generalize) a Windows installation: every app must be provisioned for all users.
        errors += ["Error SYSPRP Package %s was installed for a user, but not provisioned for all users. This package "
                   "will not function properly in the sysprep image." % package
                   for package in state.data["appx"]["user_only"]]
    unattend = state.file_get(state.expand(unattend_paths[0])) if unattend_paths else None
    skip_rearm = False
    if not errors and unattend_paths:
        try:
            skip_rearm = unattend is not None and _skip_rearm(unattend)
        except Exception:  # pylint: disable=broad-except  # any parse error: the answer file is not valid
            unattend = None
        if unattend is None:
            errors.append("Error SYSPRP The answer file %s could not be read or is not valid XML" % unattend_paths[0])
    licensing = state.section("licensing", {})
    if not errors and "/generalize" in switches and not skip_rearm and int(licensing.get("remaining_rearm_count") or 0) < 1:
        errors.append("Error [0x0f0082] SYSPRP LaunchDll:Failure occurred while executing "
                      "'C:\\Windows\\System32\\slc.dll,SLReArmWindows', returned error code 0xc004d307")
    _append_log(state, "setupact.log", ["Info SYSPRP ========================================================",
                                        "Info SYSPRP ===== Beginning of a new sysprep run (%s) =====" % " ".join(arguments)])
    if errors:
        _append_log(state, "setuperr.log", errors)
        return {"exit_code": 1, "errors": errors}
    if "/generalize" in switches:
        if not skip_rearm:
            licensing["remaining_rearm_count"] = int(licensing.get("remaining_rearm_count") or 0) - 1
        state.reg_set(IMAGE_STATE_KEY, "ImageState", "string",
                      GENERALIZED_TO_OOBE if "/oobe" in switches else "IMAGE_STATE_GENERALIZE_RESEAL_TO_AUDIT")
        if unattend is not None:
            state.file_put(state.os.get("system_root", "C:\\Windows") + "\\Panther\\unattend.xml", unattend)
        # Sysprep generalizes workgroup members only: it takes a domain member out of its domain.
        state.os.pop("domain", None)
    state.file_put(directory + "\\Sysprep_succeeded.tag", b"")
    _append_log(state, "setupact.log", ["Info SYSPRP Sysprep_succeeded.tag written; the machine is generalized"])
    if "/shutdown" in switches:
        state.data["power"] = "off"
    return {"exit_code": 0, "errors": []}


@model("win_sysprep_image/sysprep")
def model_sysprep_run(state, params, check_mode):
    """sysprep.ps1: runs sysprep.exe and waits for it (in the simulator it runs at once). Only this run's
    success mark and error lines count."""
    directory = _sysprep_directory(state)
    unattend = state.expand(str(_param(params, "UnattendPath")))
    arguments = list(_param(params, "Arguments") or []) + ["/unattend:%s" % unattend]
    result = {"command": "%s\\sysprep.exe %s" % (directory, " ".join(arguments)), "pid": None, "exit_code": None,
              "running": False, "succeeded": False, "image_state": "", "errors": []}
    if check_mode:
        return {"changed": True, "result": result}
    if not state.file_exists(unattend):
        raise ScriptFailure("the answer file %s is not there" % unattend)
    state.file_delete(directory + "\\Sysprep_succeeded.tag")
    known = len((state.file_get(directory + "\\Panther\\setuperr.log") or b"").decode("utf-8").splitlines())
    outcome = run_sysprep(state, arguments)
    state.data["sysprep"] = {"pid": SYSPREP_PID, "arguments": arguments, "exit_code": outcome["exit_code"]}
    lines = (state.file_get(directory + "\\Panther\\setuperr.log") or b"").decode("utf-8").splitlines()
    result.update(pid=SYSPREP_PID, exit_code=outcome["exit_code"],
                  succeeded=state.file_exists(directory + "\\Sysprep_succeeded.tag"),
                  image_state=str((state.reg_get(IMAGE_STATE_KEY, "ImageState") or {}).get("data") or ""),
                  errors=[line for line in lines[known if len(lines) >= known else 0:] if line][-20:])
    return {"changed": True, "result": result}


@model("win_sysprep_image/specialize")
def model_sysprep_specialize(state, params, check_mode):
    """specialize.ps1, on a clone's first boot: the computer name and initiator node name of the server
    whose initiator name the boot firmware logged on with, else whose MAC the clone has."""
    directory = state.expand("%SystemRoot%\\Setup\\Scripts")
    table = state.file_get(_param(params, "ServersPath") or directory + "\\sanboot-servers.json")
    table = json.loads(table.decode("utf-8")) if table else {}
    servers = table.get("servers") or []
    state.section("services", {}).setdefault("MSiSCSI", {})["state"] = "started"
    disks = {disk.get("number") for disk in state.data.get("disks") or [] if disk.get("bootable")}
    sessions = [session for session in (state.data.get("iscsi") or {}).get("sessions") or []
                if session.get("disk_number") in disks]
    firmware_iqn = str(sessions[0].get("initiator_iqn") or "") if sessions else ""
    macs = {re.sub(r"[^0-9a-f]", "", str(adapter.get("mac") or "").lower())
            for adapter in state.data.get("network_adapters") or []}
    match = next((server for server in servers if server.get("initiator_iqn") and firmware_iqn
                  and server["initiator_iqn"].casefold() == firmware_iqn.casefold()), None)
    if match is None:
        match = next((server for server in servers if server.get("mac")
                      and re.sub(r"[^0-9a-f]", "", server["mac"].lower()) in macs), None)
    name = (match or {}).get("name") or ""
    default_form = re.match(r"^iqn\.1991-05\.com\.microsoft:([^.:]+)", firmware_iqn, re.IGNORECASE)
    if match is None and table.get("name_from_iqn") and default_form:
        label = default_form.group(1)
        if re.fullmatch(r"(?!\d+$)(?!-)[A-Za-z0-9-]{1,15}(?<!-)", label):
            name = label
    node_name = firmware_iqn or (match or {}).get("initiator_iqn") or ""
    lines = []
    if node_name:
        state.section("iscsi", {})["node_name"] = node_name
        lines.append("initiator node name %s (iscsicli exit 0)" % node_name)
    if name:
        # Rename-Computer: the new name is Windows' pending name until the restart after specialize.
        state.reg_set(COMPUTER_NAME_KEY + "\\ComputerName", "ComputerName", "string", name)
        lines.append("computer name %s" % name)
    else:
        lines.append("no entry for initiator %s: the computer name stays the one Windows generated" % firmware_iqn)
    log = directory + "\\sanboot-specialize.log"
    state.file_put(log, (state.file_get(log) or b"") + "".join(line + "\r\n" for line in lines).encode("utf-8"))
    return {"changed": True, "result": {"computer_name": name, "node_name": node_name}}


def boot_clone(state, firmware_iqn: str, macs=None):
    """A clone of the generalized golden LUN boots: the firmware logs on as firmware_iqn (from DHCP
    option 203), the specialize pass runs the answer file's command (the model of specialize.ps1),
    Windows restarts into OOBE, which completes."""
    state.data["power"] = "on"
    for session in (state.data.get("iscsi") or {}).get("sessions") or []:
        session["initiator_iqn"] = firmware_iqn
    if macs:
        for adapter, mac in zip(state.data.get("network_adapters") or [], macs):
            adapter["mac"] = mac
    outcome = model_sysprep_specialize(state, {}, False)
    reboot(state)
    state.reg_set(IMAGE_STATE_KEY, "ImageState", "string", "IMAGE_STATE_COMPLETE")
    return outcome["result"]


# --- PowerShell parameter binding ------------------------------------------------------------

_ATTRIBUTE = re.compile(r"\[((?:[^\[\]]|\[\])*)\]")
_SCALAR_TYPES = {"string", "int", "int32", "int64", "long", "bool", "boolean", "switch", "system.collections.idictionary",
                 "hashtable"}


def _param_block(script: str) -> str:
    """The text between the parentheses of the script's param ( ... ) block ('' without one)."""
    match = re.search(r"^\s*param\s*\(", script, re.IGNORECASE | re.MULTILINE)
    if not match:
        return ""
    depth, quote = 1, None
    for position in range(match.end(), len(script)):
        char = script[position]
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return script[match.end():position]
    raise SimulatorError("the script's param block is not closed")


def _split_top_level(text: str) -> list:
    parts, depth, quote, current = [], 0, None, []
    for char in text:
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return [part for part in parts if part.strip()]


def script_parameters(script: str) -> dict:
    """name (lower case) => {name, type, mandatory, validate_set, has_default} from the param block."""
    declared = {}
    for chunk in _split_top_level(_param_block(script)):
        code = "\n".join(line.split("#", 1)[0] for line in chunk.splitlines())
        attributes = _ATTRIBUTE.findall(code)
        rest = _ATTRIBUTE.sub(" ", code)
        name = re.search(r"\$(\w+)", rest)
        if not name:
            continue
        entry = {"name": name.group(1), "type": "object", "mandatory": False, "validate_set": None,
                 "has_default": "=" in rest[name.end():]}
        for attribute in attributes:
            text = attribute.strip()
            if re.match(r"^Parameter\s*\(", text, re.IGNORECASE):
                entry["mandatory"] = bool(re.search(r"Mandatory(\s*=\s*\$true)?\s*(,|\))", text, re.IGNORECASE))
            elif re.match(r"^ValidateSet\s*\(", text, re.IGNORECASE):
                entry["validate_set"] = re.findall(r"'([^']*)'|\"([^\"]*)\"", text)
                entry["validate_set"] = [single or double for single, double in entry["validate_set"]]
            elif "(" not in text:
                entry["type"] = text.lower()
        declared[entry["name"].lower()] = entry
    return declared


def _bind_one(entry: dict, value):
    """PowerShell's conversion of one argument to a parameter's type; ScriptFailure where it refuses."""
    name, kind = entry["name"], entry["type"]
    refuse = "Cannot process argument transformation on parameter '%s'. Cannot convert value %r to type %s" % (
        name, value, kind)
    element_kind = kind[:-2] if kind.endswith("[]") else None
    if element_kind is not None:
        items = value if isinstance(value, list) else [value]
        if entry["mandatory"] and not items:
            raise ScriptFailure("Cannot bind argument to parameter '%s' because it is an empty array." % name)
        return [_bind_one(dict(entry, type=element_kind, mandatory=False), item) for item in items]
    if kind in ("bool", "boolean", "switch"):
        if isinstance(value, bool) or (isinstance(value, (int, float)) and not isinstance(value, bool)):
            return bool(value)
        raise ScriptFailure("Cannot process argument transformation on parameter '%s'. Cannot convert value \"%s\" to "
                            "type \"System.Boolean\". Boolean parameters accept only Boolean values and numbers, such as "
                            "$True, $False, 1 or 0." % (name, value))
    if kind in ("int", "int32", "int64", "long"):
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
            return int(value)
        raise ScriptFailure(refuse)
    if kind in ("system.collections.idictionary", "hashtable"):
        if isinstance(value, dict):
            return value
        raise ScriptFailure(refuse)
    if kind == "string":
        if isinstance(value, (list, dict)):
            raise ScriptFailure(refuse)
        if entry["mandatory"] and value is None:
            raise ScriptFailure("Cannot bind argument to parameter '%s' because it is null." % name)
        if entry["mandatory"] and value == "":
            raise ScriptFailure("Cannot bind argument to parameter '%s' because it is an empty string." % name)
        return value
    return value


def bind_parameters(script: str, parameters: dict) -> dict:
    """What PowerShell does with win_powershell's parameters before the script runs: names matched
    case-insensitively, an unknown name refused, a missing mandatory one refused, each value converted
    to the declared type (or refused), ValidateSet checked. The models see only bound values."""
    declared = script_parameters(script)
    bound = {}
    for key, value in (parameters or {}).items():
        entry = declared.get(str(key).lower())
        if entry is None:
            raise ScriptFailure("A parameter cannot be found that matches parameter name '%s'." % key)
        value = _bind_one(entry, value)
        if entry["validate_set"] is not None:
            for item in value if isinstance(value, list) else [value]:
                if str(item).casefold() not in [allowed.casefold() for allowed in entry["validate_set"]]:
                    raise ScriptFailure("Cannot validate argument on parameter '%s'. The argument \"%s\" does not belong to "
                                        "the set \"%s\" specified by the ValidateSet attribute."
                                        % (entry["name"], item, ",".join(entry["validate_set"])))
        bound[entry["name"]] = value
    missing = [entry["name"] for key, entry in declared.items() if entry["mandatory"] and entry["name"] not in bound]
    if missing:
        raise ScriptFailure("Cannot process command because of one or more missing mandatory parameters: %s."
                            % " ".join(missing))
    return bound


def run_script(state: WindowsState, script: str, parameters: dict, check_mode: bool) -> dict:
    """ansible.windows.win_powershell's contract, with the script replaced by its model."""
    name, function = script_model(script)
    if check_mode and not SHOULD_PROCESS.search(script):
        return {"changed": True, "msg": "skipped, running in check mode", "model": name}
    bound = bind_parameters(script, parameters or {})
    outcome = function(state, bound, check_mode)
    outcome["model"] = name
    return outcome


# --- a restart -----------------------------------------------------------------------------

def reboot(state: WindowsState):
    """What a restart does to the simulated host: volatile keys go, the configured pagefiles come
    into use, features finish installing."""
    state.drop_volatile_keys()
    # What servicing, Windows Update and the Session Manager finish at boot.
    state.reg_delete_key(CBS_REBOOT_PENDING)
    state.reg_delete_key(WU_REBOOT_REQUIRED)
    state.reg_delete_value(SESSION_MANAGER_KEY, "PendingFileRenameOperations")
    pending_name = state.reg_get("%s\\ComputerName" % COMPUTER_NAME_KEY, "ComputerName")
    if pending_name:
        state.reg_set("%s\\ActiveComputerName" % COMPUTER_NAME_KEY, "ComputerName", "string", pending_name["data"])
    pagefile = state.data.get("pagefile")
    if pagefile is not None:
        if pagefile.get("automatic_managed"):
            usage = [{"name": "%s\\pagefile.sys" % state.os.get("system_drive", "C:"), "allocated_base_size": 0}]
        else:
            usage = [{"name": entry.get("name"),
                      "allocated_base_size": entry.get("initial_size") or 0} for entry in pagefile.get("settings") or []]
        pagefile["usage"] = usage
    for feature in (state.data.get("features") or {}).values():
        feature.pop("restart_pending", None)
    state.data["boot_count"] = int(state.data.get("boot_count") or 0) + 1
