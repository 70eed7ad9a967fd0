"""A real SMTP server for Tenderflow's mail tests: aiosmtpd with a handler that stores every
message in a directory and answers some recipients the way real servers do.

- recipients starting with ``bounce`` get ``550 5.1.1`` (permanent failure);
- recipients starting with ``tempfail`` get ``451 4.3.0`` the first two times (transient);
- messages to recipients starting with ``slow`` are accepted after 0.25 s (a slow relay).

Usage: python3 smtp_server.py PORT DIR
"""

import asyncio
import os
import sys
import threading
import uuid

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, directory):
        self.directory = directory
        self.tempfails = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0]
        if local.startswith("bounce"):
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        if local.startswith("tempfail"):
            n = self.tempfails.get(address, 0)
            self.tempfails[address] = n + 1
            if n < 2:
                return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if any(r.split("@", 1)[0].startswith("slow") for r in envelope.rcpt_tos):
            await asyncio.sleep(0.25)
        name = "%s.eml" % uuid.uuid4().hex
        tmp = os.path.join(self.directory, "." + name)
        with open(tmp, "wb") as f:
            f.write(envelope.content)
        os.rename(tmp, os.path.join(self.directory, name))
        return "250 Message accepted for delivery"


def main():
    port, directory = int(sys.argv[1]), sys.argv[2]
    os.makedirs(directory, exist_ok=True)
    controller = Controller(Handler(directory), hostname="127.0.0.1", port=port)
    controller.start()
    print("READY", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
