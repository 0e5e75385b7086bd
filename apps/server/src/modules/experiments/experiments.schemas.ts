import { Type } from '@sinclair/typebox';
import { EXPERIMENT_LIMITS as LIMITS } from '../../lib/limits.js';
import { IsoDate, STATUSES, Status, Uuid } from '../../lib/schemas.js';
// Accepted because the original Tora client sends it, and ignored: who sees an experiment is
// decided by workspace membership alone (docs/permissions.md).
const Visibility = Type.Union([Type.Literal('PRIVATE'), Type.Literal('PUBLIC')], {
  description: 'Ignored (accepted for the original Tora client): access is by workspace membership only',
});

const Name = Type.String({ minLength: 1, maxLength: LIMITS.nameLength, pattern: '\\S' });
const Description = Type.Union([Type.String({ maxLength: LIMITS.descriptionLength }), Type.Null()]);
const Tag = Type.String({ minLength: 1, maxLength: LIMITS.tagLength, pattern: '^[^,]+$' });
const Tags = Type.Array(Tag, { maxItems: LIMITS.tagsPerExperiment });
const HyperparamValue = Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]);
// Values may nest (objects, lists); the service flattens them (hyperparams.ts), so the schema
// only says so.
const NestedValue = Type.Unknown({ description: 'string, number, boolean, null, list or object' });
const HyperparamsInput = Type.Union(
  [
    Type.Array(Type.Object({ key: Type.Union([Type.String(), Type.Number()]), value: Type.Optional(NestedValue) })),
    Type.Record(Type.String(), NestedValue),
    Type.String(),
    Type.Null(),
  ],
  {
    description:
      'A list of {key, value} (the original form), an object, or either encoded as a JSON string. ' +
      'Nested objects are flattened to dotted keys ({"opt": {"lr": 0.1}} → opt.lr = 0.1); lists are kept as their JSON text.',
  },
);
const Group = Type.Union([Type.String({ minLength: 1, maxLength: LIMITS.groupLength, pattern: '\\S' }), Type.Null()], {
  description: 'Runs launched together (a sweep, a set of seeds); null = none',
});
const RunInfoInput = Type.Record(Type.String(), Type.String({ maxLength: LIMITS.runInfoValueLength }), {
  maxProperties: LIMITS.runInfoEntries,
  propertyNames: { minLength: 1, maxLength: LIMITS.runInfoKeyLength },
  description:
    'Where and how the run ran (git commit, command line, host, package versions), string to string; replaced whole on update',
});

export const CreateExperimentBody = Type.Object(
  {
    name: Name,
    description: Type.Optional(Description),
    hyperparams: Type.Optional(HyperparamsInput),
    tags: Type.Optional(Type.Union([Tags, Type.Null()])),
    workspaceId: Type.Optional(
      Type.Union([Uuid, Type.Literal('API_DEFAULT'), Type.Null()], {
        description: 'Absent, null or "API_DEFAULT" = your default workspace',
      }),
    ),
    visibility: Type.Optional(Visibility),
    status: Type.Optional(Status),
    referenceId: Type.Optional(Type.Union([Uuid, Type.Null()])),
    group: Type.Optional(Group),
    runInfo: Type.Optional(RunInfoInput),
  },
  { additionalProperties: false },
);

export const UpdateExperimentBody = Type.Object(
  {
    name: Type.Optional(Name),
    description: Type.Optional(Description),
    tags: Type.Optional(Tags),
    visibility: Type.Optional(Visibility),
    status: Type.Optional(Status),
    hyperparams: Type.Optional(HyperparamsInput),
    group: Type.Optional(Group),
    runInfo: Type.Optional(RunInfoInput),
  },
  { additionalProperties: false },
);

const MetricNumber = Type.Union([Type.Number(), Type.String({ description: '"NaN", "Infinity" or "-Infinity"' }), Type.Null()]);

export const Experiment = Type.Object({
  id: Uuid,
  name: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  hyperparams: Type.Array(Type.Object({ key: Type.String(), value: HyperparamValue })),
  tags: Type.Array(Type.String()),
  status: Status,
  workspaceId: Uuid,
  workspace_id: Uuid,
  referenceId: Type.Union([Uuid, Type.Null()]),
  group: Type.Union([Type.String(), Type.Null()]),
  runInfo: Type.Record(Type.String(), Type.String()),
  createdAt: IsoDate,
  updatedAt: IsoDate,
  lastActivityAt: IsoDate,
  availableMetrics: Type.Array(Type.String()),
  latestMetrics: Type.Record(Type.String(), MetricNumber, { description: 'Last value of each metric' }),
  minMetrics: Type.Record(Type.String(), MetricNumber, {
    description: 'Smallest non-NaN value of each metric (null while every value is NaN): the best of a lower-is-better metric',
  }),
  maxMetrics: Type.Record(Type.String(), MetricNumber, {
    description: 'Largest non-NaN value of each metric (null while every value is NaN): the best of a higher-is-better metric',
  }),
});

export const ListQuery = Type.Object({
  workspace: Type.Optional(Uuid),
  startwith: Type.Optional(Type.String({ maxLength: LIMITS.nameLength, description: 'Name contains (case-insensitive)' })),
  tags: Type.Optional(
    Type.Union([
      Type.String({ maxLength: LIMITS.tagsQueryLength }),
      Type.Array(Type.String({ maxLength: LIMITS.tagLength }), { maxItems: LIMITS.tagsQueryItems }),
    ]),
  ),
  group: Type.Optional(
    Type.String({ minLength: 1, maxLength: LIMITS.groupLength, description: 'Only experiments of this group (exact match)' }),
  ),
  status: Type.Optional(Type.String({ pattern: `^(${STATUSES.join('|')})(,(${STATUSES.join('|')}))*$` })),
  sort: Type.Optional(
    Type.String({
      pattern: '^-?(created|updated|name|status|metric:.+|metric-min:.+|metric-max:.+|hp:.+)$',
      description:
        'created, updated, name, status, metric:<name> (last value), metric-min:<name> / metric-max:<name> (smallest / largest value) or hp:<key>; a leading - sorts descending',
    }),
  ),
  order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
  filter: Type.Optional(
    Type.String({
      maxLength: LIMITS.filterLength,
      description:
        "MLflow's search grammar, clauses joined by AND: metrics.<name> (last value), params.<key>, tags.<key> (MLflow tags), " +
        'attributes.status|run_name|run_id|start_time|end_time; =, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN; backticks ' +
        'for names with dots or slashes. Example: params.lr < 0.01 and metrics.`val/loss` < 0.3',
    }),
  ),
  cursor: Type.Optional(Type.String({ maxLength: LIMITS.cursorLength })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.pageSize, default: LIMITS.defaultPageSize })),
  groupBy: Type.Optional(
    Type.String({
      pattern: '^(group|params\\..+|tags\\..+)$',
      maxLength: 7 + LIMITS.hyperparamKeyLength,
      description:
        'group, params.<key> (a hyperparameter) or tags.<key> (an MLflow tag): answer {groups, groupCount, total} instead of a page',
    }),
  ),
  groupMetrics: Type.Optional(
    Type.String({
      maxLength: LIMITS.groupColumns * 300,
      description:
        `With groupBy: comma-separated metric columns, each <name> (last value), last:<name>, min:<name>, max:<name> or ` +
        `best:<name> (min or max by the metric's direction); at most ${LIMITS.groupColumns}; ` +
        `default: the ${LIMITS.defaultGroupColumns} metrics most of the runs have, by last value`,
    }),
  ),
  groupSort: Type.Optional(
    Type.String({
      maxLength: 300,
      description: 'With groupBy: value (default), count, or a column of groupMetrics (by its mean); order=asc|desc',
    }),
  ),
});

export const ExperimentList = Type.Object({
  experiments: Type.Array(Experiment),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
  total: Type.Integer({ description: 'How many experiments match the filters, over all pages' }),
});

export const ExperimentGroups = Type.Object({
  groups: Type.Array(
    Type.Object({
      value: Type.Union([Type.String(), Type.Number(), Type.Null()], {
        description: 'the group, hyperparameter (booleans as 1/0) or tag value; null for runs without one',
      }),
      count: Type.Integer(),
      metrics: Type.Record(
        Type.String(),
        Type.Object({
          mean: MetricNumber,
          std: Type.Union([Type.Number(), Type.String(), Type.Null()], { description: 'population (1/n)' }),
          min: MetricNumber,
          max: MetricNumber,
          n: Type.Integer({ description: 'runs with a value (NaN left out)' }),
        }),
      ),
    }),
  ),
  groupCount: Type.Integer({ description: `groups in all; at most ${LIMITS.groupsPerResponse} are returned` }),
  total: Type.Integer({ description: 'experiments matching the filters' }),
});

export const BulkBody = Type.Object(
  {
    ids: Type.Array(Uuid, {
      minItems: 1,
      maxItems: LIMITS.bulkIds,
      uniqueItems: true,
      description: `Experiments to act on (at most ${LIMITS.bulkIds})`,
    }),
    action: Type.Union([Type.Literal('delete'), Type.Literal('tag'), Type.Literal('untag')]),
    tags: Type.Optional(
      Type.Array(Tag, { minItems: 1, maxItems: LIMITS.tagsPerExperiment, description: 'Required for tag and untag' }),
    ),
  },
  { additionalProperties: false },
);

export const BulkResult = Type.Object({
  success: Type.Literal(true),
  action: Type.Union([Type.Literal('delete'), Type.Literal('tag'), Type.Literal('untag')]),
  count: Type.Integer({ description: 'How many experiments were deleted or had their tags changed' }),
});

export const ChainLink = Type.Object({ id: Uuid, name: Type.String(), status: Status, workspaceId: Uuid, createdAt: IsoDate });
export const ReferenceResponse = Type.Object({
  referenceId: Type.Union([Uuid, Type.Null()]),
  chain: Type.Array(ChainLink, { description: 'References, oldest first; the last is the direct reference' }),
});
export const ReferenceBody = Type.Object({ referenceId: Uuid }, { additionalProperties: false });
export const ReferenceParams = Type.Object({ id: Uuid, refId: Uuid });
