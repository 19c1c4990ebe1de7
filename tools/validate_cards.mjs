#!/usr/bin/env node
// Adaptive Card validator for AI Ready, built on Microsoft's own `adaptivecards` library.
//
// Two modes:
//
//   Worker (no arguments): reads newline-delimited JSON requests on stdin,
//       {"id": "...", "card": {...}}
//     and writes exactly one JSON line per request on stdout:
//       {"id": "...", "ok": true|false, "problems": ["..."]}
//     Nothing else is ever written to stdout; logs go to stderr. Requests are answered in order.
//
//   One-shot: node tools/validate_cards.mjs card1.json card2.json ...
//     Prints a report per file and exits 1 if any file has problems (2 on usage/setup errors).
//
// What is checked:
//   * the library's parse events (SerializationContext targeting 1.5): unknown element/action
//     types, invalid enum values (e.g. a bad `size`), properties or values newer than 1.5, ...
//   * the library's validation events (card.validateProperties()): inputs without id, duplicate
//     ids, empty Input.ChoiceSet, required inputs without label/errorMessage, too many actions,
//     unsupported card version, hints... Every event, warnings and hints included, is a problem.
//   * our own rules, which the library does not enforce: top-level "type": "AdaptiveCard",
//     "version": "1.5" exactly, the canonical "$schema"; every Action.Execute (anywhere) has a
//     non-empty string "verb"; no Action.Submit (Universal Actions only); image/link URLs are
//     well-formed absolute URLs; Action.ToggleVisibility targets exist; serialized size (UTF-8
//     bytes of JSON.stringify) < 28,000; plus a few schema rules the library skips: no unknown
//     properties on elements/actions/cards (typos), collections are arrays, TextBlock/TextRun
//     have a string "text", facts have string "title"/"value".

import { createRequire } from "node:module";
import { readFileSync, realpathSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const requireFromRepo = createRequire(join(REPO_ROOT, "package.json"));

export const REQUIRED_VERSION = "1.5";
export const SCHEMA_URL = "http://adaptivecards.io/schemas/adaptive-card.json";
export const MAX_CARD_BYTES = 28000;

function loadLibrary() {
    let JSDOM;
    let VirtualConsole;
    try {
        ({ JSDOM, VirtualConsole } = requireFromRepo("jsdom"));
    } catch (err) {
        throw new Error(`cannot load jsdom from ${REPO_ROOT}/node_modules (run npm ci): ${err.message}`);
    }
    // Browser globals for the library. jsdom's own console output goes to stderr.
    const virtualConsole = new VirtualConsole();
    virtualConsole.on("error", (...a) => console.error("[jsdom]", ...a));
    virtualConsole.on("warn", (...a) => console.error("[jsdom]", ...a));
    virtualConsole.on("jsdomError", (e) => console.error("[jsdom]", e.message));
    const dom = new JSDOM("<!DOCTYPE html><html><head></head><body></body></html>", {
        url: "https://localhost/",
        virtualConsole,
    });
    const win = dom.window;
    const globalsFromWindow = [
        "window", "document", "navigator", "Node", "Element", "HTMLElement", "HTMLInputElement",
        "HTMLSelectElement", "HTMLTextAreaElement", "HTMLAnchorElement", "HTMLImageElement",
        "HTMLMediaElement", "HTMLVideoElement", "HTMLAudioElement", "HTMLButtonElement",
        "HTMLDivElement", "HTMLSpanElement", "HTMLTableElement", "DocumentFragment", "Text",
        "Event", "KeyboardEvent", "MouseEvent", "CustomEvent", "DOMParser", "getComputedStyle",
        "requestAnimationFrame", "cancelAnimationFrame", "MutationObserver", "ResizeObserver",
    ];
    for (const name of globalsFromWindow) {
        const value = name === "window" ? win : win[name];
        if (value === undefined) continue;
        try {
            Object.defineProperty(globalThis, name, {
                value: typeof value === "function" && name[0] === name[0].toLowerCase() && name !== "window"
                    ? value.bind(win) : value,
                configurable: true,
                writable: true,
            });
        } catch {
            // Some globals (e.g. navigator on newer Node) may be locked; the library copes.
        }
    }
    let AC;
    try {
        AC = requireFromRepo("adaptivecards/dist/adaptivecards.js");
    } catch (err) {
        throw new Error(`cannot load adaptivecards from ${REPO_ROOT}/node_modules (run npm ci): ${err.message}`);
    }
    configureLibrary(AC);
    return AC;
}

function configureLibrary(AC) {
    // Target Adaptive Cards 1.5, which is what Teams renders. The library defaults to 1.6
    // ("latest"); pinning 1.5 makes 1.6-only elements/properties/values parse events, makes a
    // "version": "1.6" card an UnsupportedCardVersion failure, and keeps every 1.5 feature
    // (Action.Execute, Table, isRequired, errorMessage, label, ChoiceSet style) event-free.
    AC.Versions.latest = AC.Versions.v1_5;
    AC.SerializableObject.defaultMaxVersion = AC.Versions.v1_5;
    // Keep library defaults that matter for validation explicit.
    AC.GlobalSettings.enableFallback = true; // unknown types are still reported as parse events
    AC.GlobalSettings.enableFullJsonRoundTrip = false;
    AC.GlobalSettings.allowPreProcessingPropertyValues = false;
    AC.GlobalSettings.applets.logEnabled = false;
}

let AC; // the adaptivecards module, loaded once by ensureLibrary()
let HOST_CONFIG; // default host config with interactivity on (Teams supports it)

function ensureLibrary() {
    if (!AC) {
        AC = loadLibrary();
        HOST_CONFIG = new AC.HostConfig({ supportsInteractivity: true });
    }
}

// ---------------------------------------------------------------------------------------------
// Library-based checks
// ---------------------------------------------------------------------------------------------
function describeSource(source) {
    if (!source || typeof source !== "object") return "";
    let name = "";
    try {
        name = typeof source.getJsonTypeName === "function" ? source.getJsonTypeName() : "";
    } catch {
        name = "";
    }
    if (!name && source.constructor) name = source.constructor.name;
    const id = typeof source.id === "string" && source.id ? ` id="${source.id}"` : "";
    return name || id ? ` [${name}${id}]` : "";
}

function formatEvent(ev) {
    const phase = AC.ValidationPhase[ev.phase] ?? String(ev.phase);
    const kind = AC.ValidationEvent[ev.event] ?? String(ev.event);
    return `adaptivecards ${phase}/${kind}: ${ev.message}${describeSource(ev.source)}`;
}

// Keys every element/action may carry besides its schema properties: the type discriminator,
// fallback/requires (handled by the parser itself) and Teams' "msteams" extension object.
const GENERIC_KEYS = new Set(["type", "fallback", "requires", "msteams"]);

// Child collections the library reads straight from the JSON in custom parse code, so they are
// not in its property schema.
const COLLECTION_KEYS = {
    AdaptiveCard: ["body", "actions"],
    Container: ["items"],
    Column: ["items"],
    TableCell: ["items"],
    ColumnSet: ["columns"],
    Table: ["rows"],
    TableRow: ["cells"],
    RichTextBlock: ["inlines"],
    ActionSet: ["actions"],
    "Action.ShowCard": ["card"],
};

function schemaPropertyNames(obj) {
    const names = new Set(GENERIC_KEYS);
    const schema = obj.getSchema();
    for (let i = 0; i < schema.getCount(); i++) names.add(schema.getItemAt(i).name);
    for (const key of COLLECTION_KEYS[obj.getJsonTypeName()] ?? []) names.add(key);
    // Safety net for other collection-holding classes.
    for (const method of ["getItemsCollectionPropertyName", "getCollectionPropertyName"]) {
        if (typeof obj[method] === "function") {
            try {
                names.add(obj[method]());
            } catch {
                // not applicable to this object
            }
        }
    }
    return names;
}

// Unknown keys (typos such as "wrapp") are silently ignored by the library; report them, using
// the library's own schema for the parsed object.
function unknownKeyProblems(obj, source, label, problems) {
    if (!isPlainObject(source)) return;
    const known = schemaPropertyNames(obj);
    for (const key of Object.keys(source)) {
        if (!known.has(key)) {
            problems.push(`unknown property "${key}" on ${label}: not part of Adaptive Cards 1.5 (typo?)`);
        }
    }
}

function describeForKeys(obj) {
    const name = obj.getJsonTypeName();
    return typeof obj.id === "string" && obj.id ? `${name} id="${obj.id}"` : name;
}

function libraryProblems(cardJson) {
    const problems = [];
    const keyProblems = [];
    const card = new AC.AdaptiveCard();
    card.hostConfig = HOST_CONFIG;
    card.maxVersion = AC.Versions.v1_5;
    const context = new AC.SerializationContext(AC.Versions.v1_5);
    // Called for every element/action the parser creates (not for the root card itself).
    context.onParseElement = (element, source) => {
        unknownKeyProblems(element, source, describeForKeys(element), keyProblems);
    };
    context.onParseAction = (action, source) => {
        unknownKeyProblems(action, source, describeForKeys(action), keyProblems);
        if (action instanceof AC.ShowCardAction && action.card && isPlainObject(source.card)) {
            unknownKeyProblems(action.card, source.card, `the card of ${describeForKeys(action)}`, keyProblems);
        }
    };
    card.parse(cardJson, context);
    for (let i = 0; i < context.eventCount; i++) {
        problems.push(formatEvent(context.getEventAt(i)));
    }
    const results = card.validateProperties();
    for (const ev of results.validationEvents) {
        problems.push(formatEvent(ev));
    }
    unknownKeyProblems(card, cardJson, "AdaptiveCard (top level)", keyProblems);
    return problems.concat(keyProblems);
}

// ---------------------------------------------------------------------------------------------
// Our own checks (things the library does not enforce)
// ---------------------------------------------------------------------------------------------
function isPlainObject(v) {
    return v !== null && typeof v === "object" && !Array.isArray(v);
}

function checkUrl(value, where, what, allowedSchemes, problems) {
    if (typeof value !== "string" || value.trim() === "") {
        problems.push(`${where}: ${what} must be a non-empty URL string`);
        return;
    }
    let url;
    try {
        url = new URL(value);
    } catch {
        problems.push(`${where}: ${what} is not a valid absolute URL: ${JSON.stringify(value.slice(0, 200))}`);
        return;
    }
    if (!allowedSchemes.includes(url.protocol)) {
        problems.push(`${where}: ${what} has unsupported scheme "${url.protocol}" (allowed: ${allowedSchemes.join(" ")})`);
        return;
    }
    if ((url.protocol === "http:" || url.protocol === "https:") && !url.hostname) {
        problems.push(`${where}: ${what} has no host: ${JSON.stringify(value.slice(0, 200))}`);
    }
    if (url.protocol === "data:" && !/^data:image\/[a-z0-9.+-]+[;,]/i.test(value)) {
        problems.push(`${where}: ${what} data: URL must be an image (data:image/...)`);
    }
}

const ARRAY_KEYS = ["body", "actions", "items", "columns", "rows", "cells", "inlines", "facts", "choices", "images"];
const IMAGE_SCHEMES = ["https:", "http:", "data:"];
const LINK_SCHEMES = ["https:", "http:", "mailto:", "tel:"];

// Every "id" of card content (action `data` payloads excluded), for ToggleVisibility targets.
function collectIds(node, ids) {
    if (Array.isArray(node)) {
        for (const item of node) collectIds(item, ids);
    } else if (isPlainObject(node)) {
        if (typeof node.id === "string" && node.id) ids.add(node.id);
        const isAction = typeof node.type === "string" && node.type.startsWith("Action.");
        for (const [key, value] of Object.entries(node)) {
            if (isAction && key === "data") continue;
            if (value !== null && typeof value === "object") collectIds(value, ids);
        }
    }
    return ids;
}

function walk(node, path, problems, ids) {
    if (Array.isArray(node)) {
        node.forEach((item, i) => walk(item, `${path}[${i}]`, problems, ids));
        return;
    }
    if (!isPlainObject(node)) return;
    const type = typeof node.type === "string" ? node.type : undefined;
    const isAction = type !== undefined && type.startsWith("Action.");

    if (type === "Action.Execute") {
        if (typeof node.verb !== "string" || node.verb.trim() === "") {
            problems.push(`${path}: Action.Execute must have a non-empty string "verb"`);
        }
    } else if (type === "Action.Submit") {
        problems.push(`${path}: Action.Submit is not allowed (use Action.Execute; Universal Actions only)`);
    } else if (type === "Action.ToggleVisibility") {
        const targets = node.targetElements;
        if (!Array.isArray(targets) || targets.length === 0) {
            problems.push(`${path}: Action.ToggleVisibility must have a non-empty "targetElements" array`);
        } else {
            targets.forEach((t, i) => {
                const id = typeof t === "string" ? t : isPlainObject(t) ? t.elementId : undefined;
                if (typeof id !== "string" || id === "") {
                    problems.push(`${path}.targetElements[${i}]: must be an element id or {"elementId": ...}`);
                } else if (!ids.has(id)) {
                    problems.push(`${path}.targetElements[${i}]: no element with id "${id}" in the card`);
                }
            });
        }
    } else if (type === "Action.OpenUrl") {
        checkUrl(node.url, path, "Action.OpenUrl url", LINK_SCHEMES, problems);
    } else if (type === "Image") {
        checkUrl(node.url, path, "Image url", IMAGE_SCHEMES, problems);
    } else if (type === "Media") {
        if (node.poster !== undefined) checkUrl(node.poster, path, "Media poster", IMAGE_SCHEMES, problems);
        if (Array.isArray(node.sources)) {
            node.sources.forEach((s, i) => checkUrl(isPlainObject(s) ? s.url : s, `${path}.sources[${i}]`, "Media source url", ["https:", "http:"], problems));
        }
    }
    if (type === "TextBlock" || type === "TextRun") {
        if (typeof node.text !== "string") {
            problems.push(`${path}: ${type} must have a string "text"`);
        }
    } else if (type === "FactSet" && Array.isArray(node.facts)) {
        node.facts.forEach((f, i) => {
            if (!isPlainObject(f) || typeof f.title !== "string" || typeof f.value !== "string") {
                problems.push(`${path}.facts[${i}]: a fact must have string "title" and "value"`);
            }
        });
    }
    if (type !== undefined && !isAction) {
        // The library silently ignores a collection that is not an array.
        for (const key of ARRAY_KEYS) {
            if (node[key] !== undefined && !Array.isArray(node[key])) {
                problems.push(`${path}.${key}: must be an array`);
            }
        }
    }
    if (isAction && node.iconUrl !== undefined) {
        checkUrl(node.iconUrl, path, `${type} iconUrl`, IMAGE_SCHEMES, problems);
    }
    if (node.backgroundImage !== undefined) {
        const bg = node.backgroundImage;
        checkUrl(isPlainObject(bg) ? bg.url : bg, `${path}.backgroundImage`, "backgroundImage url", IMAGE_SCHEMES, problems);
    }

    for (const [key, value] of Object.entries(node)) {
        // An action's `data` is an arbitrary payload for the bot, not card content.
        if (isAction && key === "data") continue;
        if (value !== null && typeof value === "object") {
            const childPath = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
            walk(value, childPath, problems, ids);
        }
    }
}

function ownProblems(card) {
    const problems = [];
    if (card.type !== "AdaptiveCard") {
        problems.push(`$: top-level "type" must be "AdaptiveCard" (got ${JSON.stringify(card.type)})`);
    }
    if (card.version !== REQUIRED_VERSION) {
        problems.push(`$: "version" must be exactly "${REQUIRED_VERSION}" (got ${JSON.stringify(card.version)})`);
    }
    if (card.$schema !== SCHEMA_URL) {
        problems.push(`$: "$schema" must be "${SCHEMA_URL}" (got ${JSON.stringify(card.$schema)})`);
    }
    const bytes = Buffer.byteLength(JSON.stringify(card), "utf8");
    if (bytes >= MAX_CARD_BYTES) {
        problems.push(`$: serialized card is ${bytes} bytes (UTF-8); it must be < ${MAX_CARD_BYTES}`);
    }
    walk(card, "$", problems, collectIds(card, new Set()));
    return problems;
}

// ---------------------------------------------------------------------------------------------
// Validation entry point
// ---------------------------------------------------------------------------------------------
export function validateCard(card) {
    ensureLibrary();
    if (!isPlainObject(card)) {
        return [`card must be a JSON object (got ${Array.isArray(card) ? "array" : card === null ? "null" : typeof card})`];
    }
    let problems = [];
    try {
        problems = problems.concat(ownProblems(card));
    } catch (err) {
        problems.push(`validator error in own checks: ${err && err.message ? err.message : String(err)}`);
    }
    try {
        problems = problems.concat(libraryProblems(card));
    } catch (err) {
        problems.push(`adaptivecards threw while parsing/validating: ${err && err.message ? err.message : String(err)}`);
    }
    return [...new Set(problems)];
}

// ---------------------------------------------------------------------------------------------
// Modes
// ---------------------------------------------------------------------------------------------
function runWorker() {
    process.stdout.on("error", (err) => {
        // Reader went away (EPIPE): nothing more to do.
        console.error(`validate_cards: stdout error: ${err.message}`);
        process.exit(0);
    });
    const rl = createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
    rl.on("line", (line) => {
        if (line.trim() === "") return;
        let response;
        let request;
        try {
            request = JSON.parse(line);
        } catch (err) {
            response = { id: null, ok: false, problems: [`invalid request: not JSON (${err.message})`] };
        }
        if (!response) {
            const id = isPlainObject(request) && "id" in request ? request.id : null;
            if (!isPlainObject(request) || !("card" in request)) {
                response = { id, ok: false, problems: ['invalid request: expected {"id": ..., "card": {...}}'] };
            } else {
                const problems = validateCard(request.card);
                response = { id, ok: problems.length === 0, problems };
            }
        }
        process.stdout.write(JSON.stringify(response) + "\n");
    });
    rl.on("close", () => {
        // stdin closed: let pending stdout writes drain, then exit normally.
        process.exitCode = 0;
    });
}

function runOneShot(files) {
    let failed = 0;
    for (const file of files) {
        let card;
        try {
            card = JSON.parse(readFileSync(file, "utf8"));
        } catch (err) {
            process.stdout.write(`FAIL ${file}\n  - cannot read JSON: ${err.message}\n`);
            failed++;
            continue;
        }
        const problems = validateCard(card);
        if (problems.length === 0) {
            process.stdout.write(`OK   ${file}\n`);
        } else {
            failed++;
            process.stdout.write(`FAIL ${file} (${problems.length} problem${problems.length === 1 ? "" : "s"})\n`);
            for (const p of problems) process.stdout.write(`  - ${p}\n`);
        }
    }
    process.stdout.write(`${files.length - failed}/${files.length} card(s) valid\n`);
    process.exitCode = failed ? 1 : 0;
}

// stdout belongs to the protocol/report: route every console method to stderr.
function consoleToStderr() {
    const stderrLog = console.error.bind(console);
    console.log = stderrLog;
    console.info = stderrLog;
    console.debug = stderrLog;
    console.warn = stderrLog;
    console.trace = stderrLog;
}

function main() {
    consoleToStderr();
    const args = process.argv.slice(2);
    if (args.includes("-h") || args.includes("--help")) {
        process.stdout.write(
            "usage: node tools/validate_cards.mjs [card.json ...]\n" +
            "  no arguments: worker mode, NDJSON {\"id\",\"card\"} on stdin -> {\"id\",\"ok\",\"problems\"} on stdout\n" +
            "  with files:   validate each file, exit 1 if any has problems\n",
        );
        return;
    }
    try {
        ensureLibrary();
    } catch (err) {
        console.error(`validate_cards: ${err.message}`);
        process.exit(2);
    }
    if (args.length === 0) runWorker();
    else runOneShot(args);
}

// Run only when executed directly (importing the module for validateCard() is side-effect free).
function isEntryPoint() {
    if (!process.argv[1]) return false;
    try {
        return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
    } catch {
        return false;
    }
}

if (isEntryPoint()) {
    main();
}
