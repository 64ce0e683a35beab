# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""`make bench`: fleet scale, measured (issue 16). A benchmark, not a test: it is not part of `make test`.

For each N in BENCH_N (default "10 100 500"), on this machine, in one run, against a fresh fleet lab
(tests/lab/fleetlab.py: a real tgtd and a real Kea in a network namespace, an Open vSwitch database,
N servers in an inventory, no VMs):

  (a) provision: `ansible-playbook playbooks/site.yml --tags san,dhcp` from nothing (default forks);
  (b) rerun:     the same again, which must change nothing;
  (c) verify:    `ansible-playbook playbooks/verify_boot_chain.yml`, which must find no mismatch;
  (d) baseline:  on a lab of its own, a script doing (a) with the raw tools: tgtadm for each target, LUN,
                 address rule, initiator rule, CHAP account and binding, and one Kea API round trip
                 (config-get, config-set, config-write) for all the reservations: the practical floor.

Each is timed (wall) and its peak memory taken: the sum of the resident sets of the process and all its
descendants (ansible-playbook, its workers and the modules they run), sampled every 50 ms. Then, once:

  (e) clones:    one san_volume task (volumes) cloning a 10 GiB golden volume (allocated on XFS with
                 reflink) to 100 volumes.

It prints a table, one line per N `ratio_vs_baseline N=<n>: <x.xx>` ((a) over (d)), and writes
docs/performance.md (the table, the targets, the machine, the load average, how to reproduce) and
docs/performance.png (time against N for the four series). Progress is shown while it runs.

    make bench                       # BENCH_N="10 100 500"
    BENCH_N="10 100" make bench      # a quicker look
    python3 tools/bench.py --no-write   # measure and print, leave docs/ alone

Needs root (network namespaces, tgtd, a loop device) and `make setup`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "tests" / "lab"))

import labkit  # noqa: E402  pylint: disable=wrong-import-position
import fleetlab  # noqa: E402  pylint: disable=wrong-import-position
from labkit import tgt  # noqa: E402  pylint: disable=wrong-import-position

SERIES = (("provision", "(a) provision, site.yml --tags san,dhcp"), ("rerun", "(b) unchanged re-run"),
          ("verify", "(c) verify_boot_chain.yml"), ("baseline", "(d) baseline: tgtadm + one Kea round trip"))
TARGETS = {"provision_ratio": 3.0, "provision_seconds": 60.0, "rerun_seconds": 20.0, "verify_seconds": 20.0,
           "growth": 6.0, "clone_seconds": 10.0, "rss_mib": 1024.0}
CLONES = 100
GOLDEN_SIZE = 10 * 1024 ** 3
STARTED = time.monotonic()


def progress(text):
    print("[bench %6.1fs] %s" % (time.monotonic() - STARTED, text), flush=True)


# --- measuring a process tree -------------------------------------------------------------------

def _tree_rss(root):
    """The resident memory (bytes) of root and all its descendants, from /proc."""
    children = {}
    rss = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as stream:
                fields = stream.read().rsplit(")", 1)[1].split()
            with open("/proc/%s/statm" % entry) as stream:
                rss[int(entry)] = int(stream.read().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, ()))
    return total


def measure(argv, label, env=None, cwd=REPO, show_tasks=True):
    """Run argv; return (seconds, peak MiB of the process tree, output, exit status), showing progress."""
    started = time.monotonic()
    process = subprocess.Popen(argv, cwd=str(cwd), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = [0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss(process.pid))
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output = []
    state = {"task": "", "shown": started}
    for line in process.stdout:
        output.append(line)
        if line.startswith("TASK [") or line.startswith("PLAY ["):
            state["task"] = line.strip().rstrip("*").strip()
        now = time.monotonic()
        if show_tasks and now - state["shown"] >= 5:
            progress("  %s: %.0f s, %s" % (label, now - started, state["task"][:100]))
            state["shown"] = now
    status = process.wait()
    seconds = time.monotonic() - started
    done.set()
    sampler.join()
    return seconds, peak[0] / 1024 ** 2, "".join(output), status


def ansible_playbook(inventory, *arguments):
    return [str(labkit.VENV_BIN / "ansible-playbook"), "-i", str(inventory)] + list(arguments)


def recap_changed(output):
    return sum(int(number) for number in re.findall(r"\bchanged=(\d+)", output))


# --- the baseline: the raw tools ----------------------------------------------------------------

def baseline(settings):
    """(d), run in a process of its own: what (a) does, with tgtadm and one Kea round trip."""
    import requests  # from .venv

    control = str(settings["control_port"])
    storage = Path(settings["storage"])

    def tgtadm(*arguments):
        subprocess.run([tgt.TGTADM, "-C", control, "--lld", "iscsi"] + [str(part) for part in arguments], check=True,
                       capture_output=True)

    for number in range(1, settings["hosts"] + 1):
        values = fleetlab.server(number)
        name = values["name"]
        path = storage / ("%s.img" % name)
        with open(path, "wb") as stream:
            stream.truncate(64 * 1024 ** 2)
        os.chmod(path, 0o600)
        tgtadm("--op", "new", "--mode", "target", "--tid", number, "-T", "%s:%s" % (fleetlab.TARGET_PREFIX, name))
        tgtadm("--op", "new", "--mode", "logicalunit", "--tid", number, "--lun", 1, "--backing-store", path)
        tgtadm("--op", "new", "--mode", "account", "--user", values["sanboot_chap"]["username"], "--password",
               values["sanboot_chap"]["secret"])
        tgtadm("--op", "bind", "--mode", "account", "--tid", number, "--user", values["sanboot_chap"]["username"])
        tgtadm("--op", "bind", "--mode", "target", "--tid", number, "--initiator-address", "NONE")
        tgtadm("--op", "bind", "--mode", "target", "--tid", number, "--initiator-name", values["sanboot_initiator_iqn"])

    session = requests.Session()
    session.auth = (settings["api_user"], settings["api_password"])

    def kea(command, arguments=None):
        body = {"command": command, "service": ["dhcp4"]}
        if arguments is not None:
            body["arguments"] = arguments
        answer = session.post(settings["api_url"], json=body, timeout=60).json()[0]
        if answer.get("result") != 0:
            raise RuntimeError("%s: %s" % (command, answer.get("text")))
        return answer.get("arguments")

    config = kea("config-get")
    config.pop("hash", None)
    dhcp4 = config["Dhcp4"]
    dhcp4.setdefault("option-def", []).extend([
        {"name": "iscsi-initiator-iqn", "code": 203, "type": "string", "space": "dhcp4"},
        {"name": "ipxe-encap-opts", "code": 175, "type": "empty", "space": "dhcp4", "encapsulate": "ipxe"},
        {"name": "ipxe-username", "code": 190, "type": "string", "space": "ipxe"},
        {"name": "ipxe-password", "code": 191, "type": "string", "space": "ipxe"}])
    reservations = dhcp4["subnet4"][0].setdefault("reservations", [])
    for number in range(1, settings["hosts"] + 1):
        values = fleetlab.server(number)
        reservations.append({
            "hw-address": values["sanboot_mac"], "ip-address": values["sanboot_ip"], "hostname": values["name"],
            "option-data": [
                {"code": 17, "data": "iscsi:%s:6:3260:1:%s:%s" % (fleetlab.SERVER_IP, fleetlab.TARGET_PREFIX, values["name"])},
                {"code": 203, "data": values["sanboot_initiator_iqn"]},
                {"code": 175, "space": "dhcp4"},
                {"code": 190, "space": "ipxe", "data": values["sanboot_chap"]["username"]},
                {"code": 191, "space": "ipxe", "data": values["sanboot_chap"]["secret"]}]})
    kea("config-set", config)
    kea("config-write")


# --- one N ------------------------------------------------------------------------------------------

def run_n(hosts, base):
    result = {"hosts": hosts}
    with labkit.Cleanup() as stack:
        workdir = labkit.make_workdir(stack, base)
        progress("N=%d: the fleet lab (tgtd, Kea, Open vSwitch, %d servers in the inventory)" % (hosts, hosts))
        lab = fleetlab.FleetLab(stack, workdir, hosts=hosts, storage_size="%dG" % max(4, hosts // 50)).up()
        inventory = lab.write_inventory()
        env = labkit.ansible_env()
        for key, arguments in (("provision", ("playbooks/site.yml", "--tags", "san,dhcp")),
                               ("rerun", ("playbooks/site.yml", "--tags", "san,dhcp")),
                               ("verify", ("playbooks/verify_boot_chain.yml",))):
            load = os.getloadavg()[0]
            progress("N=%d: %s ..." % (hosts, dict(SERIES)[key]))
            seconds, rss, output, status = measure(ansible_playbook(inventory, *arguments), "N=%d %s" % (hosts, key), env)
            if status != 0:
                raise SystemExit("bench: N=%d %s failed (exit %d):\n%s" % (hosts, key, status, output[-4000:]))
            if key == "provision" and (len(lab.volume_files()) != hosts or len(lab.reservations()) != hosts):
                raise SystemExit("bench: N=%d provisioning made %d volumes and %d reservations"
                                 % (hosts, len(lab.volume_files()), len(lab.reservations())))
            if key == "rerun" and recap_changed(output):
                raise SystemExit("bench: N=%d the re-run changed something:\n%s" % (hosts, output[-3000:]))
            result[key] = {"seconds": round(seconds, 2), "rss_mib": round(rss, 1),
                           "load": [round(load, 2), round(os.getloadavg()[0], 2)]}
            progress("N=%d: %s: %.1f s, peak RSS %.0f MiB" % (hosts, key, seconds, rss))
    with labkit.Cleanup() as stack:
        workdir = labkit.make_workdir(stack, base)
        progress("N=%d: a fresh lab for the baseline" % hosts)
        lab = fleetlab.FleetLab(stack, workdir, hosts=hosts, switch=False,
                                storage_size="%dG" % max(4, hosts // 50)).up()
        settings = workdir / "baseline.json"
        settings.write_text(json.dumps({"hosts": hosts, "control_port": lab.tgtd.control_port, "storage": str(lab.storage),
                                        "api_url": lab.dhcp.url, "api_user": lab.dhcp.user,
                                        "api_password": lab.dhcp.password}))
        settings.chmod(0o600)
        load = os.getloadavg()[0]
        progress("N=%d: %s ..." % (hosts, dict(SERIES)["baseline"]))
        seconds, rss, output, status = measure([str(labkit.VENV_BIN / "python"), __file__, "--baseline", str(settings)],
                                               "N=%d baseline" % hosts, show_tasks=False)
        if status != 0:
            raise SystemExit("bench: N=%d baseline failed:\n%s" % (hosts, output[-3000:]))
        if len(lab.dhcp.reservations()) != hosts or len(lab.tgtd.tids()) != hosts:
            raise SystemExit("bench: N=%d the baseline did not make everything" % hosts)
        result["baseline"] = {"seconds": round(seconds, 2), "rss_mib": round(rss, 1),
                              "load": [round(load, 2), round(os.getloadavg()[0], 2)]}
        progress("N=%d: baseline: %.1f s" % (hosts, seconds))
    result["ratio"] = round(result["provision"]["seconds"] / result["baseline"]["seconds"], 2)
    return result


def run_clones(base):
    """(e): 100 clones of a 10 GiB golden volume in one san_volume task, on XFS with reflink."""
    with labkit.Cleanup() as stack:
        workdir = labkit.make_workdir(stack, base)
        progress("clones: a lab with a 10 GiB golden volume on XFS (reflink)")
        lab = fleetlab.FleetLab(stack, workdir, hosts=1, switch=False, storage_size="16G").up()
        golden = lab.storage / "golden.img"
        # Allocated in full (as a LUN an image was written to), with data in 160 places: its clones share
        # extents, and the reflink's cost is in the extents, not the bytes.
        subprocess.run(["fallocate", "-l", str(GOLDEN_SIZE), str(golden)], check=True)
        with open(golden, "r+b") as stream:
            for place in range(160):
                stream.seek(place * (GOLDEN_SIZE // 160))
                stream.write(os.urandom(1024 * 1024))
        os.chmod(golden, 0o600)
        env = labkit.ansible_env()
        defaults = {"tgt_control_port": lab.tgtd.control_port, "config_dir": str(lab.config_dir),
                    "storage_dir": str(lab.storage)}
        golden_task = {"name": "the golden volume", "sanboot.iscsi.san_volume": dict(
            defaults, name="golden", size="10G", target_prefix=fleetlab.TARGET_PREFIX,
            initiators=["iqn.2026-11.lab.sanboot:imaging"])}
        volumes = [{"name": values["name"], "initiators": [values["sanboot_initiator_iqn"]],
                    "chap": values["sanboot_chap"]} for values in map(fleetlab.server, range(1, CLONES + 1))]
        clone_task = {"name": "the fan-out", "sanboot.iscsi.san_volume": dict(
            defaults, target_prefix=fleetlab.TARGET_PREFIX, clone_from="golden", volumes=volumes),
            "register": "fanout"}
        check = {"name": "every clone is a reflink", "ansible.builtin.assert": {"that": [
            "fanout.volume_results | map(attribute='clone_method') | unique | list == ['reflink']",
            "fanout.volume_results | length == %d" % CLONES]}}
        for name, tasks in (("golden", [golden_task]), ("clones", [clone_task, check])):
            playbook = workdir / ("%s.yml" % name)
            descriptor = os.open(playbook, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w") as stream:
                json.dump([{"hosts": "localhost", "connection": "local", "gather_facts": False,
                            "vars": {"ansible_python_interpreter": str(labkit.VENV_BIN / "python")}, "tasks": tasks}],
                          stream)
            load = os.getloadavg()[0]
            progress("clones: %s ..." % name)
            seconds, rss, output, status = measure(ansible_playbook("localhost,", str(playbook)), "clones " + name, env)
            if status != 0:
                raise SystemExit("bench: clones %s failed:\n%s" % (name, output[-4000:]))
        progress("clones: %d clones of a 10 GiB golden volume: %.1f s" % (CLONES, seconds))
        return {"clones": CLONES, "golden_bytes": GOLDEN_SIZE, "seconds": round(seconds, 2), "rss_mib": round(rss, 1),
                "load": [round(load, 2), round(os.getloadavg()[0], 2)]}


# --- report -------------------------------------------------------------------------------------

def table_lines(results):
    lines = ["| N | series | wall (s) | peak RSS (MiB) | load average (start, end) |", "|---:|---|---:|---:|---|"]
    for result in results:
        for key, title in SERIES:
            entry = result[key]
            cells = (result["hosts"], title, entry["seconds"], entry["rss_mib"], entry["load"][0], entry["load"][1])
            lines.append("| %d | %s | %.2f | %.0f | %.2f, %.2f |" % cells)
    return lines


def growth(results, key):
    by_n = {result["hosts"]: result[key]["seconds"] for result in results}
    if 100 in by_n and 500 in by_n:
        return by_n[500] / by_n[100]
    return None


def verdicts(results, clones):
    """(target, measured, met) for each target of issue 16 that this run measured."""
    rows = []
    by_n = {result["hosts"]: result for result in results}
    top = by_n.get(500)
    if top:
        rows.append(("N=500 provisioning within %.0fx of the baseline" % TARGETS["provision_ratio"], "%.2fx" % top["ratio"],
                     top["ratio"] <= TARGETS["provision_ratio"]))
        for key, target, what in (("provision", "provision_seconds", "provisioning"), ("rerun", "rerun_seconds",
                                                                                       "unchanged re-run"),
                                  ("verify", "verify_seconds", "verify_boot_chain")):
            rows.append(("N=500 %s under %.0f s" % (what, TARGETS[target]), "%.1f s" % top[key]["seconds"],
                         top[key]["seconds"] < TARGETS[target]))
        peak = max(top[key]["rss_mib"] for key in ("provision", "rerun", "verify"))
        rows.append(("N=500 peak RSS of the controller under 1 GiB", "%.0f MiB" % peak, peak < TARGETS["rss_mib"]))
    for key, title in SERIES:
        factor = growth(results, key)
        if factor is not None:
            rows.append(("growth N=100 to N=500 at most %.0fx: %s" % (TARGETS["growth"], title), "%.2fx" % factor,
                         factor <= TARGETS["growth"]))
    if clones:
        rows.append(("%d clones of a 10 GiB golden volume under %.0f s" % (CLONES, TARGETS["clone_seconds"]),
                     "%.1f s" % clones["seconds"], clones["seconds"] < TARGETS["clone_seconds"]))
    return rows


RECORD_MARK = "<!-- make bench record: "


def render_markdown(record):
    """docs/performance.md for a run record (what main() measured, and where); a pure function of it, so that
    tests/unit/tools/test_bench_report.py can render the record the page carries and find the page unchanged."""
    results, clones = record["results"], record["clones"]
    loads = [value for result in results for key, _title in SERIES for value in result[key]["load"]]
    lines = [
        "# Performance at fleet scale",
        "",
        "<!-- Generated by `make bench` (tools/bench.py); do not edit by hand: run it again. -->",
        "",
        "How long the collection takes to provision a rack of boot-from-SAN servers, against the raw tools",
        "doing the same (issue 16). Measured by `make bench` on %s, %d cores, load average %.2f to %.2f during"
        % (record["measured_at"], record["cores"], min(loads), max(loads)),
        "the run (this machine is shared with other work: see the load of each series below).",
        "",
        "## What is measured",
        "",
        "For each N, a fresh fleet lab (`tests/lab/fleetlab.py`): a real tgtd and a real Kea 2.2 in a network",
        "namespace, an Open vSwitch database with one port per server, and N servers in an inventory (the",
        "variables of [variables.md](variables.md), CHAP on the SAN and in DHCP). No VMs boot.",
        "",
    ]
    lines += ["- **%s**%s" % (title, text) for (key, title), text in zip(SERIES, (
        ": `ansible-playbook playbooks/site.yml --tags san,dhcp`, from nothing, default forks: one `san_volume` "
        "batch on the SAN host and one `dhcp_reservation` batch (one Kea configuration round trip) for all servers, "
        "and each server's facts set from the result.",
        ": the same again; it must report no change.",
        ": `ansible-playbook playbooks/verify_boot_chain.yml`; it must find no mismatch (one read per SAN, DHCP "
        "server, switch and portal).",
        ": on a lab of its own, a script doing (a) with the raw tools: six `tgtadm` calls per server (target, LUN, "
        "CHAP account, its binding, address rule, initiator rule) and one Kea round trip (`config-get`, "
        "`config-set`, `config-write`) for all reservations: the practical floor."))]
    lines += [
        "",
        "Wall time of the whole command; peak RSS is the largest sum of the resident memory of the process and all",
        "its descendants (ansible-playbook, its workers, the modules), sampled every 50 ms.",
        "",
        "## Results",
        "",
    ]
    lines += table_lines(results)
    lines += [""]
    lines += ["ratio_vs_baseline N=%d: %.2f" % (result["hosts"], result["ratio"]) for result in results]
    lines += ["", "![time against N](performance.png)", ""]
    if clones:
        lines += ["Golden-image fan-out: %d clones of a %d GiB golden volume (allocated in full, on XFS with reflink), "
                  "one `san_volume` task with `volumes`: **%.1f s** (peak RSS %.0f MiB, load average %.2f to %.2f)."
                  % (clones["clones"], clones["golden_bytes"] // 1024 ** 3, clones["seconds"], clones["rss_mib"],
                     clones["load"][0], clones["load"][1]), ""]
    rows = verdicts(results, clones)
    if rows:
        lines += ["## Targets", "", "| target | measured | met |", "|---|---:|---|"]
        lines += ["| %s | %s | %s |" % (target, measured, "yes" if met else "**no**") for target, measured, met in rows]
        lines += [""]
    lines += [
        "## Reproduce",
        "",
        "As root, on Debian 12 with the packages of `bindep.txt` (`make setup` installs them):",
        "",
        "```",
        "make setup",
        "make bench                      # BENCH_N=\"10 100 500\"",
        "BENCH_N=\"10 100\" make bench     # fewer servers",
        "```",
        "",
        "This run: `%s`. `make bench` rewrites this page and `performance.png`; the numbers depend on the" % record["command"],
        "machine and on what else runs on it.",
        "",
        # The run's record, from which this page was rendered (a unit test renders it again and compares).
        RECORD_MARK + json.dumps(record, sort_keys=True) + " -->",
        "",
    ]
    return "\n".join(lines)


def record_of(text):
    """The run record a page rendered by render_markdown carries, or None."""
    for line in text.splitlines():
        if line.startswith(RECORD_MARK) and line.endswith(" -->"):
            return json.loads(line[len(RECORD_MARK):-len(" -->")])
    return None


def write_docs(record):
    import matplotlib  # from .venv (tests/requirements.txt)

    matplotlib.use("Agg")
    from matplotlib import pyplot

    results = record["results"]
    figure, axes = pyplot.subplots(figsize=(7, 4.2))
    for key, title in SERIES:
        axes.plot([result["hosts"] for result in results], [result[key]["seconds"] for result in results], marker="o",
                  label=title)
    axes.set_xlabel("servers (N)")
    axes.set_ylabel("wall time (s)")
    axes.set_title("sanboot.iscsi at fleet scale, %d cores" % record["cores"])
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(REPO / "docs" / "performance.png", dpi=100, metadata={"Software": None})
    (REPO / "docs" / "performance.md").write_text(render_markdown(record))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--baseline", help=argparse.SUPPRESS)
    parser.add_argument("--no-write", action="store_true", help="measure and print only; leave docs/ alone")
    parser.add_argument("--no-clones", action="store_true", help="skip the golden-image fan-out")
    arguments = parser.parse_args(argv)
    if arguments.baseline:
        baseline(json.loads(Path(arguments.baseline).read_text()))
        return 0
    if not labkit.is_root():
        print("bench: needs root (network namespaces, tgtd, loop devices)")
        return 2
    sizes = [int(word) for word in os.environ.get("BENCH_N", "10 100 500").split()]
    base = REPO / ".cache" / "bench"
    base.mkdir(parents=True, exist_ok=True)
    progress("BENCH_N=%s on %d cores, load average %.2f" % (" ".join(map(str, sizes)), os.cpu_count(), os.getloadavg()[0]))
    results = [run_n(hosts, str(base)) for hosts in sizes]
    clones = None if arguments.no_clones else run_clones(str(base))
    print()
    print("%-6s %-45s %9s %13s %s" % ("N", "series", "wall (s)", "peak RSS MiB", "load (start, end)"))
    for result in results:
        for key, title in SERIES:
            entry = result[key]
            print("%-6d %-45s %9.2f %13.0f %.2f, %.2f" % (result["hosts"], title, entry["seconds"], entry["rss_mib"],
                                                          entry["load"][0], entry["load"][1]))
    if clones:
        print("clones: %d of a 10 GiB golden volume: %.2f s" % (clones["clones"], clones["seconds"]))
    for target, measured, met in verdicts(results, clones):
        print("target: %-70s %10s %s" % (target, measured, "met" if met else "NOT MET"))
    record = {"results": results, "clones": clones, "cores": os.cpu_count(),
              "measured_at": time.strftime("%Y-%m-%d %H:%M %Z"),
              "command": "BENCH_N=\"%s\" make bench" % " ".join(map(str, sizes))}
    (base / "results.json").write_text(json.dumps(record, indent=1) + "\n")
    if not arguments.no_write:
        write_docs(record)
        print("wrote docs/performance.md and docs/performance.png")
    for result in results:
        print("ratio_vs_baseline N=%d: %.2f" % (result["hosts"], result["ratio"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
