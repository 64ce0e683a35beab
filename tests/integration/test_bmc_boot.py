# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A machine whose boot parameters come only from its BMC boots from its own LUN; with a wrong CHAP secret
in its BMC it does not.

Real tgtd in a namespace of its own, a real QEMU machine booting through iPXE the way its NIC's firmware
would with the settings its BMC applied (labkit/bmcboot.py), and the BMC the Redfish test double in its
dell profile (change staged, applied by the reset the module asks for). No DHCP: the NIC's address is static
in its BMC settings, so the target, the initiator name and CHAP can only have come from the BMC."""

from __future__ import annotations

import pytest

import labkit
from labkit import bmcboot, boot, redfish, tgt

MAC = "52:54:00:5b:00:07"
INITIATOR = "iqn.2026-11.lab.sanboot:bmcvm"
TARGET = "iqn.2026-11.lab.sanboot.san:bmcvm"
SECRET = "SbtBmcBootSec1"


@pytest.fixture
def bootnet(root, repo, cleanup, workdir):
    if not bmcboot.IPXE_LKRN.exists():
        pytest.fail("%s is missing: `make setup` installs Debian's ipxe package (bindep.txt)" % bmcboot.IPXE_LKRN)
    netns = labkit.add_netns(cleanup, labkit.unique_name("bmc"))
    labkit.add_bridge(netns, "br0", "10.77.0.1/24")
    tgtd = tgt.start_tgtd(cleanup, workdir, host="10.77.0.1", port=3260, netns=netns)
    tgtd.tgtadm("--op", "new", "--mode", "target", "--tid", "1", "-T", TARGET)
    image = workdir / "bmcvm.img"
    labkit.run(["truncate", "-s", "8M", image])
    tgtd.tgtadm("--op", "new", "--mode", "logicalunit", "--tid", "1", "--lun", "1", "-b", str(image))
    tgtd.tgtadm("--op", "bind", "--mode", "target", "--tid", "1", "--initiator-name", INITIATOR)
    tgtd.tgtadm("--op", "new", "--mode", "account", "--user", "bmcvm-boot", "--password", SECRET)
    tgtd.tgtadm("--op", "bind", "--mode", "account", "--tid", "1", "--user", "bmcvm-boot")
    sector = boot.build_boot_sector(workdir, "bmcvm")
    tgt.qemu_write(sector, "10.77.0.1:3260", TARGET, 1, INITIATOR, chap=("bmcvm-boot", SECRET), netns=netns)
    tap = boot.add_tap(cleanup, netns, "tap0", "br0")
    return {"netns": netns, "tgtd": tgtd, "tap": tap}


def boot_vm(bmc, bootnet, workdir):
    serial = workdir / "bmcvm-serial.log"
    script = bmcboot.write_script(workdir, "bmcvm", bmcboot.nic_settings(bmc.nvram_path, MAC))
    assert oct(script.stat().st_mode & 0o777) == "0o600"
    with labkit.Cleanup() as machines:
        machine = bmcboot.start_vm(machines, bootnet["netns"], bootnet["tap"], MAC, serial, script)
        outcome, detail = bmcboot.wait_for_boot(serial, "bmcvm", timeout=90, vm=machine)
        sessions = bootnet["tgtd"].show_targets()
    return outcome, detail, boot.serial_text(serial), sessions


def test_a_machine_configured_only_through_its_bmc_boots_its_lun_and_not_with_a_wrong_secret(bootnet, cleanup, workdir):
    bmc = redfish.RedfishBmc.start(cleanup, workdir, profile="dell", mac=MAC)
    task = {"sanboot.iscsi.redfish_iscsi_boot": {
        "mac_address": MAC, "initiator_iqn": INITIATOR, "ip": {"address": "10.77.0.67", "netmask": "24"},
        "target": {"name": TARGET, "address": "10.77.0.1", "lun": 1},
        "chap": {"username": "bmcvm-boot", "secret": SECRET}, "reset": True, "timeout": 30}}
    run = redfish.run_play(bmc, workdir, [task])
    assert run[0]["changed"] and run[0]["job"]["state"] == "Completed", run[0]

    outcome, detail, serial, sessions = boot_vm(bmc, bootnet, workdir)
    assert outcome == "booted", "%s %s\n%s" % (outcome, detail, serial[-2000:])
    # iPXE wraps its console at 80 columns.
    assert "Root path (from the BMC): iscsi:10.77.0.1:6:3260:1:%s" % TARGET in serial.replace("\n", "")
    assert "%s bmcvm" % boot.MARKER in serial
    assert "Initiator: %s" % INITIATOR in sessions and "IP Address: 10.77.0.67" in sessions
    assert SECRET not in serial

    # The same machine with a wrong secret in its BMC (written, since no BMC reads secrets back): no boot.
    wrong = dict(task["sanboot.iscsi.redfish_iscsi_boot"], chap={"username": "bmcvm-boot", "secret": "NotTheSecret99"},
                 update_secrets="always")
    run = redfish.run_play(bmc, workdir, [{"sanboot.iscsi.redfish_iscsi_boot": wrong}])
    assert run[0]["changed"] and run[0]["job"]["state"] == "Completed", run[0]
    outcome, detail, serial, _sessions = boot_vm(bmc, bootnet, workdir)
    assert outcome == "failed" and detail.startswith("Could not open SAN device: Operation not permitted"), \
        "%s %s\n%s" % (outcome, detail, serial[-2000:])
    assert "NotTheSecret99" not in run.output
