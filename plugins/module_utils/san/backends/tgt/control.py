# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""tgtd's control socket: the requests tgtadm sends, sent directly.

tgtadm is a thin client: it turns its command line into one request on tgtd's control socket
(/var/run/tgtd/socket.<control port>, root only) and prints the answer. This module sends the same
requests itself, for two reasons:

- secrets: tgtadm takes a CHAP password only on its command line, which every local user can read in
  /proc/<pid>/cmdline; over the socket it is never on a command line;
- scale: a rack of volumes is thousands of requests, and a process per request (fork, exec, tgtadm's
  own start) costs far more than the request itself.

The wire format (tgt 1.0.x, usr/tgtadm.h): a 120-byte struct tgtadm_req {mode, op, lld[64], len, tid,
sid, lun, cid, host_no, device_type, ac_dir, pack, force}, then the parameters as 'key=value,...\\0';
the answer is struct tgtadm_rsp {err, len} and len - 8 bytes of text (what tgtadm prints). Every
request this module sends was captured from tgtadm 1.0.85 for the same command line and is checked
byte for byte in the unit tests (fixtures/tgt/tgtadm_requests.json), and the errors read as tgtadm
prints them (tgtadm_strerror).
"""

from __future__ import annotations

import errno
import socket
import struct

from ansible_collections.sanboot.iscsi.plugins.module_utils.san.core import SanError

CONTROL_SOCKET = "/var/run/tgtd/socket.%d"

# tgtadm.h: enum tgtadm_mode, enum tgtadm_op; tgtadm --mode and --op names.
MODES = {"system": 0, "target": 1, "logicalunit": 2, "portal": 3, "lld": 4, "session": 5, "connection": 6, "account": 7}
OPS = {"new": 0, "delete": 1, "show": 2, "bind": 3, "unbind": 4, "update": 5, "stats": 6, "start": 7, "stop": 8}
ALL = 2 ** 64 - 1  # tgtadm's "no LUN given"
NO_TID = -1
# tgtadm_error.h: enum tgtadm_errno, with tgtadm's own words (tgtadm_strerror in tgtadm.c).
ERRORS = {
    1: "unknown error", 2: "out of memory", 3: "can't find the driver", 4: "can't find the target",
    5: "can't find the logical unit", 6: "can't find the session", 7: "can't find the connection",
    8: "can't find the binding", 9: "this target already exists", 10: "this binding already exists",
    11: "this logical unit number already exists", 12: "this access control rule already exists",
    13: "this access control rule does not exist", 14: "this account already exists", 15: "can't find the account",
    16: "too many accounts", 17: "invalid request", 18: "this target already has an outgoing account",
    19: "this target is still active", 20: "this logical unit is still active", 21: "this driver is busy",
    22: "this operation isn't supported", 23: "unknown parameter", 24: "this device has Prevent Removal set",
}
# tgtadm exits 22 (EINVAL) for every error tgtd answers with.
TGTADM_EXIT = 22


class TgtRequestError(SanError):
    """tgtd answered a request with an error. `code` is tgtd's (tgtadm_errno), str() is tgtadm's message."""

    def __init__(self, message, code):
        super().__init__(message)
        self.code = code


def request_from_argv(arguments):
    """tgtadm's command line after `--lld iscsi` -> (mode, op, params, fields), as tgtadm 1.0.85 sends it.

    Only what this collection uses: targets (new, delete [--force], bind/unbind an initiator name or
    address, show), logical units (new with a backing store, delete, update --params), accounts (new,
    delete, bind/unbind [--outgoing], show), portals and the system (show)."""
    options = {}
    flags = set()
    words = [str(word) for word in arguments]
    position = 0
    while position < len(words):
        word = words[position]
        if word in ("--outgoing", "--force"):
            flags.add(word[2:])
            position += 1
            continue
        if position + 1 >= len(words):
            raise ValueError("tgtadm option %s has no value" % word)
        options[{"-T": "--targetname", "-b": "--backing-store", "-I": "--initiator-address"}.get(word, word)] = \
            words[position + 1]
        position += 2
    mode, op = MODES[options.pop("--mode")], OPS[options.pop("--op")]
    fields = {"tid": int(options.pop("--tid", NO_TID)), "lun": int(options.pop("--lun", ALL)),
              "ac_dir": 1 if "outgoing" in flags else 0, "force": 1 if "force" in flags else 0}
    parameters = []
    for option, key in (("--targetname", "targetname"), ("--backing-store", "path"),
                        ("--initiator-name", "initiator-name"), ("--initiator-address", "initiator-address"),
                        ("--user", "user"), ("--password", "password")):
        if option in options:
            parameters.append("%s=%s" % (key, options.pop(option)))
    params = ",".join(parameters)
    if "--params" in options:
        # tgtadm hands update parameters to the target driver as "targetOps <params>,".
        params = "targetOps %s," % options.pop("--params")
    if options:
        raise ValueError("tgtadm options %s are not supported here" % ", ".join(sorted(options)))
    return mode, op, params, fields


class TgtControl:
    """Requests to tgtd over its control socket, each one what tgtadm would send."""

    HEADER = struct.Struct("<ii64sIiQQIIIIII")
    RESPONSE = struct.Struct("<II")
    MODE_SYSTEM, MODE_ACCOUNT = MODES["system"], MODES["account"]
    OP_NEW, OP_SHOW = OPS["new"], OPS["show"]
    ERRORS = ERRORS

    def __init__(self, control_port):
        self.control_port = control_port
        self.path = CONTROL_SOCKET % control_port
        self.checked = False

    @classmethod
    def encode(cls, mode, op, params="", tid=NO_TID, lun=ALL, ac_dir=0, force=0):
        """The bytes tgtadm sends: the header (mode, op, lld, length, tid, sid 0, lun, zeros, ac_dir, pack 0,
        force), then the parameters with their terminating NUL."""
        payload = params.encode("utf-8") + b"\0" if params else b""
        header = cls.HEADER.pack(mode, op, b"iscsi", cls.HEADER.size + len(payload), tid, 0, lun,
                                 0, 0, 0, ac_dir, 0, force)
        return header + payload

    def request(self, mode, op, params="", **fields):
        """Send one request; return (tgtd's error code, the answer's text). Raises OSError when tgtd is not there."""
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            connection.settimeout(30)
            connection.connect(self.path)
            connection.sendall(self.encode(mode, op, params, **fields))
            answer = self._receive(connection, self.RESPONSE.size)
            error, length = self.RESPONSE.unpack(answer)
            text = self._receive(connection, length - self.RESPONSE.size) if length > self.RESPONSE.size else b""
        finally:
            connection.close()
        # The text ends with a NUL, where tgtadm's printf("%s") of it stops.
        return error, text.split(b"\0", 1)[0].decode("utf-8", "replace")

    @staticmethod
    def _receive(connection, size):
        chunks = []
        received = 0
        while received < size:
            chunk = connection.recv(min(size - received, 1 << 20))
            if not chunk:
                raise OSError(errno.ECONNRESET, "tgtd closed the control connection")
            chunks.append(chunk)
            received += len(chunk)
        return b"".join(chunks)

    def run(self, *arguments):
        """What `tgtadm -C <port> --lld iscsi <arguments>` does: the answer's text, or TgtRequestError with
        tgtadm's message; SanError naming the control port when tgtd does not answer. Never used for a
        request that carries a secret in an error message (only new_account carries one, and it says nothing
        of it)."""
        mode, op, params, fields = request_from_argv(arguments)
        command = "tgtadm %s" % " ".join(str(word) for word in arguments[:4])
        try:
            error, text = self.request(mode, op, params, **fields)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ECONNREFUSED, errno.ENOTCONN, errno.ECONNRESET, errno.EPIPE):
                raise SanError("tgtd is not running, or not on control port %d (tgt_control_port): can't connect to %s: "
                               "%s" % (self.control_port, self.path, exc.strerror or exc)) from None
            raise SanError("%s failed: %s (%s)" % (command, exc.strerror or exc, self.path)) from None
        if error:
            raise TgtRequestError("%s failed (exit %d): %s" % (command, TGTADM_EXIT, ERRORS.get(error, "error %d" % error)),
                                  error)
        return text

    def check(self):
        if self.checked:
            return
        try:
            error, text = self.request(self.MODE_SYSTEM, self.OP_SHOW)
        except OSError as exc:
            raise SanError("cannot talk to tgtd on its control socket %s: %s" % (self.path, exc.strerror or exc))
        if error or not text.startswith("System:"):
            raise SanError("tgtd's control socket %s does not answer as tgt 1.0.x does (error %d); refusing to send a CHAP "
                           "secret over it" % (self.path, error))
        self.checked = True

    def new_account(self, username, secret):
        self.check()
        try:
            error, _text = self.request(self.MODE_ACCOUNT, self.OP_NEW, "user=%s,password=%s" % (username, secret))
        except OSError as exc:
            raise SanError("creating the CHAP account %s failed: %s" % (username, exc.strerror or exc))
        if error:
            raise SanError("tgtd refused to create the CHAP account %s: %s" % (username, self.ERRORS.get(error, "error %d" % error)))
