# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Disk images onto SAN volumes, through iSCSI itself: the core of san_image.

The image is written the way a server reads it: through an iSCSI login with the volume's
initiator name and CHAP (qemu-img's iscsi driver), so it works for any SAN the collection can
reach. What was written is recorded with the volume by its backend (SanBackend.image_record and
record_image: tgt keeps it in the volume's 0600 config file, an array in a tag), which makes a
second run a no-op without reading the LUN back.

Rules, each checked before anything is written:
- an image larger than the LUN is refused (with or without force);
- a LUN that holds a partition table, a file system or any other data in its first MiB is refused
  unless force, naming what was found; a write of the same image that this module started and did
  not finish (recorded as "writing") is resumed without force, so a failed run converges;
- the CHAP secret never reaches a command line, a file or a message: qemu-img reads it from a
  pipe (a `secret` object whose file is /dev/fd/N).

Plain Python: the unit tests import it directly; the module injects a runner.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

from ansible_collections.sanboot.iscsi.plugins.module_utils.naming import (
    ISCSI_TCP_PORT,
    NamingError,
    format_portal,
    format_size,
    normalize_iscsi_name,
    parse_portal,
    parse_root_path,
    validate_chap_pair,
    validate_lun,
)
from ansible_collections.sanboot.iscsi.plugins.module_utils.san.core import SanError, SanInputError, make_backend

# qemu-img's names of the formats it reads that make sense as disk images ("vpc" is VHD).
IMAGE_FORMATS = ("raw", "qcow2", "vhdx", "vpc", "vmdk", "qed", "vdi")
FORMAT_ALIASES = {"vhd": "vpc"}
HEAD_BYTES = 1024 * 1024  # where partition tables and file system signatures live
HEAD_BLOCK = 64 * 1024
DIGEST_ALGORITHM = "sha256"
RECORD_STATES = ("writing", "written")
SECRET_ID = "sanboot_chap"


class LunSpec:
    """Where to write: portal (server, port), target IQN, LUN."""

    def __init__(self, server, port, target_iqn, lun):
        self.server = server
        self.port = port
        self.target_iqn = target_iqn
        self.lun = lun

    @property
    def portal(self):
        return format_portal(self.server, self.port)

    def describe(self):
        return "LUN %d of %s at %s" % (self.lun, self.target_iqn, self.portal)

    def __repr__(self):
        return "LunSpec(%s)" % self.describe()


class ImageRequest:
    def __init__(self, image, image_format, lun, initiator_iqn, chap, mutual_chap, force):
        self.image = image
        self.image_format = image_format
        self.lun = lun
        self.initiator_iqn = initiator_iqn
        self.chap = chap
        self.mutual_chap = mutual_chap
        self.force = force

    def __repr__(self):
        # Never the secrets.
        return "ImageRequest(image=%r, format=%r, %r, initiator=%r, chap_user=%r, force=%r)" % (
            self.image, self.image_format, self.lun, self.initiator_iqn,
            self.chap["username"] if self.chap else None, self.force)


def _naming(option, function, *args, **kwargs):
    try:
        return function(*args, **kwargs)
    except NamingError as exc:
        message = str(exc)
        raise SanInputError(message if message.startswith(option) else "%s: %s" % (option, message)) from None


def request_from_params(params) -> ImageRequest:
    """Validate every option (nothing is read from the SAN before this passed)."""
    image = params.get("image")
    if not isinstance(image, str) or not image.strip():
        raise SanInputError("image: give the path of a disk image on the host the module runs on")
    image = os.path.abspath(os.path.expanduser(image.strip()))
    if not os.path.isfile(image):
        raise SanInputError("image: %s is not a file on this host (the image is read where the module runs)" % image)
    if not os.access(image, os.R_OK):
        raise SanInputError("image: %s cannot be read by this user" % image)

    image_format = params.get("image_format")
    if image_format is not None:
        image_format = FORMAT_ALIASES.get(image_format.lower(), image_format.lower())
        if image_format not in IMAGE_FORMATS:
            raise SanInputError("image_format: '%s' is not one of %s (qemu-img's names; vhd is vpc)"
                                % (params["image_format"], ", ".join(IMAGE_FORMATS)))

    root_path = params.get("root_path")
    by_parts = [option for option in ("portal", "target_iqn") if params.get(option)]
    if root_path and by_parts:
        raise SanInputError("root_path and %s are mutually exclusive: give the LUN as root_path, or as portal + "
                            "target_iqn (+ lun)" % " and ".join(by_parts))
    if root_path:
        parsed = _naming("root_path", parse_root_path, root_path)
        if params.get("lun") not in (None, parsed["lun"]):
            raise SanInputError("lun: %s differs from the LUN in root_path (%d); give one or the other"
                                % (params["lun"], parsed["lun"]))
        lun = LunSpec(parsed["server"], parsed["port"], parsed["target_iqn"], parsed["lun"])
    else:
        if not params.get("portal") or not params.get("target_iqn"):
            raise SanInputError("root_path, or portal and target_iqn, is required: where the image is written")
        server, port = _naming("portal", parse_portal, params["portal"])
        target_iqn = _naming("target_iqn", normalize_iscsi_name, params["target_iqn"])
        lun_number = 1 if params.get("lun") is None else params["lun"]
        lun = LunSpec(server, port or ISCSI_TCP_PORT, target_iqn, _naming("lun", validate_lun, lun_number))
    if lun.lun == 0:
        raise SanInputError("lun: 0 is the target's controller on tgt and the REPORT LUNS LUN elsewhere; data LUNs "
                            "start at 1")

    initiator = params.get("initiator_iqn")
    if not initiator:
        raise SanInputError("initiator_iqn: required: the initiator name the volume admits (its ACL)")
    initiator = _naming("initiator_iqn", normalize_iscsi_name, initiator)
    chap, mutual_chap = params.get("chap"), params.get("mutual_chap")
    try:
        validate_chap_pair(chap, mutual_chap)  # its messages name chap or mutual_chap themselves
    except NamingError as exc:
        raise SanInputError(str(exc)) from None
    return ImageRequest(image, image_format, lun, initiator, dict(chap) if chap else None,
                        dict(mutual_chap) if mutual_chap else None, bool(params.get("force")))


# --- what a LUN holds -------------------------------------------------------------------------

# (offset, bytes, what): file systems and containers recognised by their signatures.
SIGNATURES = (
    (3, b"NTFS    ", "an NTFS file system"),
    (3, b"EXFAT   ", "an exFAT file system"),
    (3, b"ReFS\x00", "a ReFS file system"),
    (3, b"-FVE-FS-", "a BitLocker volume"),
    (82, b"FAT32   ", "a FAT32 file system"),
    (54, b"FAT16   ", "a FAT16 file system"),
    (54, b"FAT12   ", "a FAT12 file system"),
    (0, b"XFSB", "an XFS file system"),
    (0, b"LUKS\xba\xbe", "a LUKS encrypted volume"),
    (1080, b"\x53\xef", "an ext2/3/4 file system"),
    (65600, b"_BHRfS_M", "a btrfs file system"),
    (512, b"LABELONE", "an LVM physical volume"),
    (4086, b"SWAPSPACE2", "a Linux swap area"),
    (32769, b"CD001", "an ISO 9660 file system"),
)


def describe_content(head: bytes):
    """What the first bytes of a LUN hold, in words, or None when they are all zero."""
    if len(head) >= 520 and head[512:520] == b"EFI PART":
        return "a GPT partition table"
    found = [what for offset, signature, what in SIGNATURES if head[offset:offset + len(signature)] == signature]
    if found:
        return found[0]
    if len(head) >= 512 and head[510:512] == b"\x55\xaa":
        entries = [head[446 + 16 * index:462 + 16 * index] for index in range(4)]
        partitions = ["type 0x%02x%s" % (entry[4], ", bootable" if entry[0] == 0x80 else "")
                      for entry in entries if entry[4] != 0]
        if partitions:
            plural = "" if len(partitions) == 1 else "s"
            return "an MBR partition table (%d partition%s: %s)" % (len(partitions), plural, "; ".join(partitions))
        return "a boot sector (MBR signature, no partitions)"
    if any(head):
        first = next(index for index, byte in enumerate(head) if byte)
        return "data of no known format (first non-zero byte at offset %d)" % first
    return None


# --- the image ----------------------------------------------------------------------------------

def file_digest(path, chunk=4 * 1024 * 1024) -> str:
    digest = hashlib.new(DIGEST_ALGORITHM)
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(chunk), b""):
            digest.update(block)
    return "%s:%s" % (DIGEST_ALGORITHM, digest.hexdigest())


def parse_image_info(text) -> dict:
    """qemu-img info --output=json -> {format, virtual_size}."""
    try:
        info = json.loads(text)
        return {"format": info["format"], "virtual_size": int(info["virtual-size"])}
    except (ValueError, KeyError, TypeError) as exc:
        raise SanError("qemu-img info gave no format and size: %s" % exc)


def valid_record(record):
    """An image record as a backend returns it, or None when it is missing or not one of ours."""
    if not isinstance(record, dict):
        return None
    if not re.match(r"^%s:[0-9a-f]{64}$" % DIGEST_ALGORITHM, str(record.get("digest", ""))):
        return None
    if record.get("state") not in RECORD_STATES or record.get("format") not in IMAGE_FORMATS:
        return None
    try:
        size = int(record.get("size_bytes"))
    except (TypeError, ValueError):
        return None
    return {"digest": record["digest"], "format": record["format"], "size_bytes": size, "state": record["state"]}


class Decision:
    """What to do: write (with the reason), or nothing, or refuse (a SanInputError message)."""

    def __init__(self, write, reason):
        self.write = write
        self.reason = reason


def decide(request, image, lun_size, record, content) -> Decision:
    """image: {digest, format, virtual_size}; record: valid_record() of the volume; content: describe_content()."""
    size_text = "%s (%d bytes)" % (format_size(image["virtual_size"]), image["virtual_size"])
    if image["virtual_size"] > lun_size:
        raise SanInputError("image: %s is %s, larger than %s (%s, %d bytes): grow the volume first (san_volume size)"
                            % (request.image, size_text, request.lun.describe(), format_size(lun_size), lun_size))
    same = record is not None and record["digest"] == image["digest"] and record["size_bytes"] == image["virtual_size"]
    if same and record["state"] == "written":
        return Decision(False, "%s already holds this image (%s, recorded with the volume)"
                        % (request.lun.describe(), image["digest"]))
    if same:
        return Decision(True, "resume: a write of this image onto %s did not finish" % request.lun.describe())
    if content is not None or record is not None:
        held = []
        if record is not None:
            held.append("image %s (%s, %s)" % (record["digest"], record["format"],
                                               "written" if record["state"] == "written" else "a write that did not finish"))
        if content is not None:
            held.append(content)
        if not request.force:
            raise SanInputError("force: %s already holds %s; set force: true to overwrite it with %s (its data is "
                                "lost)" % (request.lun.describe(), " and ".join(held), request.image))
        return Decision(True, "overwrite (force) %s, which held %s" % (request.lun.describe(), " and ".join(held)))
    return Decision(True, "%s is empty" % request.lun.describe())


# --- qemu-img through iSCSI -------------------------------------------------------------------

def iscsi_image_opts(request, with_secret=True) -> str:
    """The --image-opts string of the LUN. It names the secret object, never holds the secret."""
    options = ["driver=iscsi", "transport=tcp", "portal=%s" % request.lun.portal, "target=%s" % request.lun.target_iqn,
               "lun=%d" % request.lun.lun, "initiator-name=%s" % request.initiator_iqn]
    if request.chap and with_secret:
        options += ["user=%s" % request.chap["username"], "password-secret=%s" % SECRET_ID]
    for option in options:
        if "," in option.split("=", 1)[1]:
            raise SanInputError("%s: a ',' cannot be passed to qemu-img's option list" % option.split("=", 1)[0])
    return ",".join(options)


class QemuImg:
    """Runs qemu-img; CHAP secrets go through a pipe (secret object file=/dev/fd/N), never argv or disk."""

    def __init__(self, executable=None, timeout=None):
        self.executable = executable or shutil.which("qemu-img")
        self.timeout = timeout

    def _require(self):
        if not self.executable:
            raise SanError("qemu-img is not installed on this host (Debian: qemu-utils, and qemu-block-extra for "
                           "its iscsi driver); san_image runs qemu-img where the module runs")

    def _secret_arguments(self, request):
        """(arguments, fds to pass, fds to close) for the CHAP secret."""
        if not request.chap:
            return [], (), ()
        read_fd, write_fd = os.pipe()
        secret = request.chap["secret"].encode()
        if len(secret) > 4096:
            raise SanInputError("chap.secret: too long")
        os.write(write_fd, secret)
        os.close(write_fd)
        return ["--object", "secret,id=%s,file=/dev/fd/%d" % (SECRET_ID, read_fd)], (read_fd,), (read_fd,)

    def run(self, arguments, request=None, on_line=None):
        """Run qemu-img with arguments (the secret object first when request has CHAP); return stdout."""
        self._require()
        secret_args, pass_fds, close_fds = self._secret_arguments(request) if request is not None else ([], (), ())
        argv = [self.executable] + arguments[:1] + secret_args + arguments[1:]
        try:
            process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, pass_fds=pass_fds,
                                       env=dict(os.environ, LC_ALL="C", LANG="C"))
        finally:
            for descriptor in close_fds:
                os.close(descriptor)
        output = []
        if on_line is not None:
            # qemu-img -p rewrites one line with carriage returns: split on both.
            buffer = b""
            while True:
                chunk = process.stdout.read1(4096) if hasattr(process.stdout, "read1") else process.stdout.read(4096)
                if not chunk:
                    break
                buffer += chunk
                parts = re.split(rb"[\r\n]", buffer)
                buffer = parts.pop()
                for part in parts:
                    if part.strip():
                        output.append(part.decode(errors="replace"))
                        on_line(output[-1])
            stderr = process.stderr.read()
            process.wait()
        else:
            stdout, stderr = process.communicate(timeout=self.timeout)
            output.append(stdout.decode(errors="replace"))
        if process.returncode:
            raise SanError(explain_qemu_error(stderr.decode(errors="replace"), request))
        return "\n".join(output)

    def image_info(self, path, image_format=None):
        arguments = ["info", "--output=json"] + (["-f", image_format] if image_format else []) + [path]
        return parse_image_info(self.run(arguments))

    def lun_size(self, request):
        return parse_image_info(self.run(["info", "--output=json", "--image-opts", iscsi_image_opts(request)],
                                         request))["virtual_size"]

    def read_head(self, request, size):
        """The first size bytes of the LUN (size a multiple of HEAD_BLOCK), via a private temporary file."""
        directory = tempfile.mkdtemp(prefix="sanboot-image-")
        try:
            target = os.path.join(directory, "head")
            self.run(["dd", "--image-opts", "-O", "raw", "bs=%d" % HEAD_BLOCK, "count=%d" % (size // HEAD_BLOCK),
                      "if=%s" % iscsi_image_opts(request), "of=%s" % target], request)
            with open(target, "rb") as stream:
                return stream.read()
        finally:
            shutil.rmtree(directory, ignore_errors=True)

    def write(self, request, image_format, on_line=None):
        # -n: the LUN exists; -p: progress; the target is raw data on the LUN.
        self.run(["convert", "-n", "-p", "-f", image_format, request.image, "--target-image-opts",
                  iscsi_image_opts(request)], request, on_line=on_line or (lambda _line: None))


def explain_qemu_error(stderr, request) -> str:
    """qemu-img's message, with what it means for a SAN login; never a secret."""
    text = " ".join(stderr.split())
    if request is not None and request.chap:
        text = text.replace(request.chap["secret"], "********")
    hints = []
    if "Authentication failure" in text or "CHAP" in text:
        hints.append("the target refused the CHAP credentials (chap.username/chap.secret)")
    if "Target not found" in text or "Failed to login" in text and "not found" in text:
        hints.append("the target does not admit initiator %s, or has no target %s (initiator_iqn, target_iqn)"
                     % (request.initiator_iqn, request.lun.target_iqn) if request is not None else "")
    if "Connection refused" in text or "connect" in text.lower() and "fail" in text.lower():
        hints.append("nothing answers at the portal %s" % request.lun.portal if request is not None else "")
    if "Unknown driver 'iscsi'" in text or "Unknown protocol" in text:
        hints.append("qemu-img has no iscsi driver here: install qemu-block-extra (Debian)")
    return "qemu-img failed: %s%s" % (text or "no message", "; " + "; ".join(hint for hint in hints if hint)
                                      if any(hints) else "")


# --- running ------------------------------------------------------------------------------------

class ProgressLog:
    """qemu-img's progress, kept at every 10% with the elapsed time (returned; shown with -v)."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.started = clock()
        self.lines = []
        self._next = 0

    def __call__(self, line):
        match = re.search(r"\((\d+(?:\.\d+)?)/100%\)", line)
        if not match:
            return
        percent = float(match.group(1))
        if percent >= self._next or percent >= 100:
            self.lines.append("%3.0f%% after %.1f s" % (percent, self.clock() - self.started))
            self._next = (int(percent) // 10 + 1) * 10


def find_volume(backend, request):
    """The managed volume whose target and LUN the request names, or SanInputError."""
    for volume in backend.list():
        if volume.target_iqn == request.lun.target_iqn and volume.lun == request.lun.lun:
            return volume
    raise SanInputError("target_iqn: the %s backend has no volume with target %s and LUN %d; san_image records what "
                        "it wrote with the volume, so create it with sanboot.iscsi.san_volume first (or point backend "
                        "and its connection options at the SAN that holds it)"
                        % (backend.name, request.lun.target_iqn, request.lun.lun))


def run_image(backends, params, run_command, warn, check_mode, qemu=None):
    """Everything san_image does. Returns the result dict; raises SanError."""
    request = request_from_params(params)
    qemu = qemu or QemuImg()
    backend = make_backend(backends, params, run_command, warn)
    try:
        backend.validate(None, params)
        volume = find_volume(backend, request)
        try:
            info = qemu.image_info(request.image, request.image_format)
        except SanError as exc:
            if request.image_format is None:
                raise
            raise SanInputError("image_format: %s cannot be read as %s (%s)" % (request.image, request.image_format,
                                                                                str(exc).replace("qemu-img failed: ", "")))
        if request.image_format and info["format"] != request.image_format:
            raise SanInputError("image_format: %s is %s, not %s" % (request.image, info["format"], request.image_format))
        image = {"digest": file_digest(request.image), "format": info["format"], "virtual_size": info["virtual_size"]}
        if request.mutual_chap:
            warn("mutual_chap: qemu-img (QEMU's iscsi driver) cannot check the target's credentials, so the image is "
                 "written after one-way CHAP only; the volume keeps mutual CHAP for its servers")
        lun_size = qemu.lun_size(request)
        if not check_mode:
            # Held until close: the record read here is the one the write replaces. Other SAN module
            # runs against the same target wait while the image is written.
            backend.lock()
        record = valid_record(backend.image_record(volume))
        head_size = min(HEAD_BYTES, lun_size // HEAD_BLOCK * HEAD_BLOCK)
        needs_look = not (record is not None and record["digest"] == image["digest"] and record["state"] == "written")
        content = describe_content(qemu.read_head(request, head_size)) if needs_look and head_size else None
        decision = decide(request, image, lun_size, record, content)
        result = {"changed": decision.write, "digest": image["digest"], "format": image["format"],
                  "bytes_written": 0, "image_size_bytes": image["virtual_size"], "lun_size_bytes": lun_size,
                  "volume": volume.name, "actions": [], "seconds": 0.0, "progress": []}
        if not decision.write:
            result["msg"] = decision.reason
            return result
        action = "write %s (%s, %s, %s) onto %s: %s" % (
            request.image, image["format"], format_size(image["virtual_size"]), image["digest"], request.lun.describe(),
            decision.reason)
        result["actions"].append(action)
        if check_mode:
            result["msg"] = "would " + action
            return result
        new_record = {"digest": image["digest"], "format": image["format"], "size_bytes": image["virtual_size"]}
        # Recorded as "writing" first: a run that dies half-way leaves a record that lets the next run
        # finish the job without force, and never a LUN that claims to hold an image it does not.
        backend.record_image(volume, dict(new_record, state="writing"))
        progress = ProgressLog()
        started = time.monotonic()
        qemu.write(request, image["format"], on_line=progress)
        result["seconds"] = round(time.monotonic() - started, 2)
        backend.record_image(volume, dict(new_record, state="written"))
        result.update(bytes_written=image["virtual_size"], progress=progress.lines,
                      msg="wrote %s (%d bytes) onto %s in %.1f s (%s)" % (
                          image["format"], image["virtual_size"], request.lun.describe(), result["seconds"],
                          decision.reason))
        return result
    finally:
        backend.close()
