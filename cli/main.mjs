// do-sqlite-dump: the command-line client. Picks the command, the service and the token, runs the
// command, and turns every outcome into an exit code (cli/errors.mjs) and, with --json, one JSON
// object on stdout.

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Api } from "./api.mjs";
import { COMMON_OPTIONS, DEFAULT_URL, EXIT_CODES_LINE, PROGRAM, commandHelp, parseCommandLine } from "./args.mjs";
import { dumpCommand, downloadCommand } from "./commands/dump.mjs";
import { cancelCommand, listCommand, pauseCommand, resumeCommand, statusCommand } from "./commands/jobs.mjs";
import { restoreCommand } from "./commands/restore.mjs";
import { schedulesCommand } from "./commands/schedules.mjs";
import { CliError, EXIT, EXIT_KIND, usageError } from "./errors.mjs";
import { Output } from "./output.mjs";

const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * @typedef {object} CommandContext
 * @property {Api} api
 * @property {Output} out
 * @property {import("./args.mjs").Values} values
 * @property {string[]} positionals
 * @property {(hint: string, details: Record<string, unknown>) => void} onInterrupt what Ctrl-C prints from now on
 *
 * @typedef {object} Command
 * @property {string} name
 * @property {import("./args.mjs").OptionSpecs} options
 * @property {import("./args.mjs").HelpText} help
 * @property {(ctx: CommandContext) => Promise<void>} run
 */

/** @type {Command[]} */
export const COMMANDS = [
  dumpCommand,
  downloadCommand,
  restoreCommand,
  listCommand,
  statusCommand,
  cancelCommand,
  pauseCommand,
  resumeCommand,
  schedulesCommand,
];

/**
 * Runs one command line and returns the exit code.
 * @param {string[]} argv process.argv.slice(2)
 * @param {{ env?: NodeJS.ProcessEnv, stdout?: NodeJS.WriteStream, stderr?: NodeJS.WriteStream }} [io]
 * @returns {Promise<number>}
 */
export async function main(argv, io = {}) {
  const env = io.env ?? process.env;
  const json = argv.includes("--json");
  const out = new Output({ json, quiet: argv.includes("--quiet") || argv.includes("-q"), stdout: io.stdout, stderr: io.stderr });
  /** @type {Api | null} */
  let api = null;
  /** @type {{ hint: string, details: Record<string, unknown> } | null} */
  let interruptNote = null;
  const onSigint = () => {
    const error = new CliError(EXIT.INTERRUPTED, `interrupted${interruptNote ? `; ${interruptNote.hint}` : ""}`, interruptNote?.details ?? {});
    report(out, error);
    process.exit(EXIT.INTERRUPTED);
  };
  process.on("SIGINT", onSigint);
  try {
    const [name, ...rest] = commandFirst(argv);
    if (name === undefined || name === "--help" || name === "-h" || name === "help") {
      const topic = name === "help" ? rest[0] : undefined;
      const command = topic === undefined ? undefined : findCommand(topic);
      out.stdout.write(command ? commandHelp(command.name, command.help, command.options) : programHelp());
      return name === undefined ? EXIT.USAGE : EXIT.OK;
    }
    if (name === "--version") {
      out.stdout.write(`${packageVersion()}\n`);
      return EXIT.OK;
    }
    const command = findCommand(name);
    const { values, positionals } = parseCommandLine(rest, command.options, command.name);
    if (values.help) {
      out.stdout.write(commandHelp(command.name, command.help, command.options));
      return EXIT.OK;
    }
    const url = /** @type {string | undefined} */ (values.url) ?? env.DUMP_URL ?? DEFAULT_URL;
    api = new Api({ url, token: /** @type {string | undefined} */ (values.token) ?? env.DUMP_TOKEN ?? localToken(url) });
    await command.run({
      api,
      out,
      values,
      positionals,
      onInterrupt: (hint, details) => {
        interruptNote = { hint, details };
      },
    });
    return EXIT.OK;
  } catch (error) {
    const failure = error instanceof CliError ? error : new CliError(EXIT.FAILED, `unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : error}`);
    report(out, failure);
    return failure.exitCode;
  } finally {
    process.off("SIGINT", onSigint);
    api?.close();
  }
}

/**
 * The error on stderr and, with --json, as the JSON object on stdout.
 * @param {Output} out
 * @param {CliError} error
 */
function report(out, error) {
  out.error(`${PROGRAM}: ${error.message}`);
  if (out.json) {
    const data = { ok: false, exitCode: error.exitCode, kind: EXIT_KIND[error.exitCode] ?? "failed", error: error.message, ...error.details };
    out.stdout.write(`${JSON.stringify(data)}\n`);
  }
}

/**
 * `do-sqlite-dump --url URL list` as well as `do-sqlite-dump list --url URL`: common options given
 * before the command are moved after it.
 * @param {string[]} argv
 */
function commandFirst(argv) {
  const takesValue = new Set(
    Object.entries(COMMON_OPTIONS)
      .filter(([, spec]) => spec.type === "string")
      .flatMap(([name, spec]) => [`--${name}`, ...(spec.short ? [`-${spec.short}`] : [])]),
  );
  let i = 0;
  while (i < argv.length && argv[i].startsWith("-") && !["-h", "--help", "--version"].includes(argv[i])) {
    i += takesValue.has(argv[i]) ? 2 : 1;
  }
  if (i === 0 || i >= argv.length) return argv;
  return [argv[i], ...argv.slice(0, i), ...argv.slice(i + 1)];
}

/** @param {string} name */
function findCommand(name) {
  if (name.startsWith("-")) throw usageError(`no command given; the commands are ${COMMANDS.map((c) => c.name).join(", ")} (see \`${PROGRAM} --help\`)`);
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) throw usageError(`unknown command "${name}"; the commands are ${COMMANDS.map((c) => c.name).join(", ")} (see \`${PROGRAM} --help\`)`);
  return command;
}

/**
 * `npm start` reads the token from .dev.vars; for a local URL the client reads it from there too.
 * @param {string} url
 * @returns {string | undefined}
 */
function localToken(url) {
  let host;
  try {
    host = new URL(url).hostname;
  } catch {
    return undefined; // Api reports the bad URL
  }
  if (!["127.0.0.1", "localhost", "[::1]"].includes(host)) return undefined;
  try {
    const vars = readFileSync(join(PACKAGE_ROOT, ".dev.vars"), "utf8");
    return /^\s*ADMIN_AUTHORIZATION_TOKEN\s*=\s*"?([^"\r\n]*)"?\s*$/m.exec(vars)?.[1];
  } catch {
    return undefined;
  }
}

function packageVersion() {
  return JSON.parse(readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8")).version;
}

function programHelp() {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    `${PROGRAM}: dumps and restores of Durable Object SQLite databases, from a terminal or a CI job.`,
    "",
    `Usage: ${PROGRAM} <command> [options]        ${PROGRAM} <command> --help for its options`,
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.help.summary}`),
    "",
    "The service and the token: --url URL and --token TOKEN, or the environment variables DUMP_URL and DUMP_TOKEN.",
    `Without them: ${DEFAULT_URL} (what \`npm start\` serves) with the token from this checkout's .dev.vars.`,
    "--database NAME (-d) picks the database; --json prints one JSON object on stdout; -q hides progress.",
    "",
    EXIT_CODES_LINE,
    "",
  ].join("\n");
}
