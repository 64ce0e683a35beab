# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""tgtadm's output (tgt 1.0.x): the target list, portals and accounts, parsed line by line.

tgtadm prints indentation-structured text, no JSON; the fixtures in tests/unit were captured from
tgt 1.0.85. Also the sizes tgt shows and exposes, which the backend compares with the backing file.
"""

from __future__ import annotations

import re

from ansible_collections.sanboot.iscsi.plugins.module_utils.san.core import SanError

SECTOR = 512


# --- tgtadm output ------------------------------------------------------------------------------

class TgtParseError(SanError):
    pass


class LiveLun:
    def __init__(self, lun):
        self.lun = lun
        self.type = None
        self.size_mb = None
        self.block_size = None
        self.online = None
        self.readonly = None
        self.backing_type = None
        self.path = None

    def __repr__(self):
        return "LiveLun(%s)" % ", ".join("%s=%r" % item for item in sorted(vars(self).items()))


class LiveTarget:
    """One target as `tgtadm --op show --mode target` prints it."""

    def __init__(self, tid, name):
        self.tid = tid
        self.name = name
        self.state = None
        self.luns = {}
        self.sessions = []
        self.accounts = []
        self.outgoing_accounts = []
        self.acl = []

    @property
    def acl_names(self):
        return [entry for entry in self.acl if is_name_rule(entry)]

    @property
    def acl_addresses(self):
        return [entry for entry in self.acl if entry not in self.acl_names]

    def __repr__(self):
        return "LiveTarget(%s)" % ", ".join("%s=%r" % item for item in sorted(vars(self).items()))


def is_name_rule(rule) -> bool:
    """ACL entries are initiator names (iqn./eui./naa., any case) or address rules."""
    return re.match(r"^(iqn|eui|naa)\.", rule, re.IGNORECASE) is not None


def _indent(line):
    return len(line) - len(line.lstrip(" "))


def _key_value(text):
    key, sep, value = text.partition(":")
    if not sep:
        return text.strip(), None
    return key.strip(), value[1:] if value.startswith(" ") else value


def parse_show_target(text) -> list:
    """Parse `tgtadm --lld iscsi --op show --mode target` (tgt 1.0.x) into LiveTarget objects.

    The structure is carried by indentation: targets at 0, sections at 4, items (nexus, LUN,
    account, ACL entry) at 8, their properties at 12, connection properties at 16.
    """
    targets = []
    target = section = item = None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        indent = _indent(line)
        body = line.strip(" ")
        if indent == 0:
            match = re.match(r"^Target (\d+): (.*)$", body)
            if not match:
                raise TgtParseError("line %d of tgtadm's target list is not a target header: %r" % (number, line))
            target = LiveTarget(int(match.group(1)), match.group(2))
            targets.append(target)
            section = item = None
            continue
        if target is None:
            raise TgtParseError("line %d of tgtadm's target list comes before any target: %r" % (number, line))
        if indent == 4:
            section = body.rstrip(":")
            item = None
        elif indent == 8:
            item = _parse_item(target, section, body)
        elif indent >= 12 and item is not None:
            _parse_property(item, indent, body)
    return targets


def _parse_item(target, section, body):
    if section == "System information":
        key, value = _key_value(body)
        if key == "State":
            target.state = value
        return None
    if section == "I_T nexus information":
        match = re.match(r"^I_T nexus: (\d+)$", body)
        if match:
            session = {"nexus": int(match.group(1)), "initiator": None, "addresses": []}
            target.sessions.append(session)
            return session
        return None
    if section == "LUN information":
        match = re.match(r"^LUN: (\d+)$", body)
        if match:
            lun = LiveLun(int(match.group(1)))
            target.luns[lun.lun] = lun
            return lun
        return None
    if section == "Account information":
        if body.endswith(" (outgoing)"):
            target.outgoing_accounts.append(body[:-len(" (outgoing)")])
        else:
            target.accounts.append(body)
        return None
    if section == "ACL information":
        target.acl.append(body)
    return None


def _parse_property(item, indent, body):
    if isinstance(item, dict):  # an I_T nexus (session)
        match = re.match(r"^Initiator: (\S+)(?: alias: .*)?$", body)
        if match:
            item["initiator"] = match.group(1)
        elif body.startswith("IP Address:"):
            item["addresses"].append(body.split(":", 1)[1].strip())
        return
    key, value = _key_value(body)
    if key == "Type":
        item.type = value
    elif key == "Size":
        match = re.match(r"^(\d+) MB, Block size: (\d+)$", value or "")
        if match:
            item.size_mb, item.block_size = int(match.group(1)), int(match.group(2))
    elif key == "Online":
        item.online = value == "Yes"
    elif key == "Readonly":
        item.readonly = value == "Yes"
    elif key == "Backing store type":
        item.backing_type = value
    elif key == "Backing store path":
        item.path = None if value in (None, "None") else value


def parse_show_portal(text) -> list:
    """`tgtadm --op show --mode portal`: 'Portal: 127.0.0.1:3260,1' lines -> [(address, port)]."""
    portals = []
    for line in text.splitlines():
        match = re.match(r"^Portal: (?:\[(?P<v6>[^\]]*)\]|(?P<v4>[^:]*)):(?P<port>\d+),\d+\s*$", line.strip())
        if match:
            portals.append((match.group("v6") or match.group("v4"), int(match.group("port"))))
    return portals


def parse_show_account(text) -> list:
    """`tgtadm --op show --mode account`: 'Account list:' then one name per indented line."""
    return [line.strip() for line in text.splitlines()[1:] if line.strip()]


def tgt_display_mb(size_bytes) -> int:
    """The 'Size: N MB' tgtadm prints for a LUN of size_bytes (tgt's print_disksize, integer arithmetic)."""
    sectors = size_bytes // 512
    return (sectors - (sectors // 625 - 974)) // 1950


def exposed_size(file_size) -> int:
    """What initiators see of a backing file: whole 512-byte blocks (tgt drops a partial last block)."""
    return file_size // SECTOR * SECTOR
