# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""One config file per volume, in tgt-admin syntax, so that tgtd's usual start (`tgt-admin -e`)
brings every volume back; written atomically with mode 0600 (it holds CHAP secrets).

tgt-admin passes config values to /bin/sh unquoted and reads them with Config::General, so CHAP
names and secrets and paths are limited to characters that survive both (SAFE_CREDENTIAL,
SAFE_PATH). tgt-admin binds ALL (every address) to a target whose config has no
initiator-address, so a volume restricted by initiator names only gets the address rule NONE,
which matches no address.
"""

from __future__ import annotations

import os
import re
import tempfile

from ansible_collections.sanboot.iscsi.plugins.module_utils.san.core import Credential

DEFAULT_CONFIG_DIR = "/etc/tgt/conf.d"
CONFIG_PREFIX = "sanboot-"
CONFIG_SUFFIX = ".conf"
CONFIG_MARKER = "# sanboot.iscsi volume:"
# What san_image wrote onto the volume (digest, format, size_bytes, state): one line, kept by every rewrite.
IMAGE_MARKER = "# sanboot.iscsi image:"
IMAGE_FIELDS = ("digest", "format", "size_bytes", "state")
CONFIG_FORMAT = 1
# Matches no address (tgt parses address rules with getaddrinfo(AI_NUMERICHOST)); see the module docstring.
NO_ADDRESS = "NONE"

# What survives tgt-admin: Config::General (comments, quotes, <blocks>) and an unquoted /bin/sh word.
SAFE_CREDENTIAL = re.compile(r"^[A-Za-z0-9_.:@+=,%/^-]+$")
SAFE_CREDENTIAL_RULE = "letters, digits and _ . : @ + = , % / ^ -"
# CHAP user names: the same without ',': tgtd reads an account request as "user=<name>,password=<secret>"
# and takes everything before the first comma as the name (usr/mgmt.c), so a name with a comma
# would become another account with a garbage secret. Secrets may hold a comma (all after
# "password=" is the secret).
CHAP_USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.:@+=%/^-]+$")
CHAP_USERNAME_RULE = ("letters, digits and _ . : @ + = % / ^ - (no comma: tgtd splits 'user=...,password=...' at the "
                      "first comma; no other character survives tgt-admin, which reads the config file with "
                      "Config::General and passes the values through /bin/sh when it restores the volume)")
CHAP_SECRET_PATTERN = SAFE_CREDENTIAL
CHAP_SECRET_RULE = ("letters, digits and _ . : @ + = , % / ^ - (tgt-admin reads the config file with Config::General "
                    "and passes the values through /bin/sh when it restores the volume)")
SAFE_PATH = re.compile(r"^/[A-Za-z0-9_.:@+=,%/-]*$")
SAFE_PATH_RULE = "an absolute path of letters, digits and _ . : @ + = , % / -"


# --- config files (tgt-admin syntax) ------------------------------------------------------------

def acl_rules(initiators, allowed_addresses) -> list:
    """The exact ACL a target gets: address rules (or NONE, see the module docstring), then names."""
    return list(allowed_addresses or [NO_ADDRESS]) + list(initiators)


def render_config(record) -> str:
    """One volume's config file. record: name, size_bytes, target_iqn, lun, path, initiators,
    allowed_addresses, chap, mutual_chap (Credential or None), image (san_image's record, or None). Deterministic: same record, same text."""
    lines = [
        "# Managed by sanboot.iscsi (san_volume): changes made here are overwritten on the next run.",
        "# It holds CHAP secrets: it must stay mode 0600, owned by root.",
        "%s name=%s size_bytes=%d format=%d" % (CONFIG_MARKER, record["name"], record["size_bytes"] or 0, CONFIG_FORMAT),
        "<target %s>" % record["target_iqn"],
        "    <backing-store %s>" % record["path"],
        "        lun %d" % record["lun"],
        "    </backing-store>",
    ]
    if record.get("image"):
        fields = " ".join("%s=%s" % (field, record["image"][field]) for field in IMAGE_FIELDS)
        lines.insert(3, "%s %s" % (IMAGE_MARKER, fields))
    if not record["allowed_addresses"]:
        lines.append("    # NONE matches no address: without an initiator-address, tgt-admin would admit every address.")
    for rule in acl_rules([], record["allowed_addresses"]):
        lines.append("    initiator-address %s" % rule)
    for name in record["initiators"]:
        lines.append("    initiator-name %s" % name)
    if record.get("chap"):
        lines.append("    incominguser %s %s" % (record["chap"].username, record["chap"].secret))
    if record.get("mutual_chap"):
        lines.append("    outgoinguser %s %s" % (record["mutual_chap"].username, record["mutual_chap"].secret))
    lines.append("</target>")
    return "\n".join(lines) + "\n"


def parse_config(text) -> dict:
    """Read back a file render_config wrote. Returns None for a file sanboot.iscsi did not write."""
    record = {"initiators": [], "allowed_addresses": [], "chap": None, "mutual_chap": None, "lun": None,
              "path": None, "target_iqn": None}
    marker = False
    for line in text.splitlines():
        body = line.strip()
        if body.startswith(CONFIG_MARKER):
            fields = dict(part.split("=", 1) for part in body[len(CONFIG_MARKER):].split() if "=" in part)
            record["name"] = fields.get("name")
            record["size_bytes"] = int(fields.get("size_bytes", "0")) or None
            marker = True
            continue
        if body.startswith(IMAGE_MARKER):
            fields = dict(part.split("=", 1) for part in body[len(IMAGE_MARKER):].split() if "=" in part)
            record["image"] = {field: fields.get(field) for field in IMAGE_FIELDS}
            continue
        if not body or body.startswith("#"):
            continue
        match = re.match(r"^<target (\S+)>$", body)
        if match:
            record["target_iqn"] = match.group(1)
            continue
        match = re.match(r"^<backing-store (\S+)>$", body)
        if match:
            record["path"] = match.group(1)
            continue
        words = body.split()
        if words[0] == "lun" and len(words) == 2 and words[1].isdigit():
            record["lun"] = int(words[1])
        elif words[0] == "initiator-address" and len(words) == 2:
            if words[1] != NO_ADDRESS:
                record["allowed_addresses"].append(words[1])
        elif words[0] == "initiator-name" and len(words) == 2:
            record["initiators"].append(words[1])
        elif words[0] == "incominguser" and len(words) == 3:
            record["chap"] = Credential(words[1], words[2])
        elif words[0] == "outgoinguser" and len(words) == 3:
            record["mutual_chap"] = Credential(words[1], words[2])
    if not marker or not record.get("name") or not record["target_iqn"]:
        return None
    return record


def write_private_file(path, text):
    """Write text to path atomically (temporary file, fsync, rename), mode 0600 from the first byte."""
    directory = os.path.dirname(path)
    handle, temporary = tempfile.mkstemp(prefix=".sanboot-", suffix=".tmp", dir=directory)
    try:
        os.fchmod(handle, 0o600)
        with os.fdopen(handle, "w") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.rename(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
    directory_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(directory_fd)
    finally:
        os.close(directory_fd)
