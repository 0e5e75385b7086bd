import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { limitsModule, MODULE, readOpenApi } from '../../scripts/gen-limits.mjs';
import { LIMITS } from './generated/limits';

/** The series read's `budget` parameter in a document. */
function seriesBudget(doc: ReturnType<typeof readOpenApi>) {
  const p = doc.paths['/api/experiments/{id}/metrics/series']?.get?.parameters?.find((x) => x.name === 'budget');
  if (!p) throw new Error('no budget parameter');
  return p.schema;
}

describe("the web app's limits (src/lib/generated/limits.ts)", () => {
  it('are the ones openapi/openapi.json states (run `npm run gen:api -w apps/web` when this fails)', () => {
    expect(fs.readFileSync(MODULE, 'utf8')).toBe(limitsModule(readOpenApi()));
  });

  it("follow the server's route schemas and published limits", () => {
    const doc = readOpenApi();
    const compare = doc.info['x-tora-limits']?.COMPARE_LIMITS;
    expect(LIMITS.seriesBudget).toBe(seriesBudget(doc).maximum);
    expect(LIMITS.compareExperiments).toBe(compare?.experiments);
    // A changed server limit changes the module, so the staleness check above then fails.
    seriesBudget(doc).maximum = LIMITS.seriesBudget + 1;
    compare!.experiments = LIMITS.compareExperiments + 1;
    expect(limitsModule(doc)).toContain(`seriesBudget: ${LIMITS.seriesBudget + 1},`);
    expect(limitsModule(doc)).toContain(`compareExperiments: ${LIMITS.compareExperiments + 1},`);
  });

  it('refuse a document that no longer states a limit the app needs', () => {
    const doc = readOpenApi();
    delete doc.paths['/api/metrics/band'];
    expect(() => limitsModule(doc)).toThrow('openapi.json has no POST /api/metrics/band');
  });
});
