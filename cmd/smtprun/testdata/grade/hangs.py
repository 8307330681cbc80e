#!/usr/bin/env python3
"""A client that hangs: it sends EHLO, then waits for a reply line it has
already read, and leaves a child process behind, which the grader must
stop too. It writes the child's pid to $HANG_PIDFILE."""
import os, socket, subprocess, time

child = subprocess.Popen(["sleep", "300"])
with open(os.environ["HANG_PIDFILE"], "w") as f:
    f.write(str(child.pid))
sock = socket.create_connection((os.environ["SMTP_HOST"], int(os.environ["SMTP_PORT"])))
sock.recv(1024)
sock.sendall(b"EHLO client.example.org\r\n")
sock.recv(1024)
sock.recv(1024)  # the EHLO reply came whole: this waits for ever
time.sleep(300)
