// deno-lint-ignore-file no-console
/**
 * `deno task test`: format check, lint, type check, then the test suite
 * with the ops and resources sanitizers on. Ends with one line
 * `N passed, N failed` read from Deno's own summary.
 *
 * Extra arguments go to `deno test` (e.g. a file or `--filter`).
 */

const deno = Deno.execPath();
const steps: { name: string; args: string[] }[] = [
  { name: "fmt", args: ["fmt", "--check"] },
  { name: "lint", args: ["lint"] },
  { name: "check", args: ["check", "main.ts", "lib/", "tests/", "scripts/"] },
];

async function step(name: string, args: string[]): Promise<boolean> {
  console.error(`\n== ${name}: deno ${args.join(" ")}`);
  const { code } = await new Deno.Command(deno, { args, stdout: "inherit", stderr: "inherit" })
    .output();
  return code === 0;
}

// A safety net: a test that forgets to set HERMES_HOME still never touches ~/.hermes.
const scratchHome = await Deno.makeTempDir({ prefix: "hermes-auth-test-home-" });
let failedChecks = 0;
for (const s of steps) if (!(await step(s.name, s.args))) failedChecks++;

const testArgs = [
  "test",
  "--allow-all",
  "--sanitize-ops",
  "--sanitize-resources",
  ...(Deno.args.length ? Deno.args : ["tests/"]),
];
console.error(`\n== test: deno ${testArgs.join(" ")}`);
const child = new Deno.Command(deno, {
  args: testArgs,
  stdout: "piped",
  stderr: "inherit",
  // No update check from the test processes or what they start: loopback only.
  env: { HERMES_HOME: scratchHome, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
}).spawn();

// Stream the output through while keeping its tail to read the summary.
let tail = "";
const decoder = new TextDecoder();
for await (const chunk of child.stdout) {
  await Deno.stdout.write(chunk);
  tail = (tail + decoder.decode(chunk, { stream: true })).slice(-4000);
}
const status = await child.status;
await Deno.remove(scratchHome, { recursive: true }).catch(() => {});

// Deno prints e.g. "ok | 41 passed (3 steps) | 0 failed | 2 ignored (3s)".
// deno-lint-ignore no-control-regex -- strip ANSI colours from the summary
const summary = tail.replace(/\x1b\[[0-9;]*m/g, "").match(
  /(\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed(?: \(\d+ steps?\))?(?: \| (\d+) ignored)?/,
);
const passed = summary ? Number(summary[1]) : 0;
const failed = (summary ? Number(summary[2]) : (status.success ? 0 : 1)) + failedChecks;
if (failedChecks) console.log(`\n${failedChecks} check step(s) failed (fmt, lint or check above)`);
const ignored = summary?.[3] ? `, ${summary[3]} skipped` : "";
console.log(`${passed} passed, ${failed} failed${ignored}`);
Deno.exit(status.success && failedChecks === 0 ? 0 : 1);
