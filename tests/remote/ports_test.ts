import assert from "node:assert/strict";
import {
  defaultPortProbeDeps,
  holderHint,
  listeningInodes,
  type PortProbeDeps,
  probePort,
} from "../../lib/remote/ports.ts";

// /proc/net/tcp: 0xDB39 = 56121 listening (0A) with inode 4242; 0xAB33 = 43827 established (01).
const TCP =
  `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:DB39 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0
   1: 0100007F:AB33 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 5151 1 0000000000000000 20 4 30 10 -1
`;

Deno.test("listening sockets are found by port in /proc/net/tcp; other states are not", () => {
  assert.deepEqual(listeningInodes(TCP, 56121), ["4242"]);
  assert.deepEqual(listeningInodes(TCP, 43827), []);
  assert.deepEqual(listeningInodes("", 56121), []);
});

function fakeProc(files: Record<string, string>, links: Record<string, string>): PortProbeDeps {
  const dirs = new Map<string, string[]>();
  for (const path of [...Object.keys(files), ...Object.keys(links)]) {
    const parts = path.split("/");
    for (let i = 2; i < parts.length; i++) {
      const dir = parts.slice(0, i).join("/");
      const list = dirs.get(dir) ?? [];
      if (!list.includes(parts[i])) list.push(parts[i]);
      dirs.set(dir, list);
    }
  }
  return {
    tryBind: () => Promise.resolve("busy"),
    readTextFile: (path) =>
      path in files ? Promise.resolve(files[path]) : Promise.reject(new Deno.errors.NotFound()),
    async *readDir(path) {
      const list = dirs.get(path);
      if (!list) throw new Deno.errors.NotFound(path);
      for (const name of list) yield { name };
    },
    readLink: (path) =>
      path in links ? Promise.resolve(links[path]) : Promise.reject(new Deno.errors.NotFound()),
    os: "linux",
    procRoot: "/proc",
  };
}

Deno.test("a busy port names the process that holds its listening socket", async () => {
  const deps = fakeProc(
    {
      "/proc/net/tcp": TCP,
      "/proc/77/comm": "python3\n",
      "/proc/77/cmdline": "python3\0-m\0http.server\0",
      "/proc/88/comm": "bash\n",
    },
    { "/proc/77/fd/3": "socket:[4242]", "/proc/88/fd/0": "/dev/pts/0", "/proc/self/fd/0": "x" },
  );
  const probe = await probePort(56121, deps);
  assert.equal(probe.free, false);
  assert.deepEqual(probe.holders, [
    { pid: 77, command: "python3", commandLine: "python3 -m http.server" },
  ]);
  assert.equal(probe.hint, "lsof -iTCP:56121 -sTCP:LISTEN");
});

Deno.test("without procfs a busy port still comes with the lsof hint", async () => {
  const deps = { ...fakeProc({}, {}), os: "darwin" as const };
  const probe = await probePort(43827, deps);
  assert.deepEqual([probe.free, probe.holders, probe.hint], [false, [], holderHint(43827)]);
});

Deno.test("a port that cannot be tested says why", async () => {
  const deps = { ...fakeProc({}, {}), tryBind: () => Promise.resolve({ error: "denied" }) };
  const probe = await probePort(80, deps);
  assert.equal(probe.free, null);
  assert.equal(probe.error, "denied");
});

Deno.test("for real: a port this process listens on is busy and held by this process", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (listener.addr as Deno.NetAddr).port;
    const probe = await probePort(port);
    assert.equal(probe.free, false);
    if (Deno.build.os === "linux") {
      assert.ok(probe.holders.some((h) => h.pid === Deno.pid), JSON.stringify(probe.holders));
    }
  } finally {
    listener.close();
  }
});

Deno.test("for real: a port nobody holds is free, and testing leaves it free", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const probe = await probePort(port, defaultPortProbeDeps());
  assert.equal(probe.free, true);
  Deno.listen({ hostname: "127.0.0.1", port }).close();
});
