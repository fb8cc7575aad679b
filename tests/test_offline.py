"""The product makes no network connection but loopback: the guard is real and holds."""

import socket
import subprocess
import sys

import pytest


def test_guard_refuses_non_loopback_in_this_process():
    with pytest.raises(OSError):
        socket.create_connection(("192.0.2.1", 80), timeout=1)


def test_guard_is_active_in_child_processes():
    code = "import socket\ntry:\n    socket.create_connection(('192.0.2.1', 80), timeout=1)\nexcept OSError as e:\n    print('refused', e)\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30).stdout
    assert "test guard" in out


def test_loopback_still_allowed():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    socket.create_connection(server.getsockname(), timeout=1).close()
    server.close()
