import type { Expression, ExpressionBuilder, SqlBool } from 'kysely';
import { sql } from 'kysely';

/** Every difference between SQLite and PostgreSQL that Tora's SQL cares about lives here. */
export type DialectName = 'sqlite' | 'postgres';

export interface DialectHelpers {
  readonly name: DialectName;
  /** Column type for packed binary blocks. */
  readonly blobType: 'blob' | 'bytea';
  /** Column definition for an auto-incrementing integer key. */
  readonly serialType: 'integer' | 'bigserial';
  /** Case-insensitive "contains" filter on a text column. */
  containsIgnoreCase<DB, TB extends keyof DB>(
    eb: ExpressionBuilder<DB, TB>,
    column: Expression<string>,
    needle: string,
  ): Expression<SqlBool>;
  /** Whether `SELECT … FOR UPDATE` exists (SQLite serialises writers instead). */
  readonly rowLocks: boolean;
  /**
   * SQL LIKE with `%` and `_` wildcards; case-sensitive unless `ignoreCase` (SQLite's LIKE
   * ignores ASCII case, so the case-sensitive form there is GLOB).
   */
  like(column: Expression<string>, pattern: string, ignoreCase: boolean): Expression<SqlBool>;
}

/** A LIKE pattern as a SQLite GLOB pattern: `%` → `*`, `_` → `?`, GLOB's own metacharacters made literal. */
function likeToGlob(pattern: string): string {
  return pattern.replace(/[*?[%_]/g, (c) => (c === '%' ? '*' : c === '_' ? '?' : `[${c}]`));
}

function escapeLike(needle: string): string {
  return needle.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export function dialectHelpers(name: DialectName): DialectHelpers {
  return {
    name,
    blobType: name === 'sqlite' ? 'blob' : 'bytea',
    serialType: name === 'sqlite' ? 'integer' : 'bigserial',
    rowLocks: name === 'postgres',
    containsIgnoreCase(_eb, column, needle) {
      const pattern = `%${escapeLike(needle)}%`;
      return name === 'sqlite'
        ? sql<SqlBool>`lower(${column}) like lower(${pattern}) escape '\\'`
        : sql<SqlBool>`${column} ilike ${pattern} escape '\\'`;
    },
    like(column, pattern, ignoreCase) {
      if (name === 'postgres') {
        // No escape character, as in MLflow: a backslash is an ordinary character.
        return ignoreCase
          ? sql<SqlBool>`${column} ilike ${pattern} escape ''`
          : sql<SqlBool>`${column} like ${pattern} escape ''`;
      }
      return ignoreCase
        ? sql<SqlBool>`lower(${column}) like lower(${pattern})`
        : sql<SqlBool>`${column} glob ${likeToGlob(pattern)}`;
    },
  };
}
