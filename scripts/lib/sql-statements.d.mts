// Types of ./sql-statements.mjs for the TypeScript tests, generated from its JSDoc. After changing the .mjs files, regenerate with
//   npx tsc --allowJs --declaration --emitDeclarationOnly --module nodenext --target es2022 --strict --types node --skipLibCheck --outDir scripts/lib scripts/lib/*.mjs
/**
 * @typedef {object} SqlStatement
 * @property {string} sql The statement including its terminating ";" (without surrounding whitespace).
 * @property {number} start Offset of its first character in the text (UTF-16 units).
 * @property {number} bytes Its UTF-8 length.
 */
/**
 * Yields the statements of `text` in order. A ";" ends a statement only outside '…', "…", `…`, […],
 * -- and /* comments, and inside CREATE TRIGGER only after the END of the trigger body
 * (the same rule sqlite3_complete() applies). Text after the last ";" is yielded as a statement too.
 * @param {string} text
 * @returns {Generator<SqlStatement>}
 */
export function splitSqlStatements(text: string): Generator<SqlStatement>;
/**
 * The largest statements of a text, largest first.
 * @param {string} text
 * @param {number} [count]
 * @returns {{ count: number, largest: SqlStatement[] }}
 */
export function statementSizes(text: string, count?: number): {
    count: number;
    largest: SqlStatement[];
};
export type SqlStatement = {
    /**
     * The statement including its terminating ";" (without surrounding whitespace).
     */
    sql: string;
    /**
     * Offset of its first character in the text (UTF-16 units).
     */
    start: number;
    /**
     * Its UTF-8 length.
     */
    bytes: number;
};
