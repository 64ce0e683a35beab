# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.sanboot.iscsi.plugins.test.iqn import TestModule as IqnTests

iqn = IqnTests().tests()["iqn"]


@pytest.mark.parametrize("value", ["iqn.1991-05.com.microsoft:win-boot01", "IQN.2026-11.TEST:Boot1", "iqn.2001-05.com.example"])
def test_valid_iqns(value):
    assert iqn(value) is True


@pytest.mark.parametrize("value", [
    "boot01", "eui.02004567a425678d", "naa.52004567ba64678d", "iqn.2001-13.com.example:x", "iqn.2001-05.com.example:a_b",
    "", None, 42, ["iqn.2001-05.com.example:x"],
])
def test_everything_else_is_false_never_an_exception(value):
    assert iqn(value) is False
