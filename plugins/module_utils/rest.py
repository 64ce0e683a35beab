# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""What the REST clients built on requests (the Kea control agent, the FlashArray) say about a URL and a
failed connection: never a credential, and the reason in a few words instead of urllib3's whole chain."""

from __future__ import annotations

import re


def display_url(url) -> str:
    """The URL without any user:password@ part."""
    return re.sub(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@]*@", r"\1", str(url))


def short_reason(exc) -> str:
    """Why a request could not be made, from the exception requests raised."""
    text = str(exc)
    verify = re.search(r"certificate verify failed: ([^(]*?)\s*\(_ssl", text)
    if verify:
        return "certificate verify failed: %s" % verify.group(1)
    for needle, reason in (("Connection refused", "connection refused"),
                           ("Name or service not known", "host name not known"),
                           ("Temporary failure in name resolution", "host name could not be resolved"),
                           ("No route to host", "no route to host"),
                           ("Network is unreachable", "network unreachable"),
                           ("Connection reset by peer", "connection reset by peer"),
                           ("timed out", "timed out")):
        if needle in text:
            return reason
    return text[:300]
