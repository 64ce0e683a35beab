# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A private Open vSwitch with the userspace datapath: ovsdb-server and ovs-vswitchd started
detached with pid files, sockets, logs and database in a work directory, stopped by ovs-appctl
exit and then by PID. No kernel module, no system service, nothing outside the work directory
(and, with netns, nothing outside that network namespace: the bridge's internal port and the
ports' veth devices live there).

    with labkit.Cleanup() as stack:
        switch = OpenVSwitch(stack, workdir, netns=labkit.add_netns(stack, labkit.unique_name("ovs")))
        switch.add_bridge("br-lab")
        switch.add_port("br-lab", "sw-p1")
        switch.vsctl("get", "port", "sw-p1", "other_config")
"""

from __future__ import annotations

import os
from pathlib import Path

import labkit

SCHEMA = Path("/usr/share/openvswitch/vswitch.ovsschema")


class OpenVSwitch:
    def __init__(self, cleanup: labkit.Cleanup, workdir: Path, netns: str | None = None):
        self.directory = Path(workdir) / "ovs"
        self.directory.mkdir(parents=True, exist_ok=True)
        self.netns = netns
        self.socket = self.directory / "db.sock"
        self.db = "unix:%s" % self.socket
        self.env = dict(os.environ, OVS_RUNDIR=str(self.directory), OVS_LOGDIR=str(self.directory),
                        OVS_DBDIR=str(self.directory))
        directory = self.directory
        labkit.run(["ovsdb-tool", "create", directory / "conf.db", SCHEMA], env=self.env)
        labkit.run(["ovsdb-server", directory / "conf.db", "--remote=punix:%s" % self.socket,
                    "--pidfile=%s" % (directory / "ovsdb-server.pid"), "--log-file=%s" % (directory / "ovsdb-server.log"),
                    "--unixctl=%s" % (directory / "ovsdb-server.ctl"), "--detach"], env=self.env)
        cleanup.push("stop ovsdb-server in %s" % directory, self._stop, "ovsdb-server")
        self.vsctl("--no-wait", "init")
        labkit.run(["ovs-vswitchd", self.db, "--pidfile=%s" % (directory / "ovs-vswitchd.pid"),
                    "--log-file=%s" % (directory / "ovs-vswitchd.log"),
                    "--unixctl=%s" % (directory / "ovs-vswitchd.ctl"), "--detach"], env=self.env, netns=netns)
        cleanup.push("stop ovs-vswitchd in %s" % directory, self._stop, "ovs-vswitchd")

    def vsctl(self, *arguments, check=True):
        """ovs-vsctl against this switch's database; returns stdout."""
        result = labkit.run(["ovs-vsctl", "--db=%s" % self.db, "--timeout=30"] + list(arguments), env=self.env,
                            check=check)
        return result.stdout

    def add_bridge(self, bridge: str, rstp: bool = True):
        self.vsctl("add-br", bridge, "--", "set", "bridge", bridge, "datapath_type=netdev",
                   "rstp_enable=%s" % ("true" if rstp else "false"))

    def add_port(self, bridge: str, port: str):
        """A port backed by a real veth device (inside the namespace when there is one)."""
        if self.netns:
            labkit.run(["ip", "-n", self.netns, "link", "add", port, "type", "veth", "peer", "name", port[:13] + "-h"])
            labkit.run(["ip", "-n", self.netns, "link", "set", port, "up"])
            labkit.run(["ip", "-n", self.netns, "link", "set", port[:13] + "-h", "up"])
        self.vsctl("add-port", bridge, port)

    def _stop(self, daemon: str):
        control = self.directory / ("%s.ctl" % daemon)
        if control.exists():
            labkit.run(["ovs-appctl", "-t", control, "exit"], check=False, timeout=15)
        labkit.stop_pidfile_daemon(self.directory / ("%s.pid" % daemon))
