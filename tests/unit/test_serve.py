"""`python -m rcs_viz serve`: the nginx configuration it writes, and its refusals. Running it for real, two
processes behind the proxy, is the browser test tests/browser/test_two_processes_behind_proxy.py."""

import os
import shutil
import socket
import subprocess
import threading

import pytest

from rcs_viz import cli

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)


def test_the_site_lists_every_process_and_lets_streamlits_largest_upload_through(tmp_path):
    text = cli.nginx_site("127.0.0.1:8080", [8601, 8602, 8603], 200, tmp_path / "access.log")
    assert "{{" not in text and "}}" not in text
    assert [line.split()[1] for line in text.splitlines() if line.strip().startswith("server 127.")] == \
        ["127.0.0.1:8601", "127.0.0.1:8602", "127.0.0.1:8603"]
    assert "    listen 127.0.0.1:8080;" in text
    assert "    client_max_body_size 201m;" in text  # Streamlit refuses a file that is too large, not nginx
    assert f"    access_log {tmp_path / 'access.log'} rcs_explorer;" in text
    assert "hash $rcs_route consistent;" in text and "ip_hash" not in text.split("upstream", 1)[1]


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed (`make nginx`)")
def test_nginx_accepts_the_configuration_serve_writes(tmp_path):
    site = tmp_path / "rcs-explorer.conf"
    site.write_text(cli.nginx_site("127.0.0.1:8080", [8601, 8602], 200, tmp_path / "access.log"), encoding="utf-8")
    conf = tmp_path / "nginx.conf"
    (tmp_path / "temp").mkdir()  # as serve makes it
    conf.write_text(cli.nginx_main(site, tmp_path), encoding="utf-8")
    done = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "error.log"),
                           "-g", f"pid {tmp_path / 'nginx.pid'};"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr


def test_serve_without_nginx_says_how_to_get_it(monkeypatch, capsys):
    monkeypatch.setattr(cli.shutil, "which", lambda name: None)
    monkeypatch.setattr(cli.os, "access", lambda path, mode: False)
    assert cli.main(["serve", "--processes", "2"]) == cli.USAGE_ERROR
    assert capsys.readouterr().err == "error: serve: nginx is not installed (`make nginx` installs Debian's)\n"


def test_serve_needs_a_process(capsys):
    assert cli.main(["serve", "--processes", "0"]) == cli.USAGE_ERROR
    assert capsys.readouterr().err == "error: serve: --processes must be at least 1\n"


def test_serve_lets_nobody_else_in_without_sign_in(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(cli.shutil, "which", lambda name: "/usr/sbin/nginx")
    assert cli.main(["serve", "--host", "0.0.0.0", "--run-dir", str(tmp_path / "run")]) == cli.USAGE_ERROR
    assert "configure sign-in first" in capsys.readouterr().err
    assert not (tmp_path / "run").exists(), "refused before anything is written or started"


def test_a_port_that_reads_the_health_check_back_is_not_up():
    """Polled before a process listens, a connection can land on itself (TCP's simultaneous open) and read its own
    request back: that is not an answer, and the wait goes on instead of stopping `serve` with a traceback."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]

        def echo():
            conn, _ = listener.accept()
            with conn:
                conn.sendall(conn.recv(4096))

        t = threading.Thread(target=echo)
        t.start()
        assert cli.answers(f"http://127.0.0.1:{port}/_stcore/health") is False
        t.join()
