# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Cloning a backing file: copy-on-write (reflink) where the file system shares extents, otherwise a
sparse copy that writes only the data regions."""

from __future__ import annotations

import errno
import fcntl
import os


# --- cloning ------------------------------------------------------------------------------------

FICLONE = 0x40049409  # _IOW(0x94, 9, int): share the source's extents (XFS with reflink, btrfs)
SEEK_DATA = getattr(os, "SEEK_DATA", 3)
SEEK_HOLE = getattr(os, "SEEK_HOLE", 4)
COPY_CHUNK = 1024 * 1024


def clone_file(source, destination) -> str:
    """Copy source to a new file destination (never an existing one), mode 0600.

    Copy-on-write (reflink) where the filesystem shares extents; otherwise a sparse copy that
    writes only the data regions (holes and all-zero blocks stay holes). Returns 'reflink' or
    'sparse copy'.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    source_fd = os.open(source, os.O_RDONLY)
    try:
        destination_fd = os.open(destination, flags, 0o600)
        try:
            try:
                fcntl.ioctl(destination_fd, FICLONE, source_fd)
                method = "reflink"
            except OSError as exc:
                if exc.errno not in (errno.EOPNOTSUPP, errno.ENOTTY, errno.EXDEV, errno.EINVAL, errno.ENOSYS,
                                     errno.EPERM):
                    raise
                _sparse_copy(source_fd, destination_fd)
                method = "sparse copy"
            os.fsync(destination_fd)
        except BaseException:
            os.close(destination_fd)
            os.unlink(destination)
            raise
        os.close(destination_fd)
    finally:
        os.close(source_fd)
    return method


def _sparse_copy(source_fd, destination_fd):
    size = os.fstat(source_fd).st_size
    zero = bytes(COPY_CHUNK)
    offset = 0
    while offset < size:
        try:
            data_start = os.lseek(source_fd, offset, SEEK_DATA)
        except OSError as exc:
            if exc.errno == errno.ENXIO:  # only a hole is left
                break
            raise
        data_end = os.lseek(source_fd, data_start, SEEK_HOLE)
        position = data_start
        while position < data_end:
            chunk = os.pread(source_fd, min(COPY_CHUNK, data_end - position), position)
            if not chunk:
                break
            if chunk != zero[:len(chunk)]:
                os.pwrite(destination_fd, chunk, position)
            position += len(chunk)
        offset = data_end
    os.ftruncate(destination_fd, size)
