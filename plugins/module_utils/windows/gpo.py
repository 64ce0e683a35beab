# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""A machine shutdown script in the local Group Policy object, computed on the controller.

Windows runs local shutdown scripts from three places that must agree:

- ``%SystemRoot%\\System32\\GroupPolicy\\Machine\\Scripts\\scripts.ini``, section ``[Shutdown]``,
  keys ``<n>CmdLine`` and ``<n>Parameters`` numbered from 0 without gaps (Windows stops reading at
  the first missing number), written as UTF-16LE with a byte order mark, as gpedit.msc writes it;
- ``%SystemRoot%\\System32\\GroupPolicy\\gpt.ini``, ``[General]``: ``gPCMachineExtensionNames`` must
  name the Scripts client-side extension, and ``Version`` must change when the policy changes
  (the computer half is the low 16 bits, [MS-GPOL] 3.3.5.4);
- the registry under ``...\\Group Policy\\Scripts\\Shutdown`` and ``...\\Group Policy\\State\\Machine\\
  Scripts\\Shutdown``, which is what the shutdown sequence reads until Group Policy next rewrites it.

Everything here is pure: it takes what the host has (bytes, text, a registry listing) and returns
what it should have, changing other administrators' entries never, and ours only when needed.
"""

from __future__ import annotations

import base64
import re

from ansible_collections.sanboot.iscsi.plugins.module_utils.windows.host import WindowsHostError, windows_paths_equal

SCRIPTS_CSE_GUID = "{42B5FAAE-6536-11D2-AE5A-0000F87571E3}"
SCRIPTS_TOOL_GUID = "{40B6664F-4972-11D1-A7CA-0000F87571E3}"
GROUP_POLICY_KEY = "HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Group Policy"
SHUTDOWN_KEYS = {
    "scripts": GROUP_POLICY_KEY + "\\Scripts\\Shutdown",
    "state": GROUP_POLICY_KEY + "\\State\\Machine\\Scripts\\Shutdown",
}
LOCAL_GPO_ID = "LocalGPO"
LOCAL_GPO_NAME = "Local Group Policy"
# Disables local GPO processing when a domain policy sets it ("Turn off Local Group Policy Objects processing").
DISABLE_LGPP_KEY = "HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows\\System"
DISABLE_LGPP_VALUE = "DisableLGPP"

BOM = "\ufeff"
_HEADER = re.compile(r"^\s*\[\s*(?P<name>[^\]]+?)\s*\]\s*$")
_SCRIPT_KEY = re.compile(r"^\s*(?P<index>\d+)(?P<field>cmdline|parameters)\s*=(?P<value>.*)$", re.IGNORECASE)
_KEY_VALUE = re.compile(r"^\s*(?P<key>[^=;\[][^=]*?)\s*=(?P<value>.*)$")
_GUID = re.compile(r"\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}")


class GpoError(WindowsHostError):
    """The local policy files are in a state the role must not guess its way through."""


# --- text and encodings --------------------------------------------------------------------

def decode_ini(data) -> str:
    """Bytes of an INI file as Windows may have written it: UTF-16 with a BOM (gpedit.msc),
    UTF-8 with or without a BOM, or ANSI. Returns text without the BOM."""
    if data is None:
        return ""
    if isinstance(data, str):
        return data[1:] if data.startswith(BOM) else data
    raw = bytes(data)
    if raw.startswith(b"\xff\xfe"):
        return raw[2:].decode("utf-16-le")
    if raw.startswith(b"\xfe\xff"):
        return raw[2:].decode("utf-16-be")
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8")
    # UTF-16LE without a BOM: every second byte of ASCII text is zero.
    if len(raw) >= 4 and raw[1:8:2] == b"\x00" * len(raw[1:8:2]) and raw[0:8:2].strip(b"\x00"):
        return raw.decode("utf-16-le")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        # ANSI in the system code page; Western code pages agree with Latin-1 on what matters here.
        return raw.decode("latin-1")


def encode_scripts_ini(text: str) -> bytes:
    """scripts.ini as gpedit.msc writes it: UTF-16LE with a byte order mark."""
    return (BOM + decode_ini(text)).encode("utf-16-le")


def _lines(text: str) -> list:
    body = decode_ini(text)
    if not body:
        return []
    lines = re.split(r"\r\n|\n|\r", body)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _join(lines: list) -> str:
    return "".join(line + "\r\n" for line in lines)


def _section_bounds(lines: list, name: str):
    """(header index, end index) of the first section called name (any case), or None."""
    for index, line in enumerate(lines):
        match = _HEADER.match(line)
        if match and match.group("name").casefold() == name.casefold():
            end = index + 1
            while end < len(lines) and not _HEADER.match(lines[end]):
                end += 1
            return index, end
    return None


# --- scripts.ini ---------------------------------------------------------------------------

def shutdown_scripts(text) -> list:
    """The [Shutdown] scripts of a scripts.ini: [{index, cmdline, parameters}] sorted by index."""
    lines = _lines(text)
    bounds = _section_bounds(lines, "Shutdown")
    if not bounds:
        return []
    scripts = {}
    for line in lines[bounds[0] + 1:bounds[1]]:
        match = _SCRIPT_KEY.match(line)
        if match:
            index = int(match.group("index"))
            entry = scripts.setdefault(index, {"index": index, "cmdline": "", "parameters": ""})
            entry[match.group("field").lower()] = match.group("value").strip()
    return [scripts[index] for index in sorted(scripts)]


def _check_numbering(scripts: list):
    indexes = [script["index"] for script in scripts]
    expected = list(range(len(indexes)))
    if indexes != expected:
        missing = sorted(set(range(max(indexes) + 1)) - set(indexes))
        raise GpoError("scripts.ini [Shutdown] is numbered %s, with %s missing: Windows stops reading at the first "
                       "missing number, so the scripts after it never run. Renumber the file by hand (this role "
                       "never renumbers other administrators' scripts), then run the role again"
                       % (", ".join(map(str, indexes)), ", ".join(map(str, missing))))


def plan_scripts_ini(current, command: str, parameters: str, system_root: str = "") -> dict:
    """What scripts.ini must contain so that `command parameters` runs at shutdown exactly once.

    current is the file's bytes (or text), or None when the file does not exist. Our entry is the
    one whose command is the same path (case-insensitive, %SystemRoot% expanded); when none is there
    it is added after the last script, other scripts keep their numbers and text. Returns
    {changed, content (text without BOM, CRLF line ends), scripts (after), index (ours), warnings}.
    """
    if not command or not str(command).strip():
        raise GpoError("the shutdown script command is empty")
    command = str(command).strip()
    parameters = "" if parameters is None else str(parameters).strip()
    lines = _lines(current)
    scripts = shutdown_scripts(current)
    warnings = []
    if scripts:
        _check_numbering(scripts)
    ours = [script for script in scripts if windows_paths_equal(script["cmdline"], command, system_root)]
    if len(ours) > 1:
        warnings.append("scripts.ini [Shutdown] already runs %s %d times (entries %s); the extra entries were left in "
                        "place, because removing them would renumber the scripts after them"
                        % (command, len(ours), ", ".join(str(script["index"]) for script in ours)))

    changed = False
    if ours:
        index = ours[0]["index"]
        if ours[0]["parameters"] != parameters:
            lines = _set_script_field(lines, index, "Parameters", parameters)
            changed = True
    else:
        index = len(scripts)
        new_keys = ["%dCmdLine=%s" % (index, command), "%dParameters=%s" % (index, parameters)]
        bounds = _section_bounds(lines, "Shutdown")
        if bounds:
            insert_at = bounds[1]
            while insert_at > bounds[0] + 1 and not lines[insert_at - 1].strip():
                insert_at -= 1
            lines[insert_at:insert_at] = new_keys
        else:
            lines.extend(["[Shutdown]"] + new_keys)
        changed = True
    content = _join(lines)
    return {
        "changed": changed,
        "content": content,
        "scripts": shutdown_scripts(content),
        "index": index,
        "warnings": warnings,
    }


def _set_script_field(lines: list, index: int, field: str, value: str) -> list:
    bounds = _section_bounds(lines, "Shutdown")
    lines = list(lines)
    cmdline_at = None
    for position in range(bounds[0] + 1, bounds[1]):
        match = _SCRIPT_KEY.match(lines[position])
        if match and int(match.group("index")) == index:
            if match.group("field").casefold() == field.casefold():
                lines[position] = "%d%s=%s" % (index, field, value)
                return lines
            cmdline_at = position
    lines.insert(cmdline_at + 1, "%d%s=%s" % (index, field, value))
    return lines


# --- gpt.ini -------------------------------------------------------------------------------

def bump_machine_version(version: int) -> int:
    """Raise the computer half (low 16 bits) of a GPO version by one, keeping the user half.
    After 65535 it goes to 1, not 0: version 0 means 'no computer settings' and would be skipped."""
    user, machine = version >> 16, version & 0xFFFF
    machine = machine + 1 if machine < 0xFFFF else 1
    return (user << 16) | machine


def add_extension(names: str) -> str:
    """gPCMachineExtensionNames with the Scripts extension [{CSE}{tool}] added where missing.
    Entries stay sorted by extension GUID, tool GUIDs sorted within an entry, as gpedit.msc keeps them."""
    groups = re.findall(r"\[([^\]]*)\]", names or "")
    parsed = [_GUID.findall(group) for group in groups]
    for guids in parsed:
        if guids and guids[0].upper() == SCRIPTS_CSE_GUID:
            if any(guid.upper() == SCRIPTS_TOOL_GUID for guid in guids[1:]):
                return names
            guids[1:] = sorted(guids[1:] + [SCRIPTS_TOOL_GUID], key=str.upper)
            break
    else:
        parsed.append([SCRIPTS_CSE_GUID, SCRIPTS_TOOL_GUID])
        parsed.sort(key=lambda guids: guids[0].upper() if guids else "")
    return "".join("[%s]" % "".join(guids) for guids in parsed if guids)


def plan_gpt_ini(current, policy_changed: bool) -> dict:
    """gpt.ini after a change of the machine policy (policy_changed) and with the Scripts extension
    listed. The version is raised only when something changed: the scripts or the extension list.
    Returns {changed, content, version_before, version_after}."""
    lines = _lines(current)
    bounds = _section_bounds(lines, "General")
    if not bounds:
        lines = ["[General]"] + lines
        bounds = _section_bounds(lines, "General")
    found = {}
    for position in range(bounds[0] + 1, bounds[1]):
        match = _KEY_VALUE.match(lines[position])
        if match and match.group("key").casefold() in ("version", "gpcmachineextensionnames"):
            found.setdefault(match.group("key").casefold(), (position, match.group("value").strip()))

    version_text = found.get("version", (None, "0"))[1]
    try:
        version = int(version_text)
    except ValueError:
        raise GpoError("gpt.ini has Version=%s, which is not a number; fix the file by hand" % version_text) from None
    names_before = found.get("gpcmachineextensionnames", (None, ""))[1]
    names_after = add_extension(names_before)
    names_changed = names_after != names_before
    new_version = bump_machine_version(version) if (policy_changed or names_changed) else version

    end = bounds[1]
    while end > bounds[0] + 1 and not lines[end - 1].strip():
        end -= 1
    additions = []
    if names_changed:
        if "gpcmachineextensionnames" in found:
            lines[found["gpcmachineextensionnames"][0]] = "gPCMachineExtensionNames=" + names_after
        else:
            additions.append("gPCMachineExtensionNames=" + names_after)
    if new_version != version:
        if "version" in found:
            lines[found["version"][0]] = "Version=%d" % new_version
        else:
            additions.append("Version=%d" % new_version)
    lines[end:end] = additions
    content = _join(lines)
    return {
        "changed": content != _join(_lines(current)) or current is None,
        "content": content,
        "version_before": version,
        "version_after": new_version,
    }


# --- registry ------------------------------------------------------------------------------

def _values(entry) -> dict:
    """Registry values of a listing entry, by lowercase name -> {name, type, data}."""
    result = {}
    for name, value in ((entry or {}).get("values") or {}).items():
        if not isinstance(value, dict):
            value = {"type": "string", "data": value}
        result[name.casefold()] = {"name": name, "type": str(value.get("type", "string")).lower(), "data": value.get("data")}
    return result


def _same(value, kind: str, data) -> bool:
    if value is None or value["type"] != kind:
        return False
    if kind in ("dword", "qword"):
        try:
            return int(value["data"]) == int(data)
        except (TypeError, ValueError):
            return False
    return str(value["data"] if value["data"] is not None else "") == str(data)


def plan_shutdown_registry(listing: dict, scripts: list, our_index: int, system_root: str) -> dict:
    """The registry values to write so the shutdown sequence runs the scripts of scripts.ini.

    listing: per tree ('scripts', 'state') a list of GPO entries as the probe reads them:
    [{"name": "0", "values": {...}, "scripts": [{"name": "0", "values": {...}}]}], values as
    {name: {"type": "string"|"dword"|"qword"|..., "data": ...}}.
    Our script's Script and Parameters are enforced. Everything else is only created when missing:
    Windows itself rewrites DisplayName, FileSysPath and ExecTime (after each run), so enforcing
    them would report a change after every shutdown; other administrators' entries are theirs.
    Returns {values: [{key, name, type, data}], gpo_index: {tree: n}}.
    """
    file_sys_path = "%s\\System32\\GroupPolicy\\Machine" % system_root.rstrip("\\")
    gpo_values = (("GPO-ID", "string", LOCAL_GPO_ID), ("SOM-ID", "string", "Local"),
                  ("FileSysPath", "string", file_sys_path), ("DisplayName", "string", LOCAL_GPO_NAME),
                  ("GPOName", "string", LOCAL_GPO_NAME), ("PSScriptOrder", "dword", 1))
    writes = []
    gpo_index = {}
    for tree, root in SHUTDOWN_KEYS.items():
        entries = list((listing or {}).get(tree) or [])
        local = [entry for entry in entries
                 if str(_values(entry).get("gpo-id", {}).get("data") or "").casefold() == LOCAL_GPO_ID.casefold()]
        if local:
            entry = local[0]
            number = str(entry.get("name"))
        else:
            numbers = [int(entry["name"]) for entry in entries if str(entry.get("name", "")).isdigit()]
            number = str(max(numbers) + 1 if numbers else 0)
            entry = {"name": number, "values": {}, "scripts": []}
        gpo_index[tree] = int(number)
        gpo_key = "%s\\%s" % (root, number)
        have = _values(entry)
        for name, kind, data in gpo_values:
            if have.get(name.casefold()) is None:
                writes.append({"key": gpo_key, "name": name, "type": kind, "data": data})
        existing_scripts = {str(script.get("name")): _values(script) for script in entry.get("scripts") or []}
        for script in scripts:
            script_key = "%s\\%d" % (gpo_key, script["index"])
            have = existing_scripts.get(str(script["index"]), {})
            enforce = script["index"] == our_index
            for name, kind, data, owned in (("Script", "string", script["cmdline"], enforce),
                                            ("Parameters", "string", script["parameters"], enforce),
                                            ("IsPowershell", "dword", 0, False),
                                            ("ExecTime", "qword", 0, False)):
                value = have.get(name.casefold())
                if value is None or (owned and not _same(value, kind, data)):
                    writes.append({"key": script_key, "name": name, "type": kind, "data": data})
    return {"values": writes, "gpo_index": gpo_index}


def plan_shutdown_script(probe: dict, command: str, parameters: str) -> dict:
    """All of it from one probe of the host (see the win_iscsi_boot_script role's probe script):
    the new scripts.ini and gpt.ini contents (when they change), the registry values to write and
    the warnings to show. probe keys: system_root, scripts_ini_base64 (or scripts_ini), gpt_ini,
    registry {scripts, state}, local_gpo_disabled."""

    system_root = probe.get("system_root") or "C:\\Windows"
    if probe.get("scripts_ini_base64"):
        current_scripts = base64.b64decode(probe["scripts_ini_base64"])
    else:
        current_scripts = probe.get("scripts_ini")
    scripts_plan = plan_scripts_ini(current_scripts, command, parameters, system_root)
    gpt_current = probe.get("gpt_ini")
    if probe.get("gpt_ini_base64"):
        gpt_current = decode_ini(base64.b64decode(probe["gpt_ini_base64"]))
    gpt_plan = plan_gpt_ini(gpt_current, scripts_plan["changed"])
    registry_plan = plan_shutdown_registry(probe.get("registry") or {}, scripts_plan["scripts"], scripts_plan["index"],
                                           system_root)
    warnings = list(scripts_plan["warnings"])
    if probe.get("local_gpo_disabled"):
        warnings.append("a policy turns off local Group Policy processing (%s\\%s = 1, usually set by a domain GPO): "
                        "Windows ignores the local shutdown script while it is set; ask the domain administrators "
                        "to run %s from a domain GPO instead" % (DISABLE_LGPP_KEY, DISABLE_LGPP_VALUE, command))
    group_policy = "%s\\System32\\GroupPolicy" % system_root.rstrip("\\")
    return {
        "scripts_ini_path": group_policy + "\\Machine\\Scripts\\scripts.ini",
        "scripts_ini_changed": scripts_plan["changed"],
        "scripts_ini": BOM + scripts_plan["content"],
        "gpt_ini_path": group_policy + "\\gpt.ini",
        "gpt_ini_changed": gpt_plan["changed"],
        "gpt_ini": gpt_plan["content"],
        "gpt_version_before": gpt_plan["version_before"],
        "gpt_version_after": gpt_plan["version_after"],
        # gpedit.msc keeps script files in Machine\Scripts\Shutdown; creating it creates Machine\Scripts too.
        "scripts_directory": group_policy + "\\Machine\\Scripts\\Shutdown",
        "registry": registry_plan["values"],
        "scripts": scripts_plan["scripts"],
        "index": scripts_plan["index"],
        "changed": scripts_plan["changed"] or gpt_plan["changed"] or bool(registry_plan["values"]),
        "warnings": warnings,
    }


def validate_settings(settings: dict) -> list:
    """Errors in the win_iscsi_boot_script input that argument_specs cannot express."""
    errors = []
    command = settings.get("command")
    if not isinstance(command, str) or not command.strip():
        errors.append("win_iscsi_boot_script_command: must be the path of the program to run at shutdown, such as "
                      "%SystemRoot%\\System32\\iscsibcg.exe")
    for name in ("command", "parameters"):
        value = settings.get(name)
        if isinstance(value, str) and re.search(r"[\r\n\x00]", value):
            errors.append("win_iscsi_boot_script_%s: %r contains a line break or NUL, which would break scripts.ini"
                          % (name, value))
    return errors
