import { describe, expect, it } from 'vitest';
import { inferDirection } from '../src/modules/compare/directions.js';
import { DIALECTS, addMember, call, createExperiment, createWorkspace, errorCode, signUp, useTestServer } from './harness.js';

describe('metric direction inferred from the name', () => {
  it.each([
    ['loss', 'min'],
    ['val/loss', 'min'],
    ['train_loss', 'min'],
    ['eval/perplexity', 'min'],
    ['wer', 'min'],
    ['p95_latency', 'min'],
    ['valAccuracy', 'max'],
    ['top1_acc', 'max'],
    ['f1', 'max'],
    ['episode/return', 'max'],
    ['val_map', 'max'],
    ['lr', null],
    ['grad_norm', null],
  ])('%s → %s', (name, direction) => {
    expect(inferDirection(name)).toBe(direction);
  });
});

describe.each(DIALECTS)('metric directions API on %s', (dialect) => {
  const server = useTestServer(dialect);

  it('sets, lists and clears overrides; editors may write, viewers only read, others get 404', async () => {
    const owner = await signUp(server.app);
    const viewer = await signUp(server.app);
    const editor = await signUp(server.app);
    const other = await signUp(server.app);
    const ws = await createWorkspace(server.app, owner);
    await addMember(server.app, owner, ws, viewer, 'viewer');
    await addMember(server.app, owner, ws, editor, 'editor');
    const url = `/api/workspaces/${ws}/metric-directions`;
    expect((await call(server.app, owner, 'GET', url)).json()).toEqual({ directions: {}, inferred: {} });
    // Metrics the workspace logs come with what the name rule infers, so clients need no copy of it.
    const exp = await createExperiment(server.app, owner, { workspaceId: ws });
    await call(server.app, owner, 'POST', `/api/experiments/${exp}/metrics/batch`, {
      series: { 'train/loss': { values: [1] }, top1_accuracy: { values: [0.5] }, lr: { values: [0.1] } },
    });
    expect((await call(server.app, owner, 'GET', url)).json()).toEqual({
      directions: {},
      inferred: { lr: null, top1_accuracy: 'max', 'train/loss': 'min' },
    });
    const put = await call(server.app, editor, 'PUT', url, { score: 'min', 'val/loss': 'max' });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({
      directions: { score: 'min', 'val/loss': 'max' },
      inferred: { score: 'max', 'val/loss': 'min' },
    });
    expect((await call(server.app, editor, 'PUT', url, { score: null, 'val/loss': 'min' })).json()).toMatchObject({
      directions: { 'val/loss': 'min' },
    });
    expect((await call(server.app, viewer, 'GET', url)).json().directions).toEqual({ 'val/loss': 'min' });
    expect(errorCode(await call(server.app, viewer, 'PUT', url, { a: 'min' }))).toBe('FORBIDDEN');
    expect(errorCode(await call(server.app, other, 'GET', url))).toBe('WORKSPACE_NOT_FOUND');
    expect(errorCode(await call(server.app, other, 'PUT', url, { a: 'min' }))).toBe('WORKSPACE_NOT_FOUND');
    expect((await call(server.app, null, 'GET', url)).statusCode).toBe(401);
    expect(errorCode(await call(server.app, owner, 'PUT', url, { a: 'lower' }))).toBe('VALIDATION_ERROR');
    // Deleting the workspace takes its overrides with it.
    expect((await call(server.app, owner, 'DELETE', `/api/workspaces/${ws}`)).statusCode).toBe(200);
  });
});
