# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""tgtd's control socket, spoken directly for the one request that carries a secret (see TgtControl)."""

from __future__ import annotations

import errno
import socket
import struct

from ansible_collections.sanboot.iscsi.plugins.module_utils.san.core import SanError

CONTROL_SOCKET = "/var/run/tgtd/socket.%d"


# --- tgtd's control socket ----------------------------------------------------------------------

class TgtControl:
    """tgtadm's request to tgtd over the control socket, for the one request that carries a secret.

    tgtadm would put the password on its command line, readable by every local user. The wire
    format (tgt 1.0.x, usr/tgtadm.h): a 120-byte struct tgtadm_req, then 'key=value,...\\0';
    the answer is struct tgtadm_rsp {err, len} and len - 8 bytes of text. It is checked with a
    harmless 'show system' request before a secret is sent.
    """

    HEADER = struct.Struct("<ii64sIiQQIIIIII")
    RESPONSE = struct.Struct("<II")
    MODE_SYSTEM, MODE_ACCOUNT = 0, 7
    OP_NEW, OP_SHOW = 0, 2
    ERRORS = {4: "no such target", 14: "the account already exists", 15: "no such account", 16: "too many accounts",
              17: "invalid request", 23: "unknown parameter"}

    def __init__(self, control_port):
        self.path = CONTROL_SOCKET % control_port
        self.checked = False

    @classmethod
    def encode(cls, mode, op, params=""):
        """The bytes tgtadm sends: header (mode, op, lld, length, tid -1, sid 0, lun ~0, zeros), then params."""
        payload = params.encode("utf-8") + b"\0" if params else b""
        header = cls.HEADER.pack(mode, op, b"iscsi", cls.HEADER.size + len(payload), -1, 0, 2 ** 64 - 1,
                                 0, 0, 0, 0, 0, 0)
        return header + payload

    def request(self, mode, op, params=""):
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            connection.settimeout(30)
            connection.connect(self.path)
            connection.sendall(self.encode(mode, op, params))
            answer = self._receive(connection, self.RESPONSE.size)
            error, length = self.RESPONSE.unpack(answer)
            text = self._receive(connection, length - self.RESPONSE.size) if length > self.RESPONSE.size else b""
        finally:
            connection.close()
        return error, text.decode("utf-8", "replace")

    @staticmethod
    def _receive(connection, size):
        data = b""
        while len(data) < size:
            chunk = connection.recv(size - len(data))
            if not chunk:
                raise OSError(errno.ECONNRESET, "tgtd closed the control connection")
            data += chunk
        return data

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
