#!/usr/bin/env python3
"""A raw-socket client with three mistakes a server tolerates: message
lines ended with a bare LF, a dot line not doubled, and no QUIT."""
import base64, os, socket, ssl, sys

host, port = os.environ["SMTP_HOST"], int(os.environ["SMTP_PORT"])
user, password = os.environ["SMTP_USER"], os.environ["SMTP_PASS"]
sender, rcpt = os.environ["SMTP_FROM"], os.environ["SMTP_TO"]


def reply(f):
    while True:
        line = f.readline().decode()
        if not line:
            sys.exit("server closed the connection")
        if line[3:4] != "-":
            return int(line[:3])


def command(sock, f, line):
    sock.sendall(line.encode() + b"\r\n")
    return reply(f)


sock = socket.create_connection((host, port), timeout=10)
f = sock.makefile("rb")
reply(f)
command(sock, f, "EHLO client.example.org")
command(sock, f, "STARTTLS")
ctx = ssl.create_default_context(cafile=os.environ["SMTP_CA"])
sock = ctx.wrap_socket(sock, server_hostname=host)
f = sock.makefile("rb")
command(sock, f, "EHLO client.example.org")
command(sock, f, "AUTH LOGIN")
command(sock, f, base64.b64encode(user.encode()).decode())
command(sock, f, base64.b64encode(password.encode()).decode())
command(sock, f, f"MAIL FROM:<{sender}>")
command(sock, f, f"RCPT TO:<{rcpt}>")
command(sock, f, "DATA")
message = f"From: <{sender}>\nTo: <{rcpt}>\nDate: Mon, 27 Mar 2023 18:17:53 +0000\nSubject: assignment\n\nHello.\n.A line that starts with a dot.\n"
sock.sendall(message.encode() + b".\r\n")
reply(f)
sock.close()
