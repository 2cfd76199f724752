"""A local SMTP server that behaves like a production relay, for the mail kit's tests:
STARTTLS required, then AUTH (PLAIN or LOGIN) as relay / relay-dev required, PIPELINING
offered. Each message lands in the Maildir DIR/mail with headers that tell the tests how
it came: X-Relay-Pipelined (the envelope and DATA arrived in one write), X-Relay-TLS,
X-Relay-User, X-Relay-Session (the connection's number).

Some recipients behave like trouble: nobody@relay.test is refused (550), full@relay.test
is deferred (452), slow@relay.test gets its answer after 5 s, and after a message to an
address starting with "hangup" the relay answers the session's next MAIL with 421 and
closes it, as a relay does when it drops an idle connection.

    python3 smtp_relay.py PORT DIR   (DIR holds server.crt and server.key)
"""
import asyncio
import itertools
import mailbox
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

USER, PASSWORD = b"relay", b"relay-dev"
# Addresses the relay refuses, the way a real one refuses unknown users and full mailboxes.
REFUSED = {"nobody@relay.test": "550 5.1.1 no such user", "full@relay.test": "452 4.2.2 mailbox full"}


def authenticate(server, session, envelope, mechanism, data):
    ok = isinstance(data, LoginPassword) and data.login == USER and data.password == PASSWORD
    return AuthResult(success=ok, handled=False, auth_data=data if ok else None)


class Relay:
    def __init__(self, folder):
        self.mailbox = mailbox.Maildir(folder, create=True)
        self.sessions = itertools.count(1)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        responses.insert(len(responses) - 1, "250-PIPELINING")
        return responses

    async def handle_MAIL(self, server, session, envelope, address, options):
        if getattr(session, "hangup", False):
            asyncio.get_running_loop().call_later(0.05, server.transport.close)
            return "421 4.3.2 closing idle connection"
        if not hasattr(session, "number"):
            session.number = next(self.sessions)
        # A pipelining client has written RCPT and DATA with MAIL: they wait in the buffer.
        envelope.pipelined = len(server._reader._buffer) > 0
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, options):
        if address in REFUSED:
            return REFUSED[address]
        if address == "slow@relay.test":
            await asyncio.sleep(5)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        user = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else ""
        headers = (
            f"X-Relay-Pipelined: {'yes' if getattr(envelope, 'pipelined', False) else 'no'}\r\n"
            f"X-Relay-TLS: {'yes' if session.ssl is not None else 'no'}\r\n"
            f"X-Relay-User: {user}\r\n"
            f"X-Relay-Session: {session.number}\r\n"
        )
        if any(address.startswith("hangup") for address in envelope.rcpt_tos):
            session.hangup = True
        self.mailbox.add(headers.encode() + envelope.original_content)
        return "250 OK"


async def main(port, folder):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(os.path.join(folder, "server.crt"), os.path.join(folder, "server.key"))
    relay = Relay(os.path.join(folder, "mail"))

    def session():
        return SMTP(relay, hostname="relay.test", tls_context=context, require_starttls=True,
                    auth_required=True, auth_require_tls=True, authenticator=authenticate)

    server = await asyncio.get_running_loop().create_server(session, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
