import { sql, type Expression, type RawBuilder, type SqlBool } from 'kysely';
import type { DialectHelpers } from '../../db/dialect.js';
import type { Clause, Comparator, Literal, OrderKey } from './filter.js';

/**
 * SQL for parsed filters and order keys over `experiments as e` (a run is a Tora experiment),
 * shared by the dashboard's experiment list and MLflow's runs/search. Metrics compare the last
 * value (by step) of a series; params, Tora's hyperparameters (text or number); tags, the MLflow
 * key/value tags; attributes, the experiment's own columns.
 */

type Sql = RawBuilder<unknown>;

/** MLflow's run status, computed from Tora's status and the silence rule that makes a run "crashed". */
function mlflowStatusSql(crashedBefore: number): Sql {
  return sql`(case
    when e.status = 'running' and e.last_activity_at < ${crashedBefore} then 'KILLED'
    when e.status = 'running' then 'RUNNING'
    when e.status = 'finished' then 'FINISHED'
    when e.status = 'failed' then 'FAILED'
    else 'KILLED' end)`;
}

const SQL_OP: Record<'=' | '!=' | '<' | '<=' | '>' | '>=', string> = {
  '=': '=',
  '!=': '<>',
  '<': '<',
  '<=': '<=',
  '>': '>',
  '>=': '>=',
};

function compare(dialect: DialectHelpers, column: Sql, op: Comparator, value: Literal | Literal[]): Expression<SqlBool> {
  switch (op) {
    case 'IN':
    case 'NOT IN': {
      const values = (Array.isArray(value) ? value : [value]).map((v) => sql`${v}`);
      return sql<SqlBool>`${column} ${sql.raw(op === 'IN' ? 'in' : 'not in')} (${sql.join(values)})`;
    }
    case 'LIKE':
    case 'ILIKE':
      return dialect.like(column as Expression<string>, String(value), op === 'ILIKE');
    case '=':
    case '!=':
    case '<':
    case '<=':
    case '>':
    case '>=':
      return sql<SqlBool>`${column} ${sql.raw(SQL_OP[op])} ${value}`;
  }
}

function isNumericText(v: Literal): boolean {
  return typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v));
}

/**
 * Where a clause's key is stored: one row per (run, key) in each of these tables, so "the run has
 * the key and its value passes" is a condition on that row's value.
 */
const STORES = {
  metric: { table: 'metric_series', key: 'name' },
  param: { table: 'experiment_hyperparams', key: 'key' },
  tag: { table: 'mlflow_run_tags', key: 'key' },
} as const;

type StoredEntity = keyof typeof STORES;
type StoredClause = Clause & { entity: StoredEntity };

function isStored(c: Clause): c is StoredClause {
  return c.entity === 'metric' || c.entity === 'param' || (c.entity === 'tag' && c.key !== 'mlflow.runName');
}

/** How a clause reads a key's value: within a run's group of rows, or on one row. */
type ValueOf = (store: StoredEntity, key: string, column: string) => Sql;

/** A key's value within the group of one run's rows of a store (NULL where the run lacks the key). */
const pivot: ValueOf = (store, key, column) =>
  sql`max(case when x.${sql.ref(STORES[store].key)} = ${key} then x.${sql.ref(column)} end)`;

/** A key's value on one row of a store (NULL on another key's row). */
const onRow: ValueOf = (store, key, column) =>
  sql`(case when x.${sql.ref(STORES[store].key)} = ${key} then x.${sql.ref(column)} end)`;

function paramCondition(dialect: DialectHelpers, c: Clause, valueOf: ValueOf): Expression<SqlBool> {
  const values = Array.isArray(c.value) ? c.value : [c.value];
  const num = valueOf('param', c.key, 'num_value');
  if (values.every((v) => typeof v === 'number')) return compare(dialect, num, c.op, c.value);
  const textValue = valueOf('param', c.key, 'text_value');
  const text = compare(dialect, textValue, c.op, c.value);
  // Hyperparameters logged as numbers by Tora's own client have no text form; '0.1' still finds 0.1.
  if ((c.op === '=' || c.op === 'IN') && values.every(isNumericText)) {
    const nums = compare(dialect, num, c.op, Array.isArray(c.value) ? c.value.map(Number) : Number(c.value));
    return sql<SqlBool>`(${text} or (${textValue} is null and ${nums}))`;
  }
  return text;
}

/** One stored clause as a condition on the group of a run's rows in its store (or on one row). */
function storedCondition(dialect: DialectHelpers, c: StoredClause, valueOf: ValueOf = pivot): Expression<SqlBool> {
  switch (c.entity) {
    case 'metric':
      return compare(dialect, valueOf('metric', c.key, 'last_value'), c.op, c.value);
    case 'param':
      return paramCondition(dialect, c, valueOf);
    case 'tag':
      return compare(dialect, valueOf('tag', c.key, 'value'), c.op, c.value);
  }
}

/**
 * The runs of the scope whose rows in one store pass every clause on it: one grouped scan of the
 * store, whatever the number of clauses. (A correlated EXISTS per clause made PostgreSQL's planner
 * grow without bound: 12 clauses planned in 1 s, 30 in 3 s and 1.6 GB; this plans in milliseconds.)
 * The conditions are one `coalesce(…)` so PostgreSQL estimates them as one: apart, it multiplied
 * their selectivities to a handful of rows and chose nested loops that re-ran the aggregate per run.
 * Only rows that pass some clause on their own key are grouped: every comparison is false on a
 * missing key (NULL), so a row that passes none cannot make its run match, and a selective filter
 * groups a fraction of the store (100,000 runs, `lr = 0.001 and layers > 6`: 50,000 rows, not 200,000).
 */
function storeMatches(
  dialect: DialectHelpers,
  store: StoredEntity,
  clauses: readonly StoredClause[],
  scope: Expression<{ id: string }>,
): Sql {
  const { table, key } = STORES[store];
  const keys = [...new Set(clauses.map((c) => c.key))];
  return sql`(select x.experiment_id from ${sql.table(table)} x
    where x.${sql.ref(key)} in (${sql.join(keys)}) and x.experiment_id in (${scope})
      and coalesce(${sql.join(
        clauses.map((c) => storedCondition(dialect, c, onRow)),
        sql` or `,
      )}, false)
    group by x.experiment_id
    having coalesce(${sql.join(
      clauses.map((c) => storedCondition(dialect, c)),
      sql` and `,
    )}, false))`;
}

function attributeSql(key: string, crashedBefore: number): Sql {
  switch (key) {
    case 'run_id':
      return sql`e.id`;
    case 'run_name':
      return sql`e.name`;
    case 'status':
      return mlflowStatusSql(crashedBefore);
    case 'start_time':
      return sql`e.created_at`;
    case 'end_time':
      return sql`(select r.end_time from mlflow_runs r where r.experiment_id = e.id)`;
    case 'user_id':
      // As runs/get answers it: the mlflow.user tag, "unknown" without one.
      return sql`coalesce(nullif((select t.value from mlflow_run_tags t where t.experiment_id = e.id and t.key = 'mlflow.user'), ''), 'unknown')`;
    case 'artifact_uri':
      return sql`('mlflow-artifacts:/' || e.workspace_id || '/' || e.id || '/artifacts')`;
    default:
      throw new Error(`attribute ${key} passed the parser but has no SQL`);
  }
}

/**
 * Conditions of all clauses on `e`, joined by AND (true when there are none). `scope` selects the
 * ids of the runs searched (a subquery), so each store is scanned only for those.
 */
export function filterSql(
  dialect: DialectHelpers,
  clauses: readonly Clause[],
  crashedBefore: number,
  scope: Expression<{ id: string }>,
): Expression<SqlBool> {
  if (clauses.length === 0) return sql<SqlBool>`1 = 1`;
  const conditions: Expression<SqlBool>[] = [];
  for (const store of Object.keys(STORES) as StoredEntity[]) {
    const own = clauses.filter((c): c is StoredClause => isStored(c) && c.entity === store);
    if (own.length > 0) conditions.push(sql<SqlBool>`e.id in ${storeMatches(dialect, store, own, scope)}`);
  }
  for (const c of clauses) {
    if (c.entity === 'attribute') conditions.push(compare(dialect, attributeSql(c.key, crashedBefore), c.op, c.value));
    if (c.entity === 'tag' && c.key === 'mlflow.runName') conditions.push(compare(dialect, sql`e.name`, c.op, c.value));
    if (c.entity === 'dataset') {
      // A run has few dataset inputs, and several may match: "any of its inputs passes". The key passed
      // the parser: name, digest or context (a column each).
      conditions.push(sql<SqlBool>`exists (select 1 from mlflow_dataset_inputs d where d.experiment_id = e.id
        and ${compare(dialect, sql.ref(`d.${c.key}`), c.op, c.value)})`);
    }
  }
  return sql<SqlBool>`(${sql.join(conditions, sql` and `)})`;
}

/** The value an order key sorts by, as a scalar subquery on `e` (NULL where a run lacks it). */
export function orderValueSql(dialect: DialectHelpers, key: OrderKey, crashedBefore: number): Sql {
  switch (key.entity) {
    case 'metric':
      // From metric_series_figures_idx (migration 023), not the table.
      return sql`(select s.last_value from metric_series s
        where s.experiment_id = e.id and ${dialect.equalsViaCoveringIndex(sql.ref('s.name'), key.key)})`;
    case 'param':
      return sql`(select coalesce(h.text_value, cast(h.num_value as text)) from experiment_hyperparams h
        where h.experiment_id = e.id and h.key = ${key.key})`;
    case 'tag':
      if (key.key === 'mlflow.runName') return sql`e.name`;
      return sql`(select t.value from mlflow_run_tags t where t.experiment_id = e.id and t.key = ${key.key})`;
    case 'attribute':
      return attributeSql(key.key, crashedBefore);
    case 'dataset':
      throw new Error('order keys on datasets are refused by the parser');
  }
}
