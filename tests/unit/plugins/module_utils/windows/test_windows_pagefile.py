# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Where the pagefile goes, what win_pagefile must be told, and when a restart is needed."""

from __future__ import annotations

import pytest

from ansible_collections.sanboot.iscsi.plugins.module_utils.windows import pagefile as pf

from windows_fixtures import disks, pagefile_probe, pagefile_query

SYSTEM_MANAGED = {"size": "system_managed"}
FIXED = {"size": "fixed", "initial_size": "4GiB", "maximum_size": "8GiB"}


def test_only_local_fixed_volumes_on_non_iscsi_buses_are_candidates():
    candidates = pf.local_candidates(disks())
    assert [(volume["drive"], volume["bus_type"]) for volume in candidates] == [("D", "SAS")]


def test_candidates_skip_read_only_offline_and_unformatted_volumes():
    inventory = disks()
    inventory[1]["read_only"] = True
    assert pf.local_candidates(inventory) == []
    inventory = disks()
    inventory[1]["operational_status"] = "Offline"
    assert pf.local_candidates(inventory) == []
    inventory = disks()
    inventory[1]["partitions"][0]["volumes"][0]["type"] = "RAW"
    assert pf.local_candidates(inventory) == []


def test_the_pagefile_moves_to_the_local_disk_system_managed():
    plan = pf.plan_pagefile(disks(), pagefile_query(), pagefile_probe(), SYSTEM_MANAGED)
    assert (plan["mode"], plan["drive"]) == ("local", "D")
    assert plan["operations"] == [{"automatic": False, "state": "query"},
                                  {"drive": "D", "state": "present", "override": False, "system_managed": True}]
    assert plan["desired"] == [{"name": "D:\\pagefile.sys", "initial_size": 0, "maximum_size": 0}]
    assert "Windows pages to C:\\pagefile.sys until it restarts" in plan["reboot_reasons"][0]


def test_fixed_sizes_in_mib_and_an_existing_pagefile_elsewhere_removed_by_drive():
    current = pagefile_query(False, [{"name": "C:\\pagefile.sys", "initial_size": 2048, "maximum_size": 2048}])
    plan = pf.plan_pagefile(disks(), current, pagefile_probe(), FIXED)
    assert plan["operations"] == [{"drive": "C", "state": "absent"},
                                  {"drive": "D", "state": "present", "override": False, "initial_size": 4096,
                                   "maximum_size": 8192}]


def test_a_converged_host_needs_no_call_and_no_restart():
    current = pagefile_query(False, [{"name": "d:\\pagefile.sys", "initial_size": 0, "maximum_size": 0}])
    probe = pagefile_probe(usage=[{"name": "D:\\pagefile.sys", "allocated_base_size": 2432}],
                           crash_control={"CrashDumpEnabled": 7, "DedicatedDumpFile": "D:\\DedicatedDump.sys"})
    plan = pf.plan_pagefile(disks(), current, probe, SYSTEM_MANAGED)
    assert plan["operations"] == [] and plan["crash_control"] == [] and plan["reboot_reasons"] == []


def test_the_restart_stays_reported_until_windows_uses_the_new_pagefile():
    # The settings were applied by an earlier run, but Windows still pages to C: (no restart yet).
    current = pagefile_query(False, [{"name": "D:\\pagefile.sys", "initial_size": 0, "maximum_size": 0}])
    plan = pf.plan_pagefile(disks(), current, pagefile_probe(), SYSTEM_MANAGED)
    assert plan["operations"] == []
    assert plan["reboot_reasons"]


def test_a_size_change_is_made_by_removing_and_recreating_because_win_pagefile_cannot_update_in_place():
    current = pagefile_query(False, [{"name": "D:\\pagefile.sys", "initial_size": 0, "maximum_size": 0}])
    plan = pf.plan_pagefile(disks(), current, pagefile_probe(usage=[{"name": "D:\\pagefile.sys", "allocated_base_size": 2432}]),
                            FIXED)
    assert plan["operations"] == [{"drive": "D", "state": "absent"},
                                  {"drive": "D", "state": "present", "override": False, "initial_size": 4096,
                                   "maximum_size": 8192}]
    assert "outside the configured 4096-8192 MiB" in plan["reboot_reasons"][0]


def test_a_pagefile_outside_drive_root_is_removed_with_remove_all():
    current = pagefile_query(False, [{"name": "D:\\swap\\pagefile.sys", "initial_size": 0, "maximum_size": 0}])
    plan = pf.plan_pagefile(disks(), current, pagefile_probe(), SYSTEM_MANAGED)
    assert plan["operations"][0] == {"remove_all": True, "state": "query"}
    assert plan["operations"][-1]["drive"] == "D"


def test_without_a_local_disk_virtual_memory_is_turned_off():
    inventory = [disk for disk in disks() if disk["bus_type"] != "SAS"]
    current = pagefile_query(False, [{"name": "C:\\pagefile.sys", "initial_size": 0, "maximum_size": 0}])
    plan = pf.plan_pagefile(inventory, current, pagefile_probe(), SYSTEM_MANAGED)
    assert (plan["mode"], plan["desired"]) == ("off", [])
    assert plan["operations"] == [{"drive": "C", "state": "absent"}]
    assert "virtual memory is turned off" in plan["warnings"][-1]
    # A crash dump still needs somewhere to go: a dedicated dump file on the system drive.
    assert plan["crash_control"] == [{"key": pf.CRASH_CONTROL_KEY, "name": "DedicatedDumpFile", "type": "string",
                                      "data": "C:\\DedicatedDump.sys"}]


def test_without_a_local_disk_fail_when_asked_to():
    inventory = [disk for disk in disks() if disk["bus_type"] != "SAS"]
    with pytest.raises(pf.PagefileError, match="win_pagefile_without_local_disk is 'fail'"):
        pf.plan_pagefile(inventory, pagefile_query(), pagefile_probe(), dict(SYSTEM_MANAGED, without_local_disk="fail"))


def test_the_iscsi_boot_disk_is_refused_by_name():
    with pytest.raises(pf.PagefileError) as info:
        pf.plan_pagefile(disks(), pagefile_query(), pagefile_probe(), dict(SYSTEM_MANAGED, drive="c:"))
    assert "win_pagefile_drive: C: is not a local fixed disk" in str(info.value)
    assert "bus iSCSI" in str(info.value) and "local candidates: D:" in str(info.value)


def test_the_most_free_space_wins_and_ties_go_to_the_first_letter():
    inventory = disks()
    second = dict(inventory[1], number=3, partitions=[dict(inventory[1]["partitions"][0], drive_letter="F")])
    inventory.append(second)
    assert pf.plan_pagefile(inventory, pagefile_query(), pagefile_probe(), SYSTEM_MANAGED)["drive"] == "D"
    second["partitions"][0]["volumes"] = [dict(second["partitions"][0]["volumes"][0], size_remaining=10 ** 12)]
    assert pf.plan_pagefile(inventory, pagefile_query(), pagefile_probe(), SYSTEM_MANAGED)["drive"] == "F"


def test_a_fixed_size_that_does_not_fit_is_refused():
    with pytest.raises(pf.PagefileError, match="win_pagefile_maximum_size: 1TiB does not fit on D:"):
        pf.plan_pagefile(disks(), pagefile_query(), pagefile_probe(), dict(FIXED, maximum_size="1TiB"))


def test_crash_dump_type_is_set_and_kept_coherent():
    settings = dict(SYSTEM_MANAGED, crash_dump="kernel", dedicated_dump_size="20GiB")
    plan = pf.plan_pagefile(disks(), pagefile_query(), pagefile_probe(), settings)
    assert plan["crash_control"] == [
        {"key": pf.CRASH_CONTROL_KEY, "name": "CrashDumpEnabled", "type": "dword", "data": 2},
        {"key": pf.CRASH_CONTROL_KEY, "name": "DedicatedDumpFile", "type": "string", "data": "D:\\DedicatedDump.sys"},
        {"key": pf.CRASH_CONTROL_KEY, "name": "DumpFileSize", "type": "dword", "data": 20480}]


def test_no_dedicated_dump_file_when_dumps_are_off_or_the_pagefile_is_on_the_boot_volume():
    plan = pf.plan_pagefile(disks(), pagefile_query(), pagefile_probe(), dict(SYSTEM_MANAGED, crash_dump="none"))
    assert plan["crash_control"] == [{"key": pf.CRASH_CONTROL_KEY, "name": "CrashDumpEnabled", "type": "dword", "data": 0}]
    local_boot = disks()
    local_boot[1]["partitions"][0]["drive_letter"] = "C"
    plan = pf.plan_pagefile(local_boot, pagefile_query(), pagefile_probe(), SYSTEM_MANAGED)
    assert plan["drive"] == "C" and plan["crash_control"] == []


def test_windows_2003_has_no_disk_inventory_the_drive_is_named_and_the_hotfix_planned():
    probe = pagefile_probe(os_version="5.2.3790", hotfixes=["KB914961"])
    with pytest.raises(pf.PagefileError, match="win_pagefile_drive is required"):
        pf.plan_pagefile(None, pagefile_query(False), probe, SYSTEM_MANAGED)
    with pytest.raises(pf.PagefileError, match="win_pagefile_legacy_hotfix_path is required"):
        pf.plan_pagefile(None, pagefile_query(False), probe, dict(SYSTEM_MANAGED, drive="D", legacy_hotfix_id="KB902113"))
    plan = pf.plan_pagefile(None, pagefile_query(False), probe,
                            dict(SYSTEM_MANAGED, drive="D", legacy_hotfix_id="KB902113", legacy_hotfix_path="\\\\fs\\kb.exe"))
    assert plan["legacy_hotfix"] == {"needed": True, "install": True, "hotfix_id": "KB902113", "path": "\\\\fs\\kb.exe"}
    # Server 2003 cannot use a dedicated dump file: no registry value, a warning instead.
    assert plan["crash_control"] == []
    assert any("Windows Server 2003 writes crash dumps only through a pagefile" in warning for warning in plan["warnings"])
    installed = pf.plan_legacy_hotfix(dict(probe, hotfixes=["kb902113"]), {"legacy_hotfix_id": "KB902113"})
    assert installed["install"] is False


def test_the_hotfix_is_never_planned_outside_windows_2003():
    assert pf.plan_legacy_hotfix(pagefile_probe(), {"legacy_hotfix_id": "KB902113"})["install"] is False


@pytest.mark.parametrize("settings, message", [
    ({"drive": "DD"}, "win_pagefile_drive: 'DD' is not a drive letter"),
    ({"size": "fixed", "initial_size": "4 apples", "maximum_size": "8GiB"}, "win_pagefile_initial_size: size '4 apples'"),
    ({"size": "fixed", "initial_size": "8GiB", "maximum_size": "4GiB"}, "win_pagefile_initial_size: 8GiB is larger"),
    ({"size": "fixed", "initial_size": "1000KB", "maximum_size": "4GiB"}, "not a whole number of MiB"),
    ({"crash_dump": "huge"}, "win_pagefile_crash_dump: 'huge'"),
    ({"excluded_bus_types": ["USB"]}, "win_pagefile_excluded_bus_types: must contain iSCSI"),
    ({"dedicated_dump_size": "-1"}, "win_pagefile_dedicated_dump_size: "),
])
def test_bad_input_names_the_variable(settings, message):
    errors = pf.validate_settings(settings)
    assert errors and message in errors[0]
