// Runs the Khronos glTF validator (npm gltf-validator, installed by `npm ci --prefix viewer`) on GLB files and
// prints one JSON line per file: {"file", "errors", "warnings", "infos", "messages"}.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const viewer = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "viewer");
const require = createRequire(join(viewer, "package.json"));
const validator = require("gltf-validator");

for (const file of process.argv.slice(2)) {
  const report = await validator.validateBytes(new Uint8Array(readFileSync(file)), {
    uri: file,
    maxIssues: 50,
    ignoredIssues: [],
  });
  const issues = report.issues;
  console.log(
    JSON.stringify({
      file,
      errors: issues.numErrors,
      warnings: issues.numWarnings,
      infos: issues.numInfos,
      messages: issues.messages.filter((m) => m.severity <= 1).map((m) => `${m.code} ${m.pointer ?? ""} ${m.message}`),
    }),
  );
}
