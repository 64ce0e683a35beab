# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The boot lab's BMCs: an extension of tests/lab/sanlab.py (through its hooks, see EXTENSIONS there).

Every lab machine gets a BMC: the Redfish **test double** of labkit/redfish.py (one emulated BMC per
machine, its network device function 1 carrying the machine's MAC, Dell profile: changes staged in
`@Redfish.Settings` and applied as a job at the next ComputerSystem.Reset), over HTTPS on 127.0.0.1
with a lab CA. The machines named in BMC_MACHINES take their iSCSI boot parameters from their BMC
(`sanboot_boot_parameters: bmc`): site.yml writes them there, their DHCP reservation carries the address
only, and at power-on the boot shim (labkit/bmcboot.py) reads what the BMC applied and hands it to
iPXE as the NIC's firmware would. The other machines boot from DHCP options; verify still reads their
BMC, to see that the NIC does not boot from stale values there.

The lab's machines are off while site.yml runs, so the inventory lets the role reset a machine whose
BMC waits for a reset (`sanboot_bmc_reset: true`): that is what applies the staged change.
"""

from __future__ import annotations

from pathlib import Path

from labkit import bmcboot, redfish

BMC_PROFILE = "dell"
# The machines whose boot parameters go through their BMC (the others: DHCP options).
BMC_MACHINES = ("vm2",)


class LabBmcs:
    """The hooks sanlab.SanLab calls: up, host_vars, group_vars, state, restore, start_machine, describe."""

    name = "bmc"

    def __init__(self, lab, machines=BMC_MACHINES):
        self.lab = lab
        self.machines = tuple(machines)
        self.bmcs = {}       # machine name -> RedfishBmc (in the process that runs the lab)
        self.entries = {}    # machine name -> {url, address, username, password, nvram, boot_parameters}
        self.ca_path = None

    def boot_parameters(self, vm) -> str:
        return "bmc" if vm.name in self.machines else "dhcp"

    def bmc(self, vm) -> redfish.RedfishBmc:
        return self.bmcs[vm.name]

    # -- hooks

    def up(self, progress):
        progress("a Redfish BMC per machine (test double, %s profile) on 127.0.0.1; through its BMC: %s"
                 % (BMC_PROFILE, ", ".join(vm.name for vm in self.lab.vms if self.boot_parameters(vm) == "bmc")
                    or "none"))
        ca = redfish.make_ca(self.lab.directory)
        self.ca_path = str(ca[0])
        for vm in self.lab.vms:
            bmc = redfish.RedfishBmc.start(self.lab.cleanup, self.lab.directory, profile=BMC_PROFILE, mac=vm.mac, ca=ca,
                                           name="bmc-%s" % vm.name)
            self.bmcs[vm.name] = bmc
            self.entries[vm.name] = {"url": bmc.url, "address": bmc.url.split("://", 1)[1], "username": bmc.username,
                                     "password": bmc.password, "nvram": str(bmc.nvram_path),
                                     "boot_parameters": self.boot_parameters(vm)}

    def group_vars(self) -> dict:
        return {"sanboot_bmc_ca_path": self.ca_path, "sanboot_bmc_reset": True}

    def host_vars(self, vm) -> dict:
        entry = self.entries[vm.name]
        return {"sanboot_boot_parameters": entry["boot_parameters"], "sanboot_bmc_address": entry["address"],
                "sanboot_bmc_username": entry["username"], "sanboot_bmc_password": entry["password"]}

    def state(self) -> dict:
        # Passwords included: the lab's state file is root-only, as its inventory is.
        return {"ca_path": self.ca_path, "machines": self.entries}

    def restore(self, state: dict):
        self.ca_path = state.get("ca_path")
        self.entries = dict(state.get("machines") or {})
        self.machines = tuple(name for name, entry in self.entries.items() if entry["boot_parameters"] == "bmc")

    def start_machine(self, cleanup, vm, memory_mb=256, extra_args=()):
        """A machine that boots through its BMC: the shim with what the BMC applied. None for the others."""
        if self.boot_parameters(vm) != "bmc":
            return None
        settings = bmcboot.nic_settings(Path(self.entries[vm.name]["nvram"]), vm.mac)
        script = bmcboot.write_script(self.lab.directory, vm.name, settings)
        machine = bmcboot.start_vm(cleanup, self.lab.netns, vm.tap, vm.mac, vm.serial_log, script, memory_mb=memory_mb,
                                   extra_args=extra_args)
        return machine, bmcboot.wait_for_os

    def applied(self, vm) -> dict:
        """What the machine's NIC holds, as its BMC applied it (secrets removed: for showing)."""
        settings = bmcboot.nic_settings(Path(self.entries[vm.name]["nvram"]), vm.mac)
        boot = {key: value for key, value in (settings.get("iSCSIBoot") or {}).items()
                if key not in redfish.SECRET_PROPERTIES}
        return {"BootMode": settings.get("BootMode"), "iSCSIBoot": boot}

    def describe(self, vm) -> list:
        entry = self.entries.get(vm.name)
        if not entry:
            return []
        applied = self.applied(vm)
        boot = applied["iSCSIBoot"]
        source = ("from its BMC (the reservation carries the address only)" if entry["boot_parameters"] == "bmc"
                  else "from DHCP options")
        lines = ["  boot params    %s" % source]
        summary = "BootMode %s" % applied["BootMode"]
        if applied["BootMode"] == "iSCSI":
            summary += ", target %s at %s:%s LUN %s, initiator %s, %s %s" % (
                boot.get("PrimaryTargetName"), boot.get("PrimaryTargetIPAddress"), boot.get("PrimaryTargetTCPPort"),
                boot.get("PrimaryLUN"), boot.get("InitiatorName"), boot.get("AuthenticationMethod"),
                boot.get("CHAPUsername") or "")
        lines.append("  BMC            %s (Redfish test double, %s): %s" % (entry["url"], BMC_PROFILE, summary.strip()))
        return lines


def reservation_options(lab, vm):
    """Option code -> data of the machine's reservation as Kea holds it; None when it has no reservation."""
    config = lab.kea_command("config-get", {}).get("arguments", {})
    names = {"root-path": 17, "host-name": 12, "iscsi-initiator-iqn": 203, "ipxe-encap-opts": 175,
             "ipxe-username": 190, "ipxe-password": 191}
    for subnet in config.get("Dhcp4", {}).get("subnet4", []):
        for reservation in subnet.get("reservations", []):
            if reservation.get("hw-address", "").lower() == vm.mac:
                return {option.get("code") or names.get(option.get("name")): option.get("data")
                        for option in reservation.get("option-data", [])}
    return None
