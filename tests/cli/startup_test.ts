/**
 * Start-up cost: what a command loads before it runs. lib/cli/mod.ts loads
 * each command module with a dynamic import, so `--version` loads only the
 * command tree, and `token` — run by scripts before every API call — loads
 * neither the callback listener, the browser opener nor the model picker.
 * Read from Deno's own module graph (`deno info --json`), following static
 * imports and literal `import("./x.ts")` alike: `deno run` prepares both
 * before it runs anything. Only lib/lazy.ts's computed specifiers stay out.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);

interface GraphModule {
  specifier: string;
  kind?: string;
  npmPackage?: string;
  dependencies?: { code?: { specifier: string } }[];
}

/** Project-relative paths and npm package names `deno run` prepares up front for `entries`. */
async function loadedUpFront(...entries: string[]): Promise<string[]> {
  const loaded = new Set<string>();
  for (const entry of entries) {
    const { stdout, stderr, success } = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", entry],
      cwd: ROOT,
    }).output();
    assert.ok(success, new TextDecoder().decode(stderr));
    const graph = JSON.parse(new TextDecoder().decode(stdout)) as {
      roots: string[];
      modules: GraphModule[];
      redirects: Record<string, string>;
    };
    const bySpecifier = new Map(graph.modules.map((m) => [m.specifier, m]));
    const queue = [...graph.roots];
    const seen = new Set<string>();
    while (queue.length > 0) {
      const specifier = graph.redirects[queue[0]] ?? queue[0];
      queue.shift();
      if (seen.has(specifier)) continue;
      seen.add(specifier);
      const module = bySpecifier.get(specifier);
      if (module?.kind === "npm") {
        loaded.add(`npm:${module.npmPackage!.replace(/@[^@/]+$/, "")}`);
        continue;
      }
      if (specifier.startsWith(ROOT.href)) loaded.add(specifier.slice(ROOT.href.length));
      else if (specifier.startsWith("node:")) loaded.add(specifier);
      for (const dep of module?.dependencies ?? []) {
        // Type-only imports have no `code`. A literal dynamic import is in the graph, and Deno
        // loads it up front like a static one (lib/lazy.ts).
        if (dep.code) queue.push(dep.code.specifier);
      }
    }
  }
  return [...loaded].sort();
}

/** What a command that is neither `add` nor `model` must not load. */
function heavy(path: string): boolean {
  return path.startsWith("lib/loopback/") || // the callback listener
    path.startsWith("lib/login/") || // the login flows
    path === "lib/remote/browser.ts" || // the browser opener
    path === "lib/cli/add.ts" ||
    path === "lib/cli/model.ts" || // the picker
    path.startsWith("npm:@inquirer/"); // the picker's prompt library
}

async function exists(path: URL): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("main.ts loads no command module but token's and no npm package up front (commander comes on demand)", async () => {
  const loaded = await loadedUpFront("main.ts");
  const commands = loaded.filter((p) => p.startsWith("lib/cli/"));
  // `token`, the hot path, is imported statically: a dynamic import costs a fresh process a graph
  // walk of its own (about 1 ms), and its modules are in the up-front graph either way.
  assert.deepEqual(commands, [
    "lib/cli/context.ts",
    "lib/cli/mod.ts",
    "lib/cli/providers.ts",
    "lib/cli/token.ts",
  ]);
  assert.deepEqual(loaded.filter((p) => p.startsWith("npm:")), []);
  assert.deepEqual(loaded.filter(heavy), []);
  // The command tree itself is where commander comes in.
  assert.ok((await loadedUpFront("lib/cli/tree.ts")).includes("npm:commander"));
});

const hasToken = await exists(new URL("lib/cli/token.ts", ROOT));
if (!hasToken) {
  // deno-lint-ignore no-console
  console.log("skipped: start-up of `token`: lib/cli/token.ts does not exist yet");
}

Deno.test({
  name: "token loads neither the listener, the browser opener nor the model picker",
  ignore: !hasToken,
  async fn() {
    const loaded = await loadedUpFront("main.ts", "lib/cli/token.ts");
    assert.ok(loaded.includes("lib/cli/token.ts"));
    assert.deepEqual(loaded.filter(heavy), []);
    // `token <provider>` skips the command tree (lib/cli/mod.ts fastToken).
    assert.ok(!loaded.includes("npm:commander"), loaded.join(", "));
  },
});

Deno.test({
  name: "token loads no node: module and no npm package (the Node compatibility layer alone " +
    "costs ~13 ms; see docs/performance.md)",
  ignore: !hasToken,
  async fn() {
    const loaded = await loadedUpFront("main.ts", "lib/cli/token.ts");
    assert.deepEqual(loaded.filter((p) => p.startsWith("node:") || p.startsWith("npm:")), []);
  },
});

Deno.test("the graph walk sees what add loads: the listener and the opener (so the checks above bite)", async () => {
  const loaded = await loadedUpFront("lib/cli/add.ts");
  assert.ok(loaded.some((p) => p.startsWith("lib/loopback/")), loaded.join("\n"));
  assert.ok(loaded.includes("lib/remote/browser.ts"));
});

Deno.test("what a waiter of a refresh storm loads (lib/oauth/refresh.ts) brings the lock and no writer, grant or npm package", async () => {
  // The one process that makes the request loads the rest (lib/oauth/refresh_locked.ts); the
  // others wait for it and read its token, and each module they loaded cost all of them.
  const waiter = await loadedUpFront("lib/oauth/refresh.ts");
  assert.ok(waiter.includes("lib/store/lock.ts"), waiter.join(", "));
  const writes = ["lib/store/auth_store.ts", "lib/store/credentials.ts", "lib/store/atomic.ts"];
  assert.deepEqual(
    waiter.filter((p) => writes.includes(p) || p.startsWith("lib/oauth/refresh_")),
    [],
  );
  assert.deepEqual(waiter.filter((p) => p.startsWith("npm:") || p.startsWith("node:")), []);
  // …and the refresh itself does load them, so the check above can fail.
  const refresher = await loadedUpFront("lib/oauth/refresh_locked.ts");
  assert.ok(writes.every((p) => refresher.includes(p)), refresher.join(", "));
});
