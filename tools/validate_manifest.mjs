#!/usr/bin/env node
// Validate a Teams app manifest with Microsoft's own library, offline.
//
//   node tools/validate_manifest.mjs build/ai-ready.zip      (reads manifest.json at the zip's root)
//   node tools/validate_manifest.mjs path/to/manifest.json
//
// Uses AppManifestUtils.validateAgainstSchema from npm @microsoft/app-manifest, which loads the
// schema named by the manifest's "$schema" from the copy bundled in the package. This script
// refuses a "$schema" that is not bundled, so it never falls back to fetching from the web.
//
// Prints one JSON object on stdout: {"file": ..., "schema": ..., "valid": true|false, "errors": [...]}.
// Exit code: 0 valid, 1 invalid, 2 usage or setup error (message on stderr).

import { createRequire } from "node:module";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { inflateRawSync } from "node:zlib";

const require = createRequire(import.meta.url);

function fail(message) {
  console.error(`validate_manifest: ${message}`);
  process.exit(2);
}

// Return the bytes of one entry of a zip file (stored or deflated; no zip64), or null.
function readZipEntry(zip, wanted) {
  let end = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) { end = i; break; }
  }
  if (end < 0) fail("not a zip file (no end of central directory)");
  let at = zip.readUInt32LE(end + 16);
  for (let n = zip.readUInt16LE(end + 10); n > 0; n--) {
    if (zip.readUInt32LE(at) !== 0x02014b50) fail("corrupt zip central directory");
    const method = zip.readUInt16LE(at + 10);
    const size = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const skip = nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    if (zip.toString("utf8", at + 46, at + 46 + nameLength) === wanted) {
      const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
      const data = zip.subarray(start, start + size);
      if (method === 0) return data;
      if (method === 8) return inflateRawSync(data);
      fail(`unsupported zip compression method ${method}`);
    }
    at += 46 + skip;
  }
  return null;
}

function readManifest(path) {
  if (!existsSync(path)) fail(`no such file: ${path}`);
  let bytes = readFileSync(path);
  if (path.toLowerCase().endsWith(".zip")) {
    bytes = readZipEntry(bytes, "manifest.json");
    if (bytes === null) fail(`${path} has no manifest.json at its root`);
  }
  try {
    return JSON.parse(bytes.toString("utf8").replace(/^\uFEFF/, ""));
  } catch (error) {
    fail(`manifest.json is not valid JSON: ${error.message}`);
  }
}

// The bundled schema file for an official Teams schema URL, or a setup error.
function bundledSchema(url) {
  const match = /^https:\/\/developer\.microsoft\.com\/(?:[a-z]{2}(?:-[a-z]{2})?\/)?json-schemas\/teams\/(v[0-9]+\.[0-9]+|vDevPreview)\/MicrosoftTeams\.schema\.json$/
    .exec(typeof url === "string" ? url : "");
  if (!match) fail(`"$schema" ${JSON.stringify(url)} is not an official Teams manifest schema URL`);
  let packageMain;
  try {
    packageMain = require.resolve("@microsoft/app-manifest");
  } catch {
    fail("@microsoft/app-manifest is not installed: run `npm ci`");
  }
  const file = join(dirname(packageMain), "json-schemas", "teams", match[1], "MicrosoftTeams.schema.json");
  if (!existsSync(file)) fail(`schema ${match[1]} is not bundled in @microsoft/app-manifest`);
  return file;
}

const [path, ...extra] = process.argv.slice(2);
if (!path || extra.length) fail("usage: node tools/validate_manifest.mjs <app.zip | manifest.json>");
const manifest = readManifest(path);
const schema = bundledSchema(manifest.$schema);
const { AppManifestUtils } = require("@microsoft/app-manifest");
const errors = await AppManifestUtils.validateAgainstSchema(manifest);
process.stdout.write(`${JSON.stringify({ file: path, schema, valid: errors.length === 0, errors }, null, 2)}\n`);
process.exit(errors.length === 0 ? 0 : 1);
