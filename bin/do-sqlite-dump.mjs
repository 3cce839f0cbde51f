#!/usr/bin/env node
// The command-line client of the dump service: `npx do-sqlite-dump --help` in a checkout.
import { main } from "../cli/main.mjs";

process.exitCode = await main(process.argv.slice(2));
