import { describe, expect, it } from 'vitest';
import { mlflowHashTarget } from './mlflow-link';

describe('mlflowHashTarget', () => {
  const run = '0b6f8a52-5d1c-4c43-9a4e-1d2b3c4d5e6f';
  const ws = '5e2b1f0a-1111-4c43-9a4e-1d2b3c4d5e6f';

  it('opens the Tora experiment of the run link MLflow prints', () => {
    expect(mlflowHashTarget(`#/experiments/${ws}/runs/${run}`)).toBe(`/experiments/${run}`);
    // Deeper MLflow tabs of the run open the run too.
    expect(mlflowHashTarget(`#/experiments/${ws}/runs/${run}/artifacts`)).toBe(`/experiments/${run}`);
    expect(mlflowHashTarget(`#/experiments/${ws}/runs/${run}?o=1`)).toBe(`/experiments/${run}`);
  });

  it('opens the workspace of an MLflow experiment link', () => {
    expect(mlflowHashTarget(`#/experiments/${ws}`)).toBe(`/?ws=${ws}`);
    // MLflow's experiment "0" is the user's default workspace: the home page.
    expect(mlflowHashTarget('#/experiments/0')).toBe('/');
    expect(mlflowHashTarget(`#/experiments/0/runs/${run}`)).toBe(`/experiments/${run}`);
  });

  it('leaves other hashes alone', () => {
    for (const h of ['', '#', '#main', '#/models', '#/experiments/', '#/experiments//runs/x'])
      expect(mlflowHashTarget(h)).toBeNull();
  });
});
