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
    """One reading of the server, planned: the subnet, what it holds, the target and the plan."""

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


class KeaBackend(DhcpBackend):
    name = "kea"

    def __init__(self, params: dict):
        super().__init__(params)
        self.client = KeaClient(params.get("api_url"), params.get("api_username"), params.get("api_password"),
                                validate_certs=params.get("validate_certs", True), ca_path=params.get("ca_path"),
                                timeout=params.get("timeout") or 30, service=params.get("service") or "dhcp4")
        self._ipxe_space = IPXE_SPACE

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

    def _prepare(self, config, request, held_raw=None) -> Prepared:
        """Plan against one config-get answer. held_raw: the subnet's reservations when they come from
        host_cmds rather than the configuration."""
        dhcp4 = config["Dhcp4"]
        subnet = find_subnet(dhcp4, request.subnet, request.subnet_id)
        network = ipaddress.ip_network(subnet.get("subnet"), strict=False)
        if request.ip is not None and ipaddress.ip_address(request.ip) not in network:
            raise DhcpError("ip %s is outside subnet %s: a reservation's address must be inside its subnet"
                            % (request.ip, subnet_label(subnet)))
        if request.state == "present":
            check_served(dhcp4, subnet)
        definitions = plan_definitions(dhcp4, request) if request.state == "present" else DefinitionPlan()
        self._ipxe_space = definitions.ipxe_space
        option_defs = list(dhcp4.get("option-def") or []) + definitions.add
        raws = subnet.get("reservations") or [] if held_raw is None else held_raw
        held, raw_by_id = [], {}
        for raw in raws:
            normalised = normalise_reservation(raw, subnet, option_defs)
            held.append(normalised)
            raw_by_id[id(normalised)] = raw
        target = None
        if request.state == "present":
            target = self._target(request, subnet, definitions, OptionNames(dhcp4))
        plan = plan_change(request, target, held)
        return Prepared(subnet, held, target, plan, definitions, raw_by_id)

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

    def _edited(self, config, prepared) -> dict:
        new = copy.deepcopy(config)
        dhcp4 = new["Dhcp4"]
        if prepared.definitions.add:
            dhcp4.setdefault("option-def", [])
            dhcp4["option-def"].extend(copy.deepcopy(prepared.definitions.add))
        subnet = find_subnet(dhcp4, subnet_id=prepared.subnet.get("id"))
        reservations = subnet.setdefault("reservations", [])
        # The prepared plan indexes the original list; positions are the same in the copy.
        original = prepared.subnet.get("reservations") or []
        position = {id(raw): index for index, raw in enumerate(original)}
        plan = prepared.plan
        drop = sorted((position[id(prepared.raw_by_id[id(reservation)])] for reservation in plan.remove), reverse=True)
        replacement = None
        if plan.target is not None:
            held_raw = prepared.raw_by_id[id(plan.same)] if plan.same is not None else None
            option_defs = dhcp4.get("option-def") or []
            replacement = self._raw_reservation(plan.target, held_raw, option_defs)
            if held_raw is not None:
                reservations[position[id(held_raw)]] = replacement
        for index in drop:
            del reservations[index]
        if replacement is not None and plan.same is None:
            reservations.append(replacement)
        return new

    # -- converging

    def converge(self, request, check_mode):
        self._commands = self.client.commands()
        host_cmds = set(HOST_CMDS) <= self._commands
        if host_cmds:
            return self._converge_host_cmds(request, check_mode)
        prepared = self._prepare(self.client.config_get(), request)
        if not prepared.changed:
            return self._outcome(prepared, False)
        if check_mode:
            return self._outcome(prepared, True)
        with writer_lock(self.lock_key):
            return self._round_trip(request)

    def _pause(self, attempt):
        time.sleep(random.uniform(0.05, 0.2) * attempt)

    def _round_trip(self, request, definitions_only=False):
        where = "%s (%s)" % (self.client.where, self.client.service)
        for attempt in range(1, ROUND_TRIP_ATTEMPTS + 1):
            base = self.client.config_get()
            prepared = self._prepare(base, request)
            if definitions_only:
                prepared.plan.remove, prepared.plan.target = [], None
            if not prepared.changed:
                return self._outcome(prepared, False)
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
                verified = self._prepare(after_config, request)
            except DhcpError as exc:
                self._roll_back(current, exc, "reading the configuration back failed")
            if definitions_only:
                verified.plan.remove, verified.plan.target = [], None
            if verified.changed:
                # Another writer set a configuration built before ours: ours is gone. Do it again.
                self._pause(attempt)
                continue
            if request.persist:
                try:
                    self.client.config_write()
                except KeaError as exc:
                    self._roll_back(current, exc, "config-write failed")
            reservation = verified.plan.same if not definitions_only else None
            return self._outcome(prepared, True, reservation, [reservation] if reservation is not None else [])
        raise DhcpError("the configuration of %s changed under this run %d times in a row (other writers); it may or "
                        "may not hold the change now: run again" % (where, ROUND_TRIP_ATTEMPTS))

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

    def _converge_host_cmds(self, request, check_mode):
        config = self.client.config_get()
        subnet = find_subnet(config["Dhcp4"], request.subnet, request.subnet_id)
        prepared = self._prepare(config, request, self._host_cmds_held(subnet, request))
        if not prepared.changed:
            return self._outcome(prepared, False)
        if check_mode:
            return self._outcome(prepared, True)
        with writer_lock(self.lock_key):
            if prepared.definitions.add:
                # Option definitions are configuration: they need the round trip, once.
                self._round_trip(request, definitions_only=True)
            config = self.client.config_get()
            subnet = find_subnet(config["Dhcp4"], request.subnet, request.subnet_id)
            prepared = self._prepare(config, request, self._host_cmds_held(subnet, request))
            if not prepared.changed:
                return self._outcome(prepared, False)
            target_source = self._host_cmds_target(config)
            extra = {"operation-target": target_source} if target_source else {}
            subnet_id = subnet.get("id")
            undo = []  # (command, arguments) that take back each change made, in the order made
            try:
                self._apply_host_cmds(prepared, config, subnet_id, extra, undo)
                verified = self._prepare(config, request, self._host_cmds_held(subnet, request))
                if verified.plan.changed:
                    raise DhcpError("Kea accepted the change but does not hold it afterwards (another writer?)")
                if request.persist and target_source == "primary":
                    try:
                        self.client.config_write()
                    except KeaError as exc:
                        raise _WriteFailed(exc) from None
            except DhcpError as exc:
                self._take_back(undo, exc)
            reservation = verified.plan.same
            return self._outcome(prepared, True, reservation, [reservation] if reservation is not None else [])

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
