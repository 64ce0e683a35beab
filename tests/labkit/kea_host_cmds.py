# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A host_cmds shim (test double) in front of a real Kea 2.2 control agent.

Debian 12's Kea 2.2 has no host_cmds hook (libdhcp_host_cmds is open source from Kea 3.0), so the
collection's host_cmds path cannot meet a real hook here. This shim listens on 127.0.0.1 and:

- answers reservation-get, reservation-get-all, reservation-add, reservation-del and (with
  update=True) reservation-update as Kea 3.0's documentation describes them for
  operation-target "primary" (the reservations of the JSON configuration): it reads the real
  server's configuration with config-get and changes it with config-set, so the real kea-dhcp4
  serves exactly what the shim holds after each command, and a real DHCP client sees it;
- forwards every other command (config-get, config-test, config-set, config-write, ...) to the
  real control agent unchanged, so config-write really writes, or really fails;
- adds the hook's commands to list-commands.

`fail_once` maps a command name to (result, text): the next such command gets that answer
instead (as Kea answers when it refuses), once. Requests need the lab's basic-auth credentials.

    shim = HostCmdsShim(lab, update=False).start(cleanup)
    run_reservation(dict(params, api_url=shim.url), BACKENDS)
"""

from __future__ import annotations

import base64
import copy
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

HOST_COMMANDS = ("reservation-add", "reservation-del", "reservation-get", "reservation-get-all")


class HostCmdsShim:
    def __init__(self, lab, update=False):
        self.lab = lab
        self.update = update
        self.fail_once = {}
        self.calls = []
        self._lock = threading.Lock()
        self.server = None

    @property
    def url(self) -> str:
        return "http://127.0.0.1:%d/" % self.server.server_address[1]

    def start(self, cleanup):
        shim = self

        class Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True  # no delayed-ACK wait between headers and body

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                expected = "Basic " + base64.b64encode(("%s:%s" % (shim.lab.user, shim.lab.password)).encode()).decode()
                if self.headers.get("Authorization") != expected:
                    return self.reply(401, {"result": 401, "text": "Unauthorized"})
                with shim._lock:
                    status, payload = shim.answer(json.loads(body))
                self.reply(status, payload)

            def reply(self, status, payload):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        cleanup.push("stop the host_cmds shim on %s" % self.url, self.close)
        return self

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    # -- answering

    def answer(self, request):
        command = request.get("command")
        self.calls.append(command)
        if command in self.fail_once:
            result, text = self.fail_once.pop(command)
            return 200, [{"result": result, "text": text}]
        commands = HOST_COMMANDS + (("reservation-update",) if self.update else ())
        if command in commands:
            return 200, [self.host_command(command, request.get("arguments") or {})]
        response = requests.post(self.lab.url, json=request, auth=(self.lab.user, self.lab.password), timeout=30)
        payload = response.json()
        if command == "list-commands" and payload and payload[0].get("result") == 0:
            payload[0]["arguments"] = sorted(set(payload[0]["arguments"]) | set(commands))
        return response.status_code, payload

    def host_command(self, command, arguments):
        reservation = arguments.get("reservation")
        subnet_id = (reservation or arguments).get("subnet-id")
        if subnet_id is None:
            return {"result": 1, "text": "Mandatory 'subnet-id' parameter missing."}
        if command in ("reservation-add", "reservation-del", "reservation-update") \
                and arguments.get("operation-target") != "primary":
            return {"result": 1, "text": "Unable to %s a host because there is no hosts-database configured."
                    % command.split("-")[1]}
        config = self.lab.config()
        subnet = next((s for s in config["Dhcp4"].get("subnet4", []) if s.get("id") == subnet_id), None)
        if subnet is None:
            return {"result": 1, "text": "Subnet with subnet-id %s does not exist." % subnet_id}
        hosts = subnet.setdefault("reservations", [])
        if command == "reservation-get-all":
            return {"result": 0, "text": "%d IPv4 host(s) found." % len(hosts),
                    "arguments": {"hosts": [dict(host, **{"subnet-id": subnet_id}) for host in hosts]}}
        if command in ("reservation-add", "reservation-update"):
            host = {key: value for key, value in copy.deepcopy(reservation).items() if key != "subnet-id"}
            same_id = [held for held in hosts if held.get("hw-address") == host.get("hw-address")]
            same_ip = [held for held in hosts if host.get("ip-address") and held.get("ip-address") == host.get("ip-address")
                       and held not in same_id]
            if command == "reservation-add":
                if same_id or same_ip:
                    return {"result": 1, "text": "Host already exists."}
                hosts.append(host)
                text = "Host added."
            else:
                if not same_id:
                    return {"result": 1, "text": "Host not updated (not found)."}
                if same_ip:
                    return {"result": 1, "text": "Host already exists."}
                hosts[hosts.index(same_id[0])] = host
                text = "Host updated."
            return self._set(config, text)
        if arguments.get("identifier-type") == "hw-address":
            matches = [held for held in hosts if held.get("hw-address") == arguments.get("identifier")]
        else:
            matches = [held for held in hosts if held.get("ip-address") == arguments.get("ip-address")]
        if command == "reservation-get":
            if not matches:
                return {"result": 3, "text": "Host not found."}
            return {"result": 0, "text": "Host found.", "arguments": dict(matches[0], **{"subnet-id": subnet_id})}
        if not matches:
            return {"result": 1, "text": "Host not deleted (not found)."}
        hosts.remove(matches[0])
        return self._set(config, "Host deleted.")

    def _set(self, config, text):
        answer = self.lab.command("config-set", config, check=False)
        if answer.get("result") != 0:
            return {"result": 1, "text": answer.get("text")}
        return {"result": 0, "text": text}
