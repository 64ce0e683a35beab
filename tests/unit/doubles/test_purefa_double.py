# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The FlashArray test double refuses what the array refuses, and what its API description does not allow.

Each test talks HTTPS to a double of its own (one per module: state is reset per test by names),
through requests with the double's test CA, as the backend does.
"""

from __future__ import annotations

import pytest
import requests

import labkit
from labkit import purefa

IQN = "iqn.1991-05.com.microsoft:winboot01"


@pytest.fixture(scope="module")
def array():
    with labkit.Cleanup() as cleanup:
        workdir = labkit.make_workdir(cleanup)
        yield purefa.start_array(cleanup, workdir)


@pytest.fixture
def api(array):
    """A logged-in session: api(method, path, params=..., json=...) -> response. No violation may be left."""
    array.violations.clear()
    array.volumes.clear(), array.hosts.clear(), array.connections.clear(), array.snapshots.clear()
    login = requests.post(array.url + purefa.PREFIX + "/login", headers={"api-token": array.api_token},
                          verify=str(array.ca_path), timeout=10)
    assert login.status_code == 200
    token = login.headers["x-auth-token"]

    def call(method, path, **kwargs):
        return requests.request(method, array.url + purefa.PREFIX + path, headers={"x-auth-token": token},
                                verify=str(array.ca_path), timeout=10, **kwargs)

    yield call
    assert array.violations == []


def message(response):
    return response.json()["errors"][0]["message"]


def test_login_needs_the_api_token_and_every_call_a_session(array):
    bad = requests.post(array.url + purefa.PREFIX + "/login", headers={"api-token": "wrong"},
                        verify=str(array.ca_path), timeout=10)
    assert bad.status_code == 401 and "x-auth-token" not in bad.headers
    anonymous = requests.get(array.url + purefa.PREFIX + "/volumes", verify=str(array.ca_path), timeout=10)
    assert anonymous.status_code == 401
    versions = requests.get(array.url + "/api/api_version", verify=str(array.ca_path), timeout=10).json()
    assert "2.56" in versions["version"]
    # Without the test CA, the certificate is not trusted.
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(array.url + "/api/api_version", verify=True, timeout=10)
    assert array.violations == []


def test_logout_ends_the_session(array):
    token = requests.post(array.url + purefa.PREFIX + "/login", headers={"api-token": array.api_token},
                          verify=str(array.ca_path), timeout=10).headers["x-auth-token"]
    headers = {"x-auth-token": token}
    assert requests.post(array.url + purefa.PREFIX + "/logout", headers=headers, verify=str(array.ca_path),
                         timeout=10).status_code == 200
    assert requests.get(array.url + purefa.PREFIX + "/hosts", headers=headers, verify=str(array.ca_path),
                        timeout=10).status_code == 401


def test_volumes_are_multiples_of_512_bytes_and_named_by_the_rules(api, array):
    assert api("POST", "/volumes", params={"names": "vol-1"}, json={"provisioned": 1000}).status_code == 400
    refused = api("POST", "/volumes", params={"names": "bad.name"}, json={"provisioned": 1024})
    assert refused.status_code == 400 and "letters, digits and '-'" in message(refused)
    assert api("POST", "/volumes", params={"names": "x" * 64}, json={"provisioned": 1024}).status_code == 400
    made = api("POST", "/volumes", params={"names": "vol-1"}, json={"provisioned": 1024 * 1024})
    assert made.status_code == 200 and made.json()["items"][0]["provisioned"] == 1024 * 1024
    assert api("POST", "/volumes", params={"names": "vol-1"}, json={"provisioned": 1024}).status_code == 400
    # No implicit shrink; growing works.
    assert message(api("PATCH", "/volumes", params={"names": "vol-1"}, json={"provisioned": 512})) == \
        "Implicit truncation not permitted."
    assert api("PATCH", "/volumes", params={"names": "vol-1"}, json={"provisioned": 2 * 1024 * 1024}).status_code == 200
    # Eradication needs destruction first; a copy has its source's size.
    copied = api("POST", "/volumes", params={"names": "vol-2"}, json={"source": {"name": "vol-1"}})
    assert copied.json()["items"][0]["provisioned"] == 2 * 1024 * 1024
    assert copied.json()["items"][0]["source"]["name"] == "vol-1"
    assert api("DELETE", "/volumes", params={"names": "vol-2"}).status_code == 400
    assert api("PATCH", "/volumes", params={"names": "vol-2"}, json={"destroyed": True}).status_code == 200
    assert api("DELETE", "/volumes", params={"names": "vol-2"}).status_code == 200


def test_hosts_chap_rules_and_iqns_unique_across_hosts(api, array):
    short = api("POST", "/hosts", params={"names": "h1"},
                json={"iqns": [IQN], "chap": {"host_user": "u", "host_password": "short"}})
    assert short.status_code == 400 and "between 12 and 255" in message(short)
    same = api("POST", "/hosts", params={"names": "h1"},
               json={"iqns": [IQN], "chap": {"host_user": "u", "host_password": "SameSecret123",
                                             "target_user": "t", "target_password": "SameSecret123"}})
    assert same.status_code == 400 and "cannot be the same" in message(same)
    made = api("POST", "/hosts", params={"names": "h1"},
               json={"iqns": [IQN], "chap": {"host_user": "u", "host_password": "HostSecret123"},
                     "tags": [{"namespace": "sanboot-iscsi", "key": "k", "value": "v"}]})
    assert made.status_code == 200
    # The array never returns a password.
    assert made.json()["items"][0]["chap"] == {"host_user": "u"}
    assert "HostSecret123" not in made.text and "HostSecret123" not in api("GET", "/hosts").text
    taken = api("POST", "/hosts", params={"names": "h2"}, json={"iqns": [IQN.upper()]})
    assert taken.status_code == 400 and "already registered to host h1" in message(taken)
    tags = api("GET", "/hosts/tags", params={"resource_names": "h1", "namespaces": "sanboot-iscsi"}).json()
    assert [(tag["key"], tag["value"], tag["copyable"]) for tag in tags["items"]] == [("k", "v", False)]
    cleared = api("PATCH", "/hosts", params={"names": "h1"}, json={"chap": {"host_user": "", "host_password": ""}})
    assert cleared.status_code == 200 and "chap" not in cleared.json()["items"][0]


def test_connections_take_luns_1_to_4095_and_block_deletes(api, array):
    api("POST", "/volumes", params={"names": "vol-1"}, json={"provisioned": 1024 * 1024})
    api("POST", "/hosts", params={"names": "h1"}, json={"iqns": [IQN]})
    # LUN 4096 is outside the spec's range: openapi validation refuses it and records it.
    outside = api("POST", "/connections", params={"host_names": "h1", "volume_names": "vol-1"}, json={"lun": 4096})
    assert outside.status_code == 400
    assert array.violations and "4096" in array.violations[0]
    array.violations.clear()
    assert api("POST", "/connections", params={"host_names": "h1", "volume_names": "vol-1"},
               json={"lun": 7}).status_code == 200
    assert api("GET", "/connections", params={"volume_names": "vol-1"}).json()["items"][0]["lun"] == 7
    assert api("DELETE", "/hosts", params={"names": "h1"}).status_code == 400
    assert api("PATCH", "/volumes", params={"names": "vol-1"}, json={"destroyed": True}).status_code == 400
    array.add_session(IQN)
    sessions = api("GET", "/ports/initiators").json()["items"]
    assert sessions[0]["initiator"]["iqn"] == IQN and sessions[0]["target"]["iqn"] == array.target_iqn
    array.sessions.clear()


def test_what_the_spec_does_not_allow_is_recorded_as_a_violation(api, array):
    unknown_parameter = api("GET", "/volumes", params={"nmes": "vol-1"})
    unknown_property = api("POST", "/hosts", params={"names": "h9"}, json={"iqns": [IQN], "password": "x"})
    wrong_type = api("POST", "/volumes", params={"names": "v9"}, json={"provisioned": "1G"})
    unknown_path = api("GET", "/volumez")
    for response in (unknown_parameter, unknown_property, wrong_type, unknown_path):
        assert response.status_code == 400
    text = "\n".join(array.violations)
    assert "'nmes' is not one the spec declares" in text
    assert "body.password is not a property the spec defines" in text
    assert "POST /api/2.56/volumes" in text and "/volumez" in text
    assert "h9" not in array.hosts and "v9" not in array.volumes
    array.violations.clear()


def test_a_response_outside_the_spec_is_recorded():
    problems = purefa.validate_response("GET", purefa.PREFIX + "/hosts", [], [], b"", 200,
                                        [("Content-Type", "application/json")],
                                        b'{"items": [{"name": 5}]}')
    assert problems and "5 is not of type 'string'" in problems[0]
    assert purefa.validate_response("GET", purefa.PREFIX + "/hosts", [], [], b"", 400, [],
                                    b'{"errors": [{"message": 7}]}')
