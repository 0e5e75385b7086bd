import { describe, expect, it } from 'vitest';
import { runInfoFromMlflowTags } from './mlflow.run-info.js';

describe('runInfoFromMlflowTags', () => {
  it('names MLflow system tags as run info and leaves user tags out', () => {
    expect(
      runInfoFromMlflowTags({
        'mlflow.source.name': 'train.py',
        'mlflow.source.git.commit': 'abc123',
        'mlflow.source.git.branch': 'main',
        'mlflow.user': 'ada',
        'mlflow.note.content': 'baseline',
        'mlflow.runName': 'run-1',
        team: 'vision',
      }),
    ).toEqual({ source: 'train.py', 'git.commit': 'abc123', 'git.branch': 'main', user: 'ada', notes: 'baseline' });
  });

  it('skips empty values and keeps the first tag that names a field', () => {
    expect(
      runInfoFromMlflowTags({ 'mlflow.user': '', 'mlflow.source.name': 'a.py', 'mlflow.databricks.notebookPath': '/nb' }),
    ).toEqual({
      source: 'a.py',
    });
  });
});
