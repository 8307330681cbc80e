#!/usr/bin/env python3
"""A raw-socket client that reads the greeting but never checks its code:
it sends EHLO whatever the server said, and stops at the first reply that
is not the one it wanted."""
import os, socket, sys

sock = socket.create_connection((os.environ["SMTP_HOST"], int(os.environ["SMTP_PORT"])), timeout=10)
f = sock.makefile("rb")
f.readline()  # the greeting, unchecked
sock.sendall(b"EHLO client.example.org\r\n")
line = f.readline().decode()
while line[3:4] == "-":
    line = f.readline().decode()
sock.sendall(b"QUIT\r\n")
f.readline()
sys.exit(0 if line.startswith("250") else "EHLO: " + line.strip())
