import { sql, type Expression, type RawBuilder, type SqlBool } from 'kysely';
import type { DialectHelpers } from '../../db/dialect.js';
import type { Clause, Comparator, Literal, OrderKey } from './mlflow.filter.js';

/**
 * SQL for parsed filters and order keys over `experiments as e` (a run is a Tora experiment),
 * shared by MLflow's runs/search and the dashboard's experiment list. Metrics compare the last
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

function paramCondition(dialect: DialectHelpers, c: Clause): Expression<SqlBool> {
  const values = Array.isArray(c.value) ? c.value : [c.value];
  if (values.every((v) => typeof v === 'number')) return compare(dialect, sql`h.num_value`, c.op, c.value);
  const text = compare(dialect, sql`h.text_value`, c.op, c.value);
  // Hyperparameters logged as numbers by Tora's own client have no text form; '0.1' still finds 0.1.
  if ((c.op === '=' || c.op === 'IN') && values.every(isNumericText)) {
    const nums = compare(dialect, sql`h.num_value`, c.op, Array.isArray(c.value) ? c.value.map(Number) : Number(c.value));
    return sql<SqlBool>`(${text} or (h.text_value is null and ${nums}))`;
  }
  return text;
}

/** One clause as a condition on `e`. */
function clauseSql(dialect: DialectHelpers, c: Clause, crashedBefore: number): Expression<SqlBool> {
  switch (c.entity) {
    case 'metric':
      return sql<SqlBool>`exists (select 1 from metric_series s where s.experiment_id = e.id and s.name = ${c.key}
        and ${compare(dialect, sql`s.last_value`, c.op, c.value)})`;
    case 'param':
      return sql<SqlBool>`exists (select 1 from experiment_hyperparams h where h.experiment_id = e.id and h.key = ${c.key}
        and ${paramCondition(dialect, c)})`;
    case 'tag':
      if (c.key === 'mlflow.runName') return compare(dialect, sql`e.name`, c.op, c.value);
      return sql<SqlBool>`exists (select 1 from mlflow_run_tags t where t.experiment_id = e.id and t.key = ${c.key}
        and ${compare(dialect, sql`t.value`, c.op, c.value)})`;
    case 'attribute':
      return compare(dialect, attributeSql(c.key, crashedBefore), c.op, c.value);
    case 'dataset':
      // The key passed the parser: name, digest or context (a column each).
      return sql<SqlBool>`exists (select 1 from mlflow_dataset_inputs d where d.experiment_id = e.id
        and ${compare(dialect, sql.ref(`d.${c.key}`), c.op, c.value)})`;
  }
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
    default:
      throw new Error(`attribute ${key} passed the parser but has no SQL`);
  }
}

/** Conditions of all clauses, joined by AND (true when there are none). */
export function filterSql(dialect: DialectHelpers, clauses: readonly Clause[], crashedBefore: number): Expression<SqlBool> {
  if (clauses.length === 0) return sql<SqlBool>`1 = 1`;
  return sql<SqlBool>`(${sql.join(
    clauses.map((c) => clauseSql(dialect, c, crashedBefore)),
    sql` and `,
  )})`;
}

/** The value an order key sorts by, as a scalar subquery on `e` (NULL where a run lacks it). */
export function orderValueSql(key: OrderKey, crashedBefore: number): Sql {
  switch (key.entity) {
    case 'metric':
      return sql`(select s.last_value from metric_series s where s.experiment_id = e.id and s.name = ${key.key})`;
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
