/**
 * Every limit the API publishes or enforces on input: name lengths, batch caps, page sizes. One
 * module, so the schemas (and through them the OpenAPI document), the services' checks and
 * docs/api.md cannot drift apart. Internal tuning (block and window sizes) stays with its code.
 */

/** One metrics batch and the metric reads (also in the OpenAPI document and docs/api.md). */
export const METRIC_LIMITS = {
  maxPointsPerBatch: 200_000,
  maxSeriesPerBatch: 1_000,
  maxBodyBytes: 64 * 1024 * 1024,
  maxNameLength: 256,
  maxMetadataBytes: 4_096,
  maxMetadataDepth: 16,
  maxBatchIdLength: 128,
  /** Steps may be negative, as MLflow's are (a warm-up logged before step 0). */
  minStep: -Number.MAX_SAFE_INTEGER,
  maxStep: Number.MAX_SAFE_INTEGER,
  /** The last instant a JavaScript Date (and so an ISO-8601 answer) can hold: +275760-09-13. */
  maxTime: 8.64e15,
  /** Raw points per response (`limit` of metrics/raw): a page of them costs the server ~1 KB each. */
  maxRawPointsPerResponse: 20_000,
  defaultRawPoints: 10_000,
  /** Buckets of one series read (`budget`), e.g. a chart's width in pixels. */
  maxSeriesBudget: 20_000,
  rawCursorLength: 200,
  defaultBudget: 1000,
} as const;

/** Experiments: their fields, the list's page and filters, bulk actions. */
export const EXPERIMENT_LIMITS = {
  nameLength: 200,
  descriptionLength: 10_000,
  tagLength: 64,
  tagsPerExperiment: 100,
  groupLength: 200,
  /** Hyperparameters after flattening, their keys and string values, and how deep objects may nest. */
  hyperparams: 1000,
  hyperparamKeyLength: 256,
  hyperparamValueLength: 10_000,
  hyperparamDepth: 16,
  /** `runInfo`: entries, key and value lengths. */
  runInfoEntries: 200,
  runInfoKeyLength: 128,
  runInfoValueLength: 4096,
  bulkIds: 500,
  pageSize: 500,
  defaultPageSize: 50,
  /** The list's `tags` query: as one comma-separated string, or as repeated values. */
  tagsQueryLength: 2000,
  tagsQueryItems: 50,
  filterLength: 2_000,
  cursorLength: 200,
  /** Links of a reference chain walked for one answer. */
  referenceChain: 1000,
  /** The list grouped (`groupBy`): metric columns summarised, the default when none are named, groups returned. */
  groupColumns: 50,
  defaultGroupColumns: 20,
  groupsPerResponse: 1000,
} as const;

export const WORKSPACE_LIMITS = {
  nameLength: 200,
  descriptionLength: 5000,
} as const;

export const ACCOUNT_LIMITS = {
  emailLength: 320,
  minPasswordLength: 8,
  maxPasswordLength: 1024,
  keyNameLength: 200,
  keyMaxDays: 3650,
} as const;

/** Invite links to a workspace (modules/invites). */
export const INVITE_LIMITS = {
  defaultDays: 7,
  maxDays: 30,
  /** Open (unused, unrevoked, unexpired) invites of one workspace. */
  openPerWorkspace: 100,
} as const;

/** One compare read, and metric-direction patches. */
export const COMPARE_LIMITS = {
  experiments: 50,
  metrics: 50,
  /** Metrics returned when the request names none: the most shared ones. */
  defaultMetrics: 20,
  maxBudget: 5000,
  defaultBudget: 1000,
  /**
   * Buckets one compare may answer (experiments × metrics × budget): bounds the response and the
   * server memory behind it. The web app's largest read (50 runs × 20 metrics × 1,000 px) fits.
   */
  maxBuckets: 1_000_000,
  directionsPerPatch: 200,
} as const;

/** One band read (mean ± spread of one metric across runs). */
export const BAND_LIMITS = {
  minExperiments: 2,
  maxExperiments: 500,
  maxBudget: 5000,
  defaultBudget: 1000,
} as const;

export const ANALYSIS_LIMITS = {
  questionLength: 2000,
  /** Metrics of one run the analyzer reads. */
  metrics: 50,
  /** Characters of the prompt sent to a provider (shrunk until it fits). */
  promptChars: 24_000,
} as const;

/**
 * MLflow's search grammar, shared by the dashboard's `filter` and MLflow's runs/search: clauses
 * per filter (each one costs the database a condition; past a few dozen a filter is no longer a
 * person's question but a load test).
 */
export const FILTER_LIMITS = {
  clauses: 50,
} as const;

/** MLflow's published limits (mlflow/utils/validation.py), enforced on its tracking API. */
export const MLFLOW_LIMITS = {
  metricsPerBatch: 1000,
  paramsTagsPerBatch: 100,
  entitiesPerBatch: 1000,
  paramValueLength: 6000,
  tagValueLength: 8000,
  keyLength: 250,
  experimentNameLength: 500,
  experimentTagValueLength: 20_000,
  maxResults: 50_000,
  /** Runs of one get-history-bulk-interval request. */
  intervalRuns: 100,
  /**
   * get-history-bulk-interval samples MLflow's exact steps (every point read) when the runs' series
   * hold at most this many points together; larger ones are answered from Tora's bucketed read.
   */
  intervalExactPoints: 100_000,
  /** Points per run of one exactly sampled get-history-bulk-interval answer (MLflow's history page). */
  intervalPointsPerRun: 25_000,
  /** Distinct `experiment_ids` of one runs/search (repeats count once). */
  searchExperimentIds: 1000,
  /** `order_by` keys of one runs/search (each one a sort key over every matching run). */
  orderByKeys: 10,
  /** A dataset input (`runs/log-inputs`): its fields and input tags. */
  datasetNameLength: 500,
  datasetDigestLength: 36,
  datasetSourceTypeLength: 100,
  datasetSourceLength: 65_535,
  datasetSchemaLength: 1_048_575,
  datasetProfileLength: 16_777_215,
  inputTagKeyLength: 255,
  inputTagValueLength: 500,
  /** Datasets and models of one log-inputs or outputs request. */
  inputsPerRequest: 1000,
  /** The model registry: names, tags, aliases and the searches' pages (MLflow's defaults and caps). */
  registeredModelNameLength: 500,
  registryTagKeyLength: 250,
  registryTagValueLength: 100_000,
  aliasLength: 255,
  registeredModelsPerPage: 1000,
  registeredModelsDefaultPage: 100,
  modelVersionsPerPage: 200_000,
  modelVersionsDefaultPage: 10_000,
  /** Characters of an id a request names (experiment, run, logged model) and of a `page_token`. */
  idLength: 200,
  pageTokenLength: 200,
  /**
   * Characters of a name or key a request looks up or sets outside log-batch (an experiment's
   * name to find or rename to, a run's name, a metric key to read, a tag key to delete, an alias).
   */
  nameFieldLength: 1000,
  /** `max_results` of runs/search and experiments/search when the request gives none. */
  searchDefaultPage: 1000,
  /** Characters of a search `filter` (runs, experiments, the registry's searches). */
  filterLength: 10_000,
  /** A logged model's `name` and `model_type`; logged-models/search pages (MLflow's default and cap). */
  loggedModelNameLength: 500,
  loggedModelsDefaultPage: 100,
  loggedModelsPerPage: 1000,
  /** A model version's number as text and its `stage`; a URI a request names (`source`, `run_link`, `artifact_location`). */
  versionLength: 20,
  stageLength: 100,
  uriLength: 10_000,
  /** Characters of the `path` an artifact listing names. */
  artifactPathLength: 2000,
} as const;

/**
 * A run's files and media (the largest file is the server's TORA_MAX_ARTIFACT_BYTES, 5 GiB by
 * default, shared with MLflow's artifact uploads).
 */
export const FILE_LIMITS = {
  /** Characters of a file's path (its segments: 255 bytes each, no '.', '..' or empty one). */
  pathLength: 1024,
  /** Files of one listing, in path order; `after` asks for the next ones. */
  listSize: 10_000,
  /** Characters of a media key (`name`). */
  mediaNameLength: 256,
  /** Images of one media listing, in (name, step) order; `from` asks for later steps. */
  mediaListSize: 10_000,
  /** An image's header must be within its first 256 KiB (a JPEG's frame header follows its EXIF). */
  imageHeadBytes: 256 * 1024,
} as const;

/** The smaller copies Tora makes of uploaded images (modules/files/thumbnails.ts), in the background. */
export const THUMBNAIL_LIMITS = {
  /** Longest edge of a thumbnail, in pixels (a smaller image is copied at its size). */
  edge: 256,
  /** Images larger than this are not thumbnailed (their bytes are read whole to decode them). */
  maxSourceBytes: 32 * 1024 * 1024,
  /** Nor images of more pixels than this (a decompression bomb's guard). */
  maxSourcePixels: 64 * 1024 * 1024,
  /** Images waiting for a thumbnail; past it new ones get none (the original is shown instead). */
  queueLength: 100_000,
} as const;

/** The Models section of a run's page (`GET /api/experiments/{id}/models`). */
export const RUN_MODEL_LIMITS = {
  /** Models listed per run (logged models, then directories holding an `MLmodel`). */
  models: 100,
  /** Files listed per model (its size counts them all). */
  filesPerModel: 1_000,
  /** Bytes of an `MLmodel` file read for its flavors. */
  mlmodelBytes: 64 * 1024,
} as const;
