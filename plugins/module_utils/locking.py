# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Exclusive file locks that wait a bounded time and say who holds them.

The SAN lock (one per tgtd) and the DHCP writer lock (one per DHCP server) are both flock(2)
locks on a file. The holder writes one line into the file once it holds the lock (its process
id, what it does, since when, UTC), so that a run that gives up after `wait` seconds can name
what it waited for instead of hanging, or failing without a reason.
"""

from __future__ import annotations

import errno
import os
import time

try:
    import fcntl
    HAS_FCNTL = True
except ImportError:  # Windows controllers: callers skip locking there
    HAS_FCNTL = False

POLL = 0.05


class LockTimeout(Exception):
    """The lock stayed taken for the whole wait. str() describes the holder."""


def acquire(path: str, wait: float, purpose: str) -> int:
    """Take an exclusive lock on path (created 0600, never through a symlink); return its descriptor.

    Raises LockTimeout, whose text names the holder, when the lock stays taken for `wait` seconds.
    """
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                os.close(descriptor)
                raise
        if time.monotonic() >= deadline:
            holder = describe_holder(descriptor)
            os.close(descriptor)
            raise LockTimeout(holder)
        time.sleep(POLL)
    line = "pid %d (%s) since %s UTC\n" % (os.getpid(), purpose, time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()))
    os.ftruncate(descriptor, 0)
    os.pwrite(descriptor, line.encode("utf-8", "replace"), 0)
    return descriptor


def release(descriptor: int) -> None:
    fcntl.flock(descriptor, fcntl.LOCK_UN)
    os.close(descriptor)


def describe_holder(descriptor: int) -> str:
    """The holder's line ("pid N (what) since T UTC"), or a plain sentence when it wrote none."""
    try:
        text = os.pread(descriptor, 512, 0).decode("utf-8", "replace").strip().splitlines()
    except OSError:
        text = []
    if not text:
        return "a process that did not say what it is"
    line = text[0]
    if line.startswith("pid "):
        pid = line.split()[1]
        if pid.isdigit() and not os.path.exists("/proc/%s" % pid) and os.path.isdir("/proc/self"):
            line += ", whose process is gone (a child it started may still hold the lock)"
    return line
