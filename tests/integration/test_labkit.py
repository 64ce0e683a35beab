# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab primitives themselves: what they create works, and cleanup removes all of it."""

from __future__ import annotations

import subprocess

import pytest

import labkit


def test_namespaces_bridge_and_veth_carry_traffic_and_are_removed(root, workdir):
    with labkit.Cleanup() as stack:
        server = labkit.add_netns(stack, labkit.unique_name("srv"))
        client = labkit.add_netns(stack, labkit.unique_name("cli"))
        labkit.add_bridge(server, "br0", "10.99.0.1/24")
        labkit.add_veth_to_bridge(server, "br0", client, "eth0", "vcli", mac="52:54:00:99:00:01")
        labkit.run(["ip", "-n", client, "addr", "add", "10.99.0.2/24", "dev", "eth0"])
        assert "52:54:00:99:00:01" in labkit.run(["ip", "-n", client, "link", "show", "eth0"]).stdout
        labkit.wait_for(lambda: labkit.run(["ping", "-c1", "-W1", "10.99.0.1"], netns=client, check=False).returncode == 0,
                        10, "ping across the bridge")
        daemon = labkit.start_daemon(stack, ["sleep", "600"], workdir / "sleep.log", netns=server)
        assert labkit.pid_alive(daemon.pid)
        assert labkit.leftovers(server)  # the namespace is visible to the leak check
    assert not labkit.pid_alive(daemon.pid)
    assert not labkit.leftovers(server) and not labkit.leftovers(client)


def test_cleanup_runs_every_action_and_reports_failures():
    done = []
    stack = labkit.Cleanup()
    stack.push("first", done.append, 1)
    stack.push("broken", lambda: 1 / 0)
    stack.push("last", done.append, 3)
    with pytest.raises(labkit.LabError, match="broken"):
        stack.close()
    assert done == [3, 1]


def test_unique_names_fit_interface_limits():
    assert labkit.unique_name("srv").startswith(labkit.RUN_MARKER)
    assert len(labkit.unique_name("tap", 3)) <= 15
    with pytest.raises(labkit.LabError, match="15 characters"):
        labkit.unique_name("muchtoolongkind")


@pytest.mark.parametrize("watcher", ["boot", "bmcboot"])
def test_a_boot_verdict_waits_for_the_whole_line_qemu_is_still_writing(tmp_path, watcher):
    """QEMU writes the serial port byte by byte: a read can end inside iPXE's error line (seen in a 1 ms poll of a
    real failed boot: 'Could not open SAN device: Operation n'). The verdict must carry the whole line, or a check of
    iPXE's reason fails now and then, more often on a loaded machine."""
    from labkit import bmcboot, boot

    def wait(serial, name, timeout):
        if watcher == "boot":
            return boot.wait_for_boot(serial, name, timeout=timeout)
        outcome, _stage, detail = bmcboot.wait_for_os(serial, name, timeout=timeout)
        return outcome, detail

    serial = tmp_path / "serial.log"
    failure = "Could not open SAN device: Operation not permitted (http://ipxe.org/410d613c)"
    serial.write_text("iPXE 1.0.0+\r\nRegistered SAN device 0x80\r\n" + failure[:38])
    assert wait(serial, "vm1", timeout=0.3)[0] == "timeout"
    serial.write_text(serial.read_text() + failure[38:] + "\r\n")
    assert wait(serial, "vm1", timeout=0.3) == ("failed", failure)
    if watcher == "boot":
        # The same for a boot sector's marker: the one of vm10 half written is not vm1's.
        serial.write_text("\r\n%s vm1" % boot.MARKER)
        assert wait(serial, "vm1", timeout=0.3)[0] == "timeout"
        serial.write_text("\r\n%s vm1\r\n" % boot.MARKER)
        assert wait(serial, "vm1", timeout=0.3)[0] == "booted"
    else:
        # A NIC whose BMC left iSCSI boot off: the shim says so, and that is the verdict at once.
        serial.write_text("%s (BootMode Disabled)\r\n" % bmcboot.NO_ISCSI)
        assert wait(serial, "vm1", timeout=5) == ("failed", bmcboot.NO_ISCSI)


def test_the_leak_check_does_not_take_another_run_whose_marker_starts_like_ours(workdir):
    """Markers are sbt<pid>: the run of pid 2036 must not count (or, in sanlab's sweep, kill) what pid 20368 made."""
    longer = labkit.RUN_MARKER + "7"
    with labkit.Cleanup() as stack:
        labkit.start_daemon(stack, ["bash", "-c", 'exec -a "$0" sleep 600', "sleeper-%s-x" % longer], workdir / "s.log")
        assert labkit.leftovers(longer) and labkit.leftovers(longer)[0].startswith("pid ")
        assert labkit.leftovers(labkit.RUN_MARKER) == []


def test_lab_down_waits_for_a_loop_device_the_kernel_is_still_detaching(tmp_path, monkeypatch):
    """`losetup -d` of a loop device whose file system was just unmounted can leave it listed a moment
    longer (the kernel detaches it when its last user lets go): `sanlab down` must wait for that
    rather than report the device as left behind (make demo then said "demo FAILED")."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("sanlab_for_test", labkit.REPO / "tests" / "lab" / "sanlab.py")
    sanlab = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sanlab)
    listed = iter([True, True])  # listed twice more, then gone
    real_run = sanlab.labkit.run

    def run(argv, **kwargs):
        if argv[:2] == ["losetup", "-j"]:
            stdout = "/dev/loop9: [2049]:12 (%s)\n" % argv[2] if next(listed, False) else ""
            return subprocess.CompletedProcess(argv, 0, stdout, "")
        return real_run(argv, **kwargs)

    monkeypatch.setattr(sanlab.labkit, "run", run)
    assert sanlab.command_down(tmp_path) == 0
