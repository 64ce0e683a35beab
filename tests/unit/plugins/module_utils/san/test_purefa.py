# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The purefa backend, imported directly and run through the SAN core against the FlashArray test double.

The double (tests/labkit/purefa.py) serves HTTPS on 127.0.0.1 and validates every request the backend
sends and every response it reads against Pure's FA2.56 API description; the `array` fixture fails
the test if any violated it.
"""

from __future__ import annotations

import pytest

import labkit
from labkit import purefa

from ansible_collections.sanboot.iscsi.plugins.module_utils.san.backends.purefa.backend import (
    TAG_NAMESPACE,
    PureFlashArrayBackend,
    chap_hash,
    chap_hash_matches,
)
from ansible_collections.sanboot.iscsi.plugins.module_utils.san.backends.purefa.client import PureClient
from ansible_collections.sanboot.iscsi.plugins.module_utils.san.core import SanError, SanInputError, run_info, run_volume

BACKENDS = {"purefa": PureFlashArrayBackend}
IQN = "iqn.1991-05.com.microsoft:winboot01"
SECRET, SECRET_NEW, MUTUAL = "PfaSecretAa123", "PfaSecretBb456", "PfaMutualCc789"
CHAP = {"username": "winboot01", "secret": SECRET}


@pytest.fixture(scope="module")
def double():
    with labkit.Cleanup() as cleanup:
        yield purefa.start_array(cleanup, labkit.make_workdir(cleanup))


@pytest.fixture
def array(double):
    double.volumes.clear(), double.hosts.clear(), double.connections.clear(), double.snapshots.clear()
    double.sessions.clear(), double.violations.clear(), double.requests.clear()
    yield double
    assert double.violations == [], "requests or responses outside the API description"
    assert double.tokens == {}, "a session was left logged in"


def params(array, **options):
    values = {"backend": "purefa", "api_url": array.url, "api_token": array.api_token, "ca_path": str(array.ca_path),
              "validate_certs": True, "timeout": 10, "state": "present", "lun": 1, "force": False,
              "remove_data": False}
    values.update(options)
    return values


def run(array, check_mode=False, warnings=None, **options):
    return run_volume(BACKENDS, params(array, **options), None, (warnings if warnings is not None else []).append,
                      check_mode)


def test_chap_hash_is_salted_and_matches_only_its_own_credential():
    first, second = chap_hash("user", SECRET), chap_hash("user", SECRET)
    assert first != second and SECRET not in first
    assert first.startswith("pbkdf2-sha256$100000$") and len(first) <= 256
    assert chap_hash_matches(first, "user", SECRET) and chap_hash_matches(second, "user", SECRET)
    assert not chap_hash_matches(first, "user", SECRET_NEW)
    assert not chap_hash_matches(first, "other", SECRET)
    for broken in ("", "pbkdf2-sha256$x$y$z", "md5$1$a$b", None, "pbkdf2-sha256$1$AAAA$AAAA"):
        assert not chap_hash_matches(broken, "user", SECRET)


def test_create_maps_volume_host_and_connection_and_a_rerun_changes_nothing(array):
    options = dict(name="winboot01", size="1000000", initiators=[IQN.upper()], chap=CHAP,
                   mutual_chap={"username": "array01", "secret": MUTUAL}, lun=3)
    created = run(array, **options)
    assert created["changed"] is True
    volume = created["volume"]
    # 1,000,000 bytes rounded up to whole 512-byte sectors, as the array requires.
    assert array.volumes["winboot01"]["provisioned"] == volume["size_bytes"] == 1000448
    assert array.hosts["winboot01"]["iqns"] == [IQN]
    assert array.connections == [{"host": "winboot01", "volume": "winboot01", "lun": 3}]
    assert volume["target_iqn"] == array.target_iqn and volume["lun"] == 3
    assert volume["portal"] == "192.0.2.10:3260"
    assert volume["root_path"] == "iscsi:192.0.2.10:6:3260:3:%s" % array.target_iqn
    assert (volume["chap_username"], volume["mutual_chap_username"], volume["path"]) == ("winboot01", "array01", None)
    # The salted hashes are in the host's tags, never a secret.
    tags = array.hosts["winboot01"]["tags"]
    assert array.volumes["winboot01"]["tags"] == {(TAG_NAMESPACE, "volume"): ("winboot01", False)}
    assert tags[(TAG_NAMESPACE, "managed")] == ("true", False)
    assert chap_hash_matches(tags[(TAG_NAMESPACE, "chap")][0], "winboot01", SECRET)
    assert chap_hash_matches(tags[(TAG_NAMESPACE, "mutual-chap")][0], "array01", MUTUAL)
    assert SECRET not in repr(tags) and MUTUAL not in repr(tags)
    before = array.snapshot()
    rerun = dict(options)
    rerun["size"] = "999999"
    again = run(array, **rerun)
    assert again["changed"] is False and again["actions"] == []
    assert array.snapshot() == before
    # Only reads on a rerun.
    assert {method for method, _path, _query in array.requests[-12:]} <= {"GET", "POST"}
    info = run_info(BACKENDS, params(array, name=None), None, [].append)
    assert info["volumes"] == [again["volume"]]


def test_chap_rotation_removal_and_a_missing_tag_are_changes(array):
    run(array, name="winboot01", size="1G", initiators=[IQN], chap=CHAP)
    rotated = run(array, name="winboot01", size="1G", initiators=[IQN], chap=dict(CHAP, secret=SECRET_NEW))
    assert rotated["changed"] is True
    assert array.hosts["winboot01"]["chap"]["host_password"] == SECRET_NEW
    assert run(array, name="winboot01", size="1G", initiators=[IQN], chap=dict(CHAP, secret=SECRET_NEW))["changed"] is False
    # A tag lost on the array: the secret cannot be compared, so it is set again, once.
    del array.hosts["winboot01"]["tags"][(TAG_NAMESPACE, "chap")]
    lost = run(array, name="winboot01", size="1G", initiators=[IQN], chap=dict(CHAP, secret=SECRET_NEW))
    assert lost["changed"] is True and "cannot be read back" in lost["actions"][0]
    assert run(array, name="winboot01", size="1G", initiators=[IQN], chap=dict(CHAP, secret=SECRET_NEW))["changed"] is False


def test_grow_never_shrinks_and_check_mode_changes_nothing(array):
    run(array, name="winboot01", size="64M", initiators=[IQN])
    before = array.snapshot()
    checked = run(array, check_mode=True, name="winboot01", size="128M", initiators=[IQN, "iqn.2026-11.test:other"])
    assert checked["changed"] is True and array.snapshot() == before
    with pytest.raises(SanInputError, match=r"^size: 32MiB .* volumes only grow, never shrink"):
        run(array, name="winboot01", size="32M", initiators=[IQN])
    grown = run(array, name="winboot01", size="128M", initiators=[IQN])
    assert grown["changed"] is True and array.volumes["winboot01"]["provisioned"] == 128 * 1024 * 1024


def test_a_host_registered_under_another_name_is_adopted_when_safe(array):
    array.seed_host("SRV-WINBOOT01", [IQN.upper()])
    warnings = []
    made = run(array, warnings=warnings, name="winboot01", size="1G", initiators=[IQN], chap=CHAP)
    assert made["changed"] is True
    assert "winboot01" not in array.hosts
    assert array.connections == [{"host": "SRV-WINBOOT01", "volume": "winboot01", "lun": 1}]
    assert array.hosts["SRV-WINBOOT01"]["chap"]["host_password"] == SECRET
    assert warnings and "host 'SRV-WINBOOT01' on the array already registers" in warnings[0]
    assert run(array, name="winboot01", size="1G", initiators=[IQN], chap=CHAP)["changed"] is False


def test_volumes_of_one_server_share_its_host_with_their_own_luns(array):
    run(array, name="winboot01", size="1G", initiators=[IQN], chap=CHAP)
    warnings = []
    data = run(array, warnings=warnings, name="winboot01-data", size="2G", initiators=[IQN], chap=CHAP, lun=2)
    assert data["changed"] is True and warnings == []
    assert sorted((c["host"], c["volume"], c["lun"]) for c in array.connections) == [
        ("winboot01", "winboot01", 1), ("winboot01", "winboot01-data", 2)]
    with pytest.raises(SanInputError, match=r"^lun: host 'winboot01' already sees volume 'winboot01' as LUN 1"):
        run(array, name="winboot01-more", size="1G", initiators=[IQN], chap=CHAP)
    # Left out, CHAP stays as the host has it: a third volume of the server does not take it from the others.
    before = array.hosts["winboot01"]["chap"]
    third = run(array, name="winboot01-more", size="1G", initiators=[IQN], lun=3)
    assert third["changed"] is True and third["volume"]["chap_username"] == "winboot01"
    assert array.hosts["winboot01"]["chap"] == before
    assert run(array, name="winboot01-more", size="1G", initiators=[IQN], lun=3, chap=CHAP)["changed"] is False
    run(array, name="winboot01-more", state="absent")
    # CHAP is the host's: a change for one volume is a change for the server, and the run says so.
    rotated = run(array, warnings=warnings, name="winboot01-data", size="2G", initiators=[IQN], lun=2,
                  chap=dict(CHAP, secret=SECRET_NEW))
    assert rotated["changed"] is True
    assert warnings and "also serves volume 'winboot01'" in warnings[0]
    run(array, name="winboot01-data", state="absent")
    assert "winboot01" in array.hosts  # still serving winboot01
    info = run_info(BACKENDS, params(array, name=None), None, [].append)
    assert [volume["name"] for volume in info["volumes"]] == ["winboot01"]


def test_a_host_that_is_not_safe_to_adopt_is_refused_naming_it(array):
    array.seed_host("shared", [IQN, "iqn.2026-11.test:second"])
    before = array.snapshot()
    with pytest.raises(SanInputError, match=r"^initiators: host 'shared' on the array registers iqn.2026-11.test:second too"):
        run(array, name="winboot01", size="1G", initiators=[IQN])
    array.hosts["shared"]["iqns"] = [IQN]
    array.seed_volume("data", 1024, connect_to="shared")
    before = array.snapshot()
    with pytest.raises(SanInputError, match=r"is connected to volumes that sanboot.iscsi does not manage \(data\)"):
        run(array, name="winboot01", size="1G", initiators=[IQN])
    assert array.snapshot() == before


def test_clone_uses_the_array_copy_and_absent_respects_sessions(array):
    run(array, name="golden", size="1G", initiators=["iqn.2026-11.test:imager"])
    cloned = run(array, name="winboot01", clone_from="golden", size="2G", initiators=[IQN])
    assert cloned["clone_method"] == "array copy"
    assert array.volumes["winboot01"]["source"]["name"] == "golden"
    assert array.volumes["winboot01"]["provisioned"] == 2 * 1024 ** 3
    # A snapshot of the golden volume (volume.suffix) is a clone source too.
    array._post_volume_snapshots({"source_names": ["golden"]}, {"suffix": "sysprep"})
    from_snapshot = run(array, name="winboot02", clone_from="golden.sysprep", initiators=["iqn.2026-11.test:two"])
    assert from_snapshot["clone_method"] == "array copy"
    assert array.volumes["winboot02"]["source"]["name"] == "golden.sysprep"
    with pytest.raises(SanInputError, match=r"^clone_from: there is no snapshot 'golden.nosuch' on the array"):
        run(array, name="winboot03", clone_from="golden.nosuch", initiators=["iqn.2026-11.test:three"])
    array.add_session(IQN)
    with pytest.raises(SanInputError, match=r"^force: volume 'winboot01' has live sessions from %s" % IQN):
        run(array, name="winboot01", state="absent")
    gone = run(array, name="winboot01", state="absent", force=True)
    assert gone["changed"] is True and "winboot01" not in array.hosts and array.volumes["winboot01"]["destroyed"] is False
    # Kept data is taken back by the next creation; clone_from never overwrites it.
    with pytest.raises(SanInputError, match=r"^clone_from: volume 'winboot01' already exists on the array"):
        run(array, name="winboot01", clone_from="golden", initiators=[IQN])
    back = run(array, name="winboot01", initiators=[IQN])
    assert back["changed"] is True and back["volume"]["size_bytes"] == 2 * 1024 ** 3
    run(array, name="winboot01", state="absent", force=True, remove_data=True)
    assert array.volumes["winboot01"]["destroyed"] is True
    with pytest.raises(SanInputError, match=r"^name: volume 'winboot01' was destroyed and is pending eradication"):
        run(array, name="winboot01", size="1G", initiators=[IQN])


@pytest.mark.parametrize("options, message", [
    ({"allowed_addresses": ["10.0.0.0/24"]}, "allowed_addresses: a FlashArray admits hosts by initiator IQN"),
    ({"lun": 4096}, "lun: LUN 4096 is out of range for a FlashArray: it must be 1 to 4095"),
    ({"name": "win.boot01"}, "name: 'win.boot01' is not a FlashArray volume name"),
    ({"api_url": "http://127.0.0.1:1"}, "api_url: 'http://127.0.0.1:1' must be https://"),
    ({"api_token": None}, "api_token is required with backend purefa"),
    ({"target_prefix": "iqn.2026-11.test"}, "target_prefix: the purefa backend does not name targets"),
    ({"target_iqn": "iqn.2026-11.test:other"}, "target_iqn: iqn.2026-11.test:other is not the array's target IQN"),
    ({"clone_from": "/srv/golden.img"}, "clone_from: the purefa backend copies a volume or snapshot on the array"),
    ({"clone_from": "nosuch"}, "clone_from: there is no volume 'nosuch' on the array"),
    ({"chap": {"username": "user name", "secret": SECRET}}, "chap.username 'user name' may contain only printable ASCII"),
])
def test_bad_input_is_refused_naming_the_option_and_changes_nothing(array, options, message):
    values = dict(name="winboot01", size="1G", initiators=[IQN])
    values.update(options)
    before = array.snapshot()
    with pytest.raises(SanInputError) as refused:
        run(array, **values)
    assert str(refused.value).startswith(message)
    assert array.snapshot() == before
    assert not [request for request in array.requests if request[0] in ("PATCH", "PUT", "DELETE")
                or (request[0] == "POST" and not request[1].endswith(("/login", "/logout")))]


def test_a_fault_midway_through_a_creation_leaves_nothing_and_a_rerun_converges(array):
    array.fail_next("POST", "/connections")
    with pytest.raises(SanError, match=r"refused POST /connections: Injected fault"):
        run(array, name="winboot01", size="1G", initiators=[IQN], chap=CHAP)
    assert array.volumes == {} and array.hosts == {} and array.connections == []
    assert run(array, name="winboot01", size="1G", initiators=[IQN], chap=CHAP)["changed"] is True
    assert run(array, name="winboot01", size="1G", initiators=[IQN], chap=CHAP)["changed"] is False


def test_a_fault_in_a_change_is_undone_up_to_what_cannot_be(array):
    run(array, name="winboot01", size="1G", initiators=[IQN], chap=CHAP)
    before = array.snapshot()
    # Access narrowed (the IQN list replaced), then the check after the steps sees it fail: the IQNs go back.
    array.fail_next("PUT", "/hosts/tags/batch")
    with pytest.raises(SanError, match=r"Injected fault"):
        run(array, name="winboot01", size="1G", initiators=["iqn.2026-11.test:other"], chap=dict(CHAP, secret=SECRET_NEW))
    host = array.hosts["winboot01"]
    # CHAP first (the array applies the whole chap object at once); the tag write failed before access changed.
    assert host["iqns"] == [IQN] and host["chap"]["host_password"] == SECRET_NEW
    # The next run converges: the hash tag does not match, so CHAP is set again with its tag.
    again = run(array, name="winboot01", size="1G", initiators=["iqn.2026-11.test:other"], chap=dict(CHAP, secret=SECRET_NEW))
    assert again["changed"] is True
    assert run(array, name="winboot01", size="1G", initiators=["iqn.2026-11.test:other"],
               chap=dict(CHAP, secret=SECRET_NEW))["changed"] is False
    assert before != array.snapshot()
    # Removing CHAP narrows access first; when removing CHAP then fails, the IQNs are put back.
    array.fail_next("PATCH", "/hosts", skip=1)
    with pytest.raises(SanError, match=r"Injected fault"):
        run(array, name="winboot01", size="1G", initiators=[IQN], remove_chap=True)
    assert array.hosts["winboot01"]["iqns"] == ["iqn.2026-11.test:other"]
    assert array.hosts["winboot01"]["chap"]["host_password"] == SECRET_NEW
    # A CHAP change cannot be undone (the array never returns the old secret): the error says where undoing stopped.
    array.fail_next("PATCH", "/hosts", skip=1)
    with pytest.raises(SanError) as failed:
        run(array, name="winboot01", size="2G", initiators=[IQN], chap=dict(CHAP, secret=SECRET))
    assert "undoing stopped at 'set the CHAP of host winboot01', which cannot be undone" in str(failed.value)
    assert array.hosts["winboot01"]["iqns"] == ["iqn.2026-11.test:other"]
    assert run(array, name="winboot01", size="2G", initiators=[IQN], chap=CHAP)["changed"] is True
    assert run(array, name="winboot01", size="2G", initiators=[IQN], chap=CHAP)["changed"] is False


def test_secrets_stay_out_of_errors_and_reprs_and_ca_path_beats_the_environment(array, monkeypatch):
    with pytest.raises(SanError) as refused:
        run(array, api_token="not-the-token", name="winboot01", size="1G", initiators=[IQN], chap=CHAP)
    assert "check api_token" in str(refused.value) and "not-the-token" not in str(refused.value)
    client = PureClient(array.url, array.api_token, ca_path=str(array.ca_path))
    client.login()
    assert array.api_token not in repr(client) and array.api_token not in repr(PureFlashArrayBackend(
        params(array), None, [].append))
    client.logout()
    # A controller that sets REQUESTS_CA_BUNDLE to another CA: ca_path still decides.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/ca-bundle.pem")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/nonexistent/ca-bundle.pem")
    assert run(array, name="winboot01", size="1G", initiators=[IQN])["changed"] is True
    with pytest.raises(SanError, match=r"^TLS verification of the FlashArray at https://127.0.0.1:\d+ failed "
                                       r"\(certificate verify failed: .*\): give ca_path"):
        run(array, ca_path=None, name="winboot01", size="1G", initiators=[IQN])
    assert run(array, ca_path=None, validate_certs=False, name="winboot01", size="1G", initiators=[IQN])["changed"] is False


def test_an_array_that_does_not_answer_is_a_clear_timeout():
    import socket
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    try:
        client = PureClient("https://127.0.0.1:%d" % listener.getsockname()[1], "SecretToken-0123", timeout=1)
        with pytest.raises(SanError) as refused:
            client.login()
        assert str(refused.value) == ("the FlashArray at https://127.0.0.1:%d did not answer the API version list "
                                      "within 1 s (timeout)" % listener.getsockname()[1])
        assert "SecretToken" not in str(refused.value) + repr(client)
    finally:
        listener.close()
