#!/usr/bin/env node
// Microsoft's SARIF multitool, `validate` with the SARIF and GitHub rules (--rule-kind Gh;Sarif),
// over one SARIF file. Prints the multitool's own findings as a JSON list of
// {ruleId, level, message}; exits 1 when there are any.
"use strict";
const { spawnSync } = require("node:child_process");
const { mkdtempSync, readFileSync, rmSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { join } = require("node:path");
const multitool = require("@microsoft/sarif-multitool");

const [input] = process.argv.slice(2);
const dir = mkdtempSync(join(tmpdir(), "sarif-validate-"));
try {
  const output = join(dir, "validation.sarif");
  const done = spawnSync(
    multitool,
    ["validate", "--rule-kind", "Gh;Sarif", "--output", output, input],
    { encoding: "utf8", env: { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: "1" } },
  );
  if (done.status !== 0) {
    process.stderr.write(`sarif-multitool exited ${done.status}\n${done.stdout}${done.stderr}`);
    process.exit(2);
  }
  const log = JSON.parse(readFileSync(output, "utf8"));
  const results = (log.runs || []).flatMap((run) =>
    (run.results || []).map((r) => ({
      ruleId: r.ruleId,
      level: r.level || "warning",
      message: r.message && (r.message.text || JSON.stringify(r.message)),
    })),
  );
  process.stdout.write(JSON.stringify(results, null, 1) + "\n");
  process.exitCode = results.length ? 1 : 0;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
