"""A node's network path to the control plane, cut and healed by a test: a TCP relay the agent
reaches the API and the broker through. `cut()` drops every open connection and refuses new ones
(what a partition looks like to the agent: its connections fail and nothing gets through), while
the node's bricks, bound to its own address, keep serving clients directly. No iptables or network
namespace is needed, so it runs wherever the tests run; only this node's path is affected."""
import socket
import threading

from controlplane.embedded_redis import free_port


class ControlPath:
    def __init__(self, target_port: int, host: str = "127.0.0.1"):
        self.target = (host, target_port)
        self.port = free_port()
        self.listener = socket.create_server(("127.0.0.1", self.port))
        self.open = True
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._conns |= {client, upstream}
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                self._close(s)

    def _close(self, s: socket.socket) -> None:
        with self._lock:
            self._conns.discard(s)
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()

    def cut(self) -> None:
        self.open = False
        with self._lock:
            conns = list(self._conns)
        for s in conns:
            self._close(s)

    def heal(self) -> None:
        self.open = True

    def stop(self) -> None:
        self._stopped = True
        self.cut()
        self.listener.close()
