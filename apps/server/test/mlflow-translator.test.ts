import { describe, expect, it } from 'vitest';
import { createContext } from '../src/create-context.js';
import { experimentTags, setExperimentTag } from '../src/modules/mlflow/mlflow.repository.js';
import { createWorkspace, workspacesWithTrash } from '../src/modules/workspaces/workspaces.service.js';
import { DIALECTS, useTestServer, useUser } from './harness.js';
import { mlflowApi } from './mlflow-harness.js';

/**
 * The MLflow module writes Tora's rows through Tora's services; where it writes its own rows with
 * them (an experiment's tags as the workspace is created), the service runs both in one
 * transaction, so a failure leaves neither.
 */
describe.each(DIALECTS)("MLflow's writes through Tora's services on %s", (dialect) => {
  const server = useTestServer(dialect);
  const alice = useUser(server);
  const { ml, mlError } = mlflowApi(server);
  const ctx = () => createContext(server.config, server.database);
  const caller = () => ({ userId: alice.id, via: 'cli' as const });

  it("createWorkspace's `within` commits with the workspace: its tags are there at once", async () => {
    const ws = await createWorkspace(ctx(), caller(), { name: 'with-tags' }, (trx, id) =>
      setExperimentTag(trx, id, 'team', 'nlp'),
    );
    const got = (await ml(alice, 'GET', '/experiments/get', { experiment_id: ws.id })).json().experiment;
    expect(got).toMatchObject({ name: 'with-tags', tags: [{ key: 'team', value: 'nlp' }] });
  });

  it('a failure inside `within` leaves no workspace and no tag (one transaction, not two)', async () => {
    let tagged: string | null = null;
    await expect(
      createWorkspace(ctx(), caller(), { name: 'cut-short' }, async (trx, id) => {
        await setExperimentTag(trx, id, 'team', 'nlp');
        tagged = id;
        throw new Error('cut after the tag');
      }),
    ).rejects.toThrow('cut after the tag');
    expect(tagged).not.toBeNull();
    expect((await workspacesWithTrash(ctx(), alice.id)).map((w) => w.name)).not.toContain('cut-short');
    const byName = await ml(alice, 'GET', '/experiments/get-by-name', { experiment_name: 'cut-short' });
    expect(byName.statusCode).toBe(404);
    expect(mlError(byName)).toBe('RESOURCE_DOES_NOT_EXIST');
    expect(await experimentTags(server.database.db, [tagged!])).toEqual([]);
  });
});
