# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet lab: a rack of N boot servers as inventory hosts, with a real SAN, DHCP server and switch.

No machines boot here (the boot lab, sanlab.py, does that for two): the point is the provisioning
of many servers at once, as `make bench` measures it and the role tests run it. One network
namespace holds the boot network, a bridge carrying 10.79.0.1/16, with

- tgtd (the SAN), its portal on 10.79.0.1:3260, volumes on an XFS file system with reflink on a
  loop file (so clones of a golden volume are copy-on-write);
- kea-dhcp4 on the bridge and kea-ctrl-agent on 127.0.0.1 (labkit.kea);
- an Open vSwitch database whose bridge has one port per server (database records only: the
  switch stage reads and writes the ports' other_config, no packet crosses them).

Every server is a host of the group boot_servers with the variables of docs/variables.md;
fleet-san and fleet-switch are the SAN and switch hosts (local connection). Everything is on the
cleanup stack it is given.

    with labkit.Cleanup() as stack:
        lab = FleetLab(stack, workdir, hosts=100).up()
        lab.write_inventory()            # -> workdir/inventory/hosts.yml
"""

from __future__ import annotations

import ipaddress
import os
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

import labkit  # noqa: E402  pylint: disable=wrong-import-position
from labkit import kea, ovs, tgt  # noqa: E402  pylint: disable=wrong-import-position

SUBNET = "10.79.0.0/16"
SERVER_IP = "10.79.0.1"
POOL = "10.79.250.1 - 10.79.250.200"
BRIDGE = "br0"
SWITCH_BRIDGE = "br-fleet"
ISCSI_PORT = 3260
TARGET_PREFIX = "iqn.2026-11.lab.sanboot.fleet"
INITIATOR_PREFIX = "iqn.1991-05.com.microsoft"
VOLUME_SIZE = "64M"


def server(number: int) -> dict:
    """The inventory of server number (1-based): distinct MAC, address, initiator, CHAP, switch port."""
    address = ipaddress.IPv4Address(SERVER_IP) + 9 + number  # 10.79.0.11 onwards, below the pool
    return {
        "name": "srv%04d" % number,
        "sanboot_mac": "52:54:00:%02x:%02x:%02x" % (0x79, number >> 8, number & 0xFF),
        "sanboot_ip": str(address),
        "sanboot_initiator_iqn": "%s:srv%04d.fleet.example" % (INITIATOR_PREFIX, number),
        # 14 characters, distinct per server (test-only secrets).
        "sanboot_chap": {"username": "srv%04d" % number, "secret": "FleetChap%05d" % number},
        "sanboot_switch_interface": "p%04d" % number,
    }


class FleetLab:
    def __init__(self, cleanup: labkit.Cleanup, directory: Path, hosts: int = 10, switch: bool = True,
                 storage_size: str = "4G"):
        self.cleanup = cleanup
        self.directory = Path(directory)
        self.hosts = hosts
        self.with_switch = switch
        self.storage_size = storage_size
        self.storage = self.directory / "storage"
        self.config_dir = self.directory / "tgt-conf"
        self.inventory_dir = self.directory / "inventory"
        self.dhcp = None
        self.tgtd = None
        self.switch = None

    @property
    def netns(self) -> str:
        return self.dhcp.netns

    def up(self, progress=lambda text: None):
        self.directory.mkdir(parents=True, exist_ok=True)
        progress("XFS (reflink) on a loop file for the volumes")
        image = self.directory / "storage.xfs"
        labkit.run(["truncate", "-s", self.storage_size, image])
        labkit.run(["mkfs.xfs", "-q", "-m", "reflink=1", image])
        device = labkit.attach_loop(self.cleanup, image)
        labkit.mount(self.cleanup, device, self.storage)
        self.config_dir.mkdir(mode=0o700, exist_ok=True)
        progress("kea-dhcp4 in its own network namespace on %s (%s), its control agent on 127.0.0.1" % (BRIDGE, SUBNET))
        self.dhcp = kea.KeaLab.start(self.cleanup, self.directory, subnet=SUBNET, pool=POOL)
        progress("tgtd with its portal on %s:%d in the same namespace" % (SERVER_IP, ISCSI_PORT))
        self.tgtd = tgt.start_tgtd(self.cleanup, self.directory, host=SERVER_IP, port=ISCSI_PORT, netns=self.netns)
        if self.with_switch:
            progress("Open vSwitch database with %d ports" % self.hosts)
            self.switch = ovs.OpenVSwitch(self.cleanup, self.directory, netns=self.netns)
            self.switch.add_bridge(SWITCH_BRIDGE)
            self.add_switch_ports(range(1, self.hosts + 1))
        return self

    def add_switch_ports(self, numbers, edge=True):
        """Port records only (no device behind them), in one ovs-vsctl transaction per 200 ports; with edge, already
        RSTP edge ports (as the switch stage leaves them), so that the preflight finds nothing to report."""
        numbers = list(numbers)
        for start in range(0, len(numbers), 200):
            arguments = ["--no-wait"]
            for number in numbers[start:start + 200]:
                port = server(number)["sanboot_switch_interface"]
                arguments += ["--", "--may-exist", "add-port", SWITCH_BRIDGE, port]
                if edge:
                    arguments += ["--", "set", "port", port, "other_config:rstp-port-admin-edge=true"]
            self.switch.vsctl(*arguments)

    def group_vars(self) -> dict:
        python = str(labkit.VENV_BIN / "python")
        values = {
            "ansible_connection": "local", "ansible_python_interpreter": python,
            "sanboot_san_host": "fleet-san", "sanboot_target_prefix": TARGET_PREFIX, "sanboot_volume_size": VOLUME_SIZE,
            "sanboot_portal": SERVER_IP, "sanboot_storage_dir": str(self.storage),
            "sanboot_tgt_control_port": self.tgtd.control_port, "sanboot_tgt_config_dir": str(self.config_dir),
            "sanboot_dhcp_backend": "kea", "sanboot_dhcp_api_url": self.dhcp.url,
            "sanboot_dhcp_api_username": self.dhcp.user, "sanboot_dhcp_api_password": self.dhcp.password,
            "sanboot_dhcp_subnet": SUBNET, "sanboot_dhcp_chap": True,
            "sanboot_bootnet_probe": "fleet-bootnet",
        }
        if self.switch is not None:
            values.update({"sanboot_switch": "fleet-switch", "sanboot_switch_platform": "ovs",
                           "sanboot_switch_ovs_db": self.switch.db})
        return values

    def write_inventory(self, numbers=None, extra_group_vars: dict | None = None, name: str = "hosts.yml") -> Path:
        """An inventory of the servers numbered `numbers` (default all) with the lab's site variables."""
        import yaml  # from .venv

        python = str(labkit.VENV_BIN / "python")
        bootnet_python = self.directory / "bootnet-python"
        bootnet_python.write_text('#!/bin/sh\nexec ip netns exec %s %s "$@"\n' % (self.netns, python))
        os.chmod(bootnet_python, 0o700)
        hosts = {}
        for number in numbers or range(1, self.hosts + 1):
            values = server(number)
            hosts[values.pop("name")] = values
        group_vars = dict(self.group_vars(), **(extra_group_vars or {}))
        inventory = {"all": {"children": {
            "boot_servers": {"hosts": hosts, "vars": group_vars},
            "windows_boot_servers": {"hosts": {}},
            "sanboot_infrastructure": {"hosts": {
                "fleet-san": {"ansible_connection": "local", "ansible_python_interpreter": python},
                "fleet-switch": {"ansible_connection": "local", "ansible_python_interpreter": python},
                "fleet-bootnet": {"ansible_connection": "local", "ansible_python_interpreter": str(bootnet_python)},
            }},
        }}}
        self.inventory_dir.mkdir(mode=0o700, exist_ok=True)
        path = self.inventory_dir / name
        # It holds the lab's API password and CHAP secrets: root only.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as stream:
            stream.write("# Generated by tests/lab/fleetlab.py: the fleet lab's inventory.\n")
            yaml.safe_dump(inventory, stream, default_flow_style=False, sort_keys=False)
        return path

    # -- what tests and the benchmark look at

    def reservations(self) -> dict:
        """mac -> Kea's raw reservation, from the running configuration."""
        return {reservation["hw-address"]: reservation for reservation in self.dhcp.reservations()}

    def volume_files(self) -> list:
        return sorted(path.name for path in self.config_dir.glob("sanboot-*.conf"))
