import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BAND_LIMITS,
  COMPARE_LIMITS,
  EXPERIMENT_LIMITS,
  FILE_LIMITS,
  FILTER_LIMITS,
  INVITE_LIMITS,
  METRIC_LIMITS,
  MLFLOW_LIMITS,
  RUN_MODEL_LIMITS,
  THUMBNAIL_LIMITS,
} from '../src/lib/limits.js';

/**
 * The layering rules of eslint.config.js (docs/architecture.md), applied by the real config to
 * snippets placed at paths inside src/: each rule must refuse what it is for, and let through what
 * it is not. Removing or loosening a rule fails here, not silently in review.
 */
const LAYER_RULES = new Set(['no-restricted-imports', 'no-restricted-syntax']);
const serverDir = fileURLToPath(new URL('..', import.meta.url));

let eslint: ESLint;

beforeAll(() => {
  eslint = new ESLint({
    cwd: serverDir,
    // Only the layer rules run, so the snippets need no type information (the files need not exist).
    ruleFilter: ({ ruleId }) => LAYER_RULES.has(ruleId),
    overrideConfig: { languageOptions: { parserOptions: { projectService: false, project: null } } },
  });
});

async function problems(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${serverDir}/${filePath}` });
  return result!.messages.map((m) => `${m.ruleId ?? 'parse'}: ${m.message}`);
}

describe('layer rules (eslint.config.js)', () => {
  it('lets only repositories and src/db/ import Kysely values; type imports are fine anywhere', async () => {
    const valueImport = "import { sql } from 'kysely';\nexport const q = sql`select 1`;\n";
    expect(await problems('src/modules/things/things.service.ts', valueImport)).toEqual([
      expect.stringContaining('no-restricted-imports: '),
    ]);
    expect(await problems('src/modules/things/things.routes.ts', valueImport)).toEqual([
      expect.stringContaining('no-restricted-imports: '),
    ]);
    expect(await problems('src/modules/things/things.schemas.ts', valueImport)).toEqual([
      expect.stringContaining('no-restricted-imports: '),
    ]);
    expect(await problems('src/modules/things/things.repository.ts', valueImport)).toEqual([]);
    expect(await problems('src/db/things.ts', valueImport)).toEqual([]);
    const typeImport = "import type { Kysely } from 'kysely';\nexport type Db = Kysely<object>;\n";
    expect(await problems('src/modules/things/things.service.ts', typeImport)).toEqual([]);
  });

  it('refuses queries built outside repositories', async () => {
    const query = "export const rows = (db: any) => db.selectFrom('users').selectAll().execute();\n";
    expect(await problems('src/modules/things/things.service.ts', query)).toEqual([
      expect.stringContaining('no-restricted-syntax: Queries live in *.repository.ts'),
    ]);
    for (const call of ["insertInto('users')", "updateTable('users')", "deleteFrom('users')"]) {
      expect(await problems('src/modules/things/things.ts', `export const f = (db: any) => db.${call};\n`)).toHaveLength(1);
    }
    expect(await problems('src/modules/things/things.repository.ts', query)).toEqual([]);
  });

  it('keeps routes from importing repositories, even for a type', async () => {
    for (const line of [
      "import { findThing } from './things.repository.js';\nexport const f = findThing;\n",
      "import type { ThingRow } from '../things/things.repository.js';\nexport type T = ThingRow;\n",
    ]) {
      expect(await problems('src/modules/things/things.routes.ts', line)).toEqual([
        expect.stringContaining('no-restricted-imports: '),
      ]);
    }
    const viaService = "import { getThing } from './things.service.js';\nexport const f = getThing;\n";
    expect(await problems('src/modules/things/things.routes.ts', viaService)).toEqual([]);
  });

  it('keeps schemas from importing services', async () => {
    const line = "import { MAX } from './things.service.js';\nexport const n = MAX;\n";
    expect(await problems('src/modules/things/things.schemas.ts', line)).toEqual([
      expect.stringContaining('no-restricted-imports: '),
    ]);
    expect(await problems('src/modules/things/things.routes.ts', line)).toEqual([]);
  });
});

describe('limits (src/lib/limits.ts)', () => {
  it('are the ones docs/api.md tells client authors', () => {
    const doc = fs.readFileSync(new URL('../../../docs/api.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');
    const n = (x: number) => x.toLocaleString('en-US');
    const m = METRIC_LIMITS;
    expect(doc).toContain(
      `${n(m.maxPointsPerBatch)} points, ${n(m.maxSeriesPerBatch)} metrics and ${m.maxBodyBytes / 2 ** 20} MiB per batch; ` +
        `metric names up to ${m.maxNameLength} characters; metadata up to ${n(m.maxMetadataBytes)} bytes and ` +
        `${m.maxMetadataDepth} levels per point.`,
    );
    expect(doc).toContain(`at most ${n(m.maxRawPointsPerResponse)} points per page`);
    expect(doc).toContain(`Steps are integers from ${n(m.minStep)} to ${n(m.maxStep)}`);
    expect(doc).toContain(`acts on up to ${EXPERIMENT_LIMITS.bulkIds} experiments at once`);
    expect(doc).toContain(`past ${EXPERIMENT_LIMITS.tagsPerExperiment} tags`);
    expect(doc).toContain(`\`group\` (1–${EXPERIMENT_LIMITS.groupLength} characters, or \`null\`)`);
    const e = EXPERIMENT_LIMITS;
    expect(doc).toContain(
      `at most ${e.runInfoEntries} entries, keys 1–${e.runInfoKeyLength} characters, values up to ${n(e.runInfoValueLength)}`,
    );
    expect(doc).toContain(`at most ${FILTER_LIMITS.clauses} clauses per filter`);
    const i = INVITE_LIMITS;
    expect(doc).toContain(
      `expires after ${i.defaultDays} days by default (\`expiresInDays\` 1–${i.maxDays}); a workspace holds at most ${i.openPerWorkspace} open invites`,
    );
    expect(doc).toContain(
      `tag keys up to ${MLFLOW_LIMITS.keyLength} characters and tag values up to ${n(MLFLOW_LIMITS.tagValueLength)} (MLflow's limits)`,
    );
    const c = COMPARE_LIMITS;
    expect(doc).toContain(
      `up to ${c.experiments} experiments and ${c.metrics} metrics (default: the ${c.defaultMetrics} most shared metrics), ` +
        `and at most ${n(c.maxBuckets)} buckets per response`,
    );
    const f = FILE_LIMITS;
    expect(doc).toContain(`at most ${n(f.listSize)} files per answer`);
    expect(doc).toContain(`most ${n(f.mediaListSize)} images per answer`);
    expect(doc).toContain(`within the first ${f.imageHeadBytes / 1024} KiB`);
    expect(doc).toContain(`Media keys are up to ${f.mediaNameLength} characters`);
    expect(doc).toContain(`paths up to ${n(f.pathLength)} characters`);
    const t = THUMBNAIL_LIMITS;
    expect(doc).toContain(`a WebP of it at most ${t.edge} px a side`);
    expect(doc).toContain(`Images over ${t.maxSourceBytes / 2 ** 20} MiB or ${n(t.maxSourcePixels)} pixels`);
    expect(doc).toContain(`At most ${n(t.queueLength)} images wait at once`);
    expect(doc).toContain(
      `the first ${n(RUN_MODEL_LIMITS.filesPerModel)} of them (path order); at most ${RUN_MODEL_LIMITS.models} models per run`,
    );
    expect(doc).toContain(`\`groupMetrics\` lists up to ${e.groupColumns} columns`);
    expect(doc).toContain(`the ${e.defaultGroupColumns} metrics most runs have`);
    expect(doc).toContain(`at most ${n(e.groupsPerResponse)} groups are returned`);
    const b = BAND_LIMITS;
    expect(doc).toContain(
      `with ${b.minExperiments} to ${b.maxExperiments} experiment ids and a budget of at most ${n(b.maxBudget)} buckets ` +
        `(default ${n(b.defaultBudget)})`,
    );
  });

  it("of MLflow's routes are the ones docs/mlflow.md tells MLflow users", () => {
    const doc = fs.readFileSync(new URL('../../../docs/mlflow.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');
    const n = (x: number) => x.toLocaleString('en-US');
    const l = MLFLOW_LIMITS;
    expect(l.pageTokenLength).toBe(l.idLength); // the doc states them as one
    expect(doc).toContain(`ids (experiment, run, logged model) and \`page_token\` up to ${l.idLength} characters`);
    expect(doc).toContain(
      `a tag key to delete and an alias up to ${n(l.nameFieldLength)}; a \`filter\` up to ${n(l.filterLength)}`,
    );
    expect(doc).toContain(`\`experiments/search\` pages of ${n(l.searchDefaultPage)} unless \`max_results\``);
    expect(doc).toContain(
      `names and types up to ${l.loggedModelNameLength} and \`logged-models/search\` pages of ${l.loggedModelsDefaultPage} ` +
        `(at most ${n(l.loggedModelsPerPage)})`,
    );
    expect(doc).toContain(`\`max_results\` (≤ ${n(l.maxResults)})`);
    expect(doc).toContain(
      `pages of ${l.registeredModelsDefaultPage} (at most ${n(l.registeredModelsPerPage)}), \`model-versions/search\` ` +
        `${n(l.modelVersionsDefaultPage)} (at most ${n(l.modelVersionsPerPage)})`,
    );
  });
});

describe('module boundaries (eslint.config.js)', () => {
  it('keeps core modules from importing the MLflow module, in every kind of file, even for a type', async () => {
    const imports = [
      "import { parseFilter } from '../mlflow/mlflow.filter.js';\nexport const f = parseFilter;\n",
      "import type { RunDto } from '../mlflow/mlflow.runs.service.js';\nexport type R = RunDto;\n",
      "import { x } from '../../modules/mlflow/mlflow.repository.js';\nexport const y = x;\n",
    ];
    for (const file of [
      'src/modules/experiments/experiments.service.ts',
      'src/modules/experiments/experiments.repository.ts',
      'src/modules/workspaces/access.ts',
      'src/modules/workspaces/workspaces.routes.ts',
      'src/modules/experiments/experiments.schemas.ts',
      'src/modules/metrics/metrics.ingest.service.ts',
    ]) {
      for (const line of imports) {
        expect(await problems(file, line), `${file}: ${line}`).toContainEqual(
          expect.stringMatching(/^no-restricted-imports: .*Core modules stand alone/),
        );
      }
    }
    // The older rules still hold where the new one is added.
    expect(
      await problems(
        'src/modules/experiments/experiments.repository.ts',
        "import { sql } from 'kysely';\nexport const q = sql`1`;\n",
      ),
    ).toEqual([]);
    expect(
      await problems(
        'src/modules/experiments/experiments.service.ts',
        "import { sql } from 'kysely';\nexport const q = sql`1`;\n",
      ),
    ).toEqual([expect.stringContaining('no-restricted-imports: ')]);
    expect(
      await problems(
        'src/modules/workspaces/workspaces.routes.ts',
        "import { f } from './workspaces.repository.js';\nexport const g = f;\n",
      ),
    ).toEqual([expect.stringMatching(/^no-restricted-imports: .*Routes call services/)]);
    expect(
      await problems(
        'src/modules/experiments/experiments.schemas.ts',
        "import { f } from './experiments.service.js';\nexport const g = f;\n",
      ),
    ).toEqual([expect.stringMatching(/^no-restricted-imports: .*Schemas are shapes only/)]);
    // The MLflow module itself (the translator) imports the core, and the core imports the core.
    const core = "import { parseFilter } from '../experiments/filter.js';\nexport const f = parseFilter;\n";
    expect(await problems('src/modules/mlflow/mlflow.runs.service.ts', core)).toEqual([]);
    expect(await problems('src/modules/experiments/experiments.service.ts', core)).toEqual([]);
  });

  it("keeps the MLflow module a translator: no other module's repository, but for types", async () => {
    const translatorFiles = [
      'src/modules/mlflow/mlflow.runs.service.ts',
      'src/modules/mlflow/mlflow.logging.service.ts',
      'src/modules/mlflow/mlflow.import.ts',
      'src/modules/mlflow/mlflow.default-experiment.ts',
      'src/modules/mlflow/mlflow.repository.ts',
      'src/modules/mlflow/mlflow.models.repository.ts',
    ];
    const repositoryValues = [
      "import { findExperiment } from '../experiments/experiments.repository.js';\nexport const f = findExperiment;\n",
      "import { findSeries } from '../metrics/metrics.repository.js';\nexport const f = findSeries;\n",
      "import * as files from '../files/files.repository.js';\nexport const f = files;\n",
      "import { setWorkspaceTrashed } from '../workspaces/trash.repository.js';\nexport const f = setWorkspaceTrashed;\n",
      "import { findUserById } from '../../modules/auth/auth.repository.js';\nexport const f = findUserById;\n",
      "export { runTags } from '../experiments/run-tags.repository.js';\n",
    ];
    for (const file of translatorFiles) {
      for (const line of repositoryValues) {
        expect(await problems(file, line), `${file}: ${line}`).toContainEqual(
          expect.stringMatching(/^no-restricted-imports: .*MLflow module translates/),
        );
      }
      // A type, the module's own repositories and other modules' services are fine.
      for (const line of [
        "import type { SeriesRow } from '../metrics/metrics.repository.js';\nexport type S = SeriesRow;\n",
        "import { runTagsOf } from '../experiments/experiments.rows.service.js';\nexport const f = runTagsOf;\n",
      ]) {
        expect(await problems(file, line), `${file}: ${line}`).toEqual([]);
      }
    }
    const own = "import { setRunTags } from './mlflow.repository.js';\nexport const f = setRunTags;\n";
    expect(await problems('src/modules/mlflow/mlflow.runs.service.ts', own)).toEqual([]);
    // Its own repositories neither: a read that joins Tora's tables to MLflow's lives with Tora's
    // (experiments/run-tags.repository.ts: findRunByTag, parentByTag), so it stays one statement.
    const subquery =
      "import { experimentIdsOf } from '../experiments/experiments.repository.js';\nexport const f = experimentIdsOf;\n";
    expect(await problems('src/modules/mlflow/mlflow.repository.ts', subquery)).toEqual([
      expect.stringMatching(/^no-restricted-imports: .*MLflow module translates/),
    ]);
    // The older rules still hold in the MLflow module: no Kysely values outside its repositories.
    expect(
      await problems('src/modules/mlflow/mlflow.runs.service.ts', "import { sql } from 'kysely';\nexport const q = sql`1`;\n"),
    ).toEqual([expect.stringContaining('no-restricted-imports: ')]);
  });

  it("finds no value the MLflow module's files take from another module's repository (no exception is kept)", () => {
    const dir = path.join(serverDir, 'src/modules/mlflow');
    const taken: string[] = [];
    for (const name of fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.ts'))
      .sort()) {
      const text = fs.readFileSync(path.join(dir, name), 'utf8');
      for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?([^;]*?)\s+from\s+'(\.\.\/[^']*\.repository\.js)'/gm)) {
        if (m[1]) continue; // `import type`
        const names = m[2]!.startsWith('*')
          ? [m[2]!.trim()]
          : m[2]!
              .replace(/[{}\s]+/g, ' ')
              .split(',')
              .map((n) => n.trim())
              .filter((n) => n !== '' && !n.startsWith('type '));
        for (const n of names) taken.push(`${name}: ${n} from ${m[3]}`);
      }
    }
    // An exception would be listed here, each with why it must be a repository's value.
    expect(taken).toEqual([]);
  });

  it('keeps context.ts free of modules: it names interfaces, create-context.ts builds them', async () => {
    for (const line of [
      "import { KeyUsageTracker } from './modules/keys/key-usage.js';\nexport const k = KeyUsageTracker;\n",
      "import type { BlobStore } from './modules/artifacts/artifacts.store.js';\nexport type B = BlobStore;\n",
    ]) {
      expect(await problems('src/context.ts', line), line).toEqual([
        expect.stringMatching(/^no-restricted-imports: .*The context depends on interfaces/),
      ]);
    }
    const iface = "import type { BlobStore } from './lib/blob-store.js';\nexport type B = BlobStore;\n";
    expect(await problems('src/context.ts', iface)).toEqual([]);
    const builder = "import { KeyUsageTracker } from './modules/keys/key-usage.js';\nexport const k = KeyUsageTracker;\n";
    expect(await problems('src/create-context.ts', builder)).toEqual([]);
  });
});
