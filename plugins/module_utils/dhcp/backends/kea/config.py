# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Kea's DHCPv4 configuration as config-get returns it: subnets, reservations and option data in
the normalised shape of dhcp/core.py, and the option definitions this collection needs."""

from __future__ import annotations

import binascii
import ipaddress
import re

from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp.core import (
    SPACE_DHCP4,
    DhcpError,
    make_option,
    make_reservation,
)
from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp.boot_options import (
    OPTION_INITIATOR_IQN,
    OPTION_IPXE_ENCAPSULATED,
    OPTION_IPXE_PASSWORD,
    OPTION_IPXE_USERNAME,
)
from ansible_collections.sanboot.iscsi.plugins.module_utils.naming import NamingError, normalize_mac


# The option definitions this module adds when the server has none for these codes.
DEF_INITIATOR_IQN = {"name": "iscsi-initiator-iqn", "code": OPTION_INITIATOR_IQN, "type": "string", "space": SPACE_DHCP4}
DEF_IPXE_ENCAPSULATED = {"name": "ipxe-encap-opts", "code": OPTION_IPXE_ENCAPSULATED, "type": "empty",
                         "space": SPACE_DHCP4, "encapsulate": "ipxe"}
DEF_IPXE_USERNAME = {"name": "ipxe-username", "code": OPTION_IPXE_USERNAME, "type": "string"}
DEF_IPXE_PASSWORD = {"name": "ipxe-password", "code": OPTION_IPXE_PASSWORD, "type": "string"}
IPXE_SPACE = "ipxe"
# Kea's own names for the standard options this module sets.
ROOT_PATH_NAME = "root-path"
IDENTIFIERS = ("hw-address", "client-id", "duid", "circuit-id", "flex-id")


# --- reading the configuration ------------------------------------------------------------------

def iter_subnets(dhcp4):
    """Every subnet4 entry, top level and inside shared networks."""
    yield from dhcp4.get("subnet4") or []
    for network in dhcp4.get("shared-networks") or []:
        yield from network.get("subnet4") or []


def subnet_label(subnet) -> str:
    return "%s (id %s)" % (subnet.get("subnet"), subnet.get("id"))


def find_subnet(dhcp4, network=None, subnet_id=None) -> dict:
    subnets = list(iter_subnets(dhcp4))
    known = ", ".join(subnet_label(subnet) for subnet in subnets[:20]) or "none"
    if len(subnets) > 20:
        known += ", ..."
    found = None
    if subnet_id is not None:
        found = next((subnet for subnet in subnets if subnet.get("id") == subnet_id), None)
        if found is None:
            raise DhcpError("subnet_id %d is not a subnet of this server; its subnets are %s" % (subnet_id, known))
        if network is not None and ipaddress.ip_network(found.get("subnet"), strict=False) != network:
            raise DhcpError("subnet_id %d is subnet %s on this server, not subnet %s" % (subnet_id, found.get("subnet"), network))
        return found
    for subnet in subnets:
        try:
            if ipaddress.ip_network(subnet.get("subnet"), strict=False) == network:
                return subnet
        except ValueError:
            continue
    raise DhcpError("subnet %s is not a subnet of this server; its subnets are %s" % (network, known))


def _walk_option_data(node, found):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "option-data" and isinstance(value, list):
                found.extend(option for option in value if isinstance(option, dict))
            else:
                _walk_option_data(value, found)
    elif isinstance(node, list):
        for item in node:
            _walk_option_data(item, found)


class OptionNames:
    """Code <-> name per space, as this server knows them: its option-def list and every option-data
    entry it reports (Kea fills in both name and code)."""

    def __init__(self, dhcp4):
        self.by_name = {}
        self.by_code = {}
        entries = []
        _walk_option_data(dhcp4, entries)
        for entry in list(dhcp4.get("option-def") or []) + entries:
            space, code, name = entry.get("space", SPACE_DHCP4), entry.get("code"), entry.get("name")
            if code is not None and name:
                self.by_name.setdefault((space, name), code)
                self.by_code.setdefault((space, code), name)

    def resolve(self, option) -> dict:
        option = dict(option)
        if option["code"] is None and option["name"]:
            option["code"] = self.by_name.get((option["space"], option["name"]))
        if option["name"] is None and option["code"] is not None:
            option["name"] = self.by_code.get((option["space"], option["code"]))
        return option


def encapsulated_spaces(option_defs) -> dict:
    """(space, code) -> the space it encapsulates, for option-defs of type empty that encapsulate one."""
    spaces = {}
    for definition in option_defs:
        if definition.get("encapsulate") and definition.get("type", "empty") == "empty":
            spaces[(definition.get("space", SPACE_DHCP4), definition.get("code"))] = definition["encapsulate"]
    return spaces


def _string_codes(option_defs) -> set:
    return {(definition.get("space", SPACE_DHCP4), definition.get("code")) for definition in option_defs
            if definition.get("type") == "string" and not definition.get("array")}


def _tlv(hex_text):
    """Decode packed DHCP sub-options (code, length, value)...; None when it is not well formed."""
    try:
        packed = binascii.unhexlify(re.sub(r"[\s:]", "", hex_text))
    except (binascii.Error, ValueError):
        return None
    options = []
    position = 0
    while position < len(packed):
        if position + 2 > len(packed):
            return None
        code, length = packed[position], packed[position + 1]
        value = packed[position + 2:position + 2 + length]
        if len(value) != length:
            return None
        options.append((code, value))
        position += 2 + length
    return options


STALE = "(packed data differs from its sub-options: Kea would send stale values)"


def normalise_options(raw_options, option_defs) -> list:
    """Kea option-data -> normalised options. Packed data of an encapsulating option is checked
    against the sub-options next to it: data "" when they agree, STALE when they do not."""
    encapsulating = encapsulated_spaces(option_defs)
    strings = _string_codes(option_defs)
    options = [make_option(raw.get("space", SPACE_DHCP4), raw.get("code"), raw.get("name"), raw.get("data", ""))
               for raw in raw_options if isinstance(raw, dict)]
    for option in options:
        inner_space = encapsulating.get((option["space"], option["code"]))
        if inner_space is None or not option["data"]:
            continue
        packed = _tlv(option["data"])
        subs = [sub for sub in options if sub["space"] == inner_space]
        agrees = packed is not None and sorted(code for code, _value in packed) == sorted(sub["code"] for sub in subs)
        if agrees:
            values = dict(packed)
            for sub in subs:
                if (inner_space, sub["code"]) in strings and values.get(sub["code"]) != sub["data"].encode("utf-8"):
                    agrees = False
        option["data"] = "" if agrees else STALE
    return options


def normalise_reservation(raw, subnet, option_defs) -> dict:
    mac = raw.get("hw-address")
    if mac:
        try:
            mac = normalize_mac(mac)
        except NamingError:
            pass
    identifier = None
    if not mac:
        for kind in IDENTIFIERS[1:]:
            if raw.get(kind):
                identifier = "%s %s" % (kind, raw[kind])
                break
    ip = raw.get("ip-address")
    if ip in ("", "0.0.0.0"):
        ip = None
    return make_reservation(subnet.get("subnet"), subnet.get("id"), mac or None, ip, raw.get("hostname") or None,
                            normalise_options(raw.get("option-data") or [], option_defs), identifier)


def normalise_definition(definition) -> dict:
    normalised = {"space": definition.get("space", SPACE_DHCP4), "code": definition.get("code"),
                  "name": definition.get("name"), "type": definition.get("type")}
    if definition.get("encapsulate"):
        normalised["encapsulate"] = definition["encapsulate"]
    if definition.get("array"):
        normalised["array"] = True
    return normalised


def check_served(dhcp4, subnet):
    """Refuse to add a reservation this server would accept but never hand out."""
    identifiers = dhcp4.get("host-reservation-identifiers")
    if identifiers is not None and "hw-address" not in identifiers:
        raise DhcpError("this server does not look up reservations by hardware address (host-reservation-identifiers "
                        "is %s): a reservation for a MAC would never be served; add hw-address there first"
                        % ", ".join(identifiers))
    in_subnet = subnet.get("reservations-in-subnet", dhcp4.get("reservations-in-subnet", True))
    if in_subnet is False:
        raise DhcpError("subnet %s has reservations-in-subnet false: Kea would ignore a reservation there"
                        % subnet_label(subnet))


# --- option definitions this module needs ---------------------------------------------------------

class DefinitionPlan:
    """The option-defs a request needs: those the server has (`held`), those to add, and the names
    and the iPXE space to use in the reservation."""

    def __init__(self):
        self.held = []
        self.add = []
        self.names = {}
        self.ipxe_space = IPXE_SPACE

    def before(self):
        return [normalise_definition(definition) for definition in self.held]

    def after(self):
        return [normalise_definition(definition) for definition in self.held + self.add]


def _conflict(definition, wanted, why):
    return DhcpError("the server's option-def %s (code %s, space %s, type %s%s) cannot carry %s: %s. Nothing was "
                     "changed; change or remove that definition yourself, the module does not touch it"
                     % (definition.get("name"), definition.get("code"), definition.get("space", SPACE_DHCP4),
                        definition.get("type"), ", encapsulates %s" % definition["encapsulate"] if definition.get("encapsulate") else "",
                        wanted, why))


def plan_definitions(dhcp4, request) -> DefinitionPlan:
    plan = DefinitionPlan()
    definitions = list(dhcp4.get("option-def") or [])

    def held(space, code):
        return next((definition for definition in definitions
                     if definition.get("space", SPACE_DHCP4) == space and definition.get("code") == code), None)

    def ensure_string(template, space, wanted):
        definition = held(space, template["code"])
        if definition is not None:
            if definition.get("type") != "string" or definition.get("array"):
                raise _conflict(definition, wanted, "it must be a single string")
            plan.held.append(definition)
            plan.names[(space, template["code"])] = definition.get("name")
            return
        clash = next((other for other in definitions if other.get("space", SPACE_DHCP4) == space
                      and other.get("name") == template["name"]), None)
        if clash is not None:
            raise _conflict(clash, wanted, "its name %s is taken, so the module cannot add %s as code %d"
                            % (template["name"], template["name"], template["code"]))
        new = dict(template, space=space)
        plan.add.append(new)
        plan.names[(space, template["code"])] = template["name"]

    if OPTION_INITIATOR_IQN in request.boot_values:
        ensure_string(DEF_INITIATOR_IQN, SPACE_DHCP4, "the initiator IQN (option 203)")
    if request.chap:
        definition = held(SPACE_DHCP4, OPTION_IPXE_ENCAPSULATED)
        if definition is not None:
            if definition.get("type", "empty") != "empty" or not definition.get("encapsulate"):
                raise _conflict(definition, "iPXE's encapsulated options (175)", "it must be of type empty and "
                                "encapsulate the space of options 190 and 191")
            plan.held.append(definition)
            plan.ipxe_space = definition["encapsulate"]
            plan.names[(SPACE_DHCP4, OPTION_IPXE_ENCAPSULATED)] = definition.get("name")
        else:
            clash = next((other for other in definitions if other.get("space", SPACE_DHCP4) == SPACE_DHCP4
                          and other.get("name") == DEF_IPXE_ENCAPSULATED["name"]), None)
            if clash is not None:
                raise _conflict(clash, "iPXE's encapsulated options (175)", "its name is taken")
            plan.add.append(dict(DEF_IPXE_ENCAPSULATED))
            plan.names[(SPACE_DHCP4, OPTION_IPXE_ENCAPSULATED)] = DEF_IPXE_ENCAPSULATED["name"]
        ensure_string(DEF_IPXE_USERNAME, plan.ipxe_space, "the iPXE CHAP username (option 190)")
        ensure_string(DEF_IPXE_PASSWORD, plan.ipxe_space, "the iPXE CHAP password (option 191)")
    return plan
