/**
 * The yaml package as `yaml` resolves (its CommonJS build, in Deno): what
 * lib/store/yaml.ts falls back to. Loaded through lib/lazy.ts, so Deno does
 * not prepare it up front; its static import is also what keeps the package
 * in the compiled binary, whose `--exclude-unused-npm` drops every package no
 * module imports.
 *
 * @module
 */
export * from "yaml";
