# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The Kea DHCPv4 backend: Kea's control agent REST API, through requests.

Two ways to change reservations, chosen by what the server offers (list-commands):

- host_cmds (reservation-get/-add/-del; open source from Kea 3.0): one reservation at a time.
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
"""

from __future__ import annotations

import binascii
import copy
import ipaddress
import json
import random
import re
import time
import traceback

from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp import (
    SPACE_DHCP4,
    DhcpBackend,
    DhcpError,
    Outcome,
    make_option,
    make_reservation,
    plan_change,
    writer_lock,
)
from ansible_collections.sanboot.iscsi.plugins.module_utils.dhcp_boot import (
    OPTION_INITIATOR_IQN,
    OPTION_IPXE_ENCAPSULATED,
    OPTION_IPXE_PASSWORD,
    OPTION_IPXE_USERNAME,
    OPTION_ROOT_PATH,
)
from ansible_collections.sanboot.iscsi.plugins.module_utils.naming import NamingError, normalize_mac

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
HOST_CMDS = ("reservation-add", "reservation-del", "reservation-get")
ROUND_TRIP_ATTEMPTS = 6

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


class KeaError(DhcpError):
    """The control agent or the server refused, or could not be reached. `text` is Kea's own reason."""

    def __init__(self, message, text=None, result=None):
        super().__init__(message)
        self.text = text
        self.result = result


def display_url(url: str) -> str:
    """The URL without any user:password@ part."""
    return re.sub(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@]*@", r"\1", str(url))


def _short_reason(exc) -> str:
    text = str(exc)
    verify = re.search(r"certificate verify failed: ([^(]*?)\s*\(_ssl", text)
    if verify:
        return "certificate verify failed: %s" % verify.group(1)
    for needle, reason in (("Connection refused", "connection refused"),
                           ("Name or service not known", "host name not known"),
                           ("Temporary failure in name resolution", "host name could not be resolved"),
                           ("No route to host", "no route to host"),
                           ("Network is unreachable", "network unreachable"),
                           ("Connection reset by peer", "connection reset by peer"),
                           ("timed out", "timed out")):
        if needle in text:
            return reason
    return text[:300]


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
                           "validate_certs=false for a test server" % (self.where, _short_reason(exc))) from None
        except requests.exceptions.Timeout:
            raise KeaError("the Kea control agent at %s did not answer %s within %s s (timeout)"
                           % (self.where, name, self.timeout)) from None
        except requests.exceptions.ConnectionError as exc:
            raise KeaError("cannot reach the Kea control agent at %s: %s" % (self.where, _short_reason(exc))) from None
        except requests.exceptions.RequestException as exc:
            raise KeaError("request to the Kea control agent at %s failed: %s" % (self.where, _short_reason(exc))) from None
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


def _same_config(first, second) -> bool:
    if first.get("hash") and second.get("hash"):
        return first["hash"] == second["hash"]
    return _settable(first) == _settable(second)


# --- reading the configuration ------------------------------------------------------------------

def iter_subnets(dhcp4):
    """Every subnet4 entry, top level and inside shared networks."""
    yield from dhcp4.get("subnet4") or []
    for network in dhcp4.get("shared-networks") or []:
        yield from network.get("subnet4") or []


def _subnet_label(subnet) -> str:
    return "%s (id %s)" % (subnet.get("subnet"), subnet.get("id"))


def find_subnet(dhcp4, network=None, subnet_id=None) -> dict:
    subnets = list(iter_subnets(dhcp4))
    known = ", ".join(_subnet_label(subnet) for subnet in subnets[:20]) or "none"
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


def _encapsulated_spaces(option_defs) -> dict:
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
    encapsulating = _encapsulated_spaces(option_defs)
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


def _check_served(dhcp4, subnet):
    """Refuse to add a reservation this server would accept but never hand out."""
    identifiers = dhcp4.get("host-reservation-identifiers")
    if identifiers is not None and "hw-address" not in identifiers:
        raise DhcpError("this server does not look up reservations by hardware address (host-reservation-identifiers "
                        "is %s): a reservation for a MAC would never be served; add hw-address there first"
                        % ", ".join(identifiers))
    in_subnet = subnet.get("reservations-in-subnet", dhcp4.get("reservations-in-subnet", True))
    if in_subnet is False:
        raise DhcpError("subnet %s has reservations-in-subnet false: Kea would ignore a reservation there"
                        % _subnet_label(subnet))


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
                            % (request.ip, _subnet_label(subnet)))
        if request.state == "present":
            _check_served(dhcp4, subnet)
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
        encapsulating = _encapsulated_spaces(option_defs)
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
        host_cmds = set(HOST_CMDS) <= self.client.commands()
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
            if not _same_config(current, base):
                self._pause(attempt)
                continue
            try:
                self.client.config_set(new)
            except KeaError as exc:
                if exc.text is None:
                    raise
                raise DhcpError("Kea refused the new configuration at config-set, so it kept the old one: %s" % exc.text) from None
            after_config = self.client.config_get()
            verified = self._prepare(after_config, request)
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
                    self._roll_back(current, exc)
            reservation = verified.plan.same if not definitions_only else None
            return self._outcome(prepared, True, reservation, [reservation] if reservation is not None else [])
        raise DhcpError("the configuration of %s changed under this run %d times in a row (other writers); it may or "
                        "may not hold the change now: run again" % (where, ROUND_TRIP_ATTEMPTS))

    def _roll_back(self, previous, write_error):
        try:
            self.client.config_set(previous)
        except KeaError as exc:
            raise DhcpError("config-write failed (%s) and restoring the previous configuration failed too (%s): the "
                            "running configuration has the change, the file does not" % (write_error, exc)) from None
        raise DhcpError("config-write failed, so the change was taken back (the server runs the previous configuration): "
                        "%s" % write_error) from None

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
            plan = prepared.plan
            removed = []
            try:
                for reservation in plan.remove + ([plan.same] if plan.same is not None else []):
                    raw = prepared.raw_by_id[id(reservation)]
                    self.client.command("reservation-del", dict(self._host_selector(raw, subnet_id), **extra))
                    removed.append(raw)
                if plan.target is not None:
                    option_defs = config["Dhcp4"].get("option-def") or []
                    held_raw = prepared.raw_by_id[id(plan.same)] if plan.same is not None else None
                    raw = self._raw_reservation(plan.target, held_raw, option_defs, subnet_id)
                    self.client.command("reservation-add", dict({"reservation": raw}, **extra))
            except KeaError as exc:
                self._restore_hosts(removed, subnet_id, extra, exc)
            verified = self._prepare(config, request, self._host_cmds_held(subnet, request))
            if verified.plan.changed:
                raise DhcpError("Kea accepted the change but does not hold it afterwards (another writer?): run again")
            if request.persist and target_source == "primary":
                self.client.config_write()
            reservation = verified.plan.same
            return self._outcome(prepared, True, reservation, [reservation] if reservation is not None else [])

    @staticmethod
    def _host_selector(raw, subnet_id):
        for kind in IDENTIFIERS:
            if raw.get(kind):
                return {"subnet-id": subnet_id, "identifier-type": kind, "identifier": raw[kind]}
        return {"subnet-id": subnet_id, "ip-address": raw.get("ip-address")}

    def _restore_hosts(self, removed, subnet_id, extra, error):
        failed = []
        for raw in removed:
            restored = {key: value for key, value in raw.items() if key != "subnet-id"}
            restored["subnet-id"] = subnet_id
            try:
                self.client.command("reservation-add", dict({"reservation": restored}, **extra))
            except KeaError:
                failed.append(raw.get("hw-address") or raw.get("ip-address"))
        if failed:
            raise DhcpError("%s; restoring the reservation(s) removed before it failed for %s: re-create them"
                            % (error, ", ".join(str(item) for item in failed))) from None
        raise DhcpError("%s (the reservations removed before it were restored)" % error) from None

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
        self._ipxe_space = _encapsulated_spaces(option_defs).get((SPACE_DHCP4, OPTION_IPXE_ENCAPSULATED), IPXE_SPACE)
        return found
