# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The Kea DHCPv4 backend: Kea's control agent REST API, through requests.

Two ways to change reservations, chosen by what the server offers (list-commands):

- host_cmds (reservation-get/-add/-del; open source from Kea 3.0): one reservation at a time, in
  place with reservation-update where the server offers it. Every change is remembered with its
  inverse: whatever fails after the first change (a refused command, the check, config-write)
  puts the reservations back exactly as they were.
- otherwise (Debian's Kea 2.2): a whole-configuration round trip, config-get -> edit ->
  config-test -> re-read and compare with the base -> config-set -> verify -> config-write,
  retried when the configuration changed underneath, and serialised on this host by a lock.

Facts about Kea this relies on (seen on Kea 2.2):
- config-get returns the expanded configuration, data strings verbatim, hw-address lowercased,
  and, for an option that encapsulates a space (iPXE's 175), the packed sub-options as hex data.
  Sent back, that hex is used as is: the sub-options are frozen. So the packed data of the
  reservation this module writes is left out (Kea packs it afresh), and when comparing, packed
  data that no longer matches its sub-options counts as a difference.
- config-test/config-set answer result 1 with Kea's reason; config-set applies nothing then.
- config-write without a file name writes the file the server was started with, keeping its mode.
  When it fails (the round trip or host_cmds), the running change is taken back: never a change
  that a restart would silently lose.
"""


from __future__ import annotations

import copy
import ipaddress
import random
import time

from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp.core import (
    SPACE_DHCP4,
    DhcpBackend,
    DhcpError,
    Outcome,
    label_error,
    make_option,
    make_reservation,
    plan_change,
    writer_lock,
)
from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp.boot_options import (
    OPTION_INITIATOR_IQN,
    OPTION_IPXE_ENCAPSULATED,
    OPTION_IPXE_PASSWORD,
    OPTION_IPXE_USERNAME,
    OPTION_ROOT_PATH,
)
from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp.backends.kea.client import (
    KeaClient,
    KeaError,
    display_url,
    same_config,
)
from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp.backends.kea.config import (
    IDENTIFIERS,
    IPXE_SPACE,
    ROOT_PATH_NAME,
    DefinitionPlan,
    OptionNames,
    check_served,
    encapsulated_spaces,
    find_subnet,
    iter_subnets,
    normalise_reservation,
    plan_definitions,
    subnet_label,
)


class _WriteFailed(DhcpError):
    """config-write failed after the live change: the change is taken back."""

    def __init__(self, cause):
        super().__init__(str(cause))
        self.cause = cause


HOST_CMDS = ("reservation-add", "reservation-del", "reservation-get")
# Offered by host_cmds from Kea 2.4 (and 3.0): replaces the host with the same identifier, in place.
HOST_UPDATE = "reservation-update"
ROUND_TRIP_ATTEMPTS = 6


# --- the backend ----------------------------------------------------------------------------------

class Prepared:
    """One reading of the server, planned for one request: the subnet, what it holds, the target and the plan."""

    def __init__(self, subnet, held, target, plan, definitions, raw_by_id):
        self.subnet = subnet
        self.held = held
        self.target = target
        self.plan = plan
        self.definitions = definitions
        self.raw_by_id = raw_by_id

    @property
    def changed(self):
        return self.plan.changed or bool(self.definitions.add)


class Reading:
    """One config-get answer, prepared once for every request of a run: the option names, and each subnet's
    reservations normalised once (per set of option definitions) with an index by MAC and by address, so
    that planning many requests stays linear in their number."""

    def __init__(self, config):
        self.config = config
        self.dhcp4 = config["Dhcp4"]
        self.names = OptionNames(self.dhcp4)
        self._held = {}

    def held(self, subnet, option_defs):
        """(normalised reservations, raw by id of normalised, (kind, value) -> positions) of the subnet."""
        key = (subnet.get("id"), len(option_defs))
        if key not in self._held:
            held, raw_by_id, index = [], {}, {}
            for raw in subnet.get("reservations") or []:
                normalised = normalise_reservation(raw, subnet, option_defs)
                raw_by_id[id(normalised)] = raw
                for kind in ("mac", "ip"):
                    if normalised[kind] is not None:
                        index.setdefault((kind, normalised[kind]), []).append(len(held))
                held.append(normalised)
            self._held[key] = (held, raw_by_id, index)
        return self._held[key]


def _relevant(held, index, request):
    """The reservations plan_change looks at for this request (its MAC's and its address's), in held order."""
    positions = set(index.get(("mac", request.mac), ()))
    if request.ip is not None:
        positions.update(index.get(("ip", request.ip), ()))
    return [held[position] for position in sorted(positions)]


class KeaBackend(DhcpBackend):
    name = "kea"

    def __init__(self, params: dict):
        super().__init__(params)
        self.client = KeaClient(params.get("api_url"), params.get("api_username"), params.get("api_password"),
                                validate_certs=params.get("validate_certs", True), ca_path=params.get("ca_path"),
                                timeout=params.get("timeout") or 30, service=params.get("service") or "dhcp4")
        self._ipxe_space = IPXE_SPACE
        self._commands = set()

    @property
    def secret_keys(self) -> set:
        return {(self._ipxe_space, OPTION_IPXE_PASSWORD), (IPXE_SPACE, OPTION_IPXE_PASSWORD)}

    @property
    def lock_key(self) -> str:
        return "kea %s %s" % (display_url(self.client.url).rstrip("/"), self.client.service)

    # -- planning one reading

    def _target(self, request, subnet, definitions, names):
        options = []
        boot = request.boot_values
        if OPTION_ROOT_PATH in boot:
            options.append(make_option(SPACE_DHCP4, OPTION_ROOT_PATH, ROOT_PATH_NAME, boot[OPTION_ROOT_PATH]))
        if OPTION_INITIATOR_IQN in boot:
            options.append(make_option(SPACE_DHCP4, OPTION_INITIATOR_IQN,
                                       definitions.names.get((SPACE_DHCP4, OPTION_INITIATOR_IQN)), boot[OPTION_INITIATOR_IQN]))
        if request.chap:
            space = definitions.ipxe_space
            options.append(make_option(SPACE_DHCP4, OPTION_IPXE_ENCAPSULATED,
                                       definitions.names.get((SPACE_DHCP4, OPTION_IPXE_ENCAPSULATED)), ""))
            options.append(make_option(space, OPTION_IPXE_USERNAME, definitions.names.get((space, OPTION_IPXE_USERNAME)),
                                       boot[OPTION_IPXE_USERNAME]))
            options.append(make_option(space, OPTION_IPXE_PASSWORD, definitions.names.get((space, OPTION_IPXE_PASSWORD)),
                                       boot[OPTION_IPXE_PASSWORD]))
        taken = {(option["space"], option["code"]) for option in options}
        for index, option in enumerate(request.options):
            resolved = names.resolve(option)
            if (resolved["space"], resolved["code"]) in taken:
                raise DhcpError("options[%d] sets option %s in space %s, which the module derives from iscsi; remove it "
                                "from options" % (index, resolved["code"], resolved["space"]))
            options.append(resolved)
        return make_reservation(subnet.get("subnet"), subnet.get("id"), request.mac, request.ip, request.hostname, options)

    def _prepare(self, reading, request, option_defs, held_raw=None) -> Prepared:
        """Plan one request against one reading. option_defs: the server's definitions and those the requests
        before this one add. held_raw: the reservations of the request's MAC and address when they come from
        host_cmds rather than the configuration."""
        dhcp4 = reading.dhcp4
        subnet = find_subnet(dhcp4, request.subnet, request.subnet_id)
        network = ipaddress.ip_network(subnet.get("subnet"), strict=False)
        if request.ip is not None and ipaddress.ip_address(request.ip) not in network:
            raise DhcpError("ip %s is outside subnet %s: a reservation's address must be inside its subnet"
                            % (request.ip, subnet_label(subnet)))
        if request.state == "present":
            check_served(dhcp4, subnet)
        definitions = plan_definitions({"option-def": option_defs}, request) if request.state == "present" \
            else DefinitionPlan()
        self._ipxe_space = definitions.ipxe_space
        all_defs = list(option_defs) + definitions.add
        if held_raw is None:
            held, raw_by_id, index = reading.held(subnet, all_defs)
            relevant = _relevant(held, index, request)
        else:
            relevant, raw_by_id = [], {}
            for raw in held_raw:
                normalised = normalise_reservation(raw, subnet, all_defs)
                relevant.append(normalised)
                raw_by_id[id(normalised)] = raw
        target = None
        if request.state == "present":
            target = self._target(request, subnet, definitions, reading.names)
        plan = plan_change(request, target, relevant)
        return Prepared(subnet, relevant, target, plan, definitions, raw_by_id)

    def _prepare_all(self, config, requests, held_raws=None) -> list:
        """Plan every request against one config-get answer, in order: each sees the option definitions the
        ones before it add, as it would after them in runs of their own. Two requests of a batch may not be
        the same MAC or address in one subnet, nor change the same reservation."""
        reading = Reading(config)
        option_defs = list(reading.dhcp4.get("option-def") or [])
        prepared = []
        for position, request in enumerate(requests):
            try:
                one = self._prepare(reading, request, option_defs, held_raws[position] if held_raws else None)
            except DhcpError as exc:
                raise DhcpError(label_error(request, exc)) from None
            option_defs += one.definitions.add
            prepared.append(one)
        if len(requests) > 1:
            self._check_batch(prepared, requests)
        return prepared

    @staticmethod
    def _check_batch(prepared, requests):
        taken = {}
        for one, request in zip(prepared, requests):
            subnet = one.subnet.get("id")
            keys = [("mac", subnet, request.mac)]
            if request.ip is not None:
                keys.append(("ip", subnet, request.ip))
            for reservation in ([one.plan.same] if one.plan.same is not None else []) + list(one.plan.remove):
                keys.append(("held", subnet, reservation["mac"] or reservation.get("identifier"), reservation["ip"]))
            for key in dict.fromkeys(keys):
                first = taken.setdefault(key, request)
                if first is not request:
                    what = {"mac": "mac %s" % request.mac, "ip": "ip %s" % request.ip}.get(
                        key[0], "the reservation of %s" % key[2])
                    raise DhcpError("%s: %s in subnet %s is also in %s: two entries of a batch may not be the same MAC "
                                    "or address, nor change the same reservation; split them into two runs"
                                    % (request.label, what, one.subnet.get("subnet"), first.label))

    def _outcome(self, prepared, changed, reservation=None, after=None):
        plan = prepared.plan
        if not changed:
            before = plan.before
            return Outcome(False, before, before, plan.same, prepared.definitions.before(), prepared.definitions.before())
        if after is None:
            after = plan.after
        return Outcome(True, plan.before, after, reservation if reservation is not None else plan.target,
                       prepared.definitions.before(), prepared.definitions.after())

    # -- Kea raw records

    @staticmethod
    def _raw_option(option, held_raw_options, encapsulating):
        raw = {"space": option["space"]}
        if option["code"] is not None:
            raw["code"] = option["code"]
        else:
            raw["name"] = option["name"]
        if not ((option["space"], option["code"]) in encapsulating and option["data"] == ""):
            raw["data"] = option["data"]
        for held in held_raw_options:
            if held.get("space", SPACE_DHCP4) == option["space"] and (
                    held.get("code") == option["code"] if option["code"] is not None else held.get("name") == option["name"]):
                for key in ("always-send", "never-send"):
                    if key in held:
                        raw[key] = held[key]
                if "csv-format" in held and "data" in raw and held.get("data") == raw["data"]:
                    raw["csv-format"] = held["csv-format"]
        return raw

    def _raw_reservation(self, target, held_raw, option_defs, subnet_id=None):
        managed = ("hw-address", "ip-address", "hostname", "option-data")
        raw = {key: value for key, value in (held_raw or {}).items() if key not in managed}
        raw["hw-address"] = target["mac"]
        raw["ip-address"] = target["ip"]
        if target["hostname"]:
            raw["hostname"] = target["hostname"]
        encapsulating = encapsulated_spaces(option_defs)
        held_options = (held_raw or {}).get("option-data") or []
        raw["option-data"] = [self._raw_option(option, held_options, encapsulating) for option in target["options"]]
        if subnet_id is not None:
            raw["subnet-id"] = subnet_id
        return raw

    def _edited(self, config, prepared_list) -> dict:
        """A copy of config with every changed plan applied: the option definitions they add, and each
        reservation replaced in place, removed from or appended to its subnet."""
        new = copy.deepcopy(config)
        dhcp4 = new["Dhcp4"]
        adds = [definition for prepared in prepared_list for definition in prepared.definitions.add]
        if adds:
            dhcp4.setdefault("option-def", [])
            dhcp4["option-def"].extend(copy.deepcopy(adds))
        option_defs = dhcp4.get("option-def") or []
        edits = {}  # subnet id -> (positions to drop, {position: replacement}, [appended])
        positions = {}
        for prepared in prepared_list:
            plan = prepared.plan
            if not plan.changed:
                continue
            subnet_id = prepared.subnet.get("id")
            if subnet_id not in positions:
                # The plans index the original lists; positions are the same in the copy.
                positions[subnet_id] = {id(raw): index
                                        for index, raw in enumerate(prepared.subnet.get("reservations") or [])}
            drop, replace, append = edits.setdefault(subnet_id, (set(), {}, []))
            position = positions[subnet_id]
            for reservation in plan.remove:
                drop.add(position[id(prepared.raw_by_id[id(reservation)])])
            if plan.target is not None:
                held_raw = prepared.raw_by_id[id(plan.same)] if plan.same is not None else None
                replacement = self._raw_reservation(plan.target, held_raw, option_defs)
                if held_raw is not None:
                    replace[position[id(held_raw)]] = replacement
                else:
                    append.append(replacement)
        for subnet_id, (drop, replace, append) in edits.items():
            reservations = find_subnet(dhcp4, subnet_id=subnet_id).setdefault("reservations", [])
            for index, replacement in replace.items():
                reservations[index] = replacement
            for index in sorted(drop, reverse=True):
                del reservations[index]
            reservations.extend(append)
        return new

    # -- converging

    def converge(self, request, check_mode):
        return self.converge_many([request], check_mode)[0]

    def converge_many(self, requests, check_mode):
        """Make the server hold every request, as one change: with the configuration round trip, one
        config-set (and one config-write) for all of them; with host_cmds, one command per reservation
        and one config-write, every change taken back when anything fails."""
        self._commands = self.client.commands()
        if set(HOST_CMDS) <= self._commands:
            return self._converge_host_cmds(requests, check_mode)
        prepared = self._prepare_all(self.client.config_get(), requests)
        if check_mode or not any(one.changed for one in prepared):
            return [self._outcome(one, one.changed) for one in prepared]
        with writer_lock(self.lock_key):
            return self._round_trip(requests)

    def _pause(self, attempt):
        time.sleep(random.uniform(0.05, 0.2) * attempt)

    def _round_trip(self, requests, definitions_only=False):
        where = "%s (%s)" % (self.client.where, self.client.service)
        persist = any(request.persist for request in requests)
        for attempt in range(1, ROUND_TRIP_ATTEMPTS + 1):
            base = self.client.config_get()
            prepared = self._prepared_for(base, requests, definitions_only)
            if not any(one.changed for one in prepared):
                return [self._outcome(one, False) for one in prepared]
            new = self._edited(base, prepared)
            try:
                self.client.config_test(new)
            except KeaError as exc:
                if exc.text is None:
                    raise
                raise DhcpError("Kea refused the new configuration at config-test, so nothing was set: %s" % exc.text) from None
            current = self.client.config_get()
            if not same_config(current, base):
                self._pause(attempt)
                continue
            try:
                self.client.config_set(new)
            except KeaError as exc:
                if exc.text is not None:
                    raise DhcpError("Kea refused the new configuration at config-set, so it kept the old one: %s"
                                    % exc.text) from None
                # No answer: the set may or may not have happened. Set the previous configuration.
                self._roll_back(current, exc, "config-set got no answer")
            # From here on the server runs the change: whatever fails takes it back.
            try:
                after_config = self.client.config_get()
                verified = self._prepared_for(after_config, requests, definitions_only)
            except DhcpError as exc:
                self._roll_back(current, exc, "reading the configuration back failed")
            if any(one.changed for one in verified):
                # Another writer set a configuration built before ours: ours is gone. Do it again.
                self._pause(attempt)
                continue
            if persist:
                try:
                    self.client.config_write()
                except KeaError as exc:
                    self._roll_back(current, exc, "config-write failed")
            outcomes = []
            for one, check in zip(prepared, verified):
                if not one.changed:
                    outcomes.append(self._outcome(one, False))
                    continue
                reservation = check.plan.same if not definitions_only else None
                outcomes.append(self._outcome(one, True, reservation, [reservation] if reservation is not None else []))
            return outcomes
        raise DhcpError("the configuration of %s changed under this run %d times in a row (other writers); it may or "
                        "may not hold the change now: run again" % (where, ROUND_TRIP_ATTEMPTS))

    def _prepared_for(self, config, requests, definitions_only):
        prepared = self._prepare_all(config, requests)
        if definitions_only:
            for one in prepared:
                one.plan.remove, one.plan.target = [], None
        return prepared

    def _roll_back(self, previous, error, what):
        """Set the configuration the change was made on again, and fail saying why."""
        try:
            self.client.config_set(previous)
        except KeaError as exc:
            raise DhcpError("%s (%s) and restoring the previous configuration failed too (%s): the running "
                            "configuration may hold the change, the file does not: run again" % (what, error, exc)) from None
        raise DhcpError("%s, so the change was taken back (the server runs the previous configuration): %s"
                        % (what, error)) from None

    # -- host_cmds (Kea 3.0+, or the premium hook): one reservation at a time

    def _host_cmds_target(self, config):
        dhcp4 = config["Dhcp4"]
        if dhcp4.get("hosts-database") or dhcp4.get("hosts-databases"):
            return None  # Kea's default for changes: the hosts database
        return "primary"

    def _host_cmds_held(self, subnet, request):
        found = []
        queries = [{"identifier-type": "hw-address", "identifier": request.mac}]
        if request.ip is not None:
            queries.append({"ip-address": request.ip})
        for query in queries:
            arguments = dict(query, **{"subnet-id": subnet.get("id")})
            answer = self.client.command("reservation-get", arguments, empty_ok=True)
            host = answer.get("arguments")
            if isinstance(host, dict) and host and host not in found:
                found.append(host)
        return found

    def _host_cmds_prepare(self, config, requests):
        held_raws = []
        for request in requests:
            try:
                subnet = find_subnet(config["Dhcp4"], request.subnet, request.subnet_id)
            except DhcpError as exc:
                raise DhcpError(label_error(request, exc)) from None
            held_raws.append(self._host_cmds_held(subnet, request))
        return self._prepare_all(config, requests, held_raws)

    def _converge_host_cmds(self, requests, check_mode):
        config = self.client.config_get()
        prepared = self._host_cmds_prepare(config, requests)
        if check_mode or not any(one.changed for one in prepared):
            return [self._outcome(one, one.changed) for one in prepared]
        with writer_lock(self.lock_key):
            if any(one.definitions.add for one in prepared):
                # Option definitions are configuration: they need the round trip, once.
                self._round_trip(requests, definitions_only=True)
            config = self.client.config_get()
            prepared = self._host_cmds_prepare(config, requests)
            if not any(one.changed for one in prepared):
                return [self._outcome(one, False) for one in prepared]
            target_source = self._host_cmds_target(config)
            extra = {"operation-target": target_source} if target_source else {}
            undo = []  # (command, arguments) that take back each change made, in the order made
            try:
                for one in prepared:
                    if one.plan.changed:
                        self._apply_host_cmds(one, config, one.subnet.get("id"), extra, undo)
                verified = self._host_cmds_prepare(config, requests)
                if any(one.plan.changed for one in verified):
                    raise DhcpError("Kea accepted the change but does not hold it afterwards (another writer?)")
                if any(request.persist for request in requests) and target_source == "primary":
                    try:
                        self.client.config_write()
                    except KeaError as exc:
                        raise _WriteFailed(exc) from None
            except DhcpError as exc:
                self._take_back(undo, exc)
            outcomes = []
            for one, check in zip(prepared, verified):
                if not one.plan.changed:
                    outcomes.append(self._outcome(one, False))
                    continue
                reservation = check.plan.same
                outcomes.append(self._outcome(one, True, reservation, [reservation] if reservation is not None else []))
            return outcomes

    def _apply_host_cmds(self, prepared, config, subnet_id, extra, undo):
        """Remove what the plan takes over and hold the target: in place with reservation-update where
        offered (the MAC's reservation never disappears), else a delete and an add."""
        plan = prepared.plan
        update = HOST_UPDATE in self._commands and plan.target is not None
        # The reservation of the MAC itself (at this address, or at another one it moves from).
        mine = plan.same
        if mine is None and update:
            mine = next((reservation for reservation in plan.remove if reservation["mac"] == plan.target["mac"]), None)
        for reservation in plan.remove:
            if update and reservation is mine:
                continue
            self._host_del(prepared.raw_by_id[id(reservation)], subnet_id, extra, undo)
        if plan.target is None:
            return
        option_defs = config["Dhcp4"].get("option-def") or []
        held_raw = prepared.raw_by_id[id(mine)] if mine is not None else None
        raw = self._raw_reservation(plan.target, held_raw, option_defs, subnet_id)
        if update and mine is not None:
            self.client.command(HOST_UPDATE, dict({"reservation": raw}, **extra))
            undo.append((HOST_UPDATE, dict({"reservation": self._restorable(held_raw, subnet_id)}, **extra)))
            return
        if mine is not None:
            self._host_del(held_raw, subnet_id, extra, undo)
        self.client.command("reservation-add", dict({"reservation": raw}, **extra))
        undo.append(("reservation-del", dict(self._host_selector(raw, subnet_id), **extra)))

    def _host_del(self, raw, subnet_id, extra, undo):
        self.client.command("reservation-del", dict(self._host_selector(raw, subnet_id), **extra))
        undo.append(("reservation-add", dict({"reservation": self._restorable(raw, subnet_id)}, **extra)))

    @staticmethod
    def _restorable(raw, subnet_id):
        """A reservation as reservation-get returned it, to add (or update) it back exactly."""
        restored = {key: value for key, value in raw.items() if key != "subnet-id"}
        restored["subnet-id"] = subnet_id
        return restored

    def _take_back(self, undo, error):
        """Undo the changes made so far, newest first; then fail saying what failed and what was put back."""
        failed = []
        for command, arguments in reversed(undo):
            try:
                self.client.command(command, arguments)
            except KeaError as exc:
                reservation = arguments.get("reservation") or arguments
                failed.append("%s of %s (%s)" % (command, reservation.get("hw-address") or reservation.get("identifier")
                                                 or reservation.get("ip-address"), exc.text or exc))
        if failed:
            cause = "config-write failed (%s)" % error.cause if isinstance(error, _WriteFailed) else str(error)
            raise DhcpError("%s; putting back the previous reservations failed: %s: check them and run again"
                            % (cause, "; ".join(failed))) from None
        if isinstance(error, _WriteFailed):
            raise DhcpError("config-write failed, so the change was taken back (the server holds the previous "
                            "reservations): %s" % error.cause) from None
        if undo:
            raise DhcpError("%s (the reservations changed before it were put back as they were)" % error) from None
        raise DhcpError(str(error)) from None

    @staticmethod
    def _host_selector(raw, subnet_id):
        for kind in IDENTIFIERS:
            if raw.get(kind):
                return {"subnet-id": subnet_id, "identifier-type": kind, "identifier": raw[kind]}
        return {"subnet-id": subnet_id, "ip-address": raw.get("ip-address")}

    # -- reading for the info module

    def list_reservations(self, mac=None, ip=None, subnet=None, subnet_id=None):
        config = self.client.config_get()
        dhcp4 = config["Dhcp4"]
        option_defs = dhcp4.get("option-def") or []
        host_cmds = "reservation-get-all" in self.client.commands()
        if subnet is not None or subnet_id is not None:
            subnets = [find_subnet(dhcp4, subnet, subnet_id)]
        else:
            subnets = list(iter_subnets(dhcp4))
        found = []
        for entry in subnets:
            if host_cmds:
                answer = self.client.command("reservation-get-all", {"subnet-id": entry.get("id")}, empty_ok=True)
                raws = (answer.get("arguments") or {}).get("hosts") or []
            else:
                raws = entry.get("reservations") or []
            for raw in raws:
                reservation = normalise_reservation(raw, entry, option_defs)
                if mac is not None and reservation["mac"] != mac:
                    continue
                if ip is not None and reservation["ip"] != ip:
                    continue
                found.append(reservation)
        self._ipxe_space = encapsulated_spaces(option_defs).get((SPACE_DHCP4, OPTION_IPXE_ENCAPSULATED), IPXE_SPACE)
        return found
