# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""labkit.osimage: the lab's stand-in for a sysprepped Windows image, a small Linux that boots
from SAN and takes over the boot firmware's iSCSI session through the iBFT.

    image = osimage.build()        # cached under .cache/osimage/<key>/, keyed by its inputs
    image.qcow2, image.raw         # the same disk, as qcow2 (what san_image writes) and raw

What the disk holds (an MBR with one ext4 partition, the same bytes for every machine):
  - syslinux's MBR and extlinux: the boot loader, which reads the kernel and the initramfs through
    the firmware's INT 13h, i.e. through iPXE's iSCSI session to the LUN;
  - Debian's kernel (linux-image-amd64) and an initramfs with busybox, `iscsistart` (open-iscsi)
    and the modules e1000, iscsi_tcp, iscsi_ibft, sd_mod and ext4. Its /init reads
    /sys/firmware/ibft, prints what it found and the kernel's own iBFT lines, brings the network
    up from the iBFT (`iscsistart -N`), logs in with the firmware's values (`iscsistart -b`),
    mounts the partition from the LUN and switches to it;
  - the root file system's /sbin/sanboot-init, which asks DHCP for the machine's host name (as a
    sysprepped image's specialize pass learns its identity), lists and writes a file in
    /var/lib/sanboot, and powers the machine off.

Everything comes from Debian packages fetched with `apt-get download` (no debootstrap, no other
network); the host tools that assemble the disk (sfdisk, mke2fs, extlinux, cpio, depmod,
qemu-img) are in bindep.txt. Building needs root once (a loop mount for extlinux).

Every line the OS prints starts with OS_MARKER, so parse_os_report() can read the serial log.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: python3 tests/labkit/osimage.py build
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import labkit  # noqa: E402  pylint: disable=wrong-import-position
from labkit import Cleanup, LabError, run  # noqa: E402  pylint: disable=wrong-import-position

OS_MARKER = "SANBOOT-OS"
CACHE = labkit.REPO / ".cache" / "osimage"
KERNEL_PACKAGE = "linux-image-amd64"  # a metapackage: it names the current kernel package
# iscsistart and the shared libraries it links (ldd on open-iscsi 2.1.8's iscsistart), busybox for
# everything else.
USERLAND_PACKAGES = ("busybox-static", "open-iscsi", "libc6", "libssl3", "libkmod2", "libopeniscsiusr", "libzstd1",
                     "liblzma5")
# e1000: the NIC QEMU gives the lab machines; crc32c_generic: ext4's checksums (requested at mount).
KERNEL_MODULES = ("e1000", "iscsi_ibft", "iscsi_tcp", "sd_mod", "ext4", "crc32c_generic")
# Where those modules and everything they depend on live in the kernel package.
MODULE_DIRECTORIES = ("block", "drivers/scsi", "drivers/net/ethernet/intel/e1000", "drivers/firmware", "fs", "lib", "crypto",
                      "arch/x86/crypto")
LIBRARIES = ("libcrypto.so.3", "libkmod.so.2", "libopeniscsiusr.so.0.2.0", "libc.so.6", "libzstd.so.1", "liblzma.so.5")
DISK_MIB = 48
PARTITION_START = 1024 * 1024
MBR = Path("/usr/lib/syslinux/mbr/mbr.bin")
WRITTEN_DIR = "/var/lib/sanboot"

INITRAMFS_INIT = r"""#!/bin/busybox sh
# The initramfs of the lab's SAN-boot OS: take over the firmware's iSCSI session through the iBFT.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
say() { echo "@MARKER@ $*"; }
fail() { say "FAILED: $*"; sync; poweroff -f; sleep 30; }
say "initramfs started: $(cat /proc/sys/kernel/osrelease)"
for module in @MODULES@; do
    modprobe "$module" || fail "modprobe $module"
done
dmesg | grep -i ibft | while read -r line; do say "kernel: $line"; done
[ -d /sys/firmware/ibft/initiator ] || fail "no iBFT: the firmware left no iSCSI Boot Firmware Table"
# What the firmware handed over (never the CHAP secrets, which the table also holds).
for field in initiator/initiator-name ethernet0/mac ethernet0/ip-addr ethernet0/hostname target0/target-name \
        target0/ip-addr target0/port target0/lun target0/chap-type target0/chap-name; do
    [ -f "/sys/firmware/ibft/$field" ] && say "ibft $field=$(cat "/sys/firmware/ibft/$field")"
done
iscsistart -N > /tmp/network.log 2>&1 || fail "network from the iBFT (iscsistart -N): $(tail -n 3 /tmp/network.log)"
if iscsistart -b > /tmp/login.log 2>&1; then
    say "iscsistart -b: logged in with the firmware's values"
else
    fail "iSCSI login with the iBFT's values (iscsistart -b): $(grep -v '^$' /tmp/login.log | tail -n 3 | tr '\n' ' ')"
fi
waited=0
while [ ! -b /dev/sda1 ] && [ $waited -lt 200 ]; do sleep 0.1; waited=$((waited + 1)); done
[ -b /dev/sda1 ] || fail "no /dev/sda1 after the iSCSI login"
say "disk: $(cat /sys/block/sda/device/vendor 2>/dev/null) $(cat /sys/block/sda/device/model 2>/dev/null) $(cat /sys/block/sda/size) sectors"
mkdir -p /newroot
mount -t ext4 /dev/sda1 /newroot || fail "mount /dev/sda1"
for fs in proc sys dev; do mount --move /$fs /newroot/$fs; done
exec switch_root /newroot /sbin/sanboot-init
"""

ROOT_INIT = r"""#!/bin/busybox sh
# /sbin/sanboot-init on the LUN: the OS proper. Its identity comes from DHCP and the iBFT only.
export PATH=/bin
say() { echo "@MARKER@ $*"; }
mount -t tmpfs tmpfs /tmp
say "root file system: $(grep ' / ' /proc/mounts | head -n 1)"
rm -f /tmp/dhcp.env
udhcpc -i eth0 -f -q -n -t 5 -T 1 -O hostname -s /etc/sanboot/dhcp-event > /tmp/udhcpc.log 2>&1
. /tmp/dhcp.env 2>/dev/null
say "dhcp ip=${ip:-none} hostname=${hostname:-none}"
name=${hostname:-unknown}
say "files before: $(ls @WRITTEN@ | tr '\n' ' ')"
echo "written by $name at boot" > "@WRITTEN@/written-by-$name"
sync
say "files after: $(ls @WRITTEN@ | tr '\n' ' ')"
say "DONE $name"
mount -o remount,ro /
poweroff -f
sleep 30
"""

DHCP_EVENT = """#!/bin/busybox sh
# udhcpc's event script: remember the lease, touch no interface (the boot disk runs over it).
[ "$1" = bound ] && { echo "ip=$ip"; echo "hostname=$hostname"; } > /tmp/dhcp.env
exit 0
"""

EXTLINUX_CONF = """SERIAL 0 115200
DEFAULT sanboot
PROMPT 0
TIMEOUT 0
LABEL sanboot
    LINUX /boot/vmlinuz
    INITRD /boot/initrd.img
    APPEND console=ttyS0,115200 quiet panic=-1 rdinit=/init
"""


class OsImage:
    def __init__(self, directory: Path, manifest: dict):
        self.directory = Path(directory)
        self.manifest = manifest
        self.raw = self.directory / "disk.raw"
        self.qcow2 = self.directory / "disk.qcow2"
        self.kernel_release = manifest["kernel_release"]
        self.size_bytes = manifest["size_bytes"]

    def __repr__(self):
        return "OsImage(%s)" % self.directory


# --- the inputs -------------------------------------------------------------------------------

def _candidate_version(package: str) -> str:
    text = run(["apt-cache", "show", "--no-all-versions", package], check=False).stdout
    match = re.search(r"^Version: (\S+)$", text, re.MULTILINE)
    if not match:
        raise LabError("apt-cache knows no package %s: run `apt-get update` (the OS image is built from Debian's "
                       "packages)" % package)
    return match.group(1)


def resolve_packages() -> dict:
    """name -> version of every package the image is built from (the kernel resolved from the metapackage)."""
    depends = run(["apt-cache", "depends", "--important", KERNEL_PACKAGE], check=False).stdout
    match = re.search(r"Depends: (linux-image-\S+)", depends)
    if not match:
        raise LabError("apt-cache cannot resolve %s to a kernel package: run `apt-get update`" % KERNEL_PACKAGE)
    names = [match.group(1)] + list(USERLAND_PACKAGES)
    return {name: _candidate_version(name) for name in names}


def cache_key(packages: dict) -> str:
    """The image's inputs: the package versions and this builder (its scripts and steps)."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(json.dumps(packages, sort_keys=True).encode())
    return digest.hexdigest()[:16]


def download(packages: dict, debs: Path) -> dict:
    """name -> .deb path; each fetched once with `apt-get download name=version`."""
    found = {}
    for name, version in packages.items():
        directory = debs / ("%s_%s" % (name, version.replace(":", "%3a")))
        existing = sorted(directory.glob("*.deb")) if directory.is_dir() else []
        if not existing:
            directory.mkdir(parents=True, exist_ok=True)
            result = subprocess.run(["apt-get", "download", "-q", "-o", "APT::Sandbox::User=root",
                                     "%s=%s" % (name, version)], cwd=directory, capture_output=True, text=True,
                                    timeout=600, check=False, env=dict(os.environ, LC_ALL="C"))
            if result.returncode:
                raise LabError("apt-get download %s=%s failed: %s" % (name, version, result.stderr.strip()[-500:]))
            existing = sorted(directory.glob("*.deb"))
        if len(existing) != 1:
            raise LabError("expected one .deb of %s %s in %s, found %s" % (name, version, directory, existing))
        found[name] = existing[0]
    return found


def _extract(deb: Path, destination: Path, members=None):
    """Unpack a .deb (or only the given members) without dpkg's database: dpkg-deb piped into tar."""
    destination.mkdir(parents=True, exist_ok=True)
    with subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE) as unpack:
        result = subprocess.run(["tar", "-x", "-C", str(destination)] + (["--wildcards"] + list(members) if members else []),
                                stdin=unpack.stdout, capture_output=True, text=True, check=False, timeout=300)
        unpack.stdout.close()
    if result.returncode:
        raise LabError("unpacking %s failed: %s" % (deb.name, result.stderr.strip()[-500:]))


# --- building ---------------------------------------------------------------------------------

def _kernel_tree(kernel_deb: Path, workdir: Path):
    """The kernel image and the modules the initramfs needs, with their dependencies (from modinfo).
    One pass over the package (unpacking it is most of the build's time): the directories the
    modules and their dependencies live in."""
    tree = workdir / "kernel"
    _extract(kernel_deb, tree, ["./boot/vmlinuz-*", "./lib/modules/*/modules.order", "./lib/modules/*/modules.builtin*"]
             + ["./lib/modules/*/kernel/%s/*" % directory for directory in MODULE_DIRECTORIES])
    vmlinuz = sorted((tree / "boot").glob("vmlinuz-*"))[0]
    release = vmlinuz.name[len("vmlinuz-"):]
    modules_root = tree / "lib" / "modules" / release
    by_name = {Path(line).stem.replace("-", "_"): line for line in (modules_root / "modules.order").read_text().split()}
    wanted, seen = [name.replace("-", "_") for name in KERNEL_MODULES], set()
    while wanted:
        name = wanted.pop()
        if name in seen:
            continue
        seen.add(name)
        if name not in by_name or not (modules_root / by_name[name]).exists():
            raise LabError("kernel %s: module %s is not in %s" % (release, name, ", ".join(MODULE_DIRECTORIES)))
        depends = run(["modinfo", "-F", "depends", modules_root / by_name[name]]).stdout.strip()
        wanted += [dep.replace("-", "_") for dep in depends.split(",") if dep]
    return vmlinuz, release, modules_root, sorted(by_name[name] for name in seen)


def _initramfs(workdir: Path, userland: Path, release: str, modules_root: Path, module_paths: list) -> Path:
    root = workdir / "initramfs"
    for directory in ("bin", "sbin", "proc", "sys", "dev", "tmp", "etc/iscsi", "lib64", "lib/x86_64-linux-gnu"):
        (root / directory).mkdir(parents=True, exist_ok=True)
    shutil.copy2(userland / "bin" / "busybox", root / "bin" / "busybox")
    shutil.copy2(userland / "sbin" / "iscsistart", root / "sbin" / "iscsistart")
    shutil.copy2(userland / "lib64" / "ld-linux-x86-64.so.2", root / "lib64" / "ld-linux-x86-64.so.2")
    libraries = (userland / "lib" / "x86_64-linux-gnu", userland / "usr" / "lib" / "x86_64-linux-gnu")
    for library in LIBRARIES:
        source = next((directory / library for directory in libraries if (directory / library).exists()), None)
        if source is None:
            raise LabError("%s is in none of the unpacked packages %s" % (library, ", ".join(USERLAND_PACKAGES)))
        shutil.copy2(source.resolve(), root / "lib" / "x86_64-linux-gnu" / library)
    # iscsistart -b names the initiator from the iBFT; open-iscsi still reads this file if it exists.
    (root / "etc" / "iscsi" / "initiatorname.iscsi").write_text("")
    target_modules = root / "lib" / "modules" / release
    for relative in module_paths:
        (target_modules / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(modules_root / relative, target_modules / relative)
    for name in ("modules.order", "modules.builtin", "modules.builtin.modinfo"):
        if (modules_root / name).exists():
            shutil.copy2(modules_root / name, target_modules / name)
    run(["depmod", "-b", root, release])
    init = root / "init"
    init.write_text(INITRAMFS_INIT.replace("@MARKER@", OS_MARKER).replace("@MODULES@", " ".join(KERNEL_MODULES)))
    init.chmod(0o755)
    image = workdir / "initrd.img"
    listing = subprocess.run(["find", ".", "-mindepth", "1"], cwd=root, capture_output=True, check=True).stdout
    cpio = subprocess.run(["cpio", "--quiet", "-o", "-H", "newc", "-R", "0:0", "--reproducible"], cwd=root,
                          input=listing, capture_output=True, check=True).stdout
    image.write_bytes(subprocess.run(["gzip", "-6", "-n"], input=cpio, capture_output=True, check=True).stdout)
    return image


def _root_tree(workdir: Path, userland: Path, vmlinuz: Path, initrd: Path) -> Path:
    root = workdir / "root"
    for directory in ("bin", "sbin", "proc", "sys", "dev", "tmp", "boot/extlinux", "etc/sanboot", WRITTEN_DIR[1:]):
        (root / directory).mkdir(parents=True, exist_ok=True)
    shutil.copy2(userland / "bin" / "busybox", root / "bin" / "busybox")
    applets = run([root / "bin" / "busybox", "--list"]).stdout.split()
    for applet in applets:
        if applet != "busybox":
            (root / "bin" / applet).symlink_to("busybox")
    init = root / "sbin" / "sanboot-init"
    init.write_text(ROOT_INIT.replace("@MARKER@", OS_MARKER).replace("@WRITTEN@", WRITTEN_DIR))
    event = root / "etc" / "sanboot" / "dhcp-event"
    event.write_text(DHCP_EVENT)
    for script in (init, event):
        script.chmod(0o755)
    (root / "etc" / "sanboot" / "README").write_text(
        "The sanboot.iscsi lab's golden image: a stand-in for a sysprepped Windows image.\n")
    shutil.copy2(vmlinuz, root / "boot" / "vmlinuz")
    shutil.copy2(initrd, root / "boot" / "initrd.img")
    (root / "boot" / "extlinux" / "extlinux.conf").write_text(EXTLINUX_CONF)
    return root


def _disk(workdir: Path, root: Path, raw: Path):
    """MBR + one bootable ext4 partition holding root, extlinux installed in it."""
    size = DISK_MIB * 1024 * 1024
    if raw.exists():
        raw.unlink()
    run(["truncate", "-s", str(size), raw])
    start_sector = PARTITION_START // 512
    run(["sfdisk", "--quiet", "--no-reread", "--no-tell-kernel", raw],
        input_text="label: dos\nlabel-id: 0x5b00b001\nstart=%d, type=83, bootable\n" % start_sector)
    partition_bytes = size - PARTITION_START
    # extlinux 6.04 reads ext4 without the 64bit and metadata_csum features. The files are copied in
    # through a mount, not with mke2fs -d: -d makes the zero blocks of a file holes, and extlinux
    # cannot load a kernel with holes ("Loading /boot/vmlinuz failed: I/O error").
    run(["mke2fs", "-q", "-F", "-t", "ext4", "-L", "sanboot-root", "-O", "^64bit,^metadata_csum",
         "-U", "5b00b001-0000-4000-8000-000000000001", "-E", "offset=%d" % PARTITION_START, raw,
         "%dk" % (partition_bytes // 1024)], timeout=120)
    with Cleanup() as undo:
        device = run(["losetup", "--find", "--show", "--offset", str(PARTITION_START), "--sizelimit",
                      str(partition_bytes), raw]).stdout.strip()
        undo.push("detach %s" % device, run, ["losetup", "-d", device])
        mountpoint = workdir / "mnt"
        labkit.mount(undo, device, mountpoint)
        run(["cp", "-a", "--sparse=never", "%s/." % root, mountpoint], timeout=120)
        run(["extlinux", "--install", mountpoint / "boot" / "extlinux"])
    with open(raw, "r+b") as disk:
        disk.write(MBR.read_bytes()[:440])  # boot code only: the partition table stays


def build(cache: Path = CACHE, progress=None) -> OsImage:
    """The OS image for the current Debian packages: from the cache, or built (about half a minute)."""
    say = progress or (lambda _text: None)
    cache.mkdir(parents=True, exist_ok=True)
    packages = resolve_packages()
    key = cache_key(packages)
    directory = cache / key
    with open(cache / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build at a time; a second waits and finds it cached
        manifest_path = directory / "manifest.json"
        if manifest_path.exists():
            return OsImage(directory, json.loads(manifest_path.read_text()))
        started = time.monotonic()
        say("building the lab's OS image from Debian packages (cached as %s)" % directory)
        workdir = cache / ("build-%d" % os.getpid())
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir()
        try:
            debs = download(packages, cache / "debs")
            kernel_name = next(name for name in packages if name.startswith("linux-image-"))
            userland = workdir / "userland"
            for name in USERLAND_PACKAGES:
                _extract(debs[name], userland)
            vmlinuz, release, modules_root, module_paths = _kernel_tree(debs[kernel_name], workdir)
            initrd = _initramfs(workdir, userland, release, modules_root, module_paths)
            root = _root_tree(workdir, userland, vmlinuz, initrd)
            staging = workdir / "out"
            staging.mkdir()
            _disk(workdir, root, staging / "disk.raw")
            run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", staging / "disk.raw", staging / "disk.qcow2"],
                timeout=120)
            manifest = {"key": key, "packages": packages, "kernel_release": release,
                        "size_bytes": (staging / "disk.raw").stat().st_size,
                        "kernel_bytes": vmlinuz.stat().st_size, "initrd_bytes": initrd.stat().st_size,
                        "modules": [Path(path).stem for path in module_paths],
                        "build_seconds": round(time.monotonic() - started, 1)}
            (staging / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
            shutil.rmtree(directory, ignore_errors=True)
            staging.rename(directory)
            for stale in cache.iterdir():  # images of older inputs (the .debs stay: they are the inputs)
                if stale.is_dir() and stale.name != key and (stale / "manifest.json").exists():
                    shutil.rmtree(stale, ignore_errors=True)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        say("OS image built in %.1f s: kernel %s, initramfs %d KiB"
            % (manifest["build_seconds"], release, manifest["initrd_bytes"] // 1024))
        return OsImage(directory, manifest)


# --- reading what the OS printed --------------------------------------------------------------

def parse_os_report(serial: str) -> dict:
    """What the OS printed on its serial port, as a dict: ibft (field -> value), kernel (its iBFT lines),
    dhcp (ip, hostname), files_before / files_after, login, done (host name), failed (reason)."""
    report = {"ibft": {}, "kernel": [], "dhcp": {}, "files_before": [], "files_after": [], "login": False,
              "done": None, "failed": None, "started": False, "root": None}
    for line in serial.splitlines():
        index = line.find(OS_MARKER + " ")
        if index < 0:
            continue
        body = line[index + len(OS_MARKER) + 1:].strip()
        if body.startswith("initramfs started"):
            report["started"] = True
        elif body.startswith("kernel: "):
            report["kernel"].append(body[len("kernel: "):])
        elif body.startswith("ibft "):
            field, _sep, value = body[len("ibft "):].partition("=")
            report["ibft"][field] = value
        elif body.startswith("iscsistart -b: logged in"):
            report["login"] = True
        elif body.startswith("root file system: "):
            report["root"] = body[len("root file system: "):]
        elif body.startswith("dhcp "):
            report["dhcp"] = dict(part.split("=", 1) for part in body[len("dhcp "):].split() if "=" in part)
        elif body.startswith("files before:"):
            report["files_before"] = body[len("files before:"):].split()
        elif body.startswith("files after:"):
            report["files_after"] = body[len("files after:"):].split()
        elif body.startswith("DONE "):
            report["done"] = body[len("DONE "):].strip()
        elif body.startswith("FAILED: "):
            report["failed"] = body[len("FAILED: "):]
    return report


def ibft_lun(value: str) -> int | None:
    """The LUN from /sys/firmware/ibft/target0/lun: the kernel prints the 8-byte SAM LUN as one %x per byte,
    so each byte below 16 is one digit ("01000000" is LUN 1, peripheral addressing: byte 0 and byte 1)."""
    if not value or len(value) != 8 or not all(character in "0123456789abcdef" for character in value):
        return None
    return (int(value[0], 16) & 0x3F) * 256 + int(value[1], 16)


def main(argv=None) -> int:
    arguments = argv if argv is not None else sys.argv[1:]
    if arguments[:1] != ["build"]:
        print("usage: osimage.py build")
        return 2
    image = build(progress=print)
    print(json.dumps(dict(image.manifest, raw=str(image.raw), qcow2=str(image.qcow2)), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
