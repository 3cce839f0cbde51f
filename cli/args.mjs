// Command-line parsing: the options every command takes, the dump options shared by `dump` and
// `schedules put`, value checks, and the --help text built from the same specs.

import { parseArgs } from "node:util";
import { usageError } from "./errors.mjs";

export const PROGRAM = "do-sqlite-dump";
export const DEFAULT_URL = "http://127.0.0.1:8787";

/**
 * @typedef {{ type: "string" | "boolean", short?: string, multiple?: boolean, value?: string, help: string }} OptionSpec
 * @typedef {Record<string, OptionSpec>} OptionSpecs
 * @typedef {Record<string, string | boolean | string[] | undefined>} Values
 */

/** @type {OptionSpecs} */
export const COMMON_OPTIONS = {
  url: { type: "string", value: "URL", help: `the service (env DUMP_URL; default ${DEFAULT_URL}, what \`npm start\` serves)` },
  token: { type: "string", value: "TOKEN", help: "its ADMIN_AUTHORIZATION_TOKEN (env DUMP_TOKEN; for a local URL, this checkout's .dev.vars)" },
  database: { type: "string", short: "d", value: "NAME", help: 'the database (default "default"; for list, a filter)' },
  json: { type: "boolean", help: "print one JSON object on stdout and nothing else there (for scripts and CI)" },
  quiet: { type: "boolean", short: "q", help: "no progress and no messages on stderr (errors still)" },
  help: { type: "boolean", short: "h", help: "show this help" },
};

/**
 * The API's dump options as flags; dumpOptionsFrom() turns them into the JSON body.
 * @type {OptionSpecs}
 */
export const DUMP_OPTION_FLAGS = {
  tables: { type: "string", multiple: true, value: "A,B", help: "dump only these tables and views (repeatable)" },
  "exclude-tables": { type: "string", multiple: true, value: "A,B", help: "leave these tables out (repeatable)" },
  "schema-only": { type: "boolean", help: "only the schema: tables, indexes, views, triggers" },
  "data-only": { type: "boolean", help: "only the rows and sqlite_sequence" },
  gzip: { type: "boolean", help: "compress the file: dump_….sql.gz" },
  storage: { type: "string", value: "r2|do|auto", help: "where the service keeps the file (default auto)" },
  "breathing-ms": { type: "string", value: "N", help: "pause between chunk steps, in milliseconds (0: none)" },
  retention: { type: "string", value: "DURATION", help: 'how long the service keeps the file, e.g. "1 day"' },
  "no-snapshot": { type: "boolean", help: "read each chunk live instead of a snapshot of the start (no cost to writes, no single instant)" },
  "callback-url": { type: "string", value: "URL", help: "POST the outcome there (signed when CALLBACK_SECRET is set)" },
  "delete-after-download": { type: "boolean", help: "the service deletes the file after one whole download" },
};

/**
 * @param {string[]} argv the arguments after the command name
 * @param {OptionSpecs} specs the command's own options (COMMON_OPTIONS are added)
 * @param {string} command for the error message
 */
export function parseCommandLine(argv, specs, command) {
  /** @type {Record<string, { type: "string" | "boolean", short?: string, multiple?: boolean }>} */
  const options = {};
  for (const [name, spec] of Object.entries({ ...COMMON_OPTIONS, ...specs })) {
    options[name] = { type: spec.type, ...(spec.short ? { short: spec.short } : {}), ...(spec.multiple ? { multiple: true } : {}) };
  }
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values: /** @type {Values} */ (values), positionals };
  } catch (error) {
    const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw usageError(`${message}; see \`${PROGRAM} ${command} --help\``);
  }
}

/**
 * The API's dump options from DUMP_OPTION_FLAGS, only those given.
 * @param {Values} values
 * @returns {Record<string, unknown>}
 */
export function dumpOptionsFrom(values) {
  /** @type {Record<string, unknown>} */
  const options = {};
  const tables = listValue(values.tables);
  const excluded = listValue(values["exclude-tables"]);
  if (tables) options.tables = tables;
  if (excluded) options.excludeTables = excluded;
  if (values["schema-only"]) options.schemaOnly = true;
  if (values["data-only"]) options.dataOnly = true;
  if (values["schema-only"] && values["data-only"]) throw usageError("--schema-only and --data-only exclude each other");
  if (values.gzip) options.compression = "gzip";
  if (values.storage !== undefined) options.storage = choice(values.storage, "--storage", ["r2", "do", "auto"]);
  if (values["breathing-ms"] !== undefined) options.breathingMs = integer(values["breathing-ms"], "--breathing-ms");
  if (values.retention !== undefined) options.retention = String(values.retention);
  if (values["no-snapshot"]) options.snapshot = false;
  if (values["callback-url"] !== undefined) options.callbackUrl = String(values["callback-url"]);
  if (values["delete-after-download"]) options.deleteAfterDownload = true;
  return options;
}

/**
 * "a,b" and repeated flags, as one list; undefined when not given.
 * @param {Values[string]} value
 */
export function listValue(value) {
  if (value === undefined) return undefined;
  const items = (Array.isArray(value) ? value : [String(value)]).flatMap((item) => item.split(",")).map((item) => item.trim());
  if (items.some((item) => item === "")) throw usageError(`empty name in "${items.join(",")}"`);
  return items;
}

/**
 * @param {Values[string]} value
 * @param {string} flag
 * @param {{ min?: number, max?: number }} [range]
 */
export function integer(value, flag, range = {}) {
  const text = String(value);
  const number = /^\d{1,15}$/.test(text) ? Number(text) : NaN;
  const min = range.min ?? 0;
  if (!Number.isInteger(number) || number < min || (range.max !== undefined && number > range.max)) {
    const bounds = range.max !== undefined ? `from ${min} to ${range.max}` : `of at least ${min}`;
    throw usageError(`${flag} must be a whole number ${bounds}, not "${text}"`);
  }
  return number;
}

/**
 * @template {string} T
 * @param {Values[string]} value
 * @param {string} flag
 * @param {T[]} allowed
 * @returns {T}
 */
export function choice(value, flag, allowed) {
  const text = String(value);
  if (!allowed.includes(/** @type {T} */ (text))) throw usageError(`${flag} must be ${allowed.join(", ")}; not "${text}"`);
  return /** @type {T} */ (text);
}

const ID = /^[a-zA-Z0-9_][a-zA-Z0-9-_]{0,99}$/;
/** Restore ids are `restore-` and a dump id (api/restore.ts newRestoreId). */
const RESTORE_PREFIX = "restore-";

/**
 * Which kind of job an id names, from its shape: restores start with "restore-".
 * @param {string | undefined} id
 * @param {string} command
 * @returns {{ kind: "dump" | "restore", id: string }}
 */
export function jobId(id, command) {
  if (id === undefined) throw usageError(`give a dump or restore id: \`${PROGRAM} ${command} ID\``);
  if (!ID.test(id)) throw usageError(`"${id}" is not a dump or restore id (they look like 20261125-093000-1a2b3c4d)`);
  return { kind: id.startsWith(RESTORE_PREFIX) ? "restore" : "dump", id };
}

/**
 * @param {string[]} positionals
 * @param {number} max
 * @param {string} command
 */
export function noExtraArguments(positionals, max, command) {
  if (positionals.length > max) {
    throw usageError(`unexpected argument "${positionals[max]}"; see \`${PROGRAM} ${command} --help\``);
  }
}

// ---- help ----

/**
 * @typedef {object} HelpText
 * @property {string} usage e.g. "dump [-o FILE] [options]"
 * @property {string} summary one line, shown in the command list too
 * @property {string[]} [description] lines under the summary
 * @property {string[]} [examples]
 */

/**
 * @param {string} command
 * @param {HelpText} help
 * @param {OptionSpecs} specs
 */
export function commandHelp(command, help, specs) {
  const lines = [`Usage: ${PROGRAM} ${help.usage}`, "", help.summary];
  if (help.description?.length) lines.push("", ...help.description);
  if (Object.keys(specs).length) lines.push("", `Options of ${command}:`, ...optionLines(specs));
  lines.push("", "Connection and output (every command):", ...optionLines(COMMON_OPTIONS));
  if (help.examples?.length) lines.push("", "Examples:", ...help.examples.map((example) => `  ${example}`));
  lines.push("", EXIT_CODES_LINE);
  return `${lines.join("\n")}\n`;
}

export const EXIT_CODES_LINE =
  "Exit codes: 0 ok · 1 failed job or verification · 2 usage · 3 connection or URL · 4 auth · 5 not found · 6 wrong state · 130 interrupted";

/** @param {OptionSpecs} specs */
function optionLines(specs) {
  const entries = Object.entries(specs).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : "    "}--${name}${spec.value ? ` ${spec.value}` : ""}`;
    return [flag, spec.help];
  });
  const width = Math.max(...entries.map(([flag]) => flag.length)) + 2;
  return entries.map(([flag, text]) => `  ${flag.padEnd(width)}${text}`);
}
