/**
 * Which privileges a SQL statement needs, from its text as the server received it (the wire
 * recorder's `onStatement`), per table or procedure. MySQL's rules (the same on MariaDB):
 * - SELECT reads; SELECT … FOR UPDATE / FOR SHARE also locks, which needs UPDATE (or DELETE or
 *   LOCK TABLES) on the table;
 * - INSERT; … ON DUPLICATE KEY UPDATE also UPDATE;
 * - UPDATE, and SELECT on the table when its WHERE (or SET) reads columns;
 * - DELETE, and SELECT on the table when its WHERE reads columns;
 * - tables a statement reads in a subquery or a join need SELECT;
 * - CALL needs EXECUTE on the procedure; a procedure with SQL SECURITY INVOKER runs with the
 *   caller's rights, so the statements of its body need the caller's privileges too (read from
 *   its definition, which the server keeps in information_schema.ROUTINES).
 * A statement of another kind throws: the grants cannot be worked out for it.
 */

export type Privilege = "SELECT" | "INSERT" | "UPDATE" | "DELETE" | "EXECUTE";

export interface Need {
  /** A table, or a procedure for EXECUTE. */
  object: string;
  privilege: Privilege;
}

/** String literals (mysql2 inlines values client-side) and comments out of the way, so their text is never read as SQL. */
function withoutLiterals(sql: string): string {
  return sql
    .replace(/'(?:[^'\\]|\\.|'')*'/g, "?")
    .replace(/"(?:[^"\\]|\\.|"")*"/g, "?")
    .replace(/\/\*[\s\S]*?\*\//g, " ")
    .replace(/--[^\n]*/g, " ")
    .trim();
}

const IDENTIFIER = "`?([A-Za-z_][A-Za-z0-9_]*)`?";

/** Every table named after FROM or JOIN (subqueries included). */
function tablesRead(sql: string): string[] {
  return [...sql.matchAll(new RegExp(`\\b(?:from|join)\\s+${IDENTIFIER}`, "gi"))].map((match) => match[1]);
}

/** A stored procedure as information_schema.ROUTINES describes it. */
export interface Procedure {
  /** SQL SECURITY INVOKER: its statements run with the caller's privileges. */
  invoker: boolean;
  /** ROUTINE_DEFINITION: BEGIN … END. */
  body: string;
}

/**
 * The data statements of a procedure body: each `;`-separated piece from its first line that
 * starts with SELECT, INSERT, UPDATE or DELETE (what comes before is flow control: IF … THEN,
 * ELSE, a label).
 */
export function statementsOfBody(body: string): string[] {
  return withoutLiterals(body)
    .split(";")
    .flatMap((piece) => {
      const start = /(?:^|\n)[ \t]*(select|insert|update|delete)\b/i.exec(piece);
      return start ? [piece.slice(start.index).trim()] : [];
    });
}

export function privilegesFor(statement: string, procedures: Record<string, Procedure> = {}): Need[] {
  const sql = withoutLiterals(statement);
  const lower = sql.toLowerCase();
  const needs: Need[] = [];
  const add = (privilege: Privilege, ...objects: string[]) => {
    for (const object of objects) needs.push({ object, privilege });
  };
  const verb = /^\(?\s*([a-z]+)/.exec(lower)?.[1];
  switch (verb) {
    case "begin":
    case "commit":
    case "rollback":
    case "start":
      if (!/^(begin|commit|rollback|start transaction)\b/.test(lower)) break;
      return [];
    case "select": {
      const read = tablesRead(sql);
      add("SELECT", ...read);
      if (/\bfor\s+(update|share)\b|\block\s+in\s+share\s+mode\b/.test(lower)) add("UPDATE", ...read);
      return needs;
    }
    case "insert": {
      const target = new RegExp(`^insert\\s+(?:ignore\\s+)?into\\s+${IDENTIFIER}`, "i").exec(sql)?.[1];
      if (!target) break;
      add("INSERT", target);
      if (/\bon\s+duplicate\s+key\s+update\b/.test(lower)) add("UPDATE", target);
      add("SELECT", ...tablesRead(sql));
      return needs;
    }
    case "update": {
      const target = new RegExp(`^update\\s+(?:ignore\\s+)?${IDENTIFIER}`, "i").exec(sql)?.[1];
      if (!target) break;
      add("UPDATE", target);
      add("SELECT", target, ...tablesRead(sql));
      return needs;
    }
    case "delete": {
      const target = new RegExp(`^delete\\s+from\\s+${IDENTIFIER}`, "i").exec(sql)?.[1];
      if (!target) break;
      add("DELETE", target);
      if (/\bwhere\b/.test(lower)) add("SELECT", target);
      add("SELECT", ...tablesRead(sql).slice(1));
      return needs;
    }
    case "call": {
      const procedure = new RegExp(`^call\\s+${IDENTIFIER}`, "i").exec(sql)?.[1];
      if (!procedure) break;
      add("EXECUTE", procedure);
      const definition = procedures[procedure];
      if (definition?.invoker) for (const inner of statementsOfBody(definition.body)) needs.push(...privilegesFor(inner, procedures));
      return needs;
    }
  }
  throw new Error(`cannot tell which privileges this statement needs: ${statement.slice(0, 200)}`);
}

/** Grants as a table: object -> the privileges on it. */
export type Grants = Record<string, Privilege[]>;

const ORDER: Privilege[] = ["SELECT", "INSERT", "UPDATE", "DELETE", "EXECUTE"];

/** The privileges a set of statements needs, per object, in a stable order. */
export function grantsFor(statements: Iterable<string>, procedures: Record<string, Procedure> = {}): Grants {
  const byObject = new Map<string, Set<Privilege>>();
  for (const statement of statements) {
    for (const { object, privilege } of privilegesFor(statement, procedures)) {
      if (!byObject.has(object)) byObject.set(object, new Set());
      byObject.get(object)!.add(privilege);
    }
  }
  return Object.fromEntries(
    [...byObject.keys()].sort().map((object) => [object, ORDER.filter((privilege) => byObject.get(object)!.has(privilege))]),
  );
}

/** What `needed` asks for beyond `granted`: each object's missing privileges. */
export function beyond(needed: Grants, granted: Grants): Grants {
  return Object.fromEntries(
    Object.entries(needed)
      .map(([object, privileges]) => [object, privileges.filter((privilege) => !granted[object]?.includes(privilege))] as const)
      .filter(([, missing]) => missing.length > 0),
  );
}

/** The union of several grant tables. */
export function unionOf(...tables: Grants[]): Grants {
  const merged: Record<string, Set<Privilege>> = {};
  for (const table of tables)
    for (const [object, privileges] of Object.entries(table)) for (const p of privileges) (merged[object] ??= new Set()).add(p);
  return Object.fromEntries(
    Object.keys(merged)
      .sort()
      .map((object) => [object, ORDER.filter((privilege) => merged[object].has(privilege))]),
  );
}
