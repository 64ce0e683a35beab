# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""DHCP reservations for iSCSI boot, independent of the DHCP server product.

What every backend shares lives here: turning the module's parameters into a validated request
(the `iscsi` dictionary only through boot_options.py, MAC and host name through the naming
core), the normalised shape of a reservation that comparisons, diffs and return values use, the
plan (what to add, keep or take over; find_conflicts is the one conflict rule), masking of
secrets, the writer lock, and the backend interface.

A backend (backends/kea) reads the server, maps its own records to the normalised shape, calls
plan_change() and applies the plan its own way. The Windows DHCP Server plans of
backends/windows, which a role applies, follow the same conflict rule.

The normalised reservation (returned by the modules, shown in diffs):

    {"subnet": "10.77.0.0/24", "subnet_id": 1, "mac": "52:54:00:12:34:56", "ip": "10.77.0.60",
     "hostname": "winboot01",
     "options": [{"space": "dhcp4", "code": 17, "name": "root-path", "data": "iscsi:..."}, ...]}

Options are sorted by space, code and name. An option whose data is packed by the server from
sub-options (iPXE's 175) carries data "" when the packing matches its sub-options.
"""

from __future__ import annotations

import binascii
import copy
import errno
import hashlib
import ipaddress
import os
import stat
import tempfile

from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp.boot_options import (
    OPTION_HOSTNAME,
    OPTION_INITIATOR_IQN,
    OPTION_IPXE_ENCAPSULATED,
    OPTION_IPXE_PASSWORD,
    OPTION_ROOT_PATH,
    lun_warning,
    normalize_iscsi,
    option_values,
)
from ansible_collections.sanboot.iscsi.plugins.module_utils import locking
from ansible_collections.sanboot.iscsi.plugins.module_utils.batch import merge_item
from ansible_collections.sanboot.iscsi.plugins.module_utils.naming import NamingError, normalize_mac, validate_hostname

# Not on Windows controllers; the lock is then skipped (see writer_lock).
HAS_FCNTL = locking.HAS_FCNTL

SPACE_DHCP4 = "dhcp4"
MASK = "********"
MASK_CHANGED = "******** (changed)"
OPTION_KEYS = ("code", "name", "data", "space")


class DhcpError(Exception):
    """A failure whose message is safe to show: it names the option or server and the rule, never a secret."""


# --- the request: module parameters, validated ------------------------------------------------

class ReservationRequest:
    """What the user asked for, validated. Backends read these attributes; nothing here talks to a server.

    boot_values maps DHCP option codes to values as boot_options.py produces them (17, 203, 12, 190, 191);
    options are the extra entries, each {space, code, name, data} with code or name possibly None.
    """

    def __init__(self):
        self.state = "present"
        self.mac = None
        self.ip = None
        self.subnet = None
        self.subnet_id = None
        self.hostname = None
        self.iscsi = None
        self.root_path = None
        self.boot_values = {}
        self.options = []
        self.replace = False
        self.persist = True
        self.secrets = []
        # Warnings for the module to show (a boot LUN that decimal readers of option 17 misread).
        self.warnings = []
        # How messages name it: None for the single form, "reservations[3]" in a batch.
        self.label = None

    @property
    def chap(self) -> bool:
        return OPTION_IPXE_PASSWORD in self.boot_values


def build_request(params: dict) -> ReservationRequest:
    """Validate the reservation parameters (names as in the module) into a ReservationRequest.

    Raises DhcpError whose message starts with the option name and states the rule.
    """
    request = ReservationRequest()
    request.state = params.get("state") or "present"
    request.replace = bool(params.get("replace"))
    request.persist = params.get("persist", True) is not False

    try:
        request.mac = normalize_mac(params.get("mac"))
    except NamingError as exc:
        raise DhcpError("mac: %s" % exc) from None

    if params.get("ip") not in (None, ""):
        request.ip = parse_ipv4(params["ip"], "ip")
    elif request.state == "present":
        raise DhcpError("ip is required with state=present: the address to reserve for mac %s" % request.mac)

    if params.get("subnet") not in (None, ""):
        request.subnet = parse_subnet(params["subnet"])
        if request.ip is not None and ipaddress.ip_address(request.ip) not in request.subnet:
            raise DhcpError("ip %s is outside subnet %s: a reservation's address must be inside its subnet"
                            % (request.ip, request.subnet))
    if params.get("subnet_id") not in (None, ""):
        request.subnet_id = parse_subnet_id(params["subnet_id"])
    if request.subnet is None and request.subnet_id is None:
        raise DhcpError("one of subnet or subnet_id is required: the subnet that holds the reservation")

    if params.get("hostname") not in (None, ""):
        try:
            request.hostname = validate_hostname(params["hostname"])
        except NamingError as exc:
            raise DhcpError(str(exc)) from None

    iscsi = params.get("iscsi")
    if iscsi:
        try:
            request.iscsi = normalize_iscsi(_without_none(iscsi))
        except NamingError as exc:
            raise DhcpError(str(exc)) from None
        request.boot_values = option_values(request.iscsi)
        request.root_path = request.iscsi["root_path"]
        warning = lun_warning(request.iscsi["lun"])
        if warning:
            request.warnings.append(warning)
        if request.chap:
            request.secrets.append(request.boot_values[OPTION_IPXE_PASSWORD])
    request.options = normalize_user_options(params.get("options") or [], request)
    return request


def _without_none(value):
    if isinstance(value, dict):
        return {key: _without_none(item) for key, item in value.items() if item is not None}
    return value


def parse_ipv4(value, what: str) -> str:
    try:
        return str(ipaddress.IPv4Address(str(value).strip()))
    except ValueError:
        raise DhcpError("%s '%s' is not an IPv4 address (dotted quad such as 10.77.0.60)" % (what, value)) from None


def parse_subnet(value) -> ipaddress.IPv4Network:
    text = str(value).strip()
    try:
        return ipaddress.IPv4Network(text, strict=True)
    except ValueError:
        pass
    try:
        loose = ipaddress.IPv4Network(text, strict=False)
    except ValueError:
        raise DhcpError("subnet '%s' is not an IPv4 network in CIDR notation such as 10.77.0.0/24" % value) from None
    raise DhcpError("subnet '%s' has host bits set: the network is %s" % (value, loose))


def parse_subnet_id(value) -> int:
    if isinstance(value, bool):
        raise DhcpError("subnet_id %r is not a whole number" % (value,))
    try:
        number = int(str(value).strip())
    except ValueError:
        raise DhcpError("subnet_id '%s' is not a whole number" % value) from None
    if not 1 <= number <= 4294967294:
        raise DhcpError("subnet_id %s is out of range: 1 to 4294967294" % value)
    return number


# What the module sets from its own options; an `options` entry may not set them a second time.
_OWNED_BY = {
    (SPACE_DHCP4, OPTION_HOSTNAME): ("host-name", "hostname", lambda request: True),
    (SPACE_DHCP4, OPTION_ROOT_PATH): ("root-path", "iscsi", lambda request: OPTION_ROOT_PATH in request.boot_values),
    (SPACE_DHCP4, OPTION_INITIATOR_IQN): (None, "iscsi.initiator_iqn",
                                          lambda request: OPTION_INITIATOR_IQN in request.boot_values),
    (SPACE_DHCP4, OPTION_IPXE_ENCAPSULATED): (None, "iscsi.chap", lambda request: request.chap),
}


def normalize_user_options(entries, request: ReservationRequest | None = None) -> list:
    """The `options` list: each {code or name, data, space}; returns [{space, code, name, data}]."""
    if not isinstance(entries, list):
        raise DhcpError("options must be a list of {code or name, data, space} entries")
    normalised = []
    seen = set()
    for index, entry in enumerate(entries):
        what = "options[%d]" % index
        if not isinstance(entry, dict):
            raise DhcpError("%s must be a dictionary with code or name, data and optionally space" % what)
        unknown = sorted(set(entry) - set(OPTION_KEYS))
        if unknown:
            raise DhcpError("%s has unknown key(s) %s; the keys are %s" % (what, ", ".join(unknown), ", ".join(OPTION_KEYS)))
        code, name = entry.get("code"), entry.get("name")
        if code in (None, "") and name in (None, ""):
            raise DhcpError("%s needs a code (1 to 254) or a name" % what)
        if code not in (None, ""):
            if isinstance(code, bool) or not str(code).strip().isdigit() or not 1 <= int(code) <= 254:
                raise DhcpError("%s.code %r is not an option code: a whole number from 1 to 254" % (what, code))
            code = int(code)
        else:
            code = None
        if name not in (None, ""):
            name = str(name).strip()
        else:
            name = None
        space = str(entry.get("space") or SPACE_DHCP4).strip()
        data = entry.get("data")
        if isinstance(data, bool):
            data = "true" if data else "false"
        data = "" if data is None else str(data)
        option = {"space": space, "code": code, "name": name, "data": data}
        for key in ((space, "code", code), (space, "name", name)):
            if key[2] is not None:
                if key in seen:
                    raise DhcpError("%s repeats option %s %s in space %s: give each option once" % (what, key[1], key[2], space))
                seen.add(key)
        if request is not None:
            _refuse_owned(option, what, request)
        normalised.append(option)
    return sort_options(normalised)


def _refuse_owned(option, what, request):
    for (space, code), (name, owner, applies) in _OWNED_BY.items():
        if option["space"] != space or not applies(request):
            continue
        if option["code"] == code or (name is not None and option["name"] == name):
            raise DhcpError("%s sets option %s, which the module derives from %s; remove it from options"
                            % (what, option["code"] or option["name"], owner))


# --- the normalised reservation ---------------------------------------------------------------

def make_option(space, code, name, data) -> dict:
    return {"space": space or SPACE_DHCP4, "code": code, "name": name or None, "data": "" if data is None else str(data)}


def sort_options(options) -> list:
    return sorted(options, key=lambda option: (option["space"], option["code"] if option["code"] is not None else 1000,
                                               option["name"] or ""))


def make_reservation(subnet, subnet_id, mac, ip, hostname, options, identifier=None) -> dict:
    reservation = {"subnet": str(subnet) if subnet is not None else None, "subnet_id": subnet_id, "mac": mac, "ip": ip,
                   "hostname": hostname or None, "options": sort_options(options)}
    if identifier:
        reservation["identifier"] = identifier
    return reservation


def _option_key(option, by_name=False):
    if option["code"] is not None and not by_name:
        return (option["space"], "code", option["code"])
    return (option["space"], "name", option["name"])


def options_equal(wanted, held) -> bool:
    """Same set of options with the same data. An option known only by name matches the held one of that name."""
    if len(wanted) != len(held):
        return False
    remaining = list(held)
    for option in wanted:
        for candidate in remaining:
            if option["space"] != candidate["space"]:
                continue
            if option["code"] is not None and candidate["code"] is not None:
                same = option["code"] == candidate["code"]
            else:
                same = option["name"] is not None and option["name"] == candidate["name"]
            if same:
                if option["data"] != candidate["data"]:
                    return False
                remaining.remove(candidate)
                break
        else:
            return False
    return True


def reservations_equal(wanted, held) -> bool:
    return (wanted["mac"] == held["mac"] and wanted["ip"] == held["ip"] and wanted["hostname"] == held["hostname"]
            and options_equal(wanted["options"], held["options"]))


# --- planning ---------------------------------------------------------------------------------

class Plan:
    """What converging takes: `remove` these reservations, then (for present) hold `target`.

    `same` is the held reservation with the request's MAC and IP, which is updated in place.
    before/after are the affected reservations as the server holds them and as they will be.
    """

    def __init__(self, target, same, remove, before, after):
        self.target = target
        self.same = same
        self.remove = remove
        self.before = before
        self.after = after

    @property
    def changed(self) -> bool:
        if self.remove:
            return True
        if self.target is None:
            return False
        return self.same is None or not reservations_equal(self.target, self.same)


def _describe_subnet(reservation):
    return "subnet %s (id %s)" % (reservation["subnet"], reservation["subnet_id"])


def find_conflicts(held, mac, ip, same_mac=None):
    """The rule every DHCP server's plan follows: which held reservations stand in the way of
    reserving ip for mac. Returns (same, conflicts): the held reservation that already is mac at ip
    (kept and updated in place), and, in the order held lists them, ("mac", r) for the MAC reserved
    at another address and ("ip", r) for the address reserved for another client. Each must be
    removed (only with replace) before the new reservation is made. same_mac compares two MACs
    (default: equal strings, for MACs already in one canonical form)."""
    same_mac = same_mac or (lambda first, second: first == second)
    same = next((reservation for reservation in held
                 if same_mac(reservation["mac"], mac) and reservation["ip"] == ip), None)
    conflicts = []
    for reservation in held:
        if reservation is same:
            continue
        if same_mac(reservation["mac"], mac):
            conflicts.append(("mac", reservation))
        elif reservation["ip"] is not None and reservation["ip"] == ip:
            conflicts.append(("ip", reservation))
    return same, conflicts


def plan_change(request: ReservationRequest, target, held) -> Plan:
    """Plan the change in one subnet. `target` is the wanted reservation in normalised form (None for
    state=absent); `held` the reservations the subnet holds now. Conflicts raise DhcpError unless replace."""
    if request.state == "absent":
        matches = [reservation for reservation in held if reservation["mac"] == request.mac]
        if request.ip is not None:
            elsewhere = [reservation for reservation in matches if reservation["ip"] != request.ip]
            if elsewhere:
                held_ip, where = elsewhere[0]["ip"], _describe_subnet(elsewhere[0])
                raise DhcpError("mac %s is reserved for %s in %s, not for ip %s: nothing removed; leave ip out to "
                                "remove that reservation" % (request.mac, held_ip, where, request.ip))
        return Plan(None, None, matches, matches, [])

    target = copy.deepcopy(target)
    same, conflicts = find_conflicts(held, request.mac, request.ip)
    others = [reservation for _kind, reservation in conflicts]
    if others and not request.replace:
        other = others[0]
        if other["mac"] == request.mac:
            raise DhcpError("mac %s already has a reservation for %s in %s: set replace=true to move it to %s, or "
                            "give ip %s" % (request.mac, other["ip"], _describe_subnet(other), request.ip, other["ip"]))
        holder = "MAC %s" % other["mac"] if other["mac"] else (other.get("identifier") or "another client")
        raise DhcpError("ip %s is already reserved for %s in %s: set replace=true to take it over for mac %s"
                        % (request.ip, holder, _describe_subnet(other), request.mac))
    if target["hostname"] is None and same is not None:
        # hostname left out: the module does not manage it, so it stays as the server holds it.
        target["hostname"] = same["hostname"]
    before = ([same] if same is not None else []) + others
    return Plan(target, same, others, before, [target])


# --- secrets ------------------------------------------------------------------------------------

def mask_reservation(reservation, secret_keys):
    """A copy with the data of secret options ((space, code) pairs, e.g. iPXE's 191) replaced by MASK."""
    if reservation is None:
        return None
    masked = copy.deepcopy(reservation)
    for option in masked["options"]:
        if (option["space"], option["code"]) in secret_keys and option["data"]:
            option["data"] = MASK
    return masked


def masked_diff(before, after, secret_keys, before_extra=None, after_extra=None) -> dict:
    """Diff of reservation lists with secrets masked. A secret the reservation already had and that changes
    shows MASK_CHANGED after, so the diff tells that it changes without telling either value."""
    held = {}
    for reservation in before:
        for option in reservation["options"]:
            if (option["space"], option["code"]) in secret_keys:
                held[(reservation["mac"], option["space"], option["code"])] = option["data"]
    after_masked = []
    for reservation in after:
        masked = mask_reservation(reservation, secret_keys)
        for option, original in zip(masked["options"], reservation["options"]):
            key = (reservation["mac"], option["space"], option["code"])
            if key in held and original["data"] and held[key] != original["data"]:
                option["data"] = MASK_CHANGED
        after_masked.append(masked)
    diff_before = {"reservations": [mask_reservation(reservation, secret_keys) for reservation in before]}
    diff_after = {"reservations": after_masked}
    diff_before.update(before_extra or {})
    diff_after.update(after_extra or {})
    return {"before": diff_before, "after": diff_after}


def scrub(text, secrets) -> str:
    """Remove secrets (and their hex forms, as servers show packed options) from a message."""
    text = str(text)
    for secret in secrets or []:
        if not secret:
            continue
        hexed = binascii.hexlify(secret.encode("utf-8")).decode("ascii")
        for form in (secret, hexed.upper(), hexed.lower()):
            text = text.replace(form, MASK)
    return text


# --- writer lock --------------------------------------------------------------------------------

LOCK_WAIT = 300.0


class writer_lock:
    """Serialise the writers of one DHCP server that run on this host as this user.

    An exclusive fcntl lock on a file named after `key` (the API URL and service) in a private
    directory (mode 0700, owned by the user; refused when others can write to it). Readers and
    check mode do not take it. Writers on other hosts are not covered: see docs/dhcp.md.
    """

    def __init__(self, key: str, wait: float = LOCK_WAIT, directory: str | None = None):
        self.key = key
        self.wait = wait
        self.directory = directory or os.path.join(tempfile.gettempdir(), "sanboot.iscsi-%d" % os.getuid())
        self.path = os.path.join(self.directory, "dhcp-%s.lock" % hashlib.sha256(key.encode("utf-8")).hexdigest()[:24])
        self._fd = None

    def _private_directory(self):
        try:
            os.mkdir(self.directory, 0o700)
        except OSError as exc:
            if exc.errno != errno.EEXIST:
                raise DhcpError("cannot create the lock directory %s: %s" % (self.directory, exc.strerror)) from None
        info = os.lstat(self.directory)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o022:
            raise DhcpError("refusing the lock directory %s: it must be a directory owned by uid %d that no one else "
                            "can write to (mode 0700)" % (self.directory, os.getuid()))

    def __enter__(self):
        if not HAS_FCNTL:
            return self
        self._private_directory()
        try:
            self._fd = locking.acquire(self.path, self.wait, "dhcp_reservation, writer of %s" % self.key)
        except locking.LockTimeout as exc:
            raise DhcpError("another writer of %s on this host held the lock %s for more than %d s (%s); nothing "
                            "changed" % (self.key, self.path, self.wait, exc)) from None
        return self

    def __exit__(self, *exc_info):
        if self._fd is not None:
            locking.release(self._fd)
            self._fd = None
        return False


# --- backends -------------------------------------------------------------------------------------

class Outcome:
    """The result of converging: `reservation` as the server holds it afterwards (predicted in check mode),
    before/after for the diff, and the option definitions before/after (for servers that need them)."""

    def __init__(self, changed, before, after, reservation, option_defs_before=None, option_defs_after=None):
        self.changed = changed
        self.before = before
        self.after = after
        self.reservation = reservation
        self.option_defs_before = option_defs_before or []
        self.option_defs_after = option_defs_after or []


class DhcpBackend:
    """The interface every DHCP server backend implements. `name` is the module's `backend` value.

    converge(request, check_mode) -> Outcome: make the server hold the request (state present or
    absent), using plan_change(); raise DhcpError on conflicts, bad input the server reveals
    (unknown subnet, IP outside it) and faults, leaving the server as it was.
    converge_many(requests, check_mode) -> [Outcome]: the same for a batch, as one change: every
    request planned against one reading before anything changes (a refusal names the request by its
    label), then all of them applied, or none (a failure leaves the server as it was). The default
    converges them one at a time, which is correct but neither one round trip nor all-or-nothing:
    a backend overrides it (Kea: one config-set for the batch).
    list_reservations(...) -> [normalised reservation]: for the info module.
    secret_keys: (space, code) pairs whose data is a secret (masked in returns and diffs).
    """

    name = None

    def __init__(self, params: dict):
        self.params = params

    @property
    def secret_keys(self) -> set:
        return set()

    def converge(self, request: ReservationRequest, check_mode: bool) -> Outcome:
        raise NotImplementedError

    def converge_many(self, requests, check_mode: bool) -> list:
        outcomes = []
        for request in requests:
            try:
                outcomes.append(self.converge(request, check_mode))
            except DhcpError as exc:
                raise DhcpError(label_error(request, exc)) from None
        return outcomes

    def list_reservations(self, mac=None, ip=None, subnet=None, subnet_id=None) -> list:
        raise NotImplementedError


def select_backend(name, backends):
    """The backend class called `name` in `backends` (name -> class: dhcp/registry.BACKENDS for the
    modules, whose argument spec fills in registry.DEFAULT_BACKEND: the core names no default)."""
    if not name:
        raise DhcpError("backend is required: one of %s" % ", ".join(sorted(backends)))
    if name not in backends:
        raise DhcpError("backend '%s' is not available; the backends are %s" % (name, ", ".join(sorted(backends))))
    return backends[name]


# Options an entry of `reservations` may set; the others are the connection's (and persist).
ITEM_OPTIONS = ("mac", "ip", "hostname", "subnet", "subnet_id", "state", "iscsi", "options", "replace")
# Options that describe one reservation only: never taken from the module's top level by an entry.
ITEM_ONLY_OPTIONS = ("mac", "ip", "hostname", "iscsi")


def label_error(request, exc) -> str:
    """exc's message naming the request of a batch: 'reservations[3].ip ...' when it starts with an option,
    else 'reservations[3] (mac ...): ...'. Unchanged for the single form."""
    message = str(exc)
    label = getattr(request, "label", None)
    if label is None or message.startswith(label):
        return message
    first = message.split(" ", 1)[0].split(":", 1)[0].split(".", 1)[0].split("[", 1)[0]
    mac = getattr(request, "mac", None)
    if first in ITEM_OPTIONS or first == "options":
        return "%s.%s%s" % (label, message, " (%s is mac %s)" % (label, mac) if mac and mac not in message else "")
    return "%s%s: %s" % (label, " (mac %s)" % mac if mac else "", message)


def item_params(params: dict, entry: dict) -> dict:
    """One entry of `reservations` as the single form's parameters: the entry's options, and for each it leaves
    out (None) the module's top-level value (its default included); mac, ip, hostname and iscsi are the entry's
    own. An entry that gives subnet or subnet_id drops the other one inherited (they would have to agree)."""
    merged, _given = merge_item(params, entry, "reservations", ITEM_OPTIONS, ITEM_ONLY_OPTIONS, [("subnet", "subnet_id")])
    return merged


def _result(request, outcome, secret_keys) -> dict:
    result = {
        "changed": outcome.changed,
        "reservation": mask_reservation(outcome.reservation, secret_keys),
        "root_path": request.root_path,
        "diff": masked_diff(outcome.before, outcome.after, secret_keys,
                            {"option_defs": outcome.option_defs_before}, {"option_defs": outcome.option_defs_after}),
    }
    if request.warnings:
        result["warnings"] = list(request.warnings)
    return result


def run_reservation(params: dict, backends, check_mode: bool = False) -> dict:
    """The dhcp_reservation module without Ansible: validate, converge, and build the result (masked).

    result["warnings"] lists what the module should warn about (never a secret). With `reservations`,
    run_reservations."""
    if params.get("reservations") is not None:
        return run_reservations(params, backends, check_mode)
    backend_class = select_backend(params.get("backend"), backends)
    request = build_request(params)
    backend = backend_class(params)
    try:
        outcome = backend.converge_many([request], check_mode)[0]
    except DhcpError as exc:
        raise DhcpError(scrub(str(exc), request.secrets + [params.get("api_password")])) from None
    return _result(request, outcome, backend.secret_keys)


def run_reservations(params: dict, backends, check_mode: bool = False) -> dict:
    """A batch: every entry of params["reservations"] validated (a bad one fails the batch naming it, before
    anything is read), then all converged as one change (DhcpBackend.converge_many). The result has
    `reservation_results` (each entry's single-form result, in order), `diff` (those that change, labelled) and
    `warnings` (each naming its entry)."""
    backend_class = select_backend(params.get("backend"), backends)
    entries = params.get("reservations")
    if params.get("mac") not in (None, ""):
        raise DhcpError("mac: parameters are mutually exclusive: mac|reservations (mac is one reservation, "
                        "reservations a batch whose entries each have their own mac)")
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise DhcpError("reservations must be a list of dictionaries, each with a reservation's options")
    requests = []
    secrets = [params.get("api_password")]
    for index, entry in enumerate(entries):
        label = "reservations[%d]" % index
        probe = ReservationRequest()
        probe.label = label
        try:
            probe.mac = normalize_mac(entry.get("mac"))
        except NamingError:
            probe.mac = None
        try:
            request = build_request(item_params(params, entry))
        except DhcpError as exc:
            chap = ((entry.get("iscsi") or {}).get("chap") or {}) if isinstance(entry.get("iscsi"), dict) else {}
            raise DhcpError(scrub(label_error(probe, exc), secrets + [chap.get("secret")])) from None
        request.label = label
        requests.append(request)
        secrets += request.secrets
    backend = backend_class(params)
    try:
        outcomes = backend.converge_many(requests, check_mode)
    except DhcpError as exc:
        raise DhcpError(scrub(str(exc), secrets)) from None
    secret_keys = backend.secret_keys
    results = [_result(request, outcome, secret_keys) for request, outcome in zip(requests, outcomes)]
    warnings = []
    diff = []
    for request, result in zip(requests, results):
        for warning in result.pop("warnings", []):
            warnings.append("%s (mac %s): %s" % (request.label, request.mac, warning))
        if result["changed"]:
            header = "%s (mac %s)" % (request.label, request.mac)
            diff.append(dict(result["diff"], before_header=header, after_header=header))
    batch = {"changed": any(result["changed"] for result in results), "reservation_results": results, "diff": diff}
    if warnings:
        batch["warnings"] = warnings
    return batch


def run_reservation_info(params: dict, backends) -> dict:
    """dhcp_reservation_info: the reservations (filtered by mac, ip, subnet), or those of many MACs in one reading
    (reservations: an entry with chap also says whether the server holds that CHAP secret, never returning it)."""
    mac = ip = subnet = subnet_id = None
    entries = params.get("reservations")
    if entries is not None and params.get("mac"):
        raise DhcpError("mac: parameters are mutually exclusive: mac|reservations")
    if params.get("mac"):
        try:
            mac = normalize_mac(params["mac"])
        except NamingError as exc:
            raise DhcpError("mac: %s" % exc) from None
    wanted = {}
    for index, entry in enumerate(entries or []):
        try:
            wanted.setdefault(normalize_mac(entry.get("mac")), entry.get("chap") or None)
        except NamingError as exc:
            raise DhcpError("reservations[%d].mac: %s" % (index, exc)) from None
    if params.get("ip"):
        ip = parse_ipv4(params["ip"], "ip")
    if params.get("subnet"):
        subnet = parse_subnet(params["subnet"])
    if params.get("subnet_id") not in (None, ""):
        subnet_id = parse_subnet_id(params["subnet_id"])
    backend = select_backend(params.get("backend"), backends)(params)
    reservations = backend.list_reservations(mac=mac, ip=ip, subnet=subnet, subnet_id=subnet_id)
    if entries is None:
        return {"changed": False,
                "reservations": [mask_reservation(reservation, backend.secret_keys) for reservation in reservations]}
    found = []
    secret_keys = backend.secret_keys
    for reservation in reservations:
        if reservation["mac"] not in wanted:
            continue
        masked = mask_reservation(reservation, secret_keys)
        chap = wanted[reservation["mac"]]
        if chap:
            held = [option["data"] for option in reservation["options"]
                    if (option["space"], option["code"]) in secret_keys and option["data"]]
            # As dhcp_reservation's check mode would show it: a secret held and not this one is "(changed)".
            masked["chap_secret_differs"] = any(data != chap.get("secret") for data in held)
        found.append(masked)
    return {"changed": False, "reservations": found}
