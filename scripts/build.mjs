// Compiles src/ into the publishable dist/ (run by `npm run build` and by
// `prepack`): dist/esm (ES modules, .d.ts, source maps with their sources)
// and dist/cjs (CommonJS, the same declarations). Every path in package.json
// "exports" and "bin" must exist afterwards, or the build fails.
import { execFileSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
const run = (project) => execFileSync(process.execPath, [tsc, "-p", join(root, project)], { stdio: "inherit", cwd: root });

rmSync(join(root, "dist"), { recursive: true, force: true });
run("tsconfig.build.json");
run("tsconfig.build.cjs.json");
writeFileSync(join(root, "dist/cjs/package.json"), JSON.stringify({ type: "commonjs" }) + "\n");
// CommonJS consumers get the same declarations: TypeScript reads them as
// CommonJS because dist/cjs/package.json says so.
cpSync(join(root, "dist/esm"), join(root, "dist/cjs"), {
  recursive: true,
  filter: (src) => !/dist[\\/]esm[\\/](cli|dashboard)\b/.test(src) && !/\.[cm]?js(\.map)?$/.test(src),
});
chmodSync(join(root, "dist/esm/cli/main.js"), 0o755);
// The dashboard's page (HTML, JS, CSS) is served from beside its compiled
// module; the dashboard and the CLI are ES modules only (CommonJS callers
// load them through Node's require(esm), Node 20.19+).
cpSync(join(root, "src/dashboard/static"), join(root, "dist/esm/dashboard/static"), { recursive: true });

const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const targets = [...Object.values(pkg.bin ?? {})];
const collect = (node) => {
  if (typeof node === "string") targets.push(node);
  else for (const [condition, value] of Object.entries(node)) if (condition !== "ferry-source") collect(value);
};
collect(pkg.exports);
const missing = targets.filter((t) => !existsSync(join(root, t)));
if (missing.length > 0) {
  console.error(`build: package.json points at files the build did not write:\n  ${missing.join("\n  ")}`);
  process.exit(1);
}
console.log(`build: dist/esm and dist/cjs written; ${targets.length} export and bin paths checked`);
