/**
 * hermes-auth: argv -> command -> exit code. Nothing else.
 *
 * @module
 */
import { run } from "./lib/cli/mod.ts";

if (import.meta.main) {
  Deno.exit(await run(Deno.args));
}
